"""The decomposition's run: the start anneal, then rounds of disjoint sub-problems sent out and merged back.

A round draws its regions from the current state (:func:`choose_regions`), sends one task per region (to this
machine's threads or an executor), and merges the answers in region order, each only where its exact energy
change is negative, so the same seed gives the same rounds wherever the tasks run. With a deadline, a probe of a
few sweeps prices a spin update first: it sizes the start anneal to its share and the first wave of
sub-problems (one per thread or worker) to the time left; later rounds are sized from the measured cost of a
wave, and a task not back by the deadline is cancelled and its region left as it was.

Example:
    >>> import networkx as nx, qiopt
    >>> result = qiopt.solve(nx.cycle_graph(50), backend="decompose", seed=2, subproblem_size=10, num_rounds=3)
    >>> info = result.info["decomposition"]
    >>> info["rounds"], info["subproblems"], info["energy"] <= info["start_energy"]
    (3, 15, True)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from qiopt.backends._reads import initial_spins, start_states
from qiopt.backends.base import BackendError, RunOutput
from qiopt.executors import slots, submit_options
from qiopt.model import CompactModel
from qiopt.options import derived_seed
from qiopt.progress import reporter

__all__ = ["choose_regions", "decompose"]

_START_SWEEPS = 200  # the start anneal's sweeps without time_limit
_PROBE_UPDATES = 200_000  # spin updates per read of the probe that prices one (at least 8 sweeps, at most 256)
_LOCKSTEP = 8  # reads in lockstep cost about 1 + reads / this as much as one (measured: 16 reads ~2.3 x 2 reads)
_ROUND_MARGIN = 0.9  # share of the time left a round is sized to fill
_COVERS = 10  # default rounds without time_limit: the sub-problems cover the model about this many times
_TOURNAMENT = 64  # random variables drawn per seed of a region; the one whose flip costs least seeds it
_PARTS = 8  # most seeds one region is grown from (more than one only where a component is smaller than it)
_POLL_S = 0.002  # how often a time-limited round looks at its tasks


def decompose(model: CompactModel, options: Any, threads: int, executor: Any) -> RunOutput:
    """The whole run of :class:`~qiopt.backends.decomposition.DecompositionBackend` on ``threads`` local threads
    or on ``executor`` (``None``: here); see the module."""
    from qiopt.backends.decomposition.sampler import subproblem_betas

    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + options.time_limit
    spin_cost = None if deadline is None else _price(model, options, threads)
    starts = _start(model, options, threads, spin_cost, t0)
    t1 = time.perf_counter()
    energies = model.energies(starts)
    order = np.argsort(energies, kind="stable")
    starts = starts[order]
    run = _Rounds(model, options, starts[0].copy(), float(energies[order[0]]), threads, executor,
                  subproblem_betas(model, options))
    try:
        with reporter("decompose", total=options.time_limit or run.cap, unit="s" if deadline else "round") as bar:
            if deadline is not None:
                bar.update(min(t1 - t0, options.time_limit))  # the start's share
            run.loop(deadline, spin_cost, bar)
    finally:
        run.close()
    info = {"decomposition": {
        "start_energy": float(energies[order[0]]), "energy": run.energy, "rounds": run.rounds,
        "subproblems": run.solved, "merged": run.merged, "subproblem_size": run.size,
        "subproblems_per_round": run.per_round, "workers": run.parallel,
        "where": "threads" if executor is None else type(executor).__name__, "start_seconds": t1 - t0,
        "rounds_seconds": time.perf_counter() - t1, "stopped_by_time_limit": run.cut}, "num_threads": threads}
    return RunOutput(np.concatenate([run.s[None, :], starts[1:]]), info)


class _Rounds:
    """The state of a run between rounds: the current spins and energy, scratch arrays, the counters."""

    def __init__(self, model: CompactModel, options: Any, s: np.ndarray, energy: float, threads: int,
                 executor: Any, betas: np.ndarray) -> None:
        n = model.num_variables
        self.model, self.options, self.s, self.energy, self.betas = model, options, s, energy, betas
        self.size = min(options.subproblem_size, n)
        self.pool = ThreadPoolExecutor(max_workers=threads) if executor is None else None
        self.executor = executor if executor is not None else self.pool
        self.parallel = threads if executor is None else slots(executor)
        self.per_round = options.subproblems_per_round or (8 if executor is None else max(8, 2 * self.parallel))
        cover = -(-n // (self.size * self.per_round))  # rounds for the sub-problems to cover the model once
        timed = options.time_limit is not None
        self.cap = options.num_rounds or (None if timed else _COVERS * cover)
        self.patience = None if options.num_rounds or timed else cover
        self.mark, self.busy, self.pos = np.zeros(n, np.int8), np.zeros(n, np.int8), np.full(n, -1, np.int32)
        self.rng = np.random.default_rng([options.seed, 1])
        self.rounds = self.solved = self.merged = 0
        self.cut = False

    def loop(self, deadline: float | None, spin_cost: float | None, bar: Any) -> None:
        """Rounds until the cap, the patience or the deadline."""
        quiet, wave = 0, None  # rounds in a row that merged nothing; seconds per wave, as measured
        while self.cap is None or self.rounds < self.cap:
            count = self.per_round
            if deadline is not None:
                left = deadline - time.perf_counter()
                if wave is None:  # the first round: one wave, if its priced cost fits
                    first = spin_cost * self.size * self.options.subproblem_sweeps * (
                        1 + self.options.subproblem_reads / _LOCKSTEP)
                    count = min(count, self.parallel) if first < left else 0
                else:
                    count = min(count, self.parallel * int(_ROUND_MARGIN * left / wave))
                if count < 1:
                    self.cut = True
                    return
            started = time.perf_counter()
            before = self.merged
            chosen = self.round(count, deadline)
            elapsed = time.perf_counter() - started
            quiet = 0 if self.merged > before else quiet + 1
            if chosen:
                last = elapsed / -(-chosen // self.parallel)
                wave = last if wave is None else max(last, 0.8 * wave)
            bar.update(min(elapsed, bar.total - bar.n) if deadline is not None else 1)
            if self.patience is not None and quiet >= self.patience:
                return

    def round(self, count: int, deadline: float | None) -> int:
        """One round of ``count`` sub-problems; returns how many were sent."""
        from qiopt.backends.decomposition import regions
        from qiopt.backends.decomposition.sampler import solve_subproblem

        m = self.model
        cost = regions.flip_costs(m.h, m.indptr, m.indices, m.data, self.s)
        chosen = choose_regions(m, cost, self.busy, self.mark, self.rng, self.size, count)
        extra = submit_options(self.executor)
        futures = []
        try:
            for k, region in enumerate(chosen):
                h, ptr, idx, val, current = regions.extract(m.h, m.indptr, m.indices, m.data, self.s, region,
                                                            self.pos)
                seed = derived_seed(self.options.seed, self.rounds, k)
                futures.append(self.executor.submit(solve_subproblem, h, ptr, idx, val, current, self.betas,
                                                    self.options.subproblem_reads, seed, **extra))
            answers = _gather(futures, deadline)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            self.busy[:] = 0
        tol = 1e-12 * (1.0 + abs(self.energy))
        for region, new in zip(chosen, answers, strict=True):  # in region order: replayable
            if new is None:  # not back by the deadline: left as it was
                self.cut = True
                continue
            new = np.asarray(new)
            if new.shape != region.shape or new.dtype != np.int8:
                raise BackendError(f"a sub-problem of {region.size} variables came back as {new.dtype} "
                                   f"{new.shape}; do the workers run the same qiopt version?")
            delta = regions.region_delta(m.h, m.indptr, m.indices, m.data, self.s, region, new, self.pos)
            if delta < -tol:
                self.s[region] = new
                self.energy += delta
                self.merged += 1
        self.solved += len(chosen)
        self.rounds += 1
        return len(chosen)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def choose_regions(model: CompactModel, cost: np.ndarray, busy: np.ndarray, mark: np.ndarray,
                   rng: np.random.Generator, size: int, count: int) -> list[np.ndarray]:
    """Up to ``count`` disjoint regions of up to ``size`` variables (sorted int32), each grown breadth-first
    (:func:`~.regions.grow_region`) from the cheapest flip of :data:`_TOURNAMENT` random free variables, and
    from further seeds while its component runs out before ``size``; they are marked in ``busy``.

    >>> import dimod, numpy as np
    >>> cm = CompactModel.from_bqm(dimod.BQM({}, {(i, i + 1): 1.0 for i in range(9)}, 0.0, "SPIN"))
    >>> parts = choose_regions(cm, np.zeros(10), np.zeros(10, np.int8), np.zeros(10, np.int8),
    ...                        np.random.default_rng(0), 4, 2)
    >>> [len(p) for p in parts], len(set(np.concatenate(parts).tolist()))
    ([4, 4], 8)
    """
    from qiopt.backends.decomposition import regions

    n = model.num_variables
    chosen: list[np.ndarray] = []
    for _ in range(4 * count):
        if len(chosen) == count:
            break
        parts, need = [], size
        for _ in range(_PARTS):
            drawn = rng.integers(0, n, _TOURNAMENT)
            drawn = drawn[busy[drawn] == 0]
            if drawn.size == 0:
                break
            part = regions.grow_region(model.indptr, model.indices, cost, busy, int(drawn[np.argmin(cost[drawn])]),
                                       need, mark)
            busy[part] = 1
            parts.append(part)
            need -= part.size
            if need == 0:
                break
        if parts:
            chosen.append(np.sort(np.concatenate(parts)))
    return chosen


def _gather(futures: list[Any], deadline: float | None) -> list[Any]:
    """Every answer, in order; with a deadline, ``None`` for a task not back by then (it is cancelled)."""
    if deadline is None:
        return [future.result() for future in futures]
    while not all(future.done() for future in futures) and time.perf_counter() < deadline:
        time.sleep(_POLL_S)
    answers = []
    for future in futures:
        if future.done():
            answers.append(future.result())
        else:
            future.cancel()
            answers.append(None)
    return answers


def _price(model: CompactModel, options: Any, threads: int) -> float:
    """Seconds per spin update of one read on one thread, from a probe of about :data:`_PROBE_UPDATES` updates
    per read of the start's reads."""
    from qiopt.backends.annealing import kernels

    sweeps = int(np.clip(_PROBE_UPDATES // model.num_variables, 8, 256))
    probe = start_states(model, options, None, 0, options.num_reads)
    started = time.perf_counter()
    kernels.anneal(model, np.geomspace(0.1, 1.0, sweeps), 1, probe, options.seed, num_threads=threads)
    per_sweep = (time.perf_counter() - started) / sweeps
    return per_sweep * min(threads, options.num_reads) / (model.num_variables * options.num_reads)


def _start(model: CompactModel, options: Any, threads: int, spin_cost: float | None, started: float
           ) -> np.ndarray:
    """The start reads: the warm starts descended, or an anneal of the whole model (sa; with a deadline, as many
    sweeps as fill ``start_share`` of ``time_limit``, and the anneal keeps it)."""
    from qiopt.backends.annealing import SimulatedAnnealingBackend, kernels

    warm = initial_spins(model, options.initial_states)
    if warm is not None:
        states = start_states(model, options, warm, 0, options.num_reads)
        kernels.steepest_descent(model, states, num_threads=threads)
        return states
    sweeps, limit = options.start_sweeps or _START_SWEEPS, None
    if options.time_limit is not None:
        limit = max(1e-3, options.start_share * options.time_limit - (time.perf_counter() - started))
        if options.start_sweeps is None:  # one batch of reads whose anneal fills what is left of the share
            per_sweep = spin_cost * model.num_variables * options.num_reads / min(threads, options.num_reads)
            sweeps = max(10, int(0.9 * limit / per_sweep))
    sa = SimulatedAnnealingBackend()
    sa_options = sa.options_type(num_reads=options.num_reads, num_sweeps=sweeps, seed=options.seed,
                                 time_limit=limit, initial_states_generator=options.initial_states_generator)
    return sa._anneal(model, sa_options, threads).spins
