"""The ``"auto"`` backend: a portfolio that spends a time budget on the solvers that suit the model.

``auto`` reads a few features of the model (:func:`features`: size, density, degree), picks members and their
time shares by the rules of :func:`plan` (measured on Gset, Beasley/GKA and planted Wishart instances with
``benchmarks/bench_family.py``; the figures are in ``BENCHMARKS.md``), runs the members side by side where the
thread budget allows (each on its own threads, each bounded by its share of ``time_limit``), and returns the best
samples of all. ``info["portfolio"]`` says what each member did and ``info["answered_by"]`` which one found the
best sample.

Without ``time_limit`` there is no budget to split: ``auto`` runs the plan's first member with its own defaults.
Models small enough to enumerate in a small part of the budget go to ``exact`` (a certain optimum). On
constrained models (problems, CQMs) ``auto`` runs the allocation engine of ``sa``, the one structured annealer.

Example:
    >>> import networkx as nx, qiopt
    >>> result = qiopt.solve(nx.cycle_graph(6), backend="auto", time_limit=0.5, seed=1)
    >>> result.best_energy, result.sampleset.info["answered_by"]
    (-6.0, 'exact')
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends._reads import ReadOptions, initial_spins, keep_lowest, start_states
from qiopt.backends.base import Backend, RunOutput
from qiopt.model import CompactModel
from qiopt.options import option, optional, positive_int
from qiopt.threads import lease

__all__ = ["DENSE", "PortfolioBackend", "PortfolioOptions", "features", "plan"]

_EXACT_RATE = 2.0**27  # states per second per thread the exact backend enumerates (measured: ~2**28, halved)
_EXACT_SHARE = 0.1  # enumerate only when it takes at most this share of the budget
_SPARSE_PAIR_THREADS = 4  # sparse models: sa alone below this many threads, then pt beside it
_UNTIMED = 0.5  # the budget the exact rule assumes without time_limit, on one thread (n <= 23)
_SWEEPS_PER_SECOND = 1000  # long anneals on sparse models: sweeps per read per second of budget
_MIN_SWEEPS = 1000
_SWEEP_RATE = 4e7  # spin updates per second of one read alone on one thread (measured 4.3e7 on G22)
_MARGIN = 0.03  # share of the budget kept for starting members and merging their samples
_COMMON = ("seed", "initial_states", "initial_states_generator")
DENSE = 0.05
"""Models with at least this share of all possible couplings count as dense (Beasley's and most GKA instances,
planted Wishart); Gset graphs are below 0.01."""


def _members(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    from qiopt.backends.registry import backend_class

    names = (value,) if isinstance(value, str) else tuple(value)
    if not names or not all(isinstance(v, str) for v in names):
        raise ValueError(f"option {name!r} must be None or a non-empty list of backend names, got {value!r}")
    for member in names:
        cls = backend_class(member)  # an unknown name is a ValueError listing the valid ones
        if member == PortfolioBackend.name or "time_limit" not in cls.options_type.names():
            raise ValueError(f"option {name!r}: {member!r} cannot be a portfolio member (members must be "
                             "sampling backends with a time_limit option, such as 'sa', 'tabu', 'sb', 'pt')")
    if len(set(names)) != len(names):
        raise ValueError(f"option {name!r} names a backend twice: {list(names)}")
    return names


@dataclass(frozen=True)
class PortfolioOptions(ReadOptions):
    num_reads: int | None = option(None, "Samples returned: the best of all members' (default 8).",
                                   check=optional(positive_int))
    members: tuple[str, ...] | None = option(
        None, "Backends to run (each gets an equal share); default: chosen by the measured rules of "
        "qiopt.backends.portfolio.plan.", check=_members)


def features(model: CompactModel) -> dict[str, Any]:
    """What the rules read: ``num_variables``, ``density`` (couplings over ``n(n-1)/2``) and ``mean_degree``.

    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> features(CompactModel.from_bqm(dimod.BQM({}, {(0, 1): 1.0, (1, 2): -1.0}, 0.0, "SPIN")))
    {'num_variables': 3, 'density': 0.6666666666666666, 'mean_degree': 1.3333333333333333}
    """
    n = model.num_variables
    nnz = len(model.data) // 2
    return {"num_variables": n, "density": nnz / max(1, n * (n - 1) // 2), "mean_degree": 2 * nnz / n}


def plan(facts: dict[str, Any], time_limit: float | None, threads: int) -> list[tuple[str, dict]]:
    """Members and their own options for a model with these :func:`features`, on ``threads`` threads.

    The rules (``benchmarks/bench_family.py``; figures in ``BENCHMARKS.md``):

    * enumerable within a tenth of the budget (without ``time_limit``: of half a second on one thread, so the
      plan does not depend on the thread count): ``exact`` alone;
    * sparse (density below :data:`DENSE`): ``sa`` with long anneals (:func:`long_anneal` sweeps per read) on
      every thread, with ``pt`` beside it from four threads on. Gset at 30 s on two threads: ``sa`` with 30,000
      sweeps per read 13359 / 10297 / 9583 on G22 / G55 / G70 (25,000 on G55, 18,000 on G22); ``pt`` 13359 /
      10293 / 9560; ``sa`` with its default 1,000 sweeps 13359 / 10281 / 9539; ``tabu`` 13329 / 10203 / 9393;
    * dense: ``tabu`` and ``pt`` (and ``sa`` on a third thread): ``tabu`` brings every Beasley and GKA instance
      to its best-known value in well under a second, and on planted Wishart models ``tabu`` and ``pt`` find
      ground states that ``sa`` misses at equal time.

    Without ``time_limit`` only the first member runs.

    >>> plan({"num_variables": 10, "density": 1.0, "mean_degree": 9.0}, 1.0, 2)
    [('exact', {})]
    >>> plan({"num_variables": 2000, "density": 0.01, "mean_degree": 20.0}, 10.0, 2)
    [('sa', {'num_sweeps': 10000})]
    """
    n = facts["num_variables"]
    rate = _EXACT_RATE * (1 if time_limit is None else threads)  # untimed: the same plan on any thread count
    if n <= 40 and 2.0**n / rate <= _EXACT_SHARE * (time_limit or _UNTIMED):
        return [("exact", {})]
    if facts["density"] < DENSE:
        sa = ("sa", {} if time_limit is None else {"num_sweeps": long_anneal(n, time_limit)})
        return [sa] if threads < _SPARSE_PAIR_THREADS else [sa, ("pt", {})]
    return [(name, {}) for name in ("tabu", "pt", "sa")[:max(2, min(threads, 3))]]


def long_anneal(num_variables: int, time_limit: float) -> int:
    """Sweeps per ``sa`` read on sparse models: 1,000 per second of budget (long anneals are what close the gap
    on large sparse graphs: G70 at 30 s, 9583 with 30,000 sweeps against 9539 with 1,000), at most what lets one
    read take a quarter of the budget at :data:`_SWEEP_RATE`, at least 1,000.

    >>> long_anneal(10_000, 30.0), long_anneal(1_000_000, 30.0), long_anneal(800, 0.5)
    (30000, 1000, 1000)
    """
    fits = time_limit * _SWEEP_RATE / (4 * num_variables)
    return int(max(_MIN_SWEEPS, min(_SWEEPS_PER_SECOND * time_limit, fits)))


class PortfolioBackend(Backend):
    """Several backends on one time budget, chosen for the model; the best samples of all of them."""

    name = "auto"
    options_type = PortfolioOptions
    requires = ("numba",)
    structured = True
    summary = "a portfolio: picks backends for the model, splits time_limit between them, returns the best"

    def _resolve(self, options: Any) -> Any:
        return options.replace(num_reads=options.num_reads or 8)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        started = time.perf_counter()
        # warm starts checked here, once: a member without them (exact) would otherwise drop bad ones unread
        start_states(model, options, initial_spins(model, options.initial_states), 0, options.num_reads)
        facts = features(model)
        with lease(options.num_threads) as threads:
            if options.members is not None:
                chosen = [(member, {}) for member in options.members]
            else:
                chosen = plan(facts, options.time_limit, threads)
            if options.time_limit is None:
                chosen = chosen[:1]
            runs = _schedule(chosen, options, threads, started)
            with ThreadPoolExecutor(max_workers=min(threads, len(runs))) as pool:
                done = list(pool.map(lambda run: _member(model, bqm, run), runs))
        best = None
        for spins, _ in done:
            best = keep_lowest(model, best, spins, options.num_reads)
        report = [entry for _, entry in done]
        answered = min(report, key=lambda entry: entry["best_energy"])["backend"]  # ties: the first listed
        info = {"portfolio": report, "answered_by": answered, "num_threads": threads, "features": facts}
        return RunOutput(best, info)

    def _sample_structured(self, model: Any, options: Any, t0: int, starts: np.ndarray | None = None,
                           prices: np.ndarray | None = None) -> dimod.SampleSet:
        """Constrained models go to the allocation engine of ``sa`` (the one structured annealer)."""
        from qiopt.backends.registry import get_backend

        sa = get_backend("sa")
        own = {name: getattr(options, name) for name in (*_COMMON, "num_threads", "time_limit")}
        if options.num_reads is not None:
            own["num_reads"] = options.num_reads
        sampleset = sa._sample_structured(model, sa.options.replace(**own), t0, starts, prices)
        seed = sampleset.info["options"]["seed"]  # the engine's, drawn when none was given: the run replays
        sampleset.info.update(backend=self.name, answered_by="sa", options=options.replace(seed=seed).to_dict())
        return sampleset


def _schedule(chosen: list[tuple[str, dict]], options: Any, threads: int, started: float) -> list[dict]:
    """One run per member: its threads, time limit, seed and own options. With a thread for each, members run
    at once for the whole budget, the threads split evenly; otherwise they take one thread each, in
    ``ceil(members / threads)`` rounds that share the budget. A member's seed derives from the portfolio's seed
    and its position."""
    together = len(chosen) <= threads
    split = np.array_split(np.arange(threads), len(chosen)) if together else None
    rounds = -(-len(chosen) // threads)
    budget = None
    if options.time_limit is not None:
        budget = ((1 - _MARGIN) * options.time_limit - (time.perf_counter() - started)) / rounds
    seeds = np.random.SeedSequence(options.seed).generate_state(len(chosen), np.uint64) % np.uint64(2**63)
    return [{"name": name, "threads": len(split[k]) if together else 1, "seed": int(seeds[k]), "own": own,
             "time_limit": None if budget is None else max(budget, 1e-3), "options": options}
            for k, (name, own) in enumerate(chosen)]


def _member(model: CompactModel, bqm: dimod.BinaryQuadraticModel, run: dict) -> tuple[np.ndarray, dict]:
    """Run one member; its samples as ±1 rows in the model's order and what it did."""
    from qiopt.backends.registry import get_backend

    options = run["options"]
    sampler = get_backend(run["name"])
    given = {name: getattr(options, name) for name in _COMMON} | {
        "seed": run["seed"], "num_threads": run["threads"], "time_limit": run["time_limit"],
        "num_states": options.num_reads}  # exact: as many lowest states as samples asked
    own = {name: value for name, value in given.items() if name in sampler.options_type.names()}
    if "num_reads" in sampler.options_type.names():  # the member's own number, raised to the portfolio's
        default = sampler._resolve(sampler.options).num_reads or 0
        if options.num_reads > default:
            own["num_reads"] = options.num_reads
    own |= run["own"]  # the plan's options for this member
    t0 = time.perf_counter_ns()
    sampleset = sampler._sample_compact(bqm, model, sampler.options.replace(**own), t0)
    seconds = (time.perf_counter_ns() - t0) / 1e9
    column = {v: k for k, v in enumerate(sampleset.variables)}
    spins = model.from_vartype(sampleset.record.sample[:, [column[v] for v in model.labels]])
    if run["name"] == "exact" and len(spins) < options.num_reads:  # fewer states than samples asked: repeat
        spins = np.resize(spins, (options.num_reads, model.num_variables))
    entry = {"backend": run["name"], "options": run["own"], "seconds": seconds, "num_threads": run["threads"],
             "time_limit": run["time_limit"], "best_energy": float(sampleset.record.energy.min()),
             "num_samples": len(sampleset)}
    return np.ascontiguousarray(spins), entry
