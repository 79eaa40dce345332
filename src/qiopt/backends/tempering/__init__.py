"""Parallel tempering (replica-exchange Monte Carlo) with Houdayer cluster moves: sampler, run state, kernel."""

from qiopt.backends.tempering.sampler import ParallelTemperingBackend, ParallelTemperingOptions

__all__ = ["ParallelTemperingBackend", "ParallelTemperingOptions"]
