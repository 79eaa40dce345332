"""Finding backends by name: qiopt's own, plus any package's entry points in the group ``qiopt.backends``.

A third-party package adds a backend without touching qiopt by declaring, in its ``pyproject.toml``::

    [project.entry-points."qiopt.backends"]
    mybackend = "mypackage.module:MyBackend"

where ``MyBackend`` subclasses :class:`qiopt.backends.base.Backend`.

Example:
    >>> import qiopt
    >>> qiopt.get_backend("sa", num_reads=4).options.num_reads
    4
    >>> "exact" in qiopt.available_backends()
    True
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from qiopt.backends.base import Backend
from qiopt.options import unknown_key_error

__all__ = ["BackendInfo", "available_backends", "backend_class", "get_backend"]

ENTRY_POINT_GROUP = "qiopt.backends"

_BUILTIN: dict[str, str] = {
    "sa": "qiopt.backends.annealing:SimulatedAnnealingBackend",
    "tabu": "qiopt.backends.tabu:TabuBackend",
    "sb": "qiopt.backends.bifurcation:SimulatedBifurcationBackend",
    "pt": "qiopt.backends.tempering:ParallelTemperingBackend",
    "sqa": "qiopt.backends.quantum_annealing:SimulatedQuantumAnnealingBackend",
    "auto": "qiopt.backends.portfolio:PortfolioBackend",
    "decompose": "qiopt.backends.decomposition:DecompositionBackend",
    "exact": "qiopt.backends.exact:ExactBackend",
    "qaoa": "qiopt.backends.qaoa:QAOABackend",
    "ibm": "qiopt.backends.ibm:IBMBackend",
}


@dataclass(frozen=True)
class BackendInfo:
    """What :func:`available_backends` says of one backend."""

    name: str
    usable: bool
    summary: str
    install_hint: str | None
    source: str


@cache
def _registered() -> dict[str, str]:
    """``{name: "module:Class"}``: built-ins first; entry points may add names but never replace a built-in."""
    found = dict(_BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            if ep.value != found[ep.name]:
                warnings.warn(f"ignoring entry point {ep.name!r} = {ep.value!r}: the name is taken by "
                              f"{found[ep.name]!r}", RuntimeWarning, stacklevel=2)
            continue
        found[ep.name] = ep.value
    return found


def backend_class(name: str) -> type[Backend]:
    """The class registered under ``name``; ValueError listing the available names if there is none."""
    if not isinstance(name, str):
        raise TypeError(f"backend must be a name (str), got {type(name).__name__}")
    registered = _registered()
    if name not in registered:
        raise unknown_key_error("backend", name, list(registered))
    module_name, _, attr = registered[name].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"backend {name!r} ({registered[name]}) is not a qiopt.backends.base.Backend subclass")
    return cls


def _missing(cls: type[Backend]) -> list[str]:
    return [mod for mod in cls.requires if importlib.util.find_spec(mod) is None]


def get_backend(name: str, **options: Any) -> Backend:
    """A configured backend (a :class:`dimod.Sampler`); options are validated now, unknown ones named."""
    cls = backend_class(name)
    missing = _missing(cls)
    if missing:
        raise ImportError(f"backend {name!r} needs {', '.join(missing)}, which is not installed here. "
                          f"Install it with: {cls.install_hint or 'pip install ' + ' '.join(missing)}")
    return cls(**options)


def available_backends() -> dict[str, BackendInfo]:
    """Every registered backend with whether it is usable here and, if not, how to install what it needs."""
    out = {}
    for name, target in _registered().items():
        try:
            cls = backend_class(name)
        except Exception as exc:  # a broken plugin must not hide the others
            out[name] = BackendInfo(name, False, f"failed to load: {type(exc).__name__}: {exc}", None, target)
            continue
        missing = _missing(cls)
        hint = (cls.install_hint or "pip install " + " ".join(missing)) if missing else None
        out[name] = BackendInfo(name, not missing, cls.summary, hint, target)
    return out
