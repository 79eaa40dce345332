"""Multistart one-flip tabu search: the sampler and its compiled, resumable kernel (with ``tabu_polish``)."""

from qiopt.backends.tabu.kernels import tabu_polish
from qiopt.backends.tabu.sampler import TabuBackend, TabuOptions

__all__ = ["TabuBackend", "TabuOptions", "tabu_polish"]
