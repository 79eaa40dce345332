"""The ``"pt"`` backend: parallel tempering (replica-exchange Monte Carlo) with Houdayer cluster moves.

Each read is one PT run: ``num_replicas`` replicas on a geometric β ladder (adapted during a warm-up), swept in
lockstep by a compiled Metropolis kernel, neighbours exchanged after every sweep; on sparse models two replicas
per β and Houdayer (isoenergetic cluster) moves at the cold half of the ladder. A run returns the lowest-energy
state it saw at any β. Runs go in parallel on threads; results do not depend on their number.

Example:
    >>> import dimod, qiopt
    >>> bqm = dimod.BQM({}, {("a", "b"): 1.0, ("b", "c"): 1.0, ("a", "c"): 1.0}, 0.0, "SPIN")
    >>> sampleset = qiopt.get_backend("pt", num_reads=2, num_sweeps=100, seed=1).sample(bqm)
    >>> float(sampleset.first.energy), sampleset.info["num_runs"]
    (-1.0, 2)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import dimod

from qiopt.backends._reads import ReadOptions
from qiopt.backends.base import Backend, RunOutput
from qiopt.backends.tempering.ladder import MAX_REPLICAS
from qiopt.model import CompactModel
from qiopt.options import beta_pair, one_of, option, optional, positive_int
from qiopt.threads import lease

__all__ = ["ParallelTemperingBackend", "ParallelTemperingOptions"]

_READS, _SWEEPS = 4, 1000


def _replicas(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 2 <= value <= MAX_REPLICAS:
        raise ValueError(f"option {name!r} must be None or an integer from 2 to {MAX_REPLICAS}, got {value!r}")
    return int(value)


def _auto_or_bool(name: str, value: Any) -> str | bool:
    if value == "auto" or isinstance(value, bool):
        return value
    raise ValueError(f"option {name!r} must be 'auto', True or False; got {value!r}")


@dataclass(frozen=True)
class ParallelTemperingOptions(ReadOptions):
    num_reads: int | None = option(
        None, f"Independent PT runs; each returns its best state (the best ones with time_limit). Default "
        f"{_READS}.", check=optional(positive_int))
    num_sweeps: int | None = option(
        None, f"Sweeps per run (each: a Metropolis sweep of every replica, exchanges, cluster moves). Default "
        f"{_SWEEPS}; with time_limit and no num_sweeps the runs continue until the deadline; with both, runs of "
        "num_sweeps restart until the deadline.", check=optional(positive_int))
    num_replicas: int | None = option(
        None, "Replicas (βs) on the ladder; default ln(cold/hot) * sqrt(n) / 2, rounded up to a multiple of 8 "
        "and clipped to 8..32, so that neighbours' energy histograms overlap. Doubled (two per β) with cluster "
        "moves.", check=_replicas)
    beta_range: tuple[float, float] | None = option(
        None, "[hot, cold] inverse temperatures; default derived from the model's biases, with the cold end moved "
        "in during the warm-up to where replicas stop moving.", check=beta_pair)
    adapt_ladder: bool = option(True, "Warm-up: reshape the ladder for equal swap acceptance between neighbours "
                                "(and trim a frozen cold end when beta_range is the default).",
                                check=one_of(True, False))
    cluster_moves: str | bool = option(
        "auto", "Houdayer moves between two replicas per β on the cold half of the ladder: 'auto' (on when the "
        "mean degree is below 3: chains, trees, diluted graphs), True or False.", check=_auto_or_bool)
    polish: bool = option(True, "Steepest descent to a local minimum of each run's best state.",
                          check=one_of(True, False))


class ParallelTemperingBackend(Backend):
    """Parallel tempering with an adaptive geometric ladder and Houdayer cluster moves (compiled)."""

    name = "pt"
    options_type = ParallelTemperingOptions
    requires = ("numba",)
    summary = "parallel tempering (replica exchange) with Houdayer cluster moves; for hard glassy models"

    def _resolve(self, options: Any) -> Any:
        sweeps = options.num_sweeps or (None if options.time_limit is not None else _SWEEPS)
        return options.replace(num_reads=options.num_reads or _READS, num_sweeps=sweeps)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        from qiopt.backends.tempering.driver import temper

        with lease(options.num_threads) as threads:  # the process's thread budget, shared with other solves
            return temper(model, options, threads)
