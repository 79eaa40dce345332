"""The ``"tabu"`` backend: multistart one-flip tabu search (Glover; Palubeckis' MST2), compiled.

The algorithm of dwave-samplers' ``TabuSampler``, written anew: each read runs a tabu search (best non-tabu flip,
aspiration for tabu flips that beat the read's best, tenure ``min(20, n // 4)`` by default) and restarts from a
perturbation of its best state whenever it stalls. Reads run in parallel and their results do not depend on the
thread count. Without ``time_limit`` each read has an iteration budget sized to the model; with it, every read
keeps restarting until the deadline.

Example:
    >>> import dimod, qiopt
    >>> bqm = dimod.BQM({}, {("a", "b"): 1.0, ("b", "c"): 1.0}, 0.0, "SPIN")
    >>> sampleset = qiopt.get_backend("tabu", num_reads=2, seed=1).sample(bqm)
    >>> float(sampleset.first.energy)
    -2.0
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends._reads import ReadOptions, initial_spins, start_states
from qiopt.backends.base import Backend, RunOutput
from qiopt.model import CompactModel
from qiopt.options import nonneg_int, one_of, option, optional, positive_int, share
from qiopt.progress import reporter
from qiopt.threads import lease

__all__ = ["TabuBackend", "TabuOptions", "default_budget", "default_stall"]

_READS = 8
_CHUNK_S = 0.2  # seconds between two looks at the clock (deadline, progress)
_MARGIN = 0.8  # share of the time left a time-limited chunk is sized to fill
_PROBE_STEPS = 64  # iterations of the first chunk, which measures the cost of an iteration
_UNBOUNDED = 2**62


def _threshold(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"option {name!r} must be None or a finite number (an energy), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TabuOptions(ReadOptions):
    num_reads: int | None = option(
        None, f"Independent tabu searches (reads), each with its restarts; samples returned. Default {_READS}.",
        check=optional(positive_int))
    tenure: int | None = option(
        None, "Iterations a flipped variable stays tabu; below the number of variables n. Default min(20, n // 4) "
        "(dwave-samplers').", check=optional(nonneg_int))
    num_iterations: int | None = option(
        None, "Flips per read (its budget). Default without time_limit: 50 n + 20,000 (see the docs); with "
        "time_limit: unbounded, reads run until the deadline.", check=optional(positive_int))
    stall_iterations: int | None = option(
        None, "Flips without improving the read's best before it restarts. Default 10 n + 2,000.",
        check=optional(positive_int))
    num_restarts: int | None = option(
        None, "Most restarts per read (0: one plain tabu search); default: as many as the budget or the deadline "
        "allows.", check=optional(nonneg_int))
    perturbation: float = option(
        0.2, "Share of the variables flipped (chosen at random) in the read's best state to start a restart.",
        check=share)
    energy_threshold: float | None = option(
        None, "A read stops once it finds an energy at most this; with time_limit the call then returns.",
        check=_threshold)
    move_selection: str = option(
        "auto", "How the best flip is found: 'tree' (tournament tree, for sparse models), 'scan' (linear scan, "
        "for dense ones) or 'auto' (by the model's degree).", check=one_of("auto", "tree", "scan"))


def default_stall(num_variables: int) -> int:
    """Default ``stall_iterations``: ``10 n + 2000``.

    >>> default_stall(1000)
    12000
    """
    return 10 * num_variables + 2000


def default_budget(num_variables: int) -> int:
    """Default ``num_iterations`` without a time limit: ``50 n + 20000``.

    >>> default_budget(1000)
    70000
    """
    return 50 * num_variables + 20_000


class TabuBackend(Backend):
    """Multistart tabu search (single-flip, compiled, incremental gains); strong on dense QUBOs (Beasley, GKA)."""

    name = "tabu"
    options_type = TabuOptions
    requires = ("numba",)
    summary = "multistart one-flip tabu search (MST2 style), compiled; strong on dense QUBO and max-cut models"

    def _resolve(self, options: Any) -> Any:
        return options.replace(num_reads=options.num_reads or _READS)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        with lease(options.num_threads) as threads:  # the process's thread budget, shared with other solves
            return _search(model, options, threads)


def _search(model: CompactModel, options: Any, threads: int) -> RunOutput:
    from qiopt.backends.tabu.kernels import THRESHOLD, TabuSearch, default_tenure

    n = model.num_variables
    tenure = default_tenure(n) if options.tenure is None else options.tenure
    if tenure >= n:
        raise ValueError(f"option 'tenure' must be below the number of variables ({n}), got {tenure}")
    timed = options.time_limit is not None
    budget = options.num_iterations or (_UNBOUNDED if timed else default_budget(n))
    stall = options.stall_iterations or default_stall(n)
    threshold = -np.inf if options.energy_threshold is None else options.energy_threshold
    deadline = time.perf_counter() + options.time_limit if timed else None
    starts = start_states(model, options, initial_spins(model, options.initial_states), 0, options.num_reads)
    search = TabuSearch(model, starts, tenure=tenure, stall=stall, budget=budget, seed=options.seed,
                        max_restarts=_UNBOUNDED if options.num_restarts is None else options.num_restarts,
                        flips=max(1, round(options.perturbation * n)), threshold=threshold,
                        tree=None if options.move_selection == "auto" else options.move_selection == "tree")
    steps, chunks, cut = _PROBE_STEPS, 0, False
    with reporter("tabu", total=options.time_limit if timed else budget, unit="s" if timed else "it") as bar:
        while not search.finished:
            started = time.perf_counter()
            search.advance(steps, threads)
            chunks += 1
            now = time.perf_counter()
            bar.update(min(now - started, bar.total - bar.n) if timed else min(steps, bar.total - bar.n))
            if timed and now >= deadline:
                cut = not search.finished
                break
            if timed and (search.ended == THRESHOLD).any():  # the call's target is met
                break
            target = _CHUNK_S if deadline is None else min(_CHUNK_S, _MARGIN * (deadline - now))
            steps = max(1, min(8 * steps, int(target * steps / max(now - started, 1e-9))))
    states = search.best(threads)  # each a local minimum, even a read cut short mid-descent
    ended = search.ended
    info = {"tenure": tenure, "stall_iterations": stall, "num_iterations": None if budget == _UNBOUNDED else budget,
            "move_selection": "tree" if search.tree_mode else "scan", "iterations": int(search.iterations.sum()),
            "restarts": int(search.restarts.sum()), "num_chunks": chunks, "stopped_by_time_limit": cut,
            "reads_reached_threshold": int((ended == THRESHOLD).sum()), "num_threads": threads}
    return RunOutput(states, info)
