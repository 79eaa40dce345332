"""Array form of an items → bins assignment problem, with its objective and a fast local search.

Every builder of :mod:`qiopt.problems` that assigns items (tasks, nodes) to bins (agents, workers, groups) maps
its domain data to :class:`AssignmentArrays`; scoring, repair, local search, greedy baselines and the MILP
reference all work on it. An assignment is an int array ``a`` (``a[i]`` = bin of item ``i``, ``-1`` = none).

Objective (lower is better)::

    Σ_i cost[i, a_i]  −  Σ_{i<j, a_i = a_j} W_ij  +  Σ_b (L_b / speed_b − target)²      (last term if speed)

where ``L_b`` is the total ``size`` on bin ``b``. Capacities ``L_b ≤ capacity_b`` are the only side constraint.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> arr = AssignmentArrays(np.array([[1.0, 2.0], [3.0, 1.0]]), np.ones(2), np.array([1.0, 1.0]),
    ...                        sp.csr_matrix((2, 2)))
    >>> a, stats = arr.search(np.array([-1, -1]))
    >>> a.tolist(), arr.objective(a)
    ([0, 1], 2.0)
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from qiopt.constraints import grid

__all__ = ["AssignmentArrays"]

_FULL_SWAP_LIMIT = 300
DENSE_LIMIT = 50_000_000
"""Most ``items × bins`` pairs the dense attributes of the factored form are built for (about 1 GB)."""


def _dense_attribute(name: str, doc: str) -> cached_property:
    """A dense ``(n, m)`` attribute: stored by ``__init__`` in the dense form, built on first use when factored."""
    def get(self: AssignmentArrays) -> np.ndarray:
        self._dense()
        return self.__dict__[name]

    get.__doc__ = doc
    return cached_property(get)


class AssignmentArrays:
    """Items → bins data: ``cost (n, m)`` (``inf`` = not eligible), ``size`` ``(n,)`` or ``(n, m)`` (what an item
    takes of a bin's capacity: the same on every bin, or bin-dependent as in the generalized assignment
    problem), ``capacity (m,)`` (``inf`` = none), symmetric ``affinity (n, n)`` with zero diagonal, optional
    ``speed (m,)`` and ``target`` for the squared-load term.

    Factored form (load balancing at scale): ``cost=None`` with ``move_cost (n,)`` and ``current (n,)`` means
    ``cost[i, b] = move_cost[i] · [b ≠ current[i]]`` on every bin, and ``size`` is ``(n,)``: nothing of size
    ``n × m`` is stored. The scoring methods and :meth:`pair_cost` / :meth:`pair_size` work on either form; the
    dense attributes (``cost``, ``cost0``, ``eligible``, ``size``) are then built on first use, for the
    small-problem local search and references, up to :data:`DENSE_LIMIT` entries.
    """

    def __init__(self, cost: np.ndarray | None, size: np.ndarray, capacity: np.ndarray, affinity: sp.csr_matrix,
                 speed: np.ndarray | None = None, target: float = 0.0, *, move_cost: np.ndarray | None = None,
                 current: np.ndarray | None = None) -> None:
        size = np.asarray(size, dtype=np.float64)
        self.capacity = np.asarray(capacity, dtype=np.float64)
        self.factored = cost is None
        """Whether the arrays are in the factored form (see class)."""
        if self.factored:
            self.n, self.m = len(size), len(self.capacity)
            self._move_cost = np.asarray(move_cost, dtype=np.float64)
            self._current = np.asarray(current, dtype=np.int64)
            self._size = size
            self.item_size = size
        else:
            cost = np.asarray(cost, dtype=np.float64)
            self.n, self.m = cost.shape
            eligible = np.isfinite(cost)
            full = np.where(eligible, np.broadcast_to(size.reshape(self.n, -1), (self.n, self.m)), 0.0)
            self.__dict__.update(cost=cost, eligible=eligible, cost0=np.where(eligible, cost, 0.0), size=full)
            self.item_size = full.max(axis=1)
        """Largest size of each item over its eligible bins (greedy orders, the cost of leaving it out)."""
        self.affinity = sp.csr_matrix(affinity, dtype=np.float64)
        self.speed = None if speed is None else np.asarray(speed, dtype=np.float64)
        self.target = float(target)
        self.capped = bool(np.isfinite(self.capacity).any())
        """Whether any bin has a finite capacity."""

    # -- the two forms -----------------------------------------------------------------------------------------
    def pair_cost(self, items: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """``cost0[items, bins]`` (0 on ineligible pairs) without building anything ``n × m``."""
        if self.factored:
            return np.where(bins != self._current[items], self._move_cost[items], 0.0)
        return self.cost0[items, bins]

    def pair_size(self, items: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """``size[items, bins]``."""
        return self._size[items] if self.factored else self.size[items, bins]

    def pair_eligible(self, items: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """``eligible[items, bins]``."""
        return np.ones(len(items), dtype=bool) if self.factored else self.eligible[items, bins]

    def _dense(self) -> None:
        if self.n * self.m > DENSE_LIMIT:
            raise ValueError(f"{self.n} items × {self.m} bins is too large for the dense local search and references "
                             f"(limit {DENSE_LIMIT:,} pairs); solve with the engine (backend 'sa') and references "
                             "that work on the factored form (lpt, greedy)")
        rows = np.arange(self.n)
        cost = np.broadcast_to(self._move_cost[:, None], (self.n, self.m)).copy()
        placed = self._current >= 0
        cost[rows[placed], self._current[placed]] = 0.0
        self.__dict__.update(cost=cost, cost0=cost, eligible=np.ones((self.n, self.m), dtype=bool),
                             size=np.repeat(self._size[:, None], self.m, axis=1))

    cost = _dense_attribute("cost", "``(n, m)`` costs, ``inf`` where not eligible.")
    cost0 = _dense_attribute("cost0", "``(n, m)`` costs, 0 where not eligible.")
    eligible = _dense_attribute("eligible", "``(n, m)``: whether item ``i`` may go to bin ``b``.")
    size = _dense_attribute("size", "``(n, m)``: what item ``i`` takes of bin ``b``'s capacity (0 where not eligible).")

    @cached_property
    def big(self) -> float:
        """Cost per unit of capacity overflow in the search: above any objective gain."""
        finite_caps = self.capacity[np.isfinite(self.capacity)]
        scale = np.abs(self.cost0).max(axis=1).sum() + np.abs(self.affinity.data).sum() + 1.0
        if self.speed is not None:
            scale += float((((self.item_size.sum() / self.speed) + self.target) ** 2).sum())
        return scale / grid([*np.unique(self.size[self.eligible]), *finite_caps])

    @cached_property
    def _dense_affinity(self) -> np.ndarray | None:
        return self.affinity.toarray() if self.n <= _FULL_SWAP_LIMIT else None

    # -- scoring ---------------------------------------------------------------------------------------------
    def loads(self, a: np.ndarray) -> np.ndarray:
        on = np.flatnonzero(a >= 0)
        return np.bincount(a[on], weights=self.pair_size(on, a[on]), minlength=self.m)

    def bin_terms(self, L: np.ndarray, bins: np.ndarray | slice = slice(None), overflow: bool = True
                  ) -> np.ndarray:
        """Per-bin squared-load term of loads ``L`` on ``bins``, plus ``big ×`` overflow when ``overflow``."""
        out = np.zeros(np.shape(L))
        if self.speed is not None:
            out = out + (L / self.speed[bins] - self.target) ** 2
        if overflow and self.capped:
            out = out + self.big * np.maximum(L - self.capacity[bins], 0.0)
        return out

    def neighbour_sums(self, a: np.ndarray) -> np.ndarray:
        """``M[i, b] = Σ_{j on b} W_ij`` (dense ``(n, m)``)."""
        on = np.flatnonzero(a >= 0)
        onehot = sp.csr_matrix((np.ones(len(on)), (on, a[on])), shape=(self.n, self.m))
        return np.asarray((self.affinity @ onehot).todense())

    def objective(self, a: np.ndarray) -> float:
        """The domain objective of ``a`` (unassigned items contribute nothing)."""
        return self._objective(a, self.loads(a))

    def _objective(self, a: np.ndarray, L: np.ndarray) -> float:
        """:meth:`objective` from the loads ``L`` of ``a`` (O(n + affinity pairs))."""
        on = np.flatnonzero(a >= 0)
        coo = self.affinity.tocoo()
        same = (coo.row < coo.col) & (a[coo.row] == a[coo.col]) & (a[coo.row] >= 0)
        together = coo.data[same].sum()
        return float(self.pair_cost(on, a[on]).sum() - together + self.bin_terms(L, overflow=False).sum())

    def _score(self, a: np.ndarray, L: np.ndarray) -> float:
        """:meth:`score` from the loads ``L`` of ``a``."""
        excess = np.maximum(L - self.capacity, 0.0).sum() + self.item_size[a < 0].sum()
        return float(self._objective(a, L) + self.big * excess)

    def overflow(self, a: np.ndarray) -> np.ndarray:
        """Capacity excess of each bin (0 where it holds)."""
        return np.maximum(self.loads(a) - self.capacity, 0.0)

    # -- local search ----------------------------------------------------------------------------------------
    def move_deltas(self, a: np.ndarray, L: np.ndarray, M: np.ndarray, rows: np.ndarray,
                    cols: np.ndarray | None = None) -> np.ndarray:
        """Change of objective + ``big`` × overflow when item ``rows[k]`` moves to bin ``cols[l]`` (default every
        bin): ``(len(rows), len(cols))``; ``inf`` for ineligible bins and the current one."""
        cols = np.arange(self.m) if cols is None else cols
        cur = a[rows]
        grid_ = np.ix_(rows, cols)
        join = self.bin_terms(L[cols][None, :] + self.size[grid_], cols) - self.bin_terms(L[cols], cols)[None, :]
        delta = self.cost[grid_] + join - M[grid_]
        placed = cur >= 0
        k, c = np.flatnonzero(placed), cur[placed]
        leave = self.bin_terms(L[c] - self.size[rows[k], c], c) - self.bin_terms(L[c], c)
        delta[k] += (-self.cost0[rows[k], c] + M[rows[k], c] + leave)[:, None]
        delta[cur[:, None] == cols[None, :]] = np.inf
        return delta

    def _moved(self, D: np.ndarray, a: np.ndarray, L: np.ndarray, M: np.ndarray, bins: list[int]) -> None:
        """Bring the move deltas ``D`` (every item × every bin) up to date after items moved between ``bins``:
        their columns for every item (their loads and neighbour sums changed) and the rows of the items on them
        (their leaving terms changed). O(n + items on those bins × m), not O(n × m)."""
        cols = np.unique(np.asarray([b for b in bins if b >= 0], dtype=np.int64))
        every = np.arange(self.n)
        D[:, cols] = self.move_deltas(a, L, M, every, cols)
        on = np.flatnonzero(np.isin(a, cols))
        D[on] = self.move_deltas(a, L, M, on)

    def _swap_deltas(self, a: np.ndarray, L: np.ndarray, M: np.ndarray, rows: np.ndarray, cols: np.ndarray
                     ) -> np.ndarray:
        """Change when item ``rows[k]`` and item ``cols[l]`` exchange bins: ``(len(rows), len(cols))``."""
        ai, aj = a[rows], a[cols]
        i_to = self.cost[rows][:, aj] - self.cost0[rows, ai][:, None] - M[rows][:, aj] + M[rows, ai][:, None]
        j_to = (self.cost[cols][:, ai] - self.cost0[cols, aj][:, None] - M[cols][:, ai] + M[cols, aj][:, None]).T
        # bin ai loses i and gains j; bin aj loses j and gains i (sizes may depend on the bin)
        into_a = self.size[cols[None, :], ai[:, None]] - self.size[rows, ai][:, None]
        into_b = self.size[rows[:, None], aj[None, :]] - self.size[cols, aj][None, :]
        la, lb = L[ai][:, None], L[aj][None, :]
        bins = (self.bin_terms(la + into_a, ai[:, None]) - self.bin_terms(la, ai[:, None])
                + self.bin_terms(lb + into_b, aj[None, :]) - self.bin_terms(lb, aj[None, :]))
        w = self._dense_affinity[np.ix_(rows, cols)] if self._dense_affinity is not None else \
            self.affinity[rows][:, cols].toarray()
        delta = i_to + j_to + bins + 2.0 * w
        delta[(ai[:, None] == aj[None, :]) | (ai[:, None] < 0) | (aj[None, :] < 0)] = np.inf
        return delta

    def _swap_candidates(self, a: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Items whose swaps are tried, ``(rows, cols)``: all × all when few; else the items on the two
        fullest and the two emptiest bins × all items."""
        every = np.arange(self.n)
        if self.n <= _FULL_SWAP_LIMIT:
            return every, every
        ratio = L / (self.speed if self.speed is not None else np.where(np.isfinite(self.capacity),
                                                                         self.capacity, 1.0))
        order = np.argsort(ratio)
        return np.flatnonzero(np.isin(a, np.concatenate([order[:2], order[-2:]]))), every

    def place(self, a: np.ndarray, L: np.ndarray, M: np.ndarray, i: int, b: int) -> None:
        old = a[i]
        start, end = self.affinity.indptr[i], self.affinity.indptr[i + 1]
        nbr, w = self.affinity.indices[start:end], self.affinity.data[start:end]
        if old >= 0:
            L[old] -= self.size[i, old]
            M[nbr, old] -= w
        L[b] += self.size[i, b]
        M[nbr, b] += w
        a[i] = b

    def search(self, a: np.ndarray, max_steps: int | None = None, deadline: float | None = None
               ) -> tuple[np.ndarray, dict[str, Any]]:
        """Insert unplaced items greedily (largest first), then best-improvement moves and swaps until no
        step lowers objective + ``big`` × overflow, or ``max_steps`` steps, or :func:`time.perf_counter` passes
        ``deadline``. Returns the new assignment and what was done (its ``score`` included)."""
        a = np.array(a, dtype=np.int64)
        a[(a >= 0) & ~self.eligible[np.arange(self.n), np.maximum(a, 0)]] = -1
        L, M = self.loads(a), self.neighbour_sums(a)
        stats: dict[str, Any] = {"inserted": 0, "moves": 0, "swaps": 0}
        for i in sorted(np.flatnonzero(a < 0), key=lambda i: -self.item_size[i]):
            delta = self.move_deltas(a, L, M, np.array([i]))[0]
            if np.isfinite(delta).any():
                self.place(a, L, M, i, int(np.argmin(delta)))
                stats["inserted"] += 1
        tol = _tolerance(self._objective(a, L))
        D = self.move_deltas(a, L, M, np.arange(self.n))  # kept up to date move by move
        for _ in range(max_steps or 50 * self.n + 100):
            if deadline is not None and time.perf_counter() > deadline:
                break
            i, b = divmod(int(np.argmin(D)), self.m)
            if D[i, b] < -tol:
                old = int(a[i])
                self.place(a, L, M, i, b)
                self._moved(D, a, L, M, [old, b])
                stats["moves"] += 1
                continue
            srows, scols = self._swap_candidates(a, L)
            swaps = self._swap_deltas(a, L, M, srows, scols) if len(srows) else np.full((1, 1), np.inf)
            k, c = np.unravel_index(np.argmin(swaps), swaps.shape)
            if swaps[k, c] >= -tol:
                break
            i, j = int(srows[k]), int(scols[c])
            bi, bj = int(a[i]), int(a[j])
            self.place(a, L, M, i, bj)
            self.place(a, L, M, j, bi)
            self._moved(D, a, L, M, [bi, bj])
            stats["swaps"] += 1
        stats["score"] = self._score(a, L)
        return a, stats

    def score(self, a: np.ndarray) -> float:
        """Objective + ``big`` × overflow + ``big`` × size of unplaced items: what the search minimises."""
        return self.objective(a) + self.big * (self.overflow(a).sum() + self.item_size[a < 0].sum())

    def perturbed_search(self, a: np.ndarray, kicks: int, seed: int = 0, time_limit: float = 1.0
                         ) -> tuple[np.ndarray, dict[str, Any]]:
        """Iterated local search: :meth:`search`, then up to ``kicks`` times move 2–4 random items of the current
        answer to random eligible bins and search again. The result becomes the current answer when it scores
        no worse (so the walk crosses plateaus); the best is returned. Seeded; stops after ``time_limit`` s."""
        rng = np.random.default_rng(seed)
        deadline = time.perf_counter() + time_limit
        current, stats = self.search(a, deadline=deadline)
        best, best_score = current, stats["score"]
        current_score, improved, tried = best_score, 0, 0
        while tried < kicks and time.perf_counter() < deadline:
            trial = current.copy()
            for i in rng.choice(self.n, size=min(self.n, int(rng.integers(2, 5))), replace=False):
                trial[i] = rng.choice(np.flatnonzero(self.eligible[i]))
            trial, trial_stats = self.search(trial, deadline=deadline)
            tried += 1
            if (s := trial_stats["score"]) <= current_score + _tolerance(current_score):
                current, current_score = trial, s
                if s < best_score - _tolerance(best_score):
                    best, best_score, improved = trial, s, improved + 1
        return best, {**stats, "kicks": tried, "kicks_improved": improved}


def _tolerance(value: float) -> float:
    """Smallest change counted as an improvement near ``value``."""
    return 1e-9 * (1.0 + abs(value))
