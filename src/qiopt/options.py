"""Backend options, declared once.

Each backend declares its options as a frozen dataclass deriving from :class:`Options`; every field carries its
documentation and its check in ``metadata`` (see :func:`option`). The sampler's ``parameters``, the config
validation, the docs and the CLI all read the same fields, so they cannot drift.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class MyOptions(Options):
    ...     num_reads: int = option(10, "Number of samples.", check=positive_int)
    >>> MyOptions.from_kwargs({"num_reads": 3}).num_reads
    3
    >>> MyOptions.from_kwargs({"num_read": 3})
    Traceback (most recent call last):
    ...
    ValueError: unknown option 'num_read'; did you mean 'num_reads'? Valid options: num_reads
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any, Self

import numpy as np

Check = Callable[[str, Any], Any]

__all__ = [
    "Options", "beta_pair", "nonneg_float", "nonneg_int", "one_of", "option", "optional", "positive_float",
    "positive_int", "probability", "seed_value", "share", "unknown_key_error",
]


def option(default: Any, doc: str, *, check: Check | None = None) -> Any:
    """A dataclass field with its documentation and validator (``check(name, value) -> normalised value``)."""
    if isinstance(default, list | dict | set):
        raise TypeError("mutable defaults are not allowed; use a tuple or None")
    return field(default=default, metadata={"doc": doc, "check": check})


def unknown_key_error(kind: str, key: str, valid: Sequence[str]) -> ValueError:
    """A ValueError naming an unknown ``key`` and the valid ones (with a close match, if any)."""
    close = difflib.get_close_matches(key, valid, n=1)
    message = f"unknown {kind} {key!r}" + (f"; did you mean {close[0]!r}?" if close else ".")
    return ValueError(f"{message} Valid {kind}s: {', '.join(sorted(valid)) or '(none)'}")


@dataclass(frozen=True)
class Options:
    """Base of every backend's options dataclass: validated construction, overrides and plain-data export."""

    def __post_init__(self) -> None:
        for f in fields(self):
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(f.name, getattr(self, f.name)))

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def docs(cls) -> dict[str, tuple[Any, str]]:
        """``{name: (default, doc)}`` for every option, in declaration order."""
        return {f.name: (None if f.default is MISSING else f.default, f.metadata.get("doc", ""))
                for f in fields(cls)}

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> Self:
        """Validated options from a mapping; unknown keys raise a ValueError naming them."""
        cls._check_keys(kwargs)
        return cls(**kwargs)

    @classmethod
    def _check_keys(cls, kwargs: Mapping[str, Any]) -> None:
        valid = cls.names()
        for key in kwargs:
            if key not in valid:
                raise unknown_key_error("option", key, valid)

    def replace(self, **overrides: Any) -> Self:
        """A validated copy with ``overrides`` applied."""
        self._check_keys(overrides)
        return replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """A dict of every option (a deep copy: tuples stay tuples, arrays are copied)."""
        return asdict(self)


# --- checks: each takes (name, value) and returns the normalised value or raises naming `name` ---------------

def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name: str, value: Any) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"option {name!r} must be a positive integer, got {value!r}")
    return int(value)


def nonneg_int(name: str, value: Any) -> int:
    if not _is_int(value) or value < 0:
        raise ValueError(f"option {name!r} must be a non-negative integer, got {value!r}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < float(value) < float("inf")):
        raise ValueError(f"option {name!r} must be a positive finite number, got {value!r}")
    return float(value)


def nonneg_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 <= float(value) < float("inf")):
        raise ValueError(f"option {name!r} must be a non-negative finite number, got {value!r}")
    return float(value)


def probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise ValueError(f"option {name!r} must be a number in [0, 1], got {value!r}")
    return float(value)


def share(name: str, value: Any) -> float:
    """A number in ``(0, 1]``: a share of something that must not be empty."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) <= 1:
        raise ValueError(f"option {name!r} must be a number in (0, 1], got {value!r}")
    return float(value)


def seed_value(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or not 0 <= value < 2**63:
        raise ValueError(f"option {name!r} must be None or an integer in [0, 2**63), got {value!r}")
    return int(value)


def derived_seed(seed: int | None, *keys: int) -> int:
    """A seed for one part of a seeded run (a task, a round's sub-problem), derived from ``(seed, *keys)``.

    >>> derived_seed(1, 0) == derived_seed(1, 0) != derived_seed(1, 1)
    True
    """
    return int(np.random.SeedSequence([int(seed or 0), *keys]).generate_state(1, np.uint64)[0] >> 1)


def optional(check: Check) -> Check:
    """Allow ``None`` besides what ``check`` accepts."""
    def _check(name: str, value: Any) -> Any:
        return None if value is None else check(name, value)
    return _check


def one_of(*choices: Any) -> Check:
    """Accept one of ``choices`` (strings compared case-sensitively)."""
    def _check(name: str, value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"option {name!r} must be one of {', '.join(map(repr, choices))}; got {value!r}")
        return value
    return _check


def beta_pair(name: str, value: Any) -> tuple[float, float] | None:
    """``None`` or an inverse-temperature range ``(hot, cold)`` with ``0 < hot <= cold < inf``."""
    if value is None:
        return None
    try:
        hot, cold = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"option {name!r} must be None or a pair [hot, cold] of positive numbers, "
                         f"got {value!r}") from None
    if not (0 < hot <= cold < float("inf")):
        raise ValueError(f"option {name!r} must satisfy 0 < hot <= cold < inf, got {value!r}")
    return (hot, cold)
