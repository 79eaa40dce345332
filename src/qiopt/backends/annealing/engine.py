"""The allocation engine: annealing with moves that keep one-hot groups exact, then an optional polish.

:func:`anneal_constrained` runs the stages of :mod:`qiopt.backends.annealing.moves` on a
:class:`~qiopt.constrained.ConstrainedModel`, each a named, timed unit reported in ``info["stages"]``:

1. ``anneal``: every read starts from a random choice per group (or a given warm start) and anneals over a
   geometric β schedule. The schedule comes from sampled moves from a random state: hot β accepts a typical
   (mean) uphill move with probability 5% (measured better than 1/2 at equal time: a random start is already
   hot); cold β is :data:`_COLD_FACTOR` times the β at which a small uphill move (the 2% quantile, sampled
   after a short descent from that state) is accepted with total probability 1% over the groups (measured from
   random starts on generalized assignment: a tenfold colder end lowered the gap on every instance tried,
   E 80×1600 from 8.1 % to 2.9 %; and on rebalancing). With warm starts, the reads that take each start the first
   time leave it (hot β accepts a typical uphill move near it with probability 1/2); those that take it the
   second time refine it (hot β = :data:`_WARM_HOT` × cold): the best of both is kept, so a poor start is
   left and a near-optimal one (an LP relaxation's rounding) is not undone.
   The constraint penalty starts at the typical objective change per unit of violation and adapts per row
   (``info["constraint_handling"] == "adaptive penalty"``). With a deadline, a probe of a few sweeps measures
   the cost of a sweep, and the rest of the schedule is planned again at every segment to end at the cold end
   by the deadline, keeping :data:`_POLISH_SWEEPS` sweeps' time for the polish (at most
   :data:`_POLISH_SHARE` of the time, :data:`_POLISH_SHARE_WARM` with warm starts, where a descent from a
   near-optimal start gains most in a short run). When the probe finds room for fewer than
   :data:`_FEW_SWEEPS` sweeps of every read, one read per thread goes on (``info["stages"]["anneal"]
   ["reads_to_the_end"]``), those refining a start first: a few more sweeps of a good read are worth more
   than a few sweeps of many (measured on the streaming batches at 50 ms: 0.45 → 0.37 % above the optimum).
   With ``prices`` (a Lagrangian relaxation's prices of the capacities, from the problem's starts), the anneal
   minimises the objective plus :data:`_PRICE_SHARE` of the priced loads: a full bin then costs what its
   capacity is worth, so reads trade cost against room instead of packing the items where they are largest
   (measured on generalized assignment at 10 s: D 40×400 +0.96 % → −0.31 % against HiGHS's 60 s answer,
   D 80×1600 0.00 → −1.36 %; share 0.9 beat 0.7, 0.8 and 1.0, whose objective no longer rewards a full bin).
2. ``polish`` (optional): zero-temperature descent, best reassignment per group, random swaps and shift
   chains, in rounds until no move improves or the deadline passes, on the reads the anneal went on with.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> from qiopt.constrained import ConstrainedModel
    >>> cm = ConstrainedModel(4, linear=[1.0, 2.0, 1.0, 3.0], groups=[[0, 1], [2, 3]], bins=[0, 1, 0, 1],
    ...                       constraints=sp.csr_matrix([[1.0, 0, 1.0, 0]]), upper=[1.0])
    >>> run = anneal_constrained(cm, num_reads=4, num_sweeps=100, seed=1)
    >>> run.states[0].tolist(), bool(run.feasible.all()), float(run.objective[0])
    ([0, 1, 1, 0], True, 3.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qiopt.backends._random import stream_state
from qiopt.backends.annealing import moves
from qiopt.backends.annealing.schedule import beta_schedule
from qiopt.constrained.model import ConstrainedModel
from qiopt.threads import run_tasks

__all__ = ["EngineRun", "anneal_constrained", "kernel_model"]

_PROBE_SWEEPS = 2
_SEGMENTS = 16
_GROWTH = 1.01  # penalty weight factor per sweep (measured on generalized assignment: 1.01 beat 1.05 and 1.002)
_FLOOR = 0.1  # the weight never drops below this share of its start (lower let reads cross the boundary)
_SAMPLED_MOVES = 4000
_HOT_ACCEPT = 0.05  # acceptance of a typical uphill move (from a random state) at the hot end
_SMALL_QUANTILE = 0.02  # the "smallest" uphill move that sets the cold end: this quantile of the sampled ones
_COLD_FACTOR = 10.0  # the cold end is this much colder than "1% total acceptance of the smallest uphill move"
_WARM_HOT = 0.3  # the hot end of reads that refine a warm start, as a share of the cold β
_CALIBRATION_ROUNDS = 3  # descent rounds before sampling the cold end's moves
_ROUND_SWEEPS = 3  # a polish round is about this many anneal sweeps (it scores every candidate of every group)
_POLISH_SWEEPS = 60  # the polish's time is kept as this many anneal sweeps (measured: 2-22 rounds of ~3 sweeps)...
_POLISH_SHARE = 0.15  # ... but at most this share of a time-limited run's anneal + polish time
_POLISH_SHARE_WARM = 0.5  # ... of a warm-started one (measured on the stream's batches at 25 ms: 0.57 -> 0.46 %)
_FEW_SWEEPS = 50  # with fewer sweeps of every read left after the probe, one read per thread goes on
_PRICE_SHARE = 0.9  # share of the given prices on the anneal's objective (measured: see the module)
_POLISH_CHAINS = 2  # random shift chains tried per group in a polish round


@dataclass
class EngineRun:
    """States ``(reads, N)`` int8 (best feasible of each read, else its last), their objective and feasibility,
    whether the polish changed each read, which linear constraints each satisfies (``(reads, R)``), and what
    each stage did (``info["stages"]``)."""

    states: np.ndarray
    objective: np.ndarray
    feasible: np.ndarray
    polished: np.ndarray
    satisfied: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def kernel_model(cm: ConstrainedModel) -> tuple[np.ndarray, ...]:
    """The array tuple the move kernels read (columns of ``A`` and ``B``, bin-sorted groups, tolerances)."""
    n = cm.num_variables
    a_cols, b_cols = cm.A.tocsc(), cm.B.tocsc()
    bins = cm.bins if cm.bins is not None else np.full(n, -1, dtype=np.int32)
    sizes = np.diff(cm.group_ptr)
    member_bins = bins[cm.group_vars]
    rising = np.diff(member_bins) >= 0
    rising[cm.group_ptr[1:-1] - 1] = True  # a group's first member may have any bin
    # members sorted by bin within each group (builders list them so already: then no sort, 3 ms at 50k)
    gvar = cm.group_vars.astype(np.int64) if rising.all() else \
        cm.group_vars[np.lexsort((member_bins, np.repeat(np.arange(cm.num_groups), sizes)))].astype(np.int64)
    pos = np.zeros(n, dtype=np.int64)
    pos[gvar] = np.arange(len(gvar)) - np.repeat(cm.group_ptr[:-1], sizes)
    q = cm.quadratic

    def i64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    def f64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.float64)

    return (f64(cm.linear), i64(q.indptr), i64(q.indices), f64(q.data), i64(a_cols.indptr), i64(a_cols.indices),
            f64(a_cols.data), f64(cm.lower), f64(cm.upper), f64(cm.tolerance()), i64(b_cols.indptr),
            i64(b_cols.indices), f64(b_cols.data), f64(cm.targets), f64(cm.weights), i64(cm.group_ptr), gvar,
            i64(bins[gvar]), pos, i64(bins), i64(cm.free), i64(cm.group_of))


def move_shares(cm: ConstrainedModel) -> tuple[float, float]:
    """Default ``(swap_probability, chain_probability)`` for ``cm``: ``(0.25, 0.5)`` when items weigh differently
    on their bins (generalized assignment, agent-dependent demands, speeds), where shift chains make room in
    full bins (measured on generalized assignment 40 × 400: mean gap 0.92 % → 0.72 %); else ``(0.5, 0.0)``
    (equal weights: a chain costs a scan of the ejected item's bins and gained nothing on the streaming batches
    of ``bench_stream.py``, +1.47 % against +0.79 % above the optimum at 30 ms).

    >>> from qiopt.problems import TaskAllocation
    >>> move_shares(TaskAllocation.random(20, 4, seed=1).to_constrained())
    (0.5, 0.0)
    """
    if cm.bins is None or cm.num_groups == 0:
        return 0.5, 0.0
    weight = np.asarray(abs(cm.A).sum(axis=0)).ravel() + np.asarray(abs(cm.B).sum(axis=0)).ravel()
    gvar = cm.group_vars
    starts = cm.group_ptr[:-1]
    low = np.minimum.reduceat(weight[gvar], starts)
    high = np.maximum.reduceat(weight[gvar], starts)
    varying = high - low > 1e-9 * np.maximum(high, 1e-300)
    return (0.25, 0.5) if varying.any() else (0.5, 0.0)


def anneal_constrained(cm: ConstrainedModel, *, num_reads: int = 4, num_sweeps: int = 1000, seed: int = 0,
                       beta_range: tuple[float, float] | None = None, time_limit: float | None = None,
                       num_threads: int = 1, polish: bool = True, swap_probability: float | None = None,
                       chain_probability: float | None = None, initial_states: np.ndarray | None = None,
                       prices: np.ndarray | None = None) -> EngineRun:
    """Anneal ``num_reads`` reads of ``cm`` (then polish them); see the module for the stages.

    ``time_limit`` (seconds) bounds both stages together; ``num_sweeps`` is then an upper bound. Read ``k``
    depends only on ``(seed, k)``: the same seed gives the same answer for any ``num_threads``.
    ``initial_states`` (``(k, N)`` 0/1 rows, one variable per group) start the reads (row ``r % k`` for read
    ``r``), from a local hot end (see :func:`_calibrate`); a feasible start is the read's first best state.
    ``swap_probability`` and ``chain_probability`` default to :func:`move_shares`. ``prices`` (one per linear
    constraint, e.g. a relaxation's dual prices of the capacities) make the anneal minimise the objective plus
    :data:`_PRICE_SHARE` × the priced constraint sums; the polish and every reported objective use the model's
    own objective (``info["stages"]["anneal"]["priced"]``).
    """
    started = time.perf_counter()
    deadline = None if time_limit is None else started + float(time_limit)
    km = kernel_model(cm)
    ka = km if prices is None else _priced(km, cm, prices)  # what the anneal sees; the polish sees km
    reads = int(num_reads)
    choice, x = _starts(cm, reads, seed, initial_states)
    lhs = np.zeros((reads, cm.num_constraints))
    tsum = np.zeros((reads, cm.num_squares))
    rng = np.array([stream_state(np.uint64(seed), np.uint64(k)) for k in range(reads)], dtype=np.uint64)
    for r in range(reads):
        moves.init_read(km, choice[r], x[r], lhs[r], tsum[r])
    warm = initial_states is not None
    hot, cold, lam0 = _calibrate(ka, cm, choice[0].copy(), x[0].copy(), seed, warm)
    if beta_range is not None:
        hot, cold = beta_range
    hots = np.full(reads, float(hot))
    if warm and beta_range is None:  # every other pass over the starts refines them instead of leaving them
        hots[(np.arange(reads) // len(initial_states)) % 2 == 1] = max(hot, _WARM_HOT * cold)
    if cm.bins is None:
        swap = chain = 0.0
    else:
        defaults = move_shares(cm) if swap_probability is None or chain_probability is None else (0.0, 0.0)
        swap = defaults[0] if swap_probability is None else float(swap_probability)
        chain = defaults[1] if chain_probability is None else float(chain_probability)
    best_choice, best_x = choice.copy(), x.copy()
    best_obj = np.full(reads, np.inf)
    for r in range(reads):  # a feasible start counts: a read never returns worse than its warm start
        obj, bad = moves.init_read(ka, choice[r], x[r], lhs[r], tsum[r])
        if bad == 0:
            best_obj[r] = obj
    lam = np.full((reads, cm.num_constraints), lam0)
    tasks = [(r, r + 1) for r in range(reads)]
    threads = max(1, min(int(num_threads), reads))

    def run(betas: np.ndarray) -> None:
        # progress of each β along hot → cold, mapped onto each read's own geometric schedule hots[r] → cold
        progress = np.log(betas / hot) / np.log(cold / hot) if cold > hot else np.ones(len(betas))

        def work(lo: int, hi: int) -> None:
            for r in range(lo, hi):
                own = betas if hots[r] == hot else hots[r] * (cold / hots[r]) ** progress
                moves.anneal_read(ka, own, 1, choice[r], x[r], lhs[r], tsum[r], rng, r, lam[r], lam0 * _FLOOR,
                                  _GROWTH, swap, chain, best_choice[r], best_x[r], best_obj)
        run_tasks(tasks, work, threads)

    def narrow(fit: float) -> float:
        # after the probe: with too little time for many sweeps of every read, one read per thread goes on
        # (those refining a start first): their sweeps are worth more than many reads' few; the others keep
        # their best state. Returns the factor on the cost of a sweep.
        if fit >= _FEW_SWEEPS or len(tasks) <= threads:
            return 1.0
        rounds = -(-len(tasks) // threads)
        tasks[:] = [(int(r), int(r) + 1) for r in sorted(np.argsort(-hots, kind="stable")[:threads])]
        return 1.0 / rounds

    t_anneal = time.perf_counter()
    if deadline is not None:  # keep as long as the set-up took for the wrap-up (states, energies, sample set)
        deadline -= min(t_anneal - started, 0.5 * (deadline - started))
    share = _POLISH_SHARE_WARM if warm else _POLISH_SHARE
    reserve = (_POLISH_SWEEPS, share * (deadline - t_anneal)) if polish and deadline is not None else (0, 0.0)
    def settled() -> bool:  # every read going on holds a feasible state: no need to settle past the deadline
        return bool(np.isfinite(best_obj[[lo for lo, _ in tasks]]).all())

    done = _schedule(run, hot, cold, int(num_sweeps), deadline, 0.97, reserve, narrow, settled)
    anneal_s = time.perf_counter() - t_anneal
    final_feasible = np.array([moves.init_read(km, choice[r], x[r], lhs[r], tsum[r])[1] == 0 for r in range(reads)])
    # the best feasible state of each read, else its last state
    take = np.isfinite(best_obj)
    choice[take], x[take] = best_choice[take], best_x[take]
    stages: dict[str, Any] = {"anneal": {"seconds": anneal_s, "sweeps": done,
                                         "beta_range": [float(hot), float(cold)], "reads": reads,
                                         "reads_to_the_end": len(tasks), "priced": prices is not None,
                                         "feasible_reads": int((take | final_feasible).sum())}}
    polished = np.zeros(reads, dtype=bool)
    if polish:
        per_sweep = anneal_s / max(done, 1)
        active = np.zeros(reads, dtype=bool)
        active[[lo for lo, _ in tasks]] = True
        stages["polish"] = _polish(km, choice, x, lhs, tsum, rng, threads, deadline, swap > 0, chain > 0, polished,
                                   per_sweep, active)
    states = x.copy()
    feasible, satisfied = cm.feasible_rows(states)
    objective = np.asarray(cm.energy(states), dtype=np.float64)
    info = {"engine": "moves", "constraint_handling": "adaptive penalty", "penalty_start": float(lam0),
            "stages": stages, "seconds": time.perf_counter() - started}
    return EngineRun(states, objective, feasible, polished, satisfied, info)


def _priced(km: tuple[np.ndarray, ...], cm: ConstrainedModel, prices: np.ndarray) -> tuple[np.ndarray, ...]:
    """``km`` with the linear objective plus :data:`_PRICE_SHARE` × ``Aᵀ prices``."""
    prices = np.asarray(prices, dtype=np.float64)
    if prices.shape != (cm.num_constraints,) or not np.isfinite(prices).all():
        raise ValueError(f"prices must be {cm.num_constraints} finite values, one per linear constraint")
    return (km[0] + _PRICE_SHARE * (cm.A.T @ prices), *km[1:])


def _schedule(run: Any, hot: float, cold: float, sweeps: int, deadline: float | None, share: float,
              reserve: tuple[int, float] = (0, 0.0), narrow: Any = None, settled: Any = None) -> int:
    """Run a geometric schedule from ``hot`` to ``cold`` in segments; returns the sweeps run.

    Without a deadline: ``sweeps`` sweeps. With one, at each of :data:`_SEGMENTS` segments the rest of the
    schedule is planned again from the current β to ``cold``, with as many sweeps (at most ``sweeps`` in all)
    as fit in ``share`` of the time left at the rate just measured, so the anneal ends at the cold end by the
    deadline however the cost of a sweep changes as it cools. ``reserve = (k, s)`` keeps the time of ``k``
    sweeps at that rate, at most ``s`` seconds, for the stage after (the polish). ``narrow(fit)``, called
    after the probe with the number of sweeps that fit, may drop reads; it returns the factor on a sweep's
    cost. ``settled()`` says whether the reads need no cold sweeps when time runs out before the cold end."""
    if deadline is None:
        betas = beta_schedule((hot, cold), sweeps, "geometric")
        for segment in np.array_split(betas, min(_SEGMENTS, sweeps)):
            run(segment)
        return sweeps
    probe = time.perf_counter()
    run(np.full(_PROBE_SWEEPS, hot))
    per_sweep = (time.perf_counter() - probe) / _PROBE_SWEEPS
    if narrow is not None:
        end = deadline - min(reserve[0] * per_sweep, reserve[1])
        per_sweep *= narrow((end - time.perf_counter()) / max(per_sweep, 1e-9))
    done, beta = _PROBE_SWEEPS, hot
    for k in range(_SEGMENTS):
        end = deadline - min(reserve[0] * per_sweep, reserve[1])
        left = int(min(sweeps - done, share * (end - time.perf_counter()) / max(per_sweep, 1e-9)))
        if left < 1:
            break
        plan = beta_schedule((beta, cold), left + 1, "geometric")[1:]
        segment = plan if k == _SEGMENTS - 1 else plan[:-(-left // (_SEGMENTS - k))]
        t = time.perf_counter()
        run(segment)
        per_sweep = (time.perf_counter() - t) / len(segment)
        done, beta = done + len(segment), float(segment[-1])
    if beta < cold and not (settled is not None and settled()):  # out of time: a few cold sweeps settle the reads
        run(np.full(2, cold))
        done += 2
    return done


def _starts(cm: ConstrainedModel, reads: int, seed: int, initial: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Random starts (a uniform variable per group, free variables uniform), then any warm starts."""
    sizes = np.diff(cm.group_ptr)
    choice = np.empty((reads, cm.num_groups), dtype=np.int64)
    x = np.zeros((reads, cm.num_variables), dtype=np.int8)
    given = None if initial is None else np.asarray(initial, dtype=np.int8)
    if given is not None and (given.ndim != 2 or given.shape[1] != cm.num_variables or
                              not np.isin(given, (0, 1)).all()):
        raise ValueError(f"initial_states must be 0/1 rows of {cm.num_variables} values")
    for r in range(reads):
        if given is not None:  # a warm read: its row, checked the first time it is used
            row = given[r % len(given)]
            if r < len(given) and cm.num_groups and \
                    (np.add.reduceat(row[cm.group_vars].astype(np.int64), cm.group_ptr[:-1]) != 1).any():
                raise ValueError(f"initial_states row {r} does not set exactly one variable of every one-hot group")
            choice[r] = choice[r - len(given)] if r >= len(given) else cm.group_vars[row[cm.group_vars] == 1]
            x[r] = row
            continue
        gen = np.random.default_rng([seed, r, 0x5EED])
        choice[r] = cm.group_vars[cm.group_ptr[:-1] + (gen.random(cm.num_groups) * sizes).astype(np.int64)]
        x[r, cm.free] = gen.integers(0, 2, size=len(cm.free), dtype=np.int8)
    return choice, x


def _calibrate(km: tuple[np.ndarray, ...], cm: ConstrainedModel, choice: np.ndarray, x: np.ndarray, seed: int,
               warm: bool) -> tuple[float, float, float]:
    """``(hot β, cold β, starting penalty)`` from the changes of random moves (see module): hot and the penalty
    from a random state, cold from the same state after descent (near a local minimum the uphill moves are
    the small ones the cold end must resolve; from a random state they are dominated by far-off terms).
    ``warm``: the reads start from given states, sampled as they are (no descent), and hot accepts a typical
    uphill move *near a local minimum* with probability 1/2: hot enough to leave the start's basin, not so hot
    that it forgets the start."""
    rng = np.array([stream_state(np.uint64(seed), np.uint64(2**63))], dtype=np.uint64)
    lhs, tsum = np.zeros(cm.num_constraints), np.zeros(cm.num_squares)
    dobj, dviol = moves.sample_deltas(km, choice, x, lhs, tsum, rng, _SAMPLED_MOVES)
    size = np.abs(dobj[dobj != 0])
    typical = float(np.mean(size)) if len(size) else 1.0
    viol = np.abs(dviol[dviol != 0])
    lam0 = typical / float(np.mean(viol)) if len(viol) else 1.0
    if not warm:  # a given start is already near a local minimum (and a descent from it costs what a round does)
        moves.descend_read(km, choice, x, lhs, tsum, rng, 0, 0, 0, _CALIBRATION_ROUNDS)
        dobj, dviol = moves.sample_deltas(km, choice, x, lhs, tsum, rng, _SAMPLED_MOVES)
    uphill = dobj[(dobj > 0) & (dviol <= 0)]
    smallest = max(float(np.quantile(uphill, _SMALL_QUANTILE)) if len(uphill) else typical, 1e-6 * typical)
    groups = max(cm.num_groups + len(cm.free), 2)
    hot = np.log(1.0 / _HOT_ACCEPT) / typical
    if warm and len(uphill):
        hot = np.log(2.0) / float(np.mean(uphill))
    cold = max(_COLD_FACTOR * np.log(100.0 * groups) / smallest, hot)
    return float(hot), float(cold), float(lam0)


def _polish(km: tuple[np.ndarray, ...], choice: np.ndarray, x: np.ndarray, lhs: np.ndarray, tsum: np.ndarray,
            rng: np.ndarray, threads: int, deadline: float | None, swaps: bool, chains: bool, polished: np.ndarray,
            per_sweep: float, active: np.ndarray) -> dict[str, Any]:
    """Descent rounds on the ``active`` reads (those the anneal went on with) until no move improves, or until
    the next round would end past the deadline (a round is estimated as long as the last one; the first as
    :data:`_ROUND_SWEEPS` anneal sweeps); what it did, timed. Sets ``polished[r]`` for every read it changed."""
    started = time.perf_counter()
    reads = choice.shape[0]
    made = np.zeros(reads, dtype=np.int64)
    rounds = 0
    estimate = _ROUND_SWEEPS * per_sweep
    while active.any() and (deadline is None or time.perf_counter() + estimate < deadline):
        t_round = time.perf_counter()
        def work(lo: int, hi: int) -> None:
            for r in range(lo, hi):
                if active[r]:
                    moved = moves.descend_read(km, choice[r], x[r], lhs[r], tsum[r], rng, r, 2 if swaps else 0,
                                               _POLISH_CHAINS if chains else 0, 1)
                    made[r] += moved
                    active[r] = moved > 0
        run_tasks([(r, r + 1) for r in range(reads)], work, threads)
        rounds += 1
        estimate = time.perf_counter() - t_round
    polished[:] = made > 0
    return {"seconds": time.perf_counter() - started, "rounds": rounds, "moves": int(made.sum()),
            "converged": not active.any()}
