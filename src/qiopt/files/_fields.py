"""Field checks shared by the text formats: whole numbers and finite reals with their line number, and the
shortest exact text of a number."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["exact", "real", "whole"]


def whole(text: str, name: str, line: int) -> int:
    """``text`` as a non-negative integer, else a ``ValueError`` naming the file and line."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}, line {line}: {text!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{name}, line {line}: {value} is negative")
    return value


def real(text: str, name: str, line: int, what: str = "value") -> float:
    """``text`` as a finite float, else a ``ValueError`` naming the file, line and field."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}, line {line}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}, line {line}: {what} {text!r} is not finite")
    return value


def exact(value: Any) -> str:
    """The shortest text that reads back as ``value`` (``2`` for 2.0); refuses non-finite values."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite value {value}")
    return str(int(value)) if value.is_integer() else repr(value)
