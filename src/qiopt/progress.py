"""Progress of long solves: a status bar on a terminal, silence elsewhere.

Backends report through :func:`reporter`; whether anything is shown is decided here, once: ``qiopt.solve(...,
progress=True/False)`` sets it for the duration of the solve (through :func:`enabled`), and the default (``None``)
shows a bar only when standard error is a terminal. A bar appears only once a solve has run for
:data:`DELAY_S` seconds, so quick solves stay quiet.

Example:
    >>> with enabled(False):
    ...     with reporter("sa", total=3, unit="batch") as bar:
    ...         bar.update(1)
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["DELAY_S", "enabled", "is_enabled", "reporter"]

DELAY_S = 1.0
_setting: contextvars.ContextVar[bool | None] = contextvars.ContextVar("qiopt_progress", default=None)


@contextlib.contextmanager
def enabled(flag: bool | None) -> Iterator[None]:
    """Within the block, show progress (True), never (False) or on a terminal only (None)."""
    if flag is not None and not isinstance(flag, bool):
        raise TypeError(f"progress must be True, False or None, got {flag!r}")
    token = _setting.set(flag)
    try:
        yield
    finally:
        _setting.reset(token)


def is_enabled() -> bool:
    flag = _setting.get()
    return sys.stderr.isatty() if flag is None else flag


@contextlib.contextmanager
def reporter(description: str, total: float | None = None, unit: str = "it") -> Iterator[Any]:
    """A tqdm bar (disabled unless :func:`is_enabled`); call ``.update(n)`` and ``.set_postfix_str(text)``."""
    from tqdm import tqdm

    timed = unit == "s" and total is not None  # a time budget: show elapsed of total seconds
    bar_format = "{desc}: {percentage:3.0f}%|{bar}| {elapsed} of " + f"{total or 0:.1f}s" + " {postfix}"
    bar = tqdm(total=total, desc=description, unit=unit, disable=not is_enabled(), delay=DELAY_S,
               leave=False, file=sys.stderr, dynamic_ncols=True, bar_format=bar_format if timed else None)
    try:
        yield bar
    finally:
        bar.close()
