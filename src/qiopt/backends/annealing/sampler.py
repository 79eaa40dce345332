"""The ``"sa"`` backend: simulated annealing with a compiled single-spin-flip kernel.

Same options as dwave-samplers' ``SimulatedAnnealingSampler`` (reads, sweeps, β range and schedule, warm starts,
Gibbs or Metropolis acceptance, random visiting order), plus ``time_limit`` (anneal more reads until the deadline,
keep the best), ``num_threads`` (reads in parallel; results do not depend on it) and ``polish`` (steepest descent
to a local minimum after annealing).

Example:
    >>> import dimod, qiopt
    >>> bqm = dimod.BQM({}, {("a", "b"): 1.0, ("b", "c"): 1.0}, 0.0, "SPIN")
    >>> sampleset = qiopt.get_backend("sa", num_reads=4, seed=1).sample(bqm)
    >>> float(sampleset.first.energy)
    -2.0
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends._reads import ReadOptions, initial_spins, keep_lowest, samples_in_order, start_states
from qiopt.backends.base import Backend, RunOutput, _timing
from qiopt.constrained.model import ConstrainedModel
from qiopt.model import CompactModel
from qiopt.options import (
    beta_pair,
    one_of,
    option,
    optional,
    positive_int,
    probability,
)
from qiopt.progress import reporter
from qiopt.threads import lease

__all__ = ["SimulatedAnnealingBackend", "SimulatedAnnealingOptions"]

_BQM_READS, _ENGINE_READS, _SWEEPS = 64, 4, 1000
_MAX_TIMED_SWEEPS = 10**7  # a time-limited engine run is bounded by its deadline, not by sweeps
_BATCH_MARGIN = 0.85  # share of the time left a time-limited BQM batch is sized to fill
_SEGMENT_STREAMS = 2**40  # read-stream offset between the probe's segments (reads are numbered far below it)


def _schedule(name: str, value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=float).ravel() if not isinstance(value, str) else np.array([np.nan])
    if arr.size == 0 or not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"option {name!r} must be a non-empty sequence of finite β ≥ 0, got {value!r}")
    return tuple(arr.tolist())


@dataclass(frozen=True)
class SimulatedAnnealingOptions(ReadOptions):
    num_reads: int | None = option(
        None, "Independent anneals (reads); samples returned (the best ones with time_limit). Default 64 on a "
        "BQM, 4 on a constrained model (longer anneals pay more there).", check=optional(positive_int))
    num_sweeps: int | None = option(
        None, "Sweeps per read (one sweep = one update attempt per variable, or per one-hot group). Default 1000; "
        "on a constrained model with time_limit, as many as fit.", check=optional(positive_int))
    num_sweeps_per_beta: int = option(1, "Sweeps at each β of the schedule; divides num_sweeps.",
                                      check=positive_int)
    beta_range: tuple[float, float] | None = option(
        None, "[hot, cold] inverse temperatures; default derived from the model's biases.", check=beta_pair)
    beta_schedule_type: str = option("geometric", "'geometric', 'linear' or 'custom' (uses beta_schedule).",
                                     check=one_of("geometric", "linear", "custom"))
    beta_schedule: tuple[float, ...] | None = option(
        None, "Explicit β values (with beta_schedule_type='custom').", check=_schedule)
    polish: bool = option(True, "Steepest descent to a local minimum after annealing.", check=one_of(True, False))
    randomize_order: bool = option(False, "Visit variables in a random order each sweep.",
                                   check=one_of(True, False))
    proposal_acceptance_criteria: str = option("Metropolis", "'Metropolis' or 'Gibbs'.",
                                               check=one_of("Metropolis", "Gibbs"))
    swap_probability: float | None = option(
        None, "Constrained models: share of group moves proposed as swaps of two items' bins (the rest reassign "
        "one item). Default 0.25 where items weigh differently on their bins, else 0.5.",
        check=optional(probability))
    chain_probability: float | None = option(
        None, "Constrained models: share of reassign moves proposed as shift chains (the item moves to the bin of a "
        "random other item, which moves on to another of its bins). Default 0.5 where items weigh differently on "
        "their bins (generalized assignment, speeds), else 0.", check=optional(probability))


class SimulatedAnnealingBackend(Backend):
    """Simulated annealing (single-spin-flip, compiled); the default backend.

    On a constrained model (a :class:`~qiopt.constrained.ConstrainedModel`, a dimod CQM through
    :meth:`sample_cqm`, or a qiopt problem through :func:`qiopt.solve`) it runs the allocation engine instead
    (:mod:`qiopt.backends.annealing.engine`): moves that keep one-hot groups exact, an adaptive constraint
    penalty, and ``polish`` as a zero-temperature descent stage.
    """

    name = "sa"
    options_type = SimulatedAnnealingOptions
    requires = ("numba",)
    structured = True
    summary = "simulated annealing, compiled multi-threaded kernel; the fast default for any model size"

    def _resolve(self, options: Any) -> Any:
        return options.replace(num_reads=options.num_reads or _BQM_READS, num_sweeps=options.num_sweeps or _SWEEPS)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        with lease(options.num_threads) as threads:  # the process's thread budget, shared with other solves
            return self._anneal(model, options, threads)

    def _anneal(self, model: CompactModel, options: Any, threads: int) -> RunOutput:
        from qiopt.backends.annealing import kernels, schedule

        betas, beta_range = _betas(model, options, schedule)
        gibbs = options.proposal_acceptance_criteria == "Gibbs"
        warm = initial_spins(model, options.initial_states)
        deadline = None if options.time_limit is None else time.perf_counter() + options.time_limit
        # time-limited: a probe batch (one read per thread) measures the cost of a read; later batches fill the
        # time left with up to full lockstep blocks on every thread, and the best num_reads are kept
        largest = max(options.num_reads, kernels.MAX_BLOCK * threads)
        reads = options.num_reads if deadline is None else min(options.num_reads, threads)
        best, batch, done, cut = None, 0, 0, False
        costs: dict[int, float] = {}  # block width -> seconds per block on one thread, as measured
        with reporter("sa", total=options.time_limit, unit="s") as bar:
            while reads > 0:
                started = time.perf_counter()
                states = start_states(model, options, warm, batch, reads)
                if deadline is not None and batch == 0:
                    cut = _probe(kernels, model, betas, states, options, gibbs, threads, deadline)
                else:
                    kernels.anneal(model, betas, options.num_sweeps_per_beta, states, options.seed, first_read=done,
                                   randomize_order=options.randomize_order, gibbs=gibbs, num_threads=threads)
                if options.polish:
                    kernels.steepest_descent(model, states, num_threads=threads)
                best = states if deadline is None else keep_lowest(model, best, states, options.num_reads)
                batch, done = batch + 1, done + reads
                now = time.perf_counter()
                bar.update(now - started if bar.total is None else min(now - started, bar.total - bar.n))
                bar.set_postfix_str(f"{done} reads")
                if deadline is None or cut:
                    break
                parts = kernels.blocks(reads, threads)
                costs[max(hi - lo for lo, hi in parts)] = (now - started) / -(-len(parts) // threads)
                reads = _next_reads(kernels, costs, deadline - now, threads, largest)
        info = {"beta_range": list(beta_range), "beta_schedule_type": options.beta_schedule_type,
                "num_batches": batch, "num_reads_annealed": done, "num_threads": threads,
                "stopped_by_time_limit": cut}
        return RunOutput(best, info)

    def sample_constrained(self, model: ConstrainedModel, **overrides: Any) -> dimod.SampleSet:
        """Anneal a :class:`~qiopt.constrained.ConstrainedModel`; the sample set is over ``model.sample_labels``, with
        the objective as energy, ``is_feasible`` and ``is_satisfied`` (per linear constraint) vectors, rows
        best feasible first, and ``info["stages"]`` (anneal, polish: what each did and its seconds)."""
        if not isinstance(model, ConstrainedModel):
            raise TypeError(f"model must be a qiopt ConstrainedModel, got {type(model).__name__}; use "
                            "sample_cqm for a dimod CQM or sample for a BQM")
        return self._sample_structured(model, self.options.replace(**overrides), time.perf_counter_ns())

    def sample_cqm(self, cqm: dimod.ConstrainedQuadraticModel, **overrides: Any) -> dimod.SampleSet:
        """Solve a dimod CQM of binary variables (see :func:`qiopt.constrained.cqm.from_cqm`): the local,
        open counterpart of Leap's hybrid CQM solver. Samples are in the CQM's labels; ``is_satisfied``
        follows ``info["constraint_labels"]``; energies are the CQM objective.

        >>> import dimod, qiopt
        >>> x = [dimod.Binary(f"x{i}") for i in range(3)]
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> cqm.set_objective(x[0] + 2 * x[1] + 3 * x[2])
        >>> _ = cqm.add_constraint(x[0] + x[1] + x[2] == 1, label="one")
        >>> _ = cqm.add_constraint(x[0] <= 0, label="no x0")
        >>> best = qiopt.get_backend("sa", seed=1, num_reads=4).sample_cqm(cqm).first
        >>> {v: int(b) for v, b in best.sample.items()}, float(best.energy), bool(best.is_feasible)
        ({'x0': 0, 'x1': 1, 'x2': 0}, 2.0, True)
        """
        from qiopt.constrained.cqm import from_cqm

        t0 = time.perf_counter_ns()
        model, notes = from_cqm(cqm)
        sampleset = self._sample_structured(model, self.options.replace(**overrides), t0)
        sampleset.info.update(notes)
        return sampleset

    def _sample_structured(self, model: ConstrainedModel, options: Any, t0: int, starts: np.ndarray | None = None,
                           prices: np.ndarray | None = None) -> dimod.SampleSet:
        """Run the engine; ``starts`` (rows in the model's variable order) start the reads unless the
        ``initial_states`` option gives starts of its own; ``prices`` (one per linear constraint) price the
        anneal's objective."""
        from qiopt.backends.annealing.engine import anneal_constrained, move_shares

        if options.seed is None:
            options = options.replace(seed=int(np.random.SeedSequence().entropy % 2**63))
        timed = options.time_limit is not None
        swap, chain = move_shares(model)
        options = options.replace(num_reads=options.num_reads or _ENGINE_READS,
                                  num_sweeps=options.num_sweeps or (_MAX_TIMED_SWEEPS if timed else _SWEEPS),
                                  swap_probability=swap if options.swap_probability is None else
                                  options.swap_probability,
                                  chain_probability=chain if options.chain_probability is None else
                                  options.chain_probability)
        t1 = time.perf_counter_ns()
        with lease(options.num_threads) as threads:  # the process's thread budget, shared with other solves
            run = anneal_constrained(
                model, num_reads=options.num_reads, num_sweeps=options.num_sweeps, seed=options.seed,
                beta_range=options.beta_range, time_limit=options.time_limit, num_threads=threads,
                polish=options.polish, swap_probability=options.swap_probability,
                chain_probability=options.chain_probability,
                initial_states=starts if options.initial_states is None else
                samples_in_order(options.initial_states, model.sample_labels), prices=prices)
        run.info["num_threads"] = threads
        t2 = time.perf_counter_ns()
        feasible, satisfied = run.feasible, run.satisfied
        order = np.lexsort((run.objective, ~feasible))
        info = {"options": options.to_dict(), "backend": self.name, **run.info,
                "constraint_labels": list(model.constraint_names)}
        sampleset = dimod.SampleSet.from_samples(
            (run.states[order], model.sample_labels), dimod.BINARY, run.objective[order], info=info,
            sort_labels=False,
            is_feasible=feasible[order], is_satisfied=satisfied[order], polished=run.polished[order])
        timing = _timing(t0, t1, t2)
        timing |= {f"{stage}_ns": int(1e9 * d["seconds"]) for stage, d in run.info["stages"].items()}
        sampleset.info["timing"] = timing
        return sampleset


def _probe(kernels: Any, model: CompactModel, betas: np.ndarray, states: np.ndarray, options: Any, gibbs: bool,
           threads: int, deadline: float) -> bool:
    """Anneal the first batch of a time-limited run in segments of 1, 2, 4, ... βs, each sized not to pass the
    deadline at the rate just measured, so a deadline shorter than one read still stops it (between two βs).
    Each segment draws from its own streams. Returns whether the deadline cut it short (its reads are then
    partly annealed: valid samples, and the only batch)."""
    pos, step, k = 0, 1, 0
    while pos < len(betas):
        started = time.perf_counter()
        part = betas[pos:pos + step]
        kernels.anneal(model, part, options.num_sweeps_per_beta, states, options.seed,
                       first_read=k * _SEGMENT_STREAMS, randomize_order=options.randomize_order, gibbs=gibbs,
                       num_threads=threads)
        per_beta = (time.perf_counter() - started) / len(part)
        pos, k = pos + len(part), k + 1
        left = deadline - time.perf_counter()
        if left <= 0:
            return pos < len(betas)
        step = max(1, min(2 * step, int(left / max(per_beta, 1e-12))))
    return False


def _next_reads(kernels: Any, costs: dict[int, float], left: float, threads: int, largest: int) -> int:
    """Reads of the next time-limited batch, sized to end by the deadline with a margin; 0 when none fits.

    ``costs`` maps a block width (reads in lockstep) to the seconds one block of it took on one thread. A batch
    costs whole blocks per thread, and a block costs less than in proportion to its width (the reads are vector
    lanes): a block no wider than one measured costs at most that; a wider one is priced on the line through the
    two widest measured (in proportion to width from a single one), which overestimates a cost that grows less
    than linearly. (Sizing by reads alone, a few reads left over cost a whole block: 30 s calls with
    25,000-sweep reads took 32 s.)"""
    def cost(width: int) -> float:
        known = [t for w, t in costs.items() if w >= width]
        if known:
            return min(known)
        (w1, t1), (w2, t2) = [(0, 0.0), *sorted(costs.items())][-2:]
        slope = max((t2 - t1) / (w2 - w1), 0.1 * t2 / w2)  # never flatter than a tenth of proportional
        return t2 + slope * (width - w2)

    room = _BATCH_MARGIN * left
    rounds = int(room // cost(kernels.MAX_BLOCK))
    if rounds >= 1:  # whole blocks of full width on every thread
        return min(largest, rounds * threads * kernels.MAX_BLOCK)
    fits = [w for w in range(kernels.MAX_BLOCK - 1, 0, -1) if cost(w) <= room]
    return threads * fits[0] if fits else 0  # one block per thread, as wide as fits


def _betas(model: CompactModel, options: Any, schedule: Any) -> tuple[np.ndarray, tuple[float, float]]:
    if options.beta_schedule_type == "custom":
        if options.beta_schedule is None:
            raise ValueError("option 'beta_schedule' is required with beta_schedule_type='custom'")
        betas = np.asarray(options.beta_schedule, dtype=np.float64)
        return betas, (float(betas.min()), float(betas.max()))
    if options.beta_schedule is not None:
        raise ValueError("option 'beta_schedule' needs beta_schedule_type='custom'; "
                         f"got beta_schedule_type={options.beta_schedule_type!r}")
    if options.num_sweeps % options.num_sweeps_per_beta:
        raise ValueError(f"option 'num_sweeps' ({options.num_sweeps}) must be a multiple of "
                         f"'num_sweeps_per_beta' ({options.num_sweeps_per_beta})")
    beta_range = options.beta_range or schedule.default_beta_range(model)
    num_betas = options.num_sweeps // options.num_sweeps_per_beta
    return schedule.beta_schedule(beta_range, num_betas, options.beta_schedule_type), tuple(beta_range)
