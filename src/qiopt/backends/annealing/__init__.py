"""Simulated annealing: the sampler and its compiled kernel side by side."""

from qiopt.backends.annealing.sampler import SimulatedAnnealingBackend, SimulatedAnnealingOptions

__all__ = ["SimulatedAnnealingBackend", "SimulatedAnnealingOptions"]
