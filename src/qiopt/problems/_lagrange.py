"""Lagrangian relaxation of the capacities, with a regret heuristic: a start (and a bound) in milliseconds.

For items → bins with a linear cost (``c_ib``), bin-dependent sizes (``d_ib``) and capacities (``R_b``) — the
generalized assignment problem — relaxing the capacities with multipliers ``λ ≥ 0`` leaves
``L(λ) = Σ_i min_b (c_ib + λ_b d_ib) − Σ_b λ_b R_b``: a lower bound on every feasible answer's cost for any
``λ``, and the LP bound at its maximum. Subgradient steps (Polyak's rule, the step halved when the bound stalls)
raise it; after every step the *regret heuristic* (Martello & Toth) builds a feasible answer on the priced costs
``c + λ d``: items in order of decreasing regret (second-cheapest minus cheapest priced bin), each to its
cheapest priced bin with room. The best such answer is the start.

Each iteration is O(n·m) compiled, no ``n × m`` temporary: 1,000 items × 51 bins take 0.45 ms, so 50 iterations
come in 20 ms where HiGHS's LP takes seconds; measured 0.4–0.7 % above the optimum on the streaming batches of
``benchmarks/bench_stream.py`` and 0.4–2.4 % on generalized assignment (Chu & Beasley's classes C, D).

Example:
    >>> import numpy as np
    >>> cost = np.array([[1.0, 5.0], [1.0, 2.0], [4.0, 1.0]])
    >>> a, info = lagrangian(cost, np.ones((3, 2)), np.array([1.0, 2.0]))
    >>> a.tolist(), info["objective"], info["bound"] <= info["objective"]
    ([0, 1, 1], 4.0, True)
"""

from __future__ import annotations

import time
from typing import Any

import numba as nb
import numpy as np

__all__ = ["lagrangian"]

_JIT = {"nogil": True, "cache": True}
_STALL = 8  # iterations without a better bound before the step is halved


def lagrangian(cost: np.ndarray, size: np.ndarray, capacity: np.ndarray, time_limit: float | None = None,
               iterations: int = 100, prices: np.ndarray | None = None, scale: float = 2.0
               ) -> tuple[np.ndarray, dict[str, Any]]:
    """``(a, info)``: the best regret answer over at most ``iterations`` subgradient steps (and ``time_limit``
    seconds); ``a[i]`` is item ``i``'s bin, all ``-1`` when no step found a feasible answer. ``cost`` is
    ``(n, m)`` with ``inf`` where an item may not go, ``size`` ``(n, m)``, ``capacity`` ``(m,)`` (``inf``: none).
    ``info``: ``objective`` (``inf`` without an answer), ``bound`` (the best ``L(λ)``), ``iterations``,
    ``seconds``, ``prices`` (the ``λ`` of the best bound). ``prices`` (``(m,)``) start the steps from known
    prices instead of zero (negative ones count as 0); ``scale`` is the first step's size (Polyak's rule's
    factor, halved when the bound stalls), smaller when starting near good prices."""
    started = time.perf_counter()
    deadline = None if time_limit is None else started + max(0.0, float(time_limit))
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    size = np.ascontiguousarray(size, dtype=np.float64)
    capacity = np.asarray(capacity, dtype=np.float64)
    n, m = cost.shape
    capped = np.isfinite(capacity)
    start = np.zeros(m) if prices is None else np.maximum(np.asarray(prices, dtype=np.float64), 0.0)
    lam = np.where(capped, start, 0.0)  # no price on an uncapped bin
    stall = 0
    best_lam = lam
    best, best_cost, bound = np.full(n, -1, dtype=np.int64), np.inf, -np.inf
    done = 0
    while done < max(1, int(iterations)):
        done += 1
        value, use = _relaxed(cost, size, capacity, lam)
        if value > bound + 1e-12 * abs(value):
            bound, stall, best_lam = value, 0, lam
        else:
            stall += 1
            if stall >= _STALL:
                scale, stall = scale / 2.0, 0
        a, total = _regret(cost, size, capacity, lam)
        if total < best_cost:
            best, best_cost = a, total
        g = np.where(capped, use - np.where(capped, capacity, 0.0), 0.0)
        g[(lam <= 0.0) & (g < 0.0)] = 0.0
        norm = float(g @ g)
        if norm == 0.0 or (np.isfinite(best_cost) and best_cost - bound <= 1e-9 * abs(best_cost)) or \
                (deadline is not None and time.perf_counter() > deadline):
            break
        target = best_cost if np.isfinite(best_cost) else value + 0.05 * abs(value) + 1.0
        lam = np.maximum(0.0, lam + scale * (target - value) / norm * g)
    return best, {"objective": float(best_cost), "bound": float(bound), "iterations": done,
                  "seconds": time.perf_counter() - started, "prices": best_lam}


@nb.njit(**_JIT)
def _relaxed(cost: np.ndarray, size: np.ndarray, capacity: np.ndarray, lam: np.ndarray
             ) -> tuple[float, np.ndarray]:
    """``L(λ)`` and the bins' loads when every item takes its cheapest priced bin."""
    n, m = cost.shape
    use = np.zeros(m)
    value = 0.0
    for i in range(n):
        pick, low = -1, np.inf
        for b in range(m):
            priced = cost[i, b] + lam[b] * size[i, b]
            if priced < low:
                pick, low = b, priced
        value += low
        if pick >= 0:
            use[pick] += size[i, pick]
    for b in range(m):
        if np.isfinite(capacity[b]):
            value -= lam[b] * capacity[b]
    return value, use


@nb.njit(**_JIT)
def _regret(cost: np.ndarray, size: np.ndarray, capacity: np.ndarray, lam: np.ndarray
            ) -> tuple[np.ndarray, float]:
    """The regret heuristic on the priced costs: ``(a, cost)``, ``cost = inf`` when an item finds no room."""
    n, m = cost.shape
    regret = np.empty(n)
    for i in range(n):
        first, second = np.inf, np.inf
        for b in range(m):
            priced = cost[i, b] + lam[b] * size[i, b]
            if priced < first:
                first, second = priced, first
            elif priced < second:
                second = priced
        regret[i] = second - first if second < np.inf else np.inf
    room = capacity.copy()
    a = np.full(n, -1, dtype=np.int64)
    total = 0.0
    for i in np.argsort(-regret, kind="mergesort"):
        pick, low = -1, np.inf
        for b in range(m):
            if np.isfinite(cost[i, b]) and size[i, b] <= room[b] + 1e-9:
                priced = cost[i, b] + lam[b] * size[i, b]
                if priced < low:
                    pick, low = b, priced
        if pick < 0:
            return a, np.inf
        a[i] = pick
        room[pick] -= size[i, pick]
        total += cost[i, pick]
    return a, total
