"""Choosing the backend and its options: explicit arguments > ``QIOPT_*`` environment > TOML file > defaults.

A config file::

    [solver]
    backend = "sa"                # any registered backend name
    fallback = ["qaoa", "sa"]     # tried in order when the backend fails
    time_limit = 30               # seconds for the whole chain (optional)
    [solver.options]              # options of solver.backend
    num_reads = 20
    seed = 7
    [backends.qaoa]               # options of any backend, by name (used when it runs, e.g. in a fallback)
    reps = 2

Environment: ``QIOPT_BACKEND``, ``QIOPT_FALLBACK`` (comma-separated), ``QIOPT_TIME_LIMIT`` and ``QIOPT_CONFIG``
(a config file used when none is given). Unknown keys and bad values raise a ValueError naming the key; other
``QIOPT_*`` variables (another tool's, or a typo) are ignored with one warning naming them, a close match of a
known one and the known ones.

Example:
    >>> cfg = resolve_config(None, backend="exact", env={})
    >>> cfg.backend, cfg.options_for("exact")
    ('exact', {})
"""

from __future__ import annotations

import os
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qiopt.options import positive_float, unknown_key_error

__all__ = ["DEFAULT_BACKEND", "SolverConfig", "load_config", "parse_config", "resolve_config"]

DEFAULT_BACKEND = "sa"
_SOLVER_KEYS = ("backend", "fallback", "time_limit", "options")
_ENV_KEYS = ("QIOPT_BACKEND", "QIOPT_FALLBACK", "QIOPT_TIME_LIMIT", "QIOPT_CONFIG")
_OTHER_ENV_KEYS = ("QIOPT_SERVE_TOKEN", "QIOPT_NUM_THREADS")  # qiopt's too, read where used (gateway, threads)


@dataclass(frozen=True)
class SolverConfig:
    """Validated settings of one solve: the backend, its fallbacks, a time budget and per-backend options."""

    backend: str = DEFAULT_BACKEND
    fallback: tuple[str, ...] = ()
    time_limit: float | None = None
    backend_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from qiopt.backends.registry import backend_class

        if isinstance(self.fallback, str) or not all(isinstance(b, str) for b in self.fallback):
            raise TypeError(f"fallback must be a list of backend names, got {self.fallback!r}")
        object.__setattr__(self, "fallback", tuple(self.fallback))
        if self.time_limit is not None:
            object.__setattr__(self, "time_limit", positive_float("time_limit", self.time_limit))
        for name in (self.backend, *self.fallback, *self.backend_options):
            backend_class(name)  # unknown names raise, listing the available ones
        for name, opts in self.backend_options.items():
            backend_class(name).options_type.from_kwargs(opts)  # unknown options / bad values raise

    @property
    def chain(self) -> tuple[str, ...]:
        """The backends in the order they are tried (without repeats)."""
        return tuple(dict.fromkeys((self.backend, *self.fallback)))

    def options_for(self, name: str) -> dict[str, Any]:
        return dict(self.backend_options.get(name, {}))


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a config file into plain settings (``backend``, ``fallback``, ``time_limit``, ``backend_options``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming any unknown table or key.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file not found: {p}")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {p} is not valid TOML: {exc}") from None
    return parse_config(data)


def parse_config(data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain settings from the file's shape (``{"solver": {...}, "backends": {...}}``), as :func:`load_config`."""
    for key in data:
        if key not in ("solver", "backends"):
            raise unknown_key_error("config table", key, ["solver", "backends"])
    solver = _table(data.get("solver", {}), "[solver]")
    for key in solver:
        if key not in _SOLVER_KEYS:
            raise unknown_key_error("[solver] key", key, list(_SOLVER_KEYS))
    settings: dict[str, Any] = {k: solver[k] for k in ("backend", "fallback", "time_limit") if k in solver}
    per_backend = {name: dict(_table(opts, f"[backends.{name}]"))
                   for name, opts in _table(data.get("backends", {}), "[backends]").items()}
    if "options" in solver:
        name = solver.get("backend", DEFAULT_BACKEND)
        per_backend[name] = {**per_backend.get(name, {}), **_table(solver["options"], "[solver.options]")}
    settings["backend_options"] = per_backend
    return settings


def _flat_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings from a flat mapping of ``SolverConfig``'s fields; ``options`` go to the mapping's backend."""
    out = dict(config)
    if "options" in out:
        name = out.get("backend", DEFAULT_BACKEND)
        per_backend = {k: dict(v) for k, v in out.get("backend_options", {}).items()}
        per_backend[name] = {**per_backend.get(name, {}), **_table(out.pop("options"), "options")}
        out["backend_options"] = per_backend
    return out


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"config {where} must be a table of key = value pairs, got {type(value).__name__}")
    return value


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    unknown = sorted(key for key in env if key.startswith("QIOPT_") and key not in _ENV_KEYS + _OTHER_ENV_KEYS)
    if unknown:  # another tool's variable, or a typo: never an error, but said once, with a close match
        known = list(_ENV_KEYS + _OTHER_ENV_KEYS)
        names = "; ".join(str(unknown_key_error("environment variable", key, known)).split(" Valid")[0]
                          for key in unknown)
        warnings.warn(f"ignoring {names}. qiopt reads {', '.join(known)}", UserWarning, stacklevel=4)
    out: dict[str, Any] = {}
    if env.get("QIOPT_BACKEND"):
        out["backend"] = env["QIOPT_BACKEND"].strip()
    if "QIOPT_FALLBACK" in env:
        out["fallback"] = tuple(b.strip() for b in env["QIOPT_FALLBACK"].split(",") if b.strip())
    if env.get("QIOPT_TIME_LIMIT"):
        try:
            out["time_limit"] = float(env["QIOPT_TIME_LIMIT"])
        except ValueError:
            raise ValueError(f"QIOPT_TIME_LIMIT must be a number of seconds, got {env['QIOPT_TIME_LIMIT']!r}"
                             ) from None
    return out


def resolve_config(config: str | os.PathLike[str] | SolverConfig | Mapping[str, Any] | None = None, *,
                   backend: str | None = None, fallback: list[str] | tuple[str, ...] | None = None,
                   time_limit: float | None = None, options: Mapping[str, Any] | None = None,
                   env: Mapping[str, str] | None = None) -> SolverConfig:
    """Merge the sources into one validated :class:`SolverConfig`.

    ``config`` is a file path, a ready :class:`SolverConfig`, a mapping shaped like the file
    (``{"solver": {...}, "backends": {...}}``) or like :class:`SolverConfig`'s fields, or None (then
    ``QIOPT_CONFIG`` names a file, if set). ``options`` apply to the resolved backend. ``env`` defaults to
    ``os.environ``.
    """
    env = os.environ if env is None else env
    from_env: dict[str, Any] = {}
    if isinstance(config, SolverConfig):  # already resolved: the environment was applied when it was made
        base: dict[str, Any] = {"backend": config.backend, "fallback": config.fallback,
                                "time_limit": config.time_limit, "backend_options": config.backend_options}
    elif isinstance(config, Mapping):
        base = parse_config(config) if {"solver", "backends"} & set(config) else _flat_settings(config)
    elif config is not None:
        base = load_config(config)
    elif env.get("QIOPT_CONFIG"):
        base = load_config(env["QIOPT_CONFIG"])
    else:
        base = {}
    if not isinstance(config, SolverConfig):
        from_env = _from_env(env)
    settings = {**base, **from_env}
    explicit = {"backend": backend, "fallback": fallback, "time_limit": time_limit}
    settings.update({k: v for k, v in explicit.items() if v is not None})
    name = settings.get("backend", DEFAULT_BACKEND)
    per_backend = {k: dict(v) for k, v in settings.get("backend_options", {}).items()}
    if options:
        per_backend[name] = {**per_backend.get(name, {}), **options}
    settings["backend_options"] = per_backend
    fields = ["backend", "fallback", "time_limit", "backend_options", "options"]
    unknown = set(settings) - set(fields)
    if unknown:
        raise unknown_key_error("config key", sorted(unknown)[0], fields)
    return SolverConfig(**settings)
