"""Simulated quantum annealing: the sampler, its Γ schedule and its compiled path-integral kernel."""

from qiopt.backends.quantum_annealing.sampler import (
    SimulatedQuantumAnnealingBackend,
    SimulatedQuantumAnnealingOptions,
)

__all__ = ["SimulatedQuantumAnnealingBackend", "SimulatedQuantumAnnealingOptions"]
