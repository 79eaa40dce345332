"""Decomposition for models too large for one anneal in the time there is: sub-problems around the variables
whose flips cost least, solved with the rest clamped (here or on an executor's workers) and merged back."""

from qiopt.backends.decomposition.sampler import DecompositionBackend, DecompositionOptions, solve_subproblem

__all__ = ["DecompositionBackend", "DecompositionOptions", "solve_subproblem"]
