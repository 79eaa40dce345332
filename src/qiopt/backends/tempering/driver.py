"""How a ``"pt"`` call spends its sweeps and its time: batches of runs, chunks, ladder warm-up, deadline.

A call runs batches of ``num_reads`` PT runs, spread over the threads (one run per task). Each batch advances
all its runs by the same number of sweeps per chunk; chunks end at the ladder warm-up points
(:data:`ADAPT_ENDS`, where every run reshapes its own ladder, :func:`~qiopt.backends.tempering.ladder.adapt`), at
``num_sweeps``, and, with a ``time_limit``, before the deadline: the first chunk is one sweep, then each chunk at
most doubles and is sized from the measured cost of a sweep to end by the deadline, so even a model whose single
run would take hours stops in time (between two sweeps).

* no ``time_limit``: one batch of runs of ``num_sweeps`` sweeps;
* ``time_limit`` without ``num_sweeps``: one batch, every run continued until the deadline;
* ``time_limit`` and ``num_sweeps``: batches of runs of ``num_sweeps`` sweeps until the deadline (a run cut by
  it still counts its best state). The best ``num_reads`` states are returned.

Example:
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> from qiopt.backends.tempering.sampler import ParallelTemperingOptions
    >>> cm = CompactModel.from_bqm(dimod.BQM({}, {(0, 1): 1.0, (1, 2): 1.0}, 0.0, "SPIN"))
    >>> out = temper(cm, ParallelTemperingOptions(seed=1, num_reads=2, num_sweeps=100, polish=False), threads=1)
    >>> cm.energies(out.spins).tolist(), out.info["num_runs"]
    ([-2.0, -2.0], 2)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from qiopt.backends._reads import initial_spins, keep_lowest, start_states
from qiopt.backends.base import RunOutput
from qiopt.model import CompactModel
from qiopt.progress import reporter
from qiopt.threads import run_tasks

__all__ = ["ADAPT_ENDS", "CLUSTER_DEGREE", "temper"]

ADAPT_ENDS = (32, 96, 224, 480)
"""Sweeps after which the ladder adapts (windows of 32, 64, 128, 256 sweeps); with ``num_sweeps``, only those in
its first half."""
CLUSTER_DEGREE = 3.0
"""``cluster_moves="auto"`` turns Houdayer moves on below this mean degree. Measured on ±1 spin glasses on random
3- and 4-regular graphs (n = 2000, 0.5 s and 2 s, 2 threads): at equal time the runs without them reached lower
energies (e.g. -2534 against -2526 at 2 s, degree 3): the clusters percolate (about 45% of the spins at n = 1000)
and the two copies double the sweep's width, so a sweep with them cost 4-8x more."""
_MARGIN = 0.85  # share of the time left a time-sized chunk is sized to fill


def use_clusters(model: CompactModel, setting: Any) -> bool:
    """Whether Houdayer moves run: ``setting`` True/False, or ``"auto"``: mean degree below :data:`CLUSTER_DEGREE`.

    >>> import dimod
    >>> ring = CompactModel.from_bqm(dimod.BQM({}, {(i, (i + 1) % 6): 1.0 for i in range(6)}, 0.0, "SPIN"))
    >>> use_clusters(ring, "auto"), use_clusters(ring, False)
    (True, False)
    """
    if setting == "auto":
        return len(model.indices) / model.num_variables < CLUSTER_DEGREE
    return bool(setting)


def temper(model: CompactModel, options: Any, threads: int) -> RunOutput:
    """Run the batches of PT runs ``options`` ask for (see the module docstring); states are the runs' best."""
    from qiopt.backends.annealing.schedule import beta_schedule, default_beta_range
    from qiopt.backends.tempering.ladder import default_replicas
    from qiopt.backends.tempering.run import ModelArrays

    arrays = ModelArrays(model)
    beta_range = options.beta_range or default_beta_range(model)
    replicas = options.num_replicas or default_replicas(model.num_variables, beta_range)
    clusters = use_clusters(model, options.cluster_moves)
    setup = {"ladder": beta_schedule(beta_range, replicas, "geometric"), "copies": 2 if clusters else 1,
             "cluster_lo": replicas // 2 if clusters else replicas,
             "warm": initial_spins(model, options.initial_states)}
    deadline = None if options.time_limit is None else time.perf_counter() + options.time_limit
    target = options.num_sweeps
    adapt_at = [e for e in ADAPT_ENDS if target is None or e <= target // 2] if options.adapt_ladder else []
    runs, clock, batch = [], _Clock(deadline), 0
    with reporter("pt", total=options.time_limit or target, unit="s" if deadline else "sweep") as bar:
        while True:
            fresh = _start(arrays, options, setup, batch)
            _drive(fresh, target, adapt_at, clock, threads, options.beta_range is None, bar)
            runs += fresh
            batch += 1
            if deadline is None or clock.cut or target is None or not clock.has_time():
                break
    best = keep_lowest(model, None, np.stack([run.best for run in runs]), options.num_reads)
    info = _info(runs, beta_range, replicas, clusters, batch, threads, clock, adapt_at)
    if options.polish:
        from qiopt.backends.annealing.kernels import steepest_descent

        before = model.energies(best)
        steepest_descent(model, best, num_threads=threads)
        info["polish_improved"] = int(np.count_nonzero(model.energies(best) < before))
    return RunOutput(best, info)


class _Clock:
    """The deadline and the measured cost of one sweep of a batch. The first chunk's cost may include loading
    or compiling the kernel (seconds, once per process), so it alone never stops a call before its deadline."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline, self.per_sweep, self.cut, self.chunks = deadline, 0.0, False, 0

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.perf_counter()

    def has_time(self) -> bool:
        left = self.left()
        return left > self.per_sweep or (self.chunks == 1 and left > 0)


def _start(arrays: Any, options: Any, setup: dict, batch: int) -> list:
    from qiopt.backends.tempering.run import TemperingRun

    warm, k = setup["warm"], options.num_reads
    rows = start_states(arrays.model, options, warm, batch, k)  # checks initial_states against num_reads
    seeded = 0 if warm is None else (k if options.initial_states_generator == "tile" else min(len(warm), k))
    return [TemperingRun(arrays, setup["ladder"], setup["copies"], setup["cluster_lo"], options.seed,
                         batch * k + j, rows[j] if j < seeded else None) for j in range(k)]


def _drive(runs: list, target: int | None, adapt_at: list[int], clock: _Clock, threads: int, trim_cold: bool,
           bar: Any) -> None:
    """Advance ``runs`` in lockstep chunks to ``target`` sweeps (None: the deadline), adapting their ladders."""
    from qiopt.backends.tempering.ladder import adapt

    tasks = [(j, j + 1) for j in range(len(runs))]
    pos, step = 0, 1
    while target is None or pos < target:
        stops = [e for e in adapt_at if e > pos] + ([target] if target is not None else [])
        limit = min(stops) - pos if stops else None
        if clock.deadline is not None:
            if pos > 0 and not clock.has_time():
                clock.cut = True
                return
            fit = int(_MARGIN * clock.left() / clock.per_sweep) if clock.per_sweep > 0 else 1
            k = max(1, min(step, fit) if limit is None else min(step, fit, limit))
            step = 2 * k
        else:
            k = limit
        started = time.perf_counter()
        run_tasks(tasks, lambda lo, hi, k=k: runs[lo].advance(k), threads)
        spent = time.perf_counter() - started
        clock.per_sweep, clock.chunks = spent / k, clock.chunks + 1
        pos += k
        bar.update(k if clock.deadline is None else min(spent, max(bar.total - bar.n, 0)))
        if pos in adapt_at:
            for run in runs:
                run.set_ladder(adapt(run.betas, *run.take_statistics(), trim_cold=trim_cold))


def _info(runs: list, beta_range: tuple[float, float], replicas: int, clusters: bool, batches: int, threads: int,
          clock: _Clock, adapt_at: list[int]) -> dict[str, Any]:
    stats = [run.take_statistics()[0] for run in runs]
    done = [int(run.sweeps[0]) for run in runs]
    moves = np.sum([run.clusters for run in runs], axis=0)
    info = {"num_runs": len(runs), "num_batches": batches, "num_sweeps_done": done[-1],
            "total_sweeps": int(sum(done)), "best_found_at_sweep": [int(run.sweeps[1]) for run in runs],
            "num_replicas": replicas, "num_copies": runs[0].copies,
            "beta_range": [float(b) for b in beta_range], "ladder": runs[0].betas.tolist(),
            "ladder_adaptations": len([e for e in adapt_at if e <= done[0]]),
            "swap_acceptance": np.mean(stats, axis=0).round(4).tolist(), "cluster_moves": clusters,
            "stopped_by_time_limit": clock.cut, "num_threads": threads}
    if clusters:
        info["cluster_stats"] = {"attempted": int(moves[0]), "nontrivial": int(moves[1]),
                                 "mean_size": float(moves[2] / max(moves[1], 1))}
    return info
