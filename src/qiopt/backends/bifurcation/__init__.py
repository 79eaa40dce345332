"""Simulated bifurcation: the sampler, its compiled kernels and the Ising form they integrate."""

from qiopt.backends.bifurcation.sampler import SimulatedBifurcationBackend, SimulatedBifurcationOptions

__all__ = ["SimulatedBifurcationBackend", "SimulatedBifurcationOptions"]
