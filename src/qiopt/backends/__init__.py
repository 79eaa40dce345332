"""Backends: every one a :class:`dimod.Sampler`, found by name through :mod:`qiopt.backends.registry`."""

from qiopt.backends.base import Backend, BackendError, RunOutput
from qiopt.backends.registry import BackendInfo, available_backends, backend_class, get_backend

__all__ = ["Backend", "BackendError", "BackendInfo", "RunOutput", "available_backends", "backend_class",
           "get_backend"]
