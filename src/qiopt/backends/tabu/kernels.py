"""Compiled one-flip tabu search of the ``"tabu"`` backend (numba), resumable in chunks, and :func:`tabu_polish`.

Each read keeps its spins ``s``, the gains ``g_i = -2 s_i f_i`` (``f = h + J s``: the energy change of flipping
``i``) and a key per variable (its gain, or a sentinel while it is tabu). An iteration flips the variable of the
lowest key, or a tabu one whose flip beats the read's best energy (aspiration: a scan of the ``tenure`` most
recent flips); the flipped variable is tabu for the next ``tenure`` iterations; the gains of its neighbours are
updated in O(degree). On sparse models the lowest key comes from a tournament tree (O(degree · log n) per flip),
on dense ones from a linear scan (O(n), cheaper than the tree once the degree nears n / log n); ties go to a
random choice (a random start of the scan, or a random rank redrawn whenever a variable's key changes), so
reads and restarts do not retrace each other on integer-valued models.

When the read's best energy has not improved for ``stall`` iterations, the read restarts (Palubeckis' MST2
scheme) from its best state with a random ``perturbation`` share of the variables flipped. The best state is
copied only when a run of improving flips ends, not at every improving flip. A read draws only from its own
xorshift64 stream seeded from ``(seed, read index)`` and its state lives in :class:`TabuSearch` between calls,
so a read's trajectory is the same whatever the thread count or the chunking.

Example:
    >>> import dimod, numpy as np
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BQM({}, {(0, 1): 1.0, (1, 2): 1.0, (0, 2): -1.0}, 0.0, "SPIN"))
    >>> states = np.ones((2, 3), dtype=np.int8)
    >>> tabu_polish(cm, states, iterations=20, seed=1)
    >>> cm.energies(states).tolist()
    [-3.0, -3.0]
"""

from __future__ import annotations

import numba as nb
import numpy as np

from qiopt.backends._random import JIT, stream_state, xorshift64
from qiopt.backends.annealing.kernels import steepest_descent
from qiopt.model import CompactModel
from qiopt.threads import run_tasks

__all__ = ["TabuSearch", "default_tenure", "tabu_polish", "use_tree"]

_TABU = 1e300  # key of a tabu variable (finite: a huge gain never compares as inf)
_HUGE = 2.0**900  # models whose gains could come near _TABU are scaled down
_SCAN_MATH = {"reassoc", "nsz", "arcp", "contract"}  # reassociated min-reduction, no inf/NaN assumption
# ints columns of a read: iteration, iterations since the best improved, restarts, why done, saved best is a
# one-flip local minimum (saved on leaving it, not cut short by the end of a chunk)
_T, _SINCE, _RESTARTS, _DONE, _LOCAL = range(5)
RUNNING, BUDGET, RESTARTS, THRESHOLD = 0, 1, 2, 3
"""Why a read ended: still running, iteration budget spent, restarts exhausted, energy threshold reached."""


@nb.njit(**JIT)
def _setup(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, offset: float,
           s: np.ndarray, gain: np.ndarray, key: np.ndarray) -> float:
    """Gains and keys of state ``s`` from scratch; returns its energy."""
    energy = offset
    for i in range(s.shape[0]):
        f, c = h[i], 0.0
        for k in range(indptr[i], indptr[i + 1]):
            c += data[k] * s[indices[k]]
        f += c
        energy += s[i] * (h[i] + 0.5 * c)
        gain[i] = -2.0 * s[i] * f
        key[i] = gain[i]
    return energy


@nb.njit(inline="always", **JIT)
def _pick(key: np.ndarray, rank: np.ndarray, a: int, b: int) -> int:
    """The index of the lower key, ties to the lower rank; -1 = empty leaf."""
    if a < 0:
        return b
    if b < 0:
        return a
    if key[a] < key[b] or (key[a] == key[b] and rank[a] < rank[b]):
        return a
    return b


@nb.njit(inline="always", **JIT)
def _rise(tree: np.ndarray, key: np.ndarray, rank: np.ndarray, size: int, i: int) -> None:
    """Repair the tournament after ``key[i]`` changed: up from ``i``'s leaf, stopping where a node keeps a winner
    other than ``i`` (its key, hence every node above, is then unchanged)."""
    node = (size + i) // 2
    while node >= 1:
        winner = _pick(key, rank, tree[2 * node], tree[2 * node + 1])
        if winner == tree[node] and winner != i:
            return
        tree[node] = winner
        node //= 2


@nb.njit(inline="always", **JIT)
def _redraw(tree: np.ndarray, key: np.ndarray, rank: np.ndarray, size: int, i: int, rng: np.uint64) -> np.uint64:
    """After ``key[i]`` changed: a fresh random tie-breaking rank for ``i``, then repair the tournament. (Ranks
    fixed between restarts made long runs on integer-weighted max-cut retrace themselves: measured on G55.)"""
    rng = xorshift64(rng)
    rank[i] = np.uint32(rng >> np.uint64(32))
    _rise(tree, key, rank, size, i)
    return rng


@nb.njit(**JIT)
def _build(tree: np.ndarray, key: np.ndarray, rank: np.ndarray, rng: np.uint64) -> np.uint64:
    """Fresh random tie-breaking ranks and the tournament over ``key``; returns the advanced stream."""
    n, size = key.shape[0], tree.shape[0] // 2
    for i in range(n):
        rng = xorshift64(rng)
        rank[i] = np.uint32(rng >> np.uint64(32))
        tree[size + i] = i
    for node in range(size - 1, 0, -1):
        tree[node] = _pick(key, rank, tree[2 * node], tree[2 * node + 1])
    return rng


@nb.njit(fastmath=_SCAN_MATH, **JIT)
def _scan(key: np.ndarray, start: int) -> int:
    """Index of the lowest key, ties to the first found going round from ``start``."""
    low = key[0]
    for i in range(1, key.shape[0]):
        low = min(low, key[i])
    for i in range(start, key.shape[0]):
        if key[i] == low:
            return i
    for i in range(start):
        if key[i] == low:
            return i
    return 0


@nb.njit(**JIT)
def _restart(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, offset: float,
             s: np.ndarray, best: np.ndarray, flips: int, gain: np.ndarray, key: np.ndarray, until: np.ndarray,
             fifo: np.ndarray, rank: np.ndarray, tree: np.ndarray, tree_mode: bool, rng: np.uint64
             ) -> tuple[float, np.uint64]:
    """Start a run from ``best`` with ``flips`` distinct random variables flipped (0 = from ``s`` as it is)."""
    n = s.shape[0]
    if flips > 0:
        s[:] = best
        order = np.arange(n)
        for q in range(flips):  # partial Fisher-Yates: flips distinct variables
            rng = xorshift64(rng)
            j = q + np.int64(rng % np.uint64(n - q))
            order[q], order[j] = order[j], order[q]
            s[order[q]] = -s[order[q]]
    energy = _setup(h, indptr, indices, data, offset, s, gain, key)
    until[:] = -1
    fifo[:] = -1
    if tree_mode:
        rng = _build(tree, key, rank, rng)
    return energy, rng


@nb.njit(**JIT)
def _search(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, offset: float, tol: float,
            s: np.ndarray, best: np.ndarray, gain: np.ndarray, key: np.ndarray, until: np.ndarray, fifo: np.ndarray,
            rank: np.ndarray, tree: np.ndarray, tree_mode: bool, ints: np.ndarray, reals: np.ndarray,
            rngs: np.ndarray, r: int, steps: int, tenure: int, stall: int, budget: int, max_restarts: int,
            flips: int, threshold: float) -> None:
    """Advance read ``r`` by up to ``steps`` iterations (see the module docstring); its state is in the arrays."""
    if ints[_DONE] != RUNNING:
        return
    n, size, slots = s.shape[0], tree.shape[0] // 2, tenure + 1
    t, since, restarts = ints[_T], ints[_SINCE], ints[_RESTARTS]
    at_best = 0  # the state is the read's best, not yet saved; always saved before a chunk ends
    energy, low, rng, done = reals[0], reals[1], rngs[r], RUNNING
    for _ in range(steps):
        if t >= budget:
            done = BUDGET
            break
        if since >= stall:
            if restarts >= max_restarts:
                done = RESTARTS
                break
            restarts += 1
            energy, rng = _restart(h, indptr, indices, data, offset, s, best, flips, gain, key, until, fifo,
                                   rank, tree, tree_mode, rng)
            since = 0
            if energy < low - tol:
                low, at_best = energy, 1
        slot = t % slots
        v = fifo[slot]  # flipped at t - tenure - 1: free again unless flipped since
        if v >= 0 and until[v] < t:
            key[v] = gain[v]
            if tree_mode:
                rng = _redraw(tree, key, rank, size, v, rng)
        if tree_mode:
            c = tree[1]
        else:
            rng = xorshift64(rng)
            c = _scan(key, np.int64(rng % np.uint64(n)))
        chosen = key[c]
        for q in range(slots):  # aspiration: a tabu flip that beats the best energy
            v = fifo[q]
            if v >= 0 and until[v] >= t and gain[v] < chosen and energy + gain[v] < low - tol:
                c, chosen = v, gain[v]
        g = gain[c]
        if at_best and not g < -tol:  # leaving the best state, a local minimum (no flip improves it): save it
            best[:] = s
            at_best, ints[_LOCAL] = 0, 1
        s[c] = -s[c]
        energy += g
        gain[c] = -g
        until[c] = t + tenure
        fifo[slot] = c
        key[c] = _TABU if tenure > 0 else gain[c]
        if tree_mode:
            rng = _redraw(tree, key, rank, size, c, rng)
        sc = s[c]
        for k in range(indptr[c], indptr[c + 1]):
            j = indices[k]
            gain[j] -= 4.0 * data[k] * sc * s[j]
            if key[j] != _TABU:
                key[j] = gain[j]
                if tree_mode:
                    rng = _redraw(tree, key, rank, size, j, rng)
        t += 1
        if energy < low - tol:
            low, at_best, since = energy, 1, 0
            if low <= threshold:
                done = THRESHOLD
                break
        else:
            since += 1
    if at_best:
        best[:] = s
        ints[_LOCAL] = 0
    ints[_T], ints[_SINCE], ints[_RESTARTS], ints[_DONE] = t, since, restarts, done
    reals[0], reals[1], rngs[r] = energy, low, rng


def default_tenure(num_variables: int) -> int:
    """dwave-samplers' default tabu tenure: ``min(20, n // 4)``.

    >>> default_tenure(50), default_tenure(1000)
    (12, 20)
    """
    return min(20, num_variables // 4)


def use_tree(cm: CompactModel) -> bool:
    """Whether the tournament tree beats the scan for this model. Measured (one thread): a flip costs about
    8.5 ns · (degree + 2) · log2 n with the tree and 0.9 ns · n with the scan, so the tree is taken when
    ``(degree + 2) · log2 n < n / 8`` (e.g. a 3-regular graph from about 400 variables on, degree 100 from about
    11,000).

    >>> import dimod
    >>> chain = dimod.BQM({}, {(i, i + 1): 1.0 for i in range(999)}, 0.0, "SPIN")
    >>> use_tree(CompactModel.from_bqm(chain)), use_tree(CompactModel.from_bqm(dimod.generators.ran_r(1, 50)))
    (True, False)
    """
    n = cm.num_variables
    degree = len(cm.indices) / max(n, 1)
    return bool((degree + 2) * np.log2(max(n, 2)) < n / 8)


class TabuSearch:
    """The tabu searches of a set of reads, resumable: :meth:`advance` runs every unfinished read for a number of
    iterations, :meth:`best` gives each read's best state.

    ``starts`` (int8 ±1 rows) start the reads; read ``k`` draws from the stream ``(seed, first_read + k)``.
    ``stall``: iterations without improving the read's best before a restart; ``budget``: iterations per read;
    ``max_restarts``: restarts per read; ``flips``: variables flipped in the best state to restart; a read also
    ends when its best energy is at most ``threshold``. ``tree``: the tournament tree (default: :func:`use_tree`).
    ``starts`` is copied, never changed.

    >>> import dimod, numpy as np
    >>> cm = CompactModel.from_bqm(dimod.BQM({0: 1.0, 1: 1.0}, {(0, 1): 0.5}, 0.0, "SPIN"))
    >>> search = TabuSearch(cm, np.ones((1, 2), np.int8), tenure=0, stall=5, budget=10, seed=0)
    >>> search.advance(100, num_threads=1)
    >>> search.finished, search.best().tolist(), search.iterations.tolist()
    (True, [[-1, -1]], [10])
    """

    def __init__(self, cm: CompactModel, starts: np.ndarray, *, tenure: int, stall: int, budget: int, seed: int,
                 max_restarts: int = 2**62, flips: int = 0, threshold: float = -np.inf, first_read: int = 0,
                 tree: bool | None = None) -> None:
        n = cm.num_variables
        if not 0 <= tenure < n:
            raise ValueError(f"tenure must be in [0, {n - 1}] (below the number of variables), got {tenure}")
        self.cm, self.tree_mode = cm, use_tree(cm) if tree is None else bool(tree)
        bound = float((np.abs(cm.h) + np.bincount(cm.rows, weights=np.abs(cm.data), minlength=n)).max())
        # gains stay far below the tabu sentinel: huge biases are scaled by an (exact) power of two
        scale = 2.0 ** -np.ceil(np.log2(bound)) if bound > _HUGE else 1.0
        self.h, self.data, self.offset = cm.h * scale, cm.data * scale, cm.offset * scale
        self.tol = 1e-12 * bound * scale
        self.params = (int(tenure), int(stall), int(budget), int(max_restarts), int(flips), float(threshold) * scale)
        reads = starts.shape[0]
        self.s = np.array(starts, dtype=np.int8, order="C")
        self.best_s = self.s.copy()
        self.gain, self.key = np.empty((reads, n)), np.empty((reads, n))
        self.until = np.full((reads, n), -1, np.int64)
        self.fifo = np.full((reads, tenure + 1), -1, np.int64)
        size = 1 << max(n - 1, 1).bit_length()
        self.rank = np.zeros((reads, n if self.tree_mode else 1), np.uint32)
        self.tree = np.full((reads, 2 * size if self.tree_mode else 2), -1, np.int32)
        self.ints = np.zeros((reads, 5), np.int64)
        self.reals = np.empty((reads, 2))
        self.rngs = np.array([_stream(seed, first_read + k) for k in range(reads)], dtype=np.uint64)
        for r in range(reads):
            energy, self.rngs[r] = _restart(self.h, cm.indptr, cm.indices, self.data, self.offset, self.s[r],
                                            self.best_s[r], 0, self.gain[r], self.key[r], self.until[r],
                                            self.fifo[r], self.rank[r], self.tree[r], self.tree_mode, self.rngs[r])
            self.reals[r] = energy
            if energy <= self.params[-1]:
                self.ints[r, _DONE] = THRESHOLD

    def advance(self, steps: int, num_threads: int) -> None:
        """Run every unfinished read for up to ``steps`` more iterations, reads in parallel on threads."""
        cm, (tenure, stall, budget, max_restarts, flips, threshold) = self.cm, self.params

        def work(lo: int, hi: int) -> None:
            for r in range(lo, hi):
                _search(self.h, cm.indptr, cm.indices, self.data, self.offset, self.tol, self.s[r], self.best_s[r],
                        self.gain[r], self.key[r], self.until[r], self.fifo[r], self.rank[r], self.tree[r],
                        self.tree_mode, self.ints[r], self.reals[r], self.rngs, r, int(steps), tenure, stall,
                        budget, max_restarts, flips, threshold)

        run_tasks([(r, r + 1) for r in range(len(self.s)) if self.ints[r, _DONE] == RUNNING], work, num_threads)

    @property
    def finished(self) -> bool:
        return bool((self.ints[:, _DONE] != RUNNING).all())

    @property
    def iterations(self) -> np.ndarray:
        """Iterations (flips) each read has made."""
        return self.ints[:, _T].copy()

    @property
    def restarts(self) -> np.ndarray:
        return self.ints[:, _RESTARTS].copy()

    @property
    def ended(self) -> np.ndarray:
        """Why each read ended (:data:`RUNNING`, :data:`BUDGET`, :data:`RESTARTS`, :data:`THRESHOLD`)."""
        return self.ints[:, _DONE].copy()

    def best(self, num_threads: int = 1) -> np.ndarray:
        """A copy of each read's best state, each a one-flip local minimum (steepest descent finishes the reads
        whose best state was saved mid-descent)."""
        states = self.best_s.copy()
        rough = np.flatnonzero(self.ints[:, _LOCAL] == 0)
        if len(rough):
            part = np.ascontiguousarray(states[rough])
            steepest_descent(self.cm, part, num_threads=num_threads)
            states[rough] = part
        return states


def _stream(seed: int, index: int) -> np.uint64:
    return stream_state(np.uint64(int(seed) % 2**64), np.uint64(index))


def tabu_polish(cm: CompactModel, states: np.ndarray, iterations: int, tenure: int | None = None, seed: int = 0,
                num_threads: int = 1) -> None:
    """Improve ±1 states in place by tabu search: ``iterations`` flips from each row (no restarts), then steepest
    descent; each row becomes the best state its search visited, never higher in energy than it was.

    ``states``: C-contiguous int8 rows ``(num_states, n)`` in the model's index order. ``tenure`` defaults to
    :func:`default_tenure` (clipped below ``n``). Row ``k`` breaks ties from the stream ``(seed, k)``, so the
    result does not depend on ``num_threads``. Cost: about ``iterations`` times a flip (O(n) on dense models,
    O(degree · log n) on sparse ones) per row, plus O(couplings) to set up.

    >>> import dimod, numpy as np
    >>> cm = CompactModel.from_bqm(dimod.generators.ran_r(1, 30, seed=2))
    >>> states = np.ones((3, 30), dtype=np.int8); before = cm.energies(states)
    >>> tabu_polish(cm, states, iterations=300, seed=5, num_threads=2)
    >>> bool((cm.energies(states) < before).all())
    True
    """
    if not (isinstance(states, np.ndarray) and states.dtype == np.int8 and states.ndim == 2
            and states.shape[1] == cm.num_variables and states.flags.c_contiguous):
        raise ValueError(f"states must be a C-contiguous int8 array of shape (num_states, {cm.num_variables})")
    if isinstance(iterations, bool) or not isinstance(iterations, int | np.integer) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, got {iterations!r}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    if states.shape[0] == 0:
        return
    if iterations > 0 and cm.num_variables > 1:
        tenure = min(default_tenure(cm.num_variables) if tenure is None else tenure, cm.num_variables - 1)
        search = TabuSearch(cm, states, tenure=tenure, stall=int(iterations) + 1, budget=int(iterations),
                            seed=seed)
        search.advance(int(iterations), num_threads)
        states[:] = search.best(num_threads)
    else:
        steepest_descent(cm, states, num_threads=num_threads)
