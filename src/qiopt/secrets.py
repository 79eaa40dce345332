"""Keeping credentials out of everything qiopt writes: messages, logs, results, files.

Any code that reads a secret registers it with :func:`register_secret`; every message qiopt stores or shows
about a failure goes through :func:`redact` first.

Example:
    >>> register_secret("s3cr3t-token-value")
    >>> redact("login failed for token s3cr3t-token-value")
    'login failed for token ***'
"""

from __future__ import annotations

import os
import re

__all__ = ["SECRET_ENV_VARS", "redact", "register_secret"]

SECRET_ENV_VARS = ("QISKIT_IBM_TOKEN",)
_known: set[str] = set()
_PATTERN = re.compile(
    r"(?i)\b(token|api[_-]?key|authorization|bearer|password|secret)(\s*[=:]\s*|\s+)(['\"]?)[^\s'\",;]{6,}")


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`redact` removes it from any text (values under 6 characters ignored)."""
    if value and len(value) >= 6:
        _known.add(value)


def redact(text: object) -> str:
    """``str(text)`` with every known secret, secret environment value and ``token=...`` pair masked."""
    out = str(text)
    for value in sorted(_known | {os.environ.get(v, "") for v in SECRET_ENV_VARS} - {""}, key=len, reverse=True):
        if len(value) >= 6:
            out = out.replace(value, "***")
    return _PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}***", out)
