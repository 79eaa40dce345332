"""Compiled references for load balancing in the factored form (millions of tasks): LPT and greedy rebalancing.

They compute exactly what :func:`qiopt.problems.reference.lpt` and :func:`~qiopt.problems.reference.greedy_rebalance`
compute on the dense arrays, without anything of size ``tasks × workers``:

* **LPT** (longest processing time first, earliest finish on uniform speeds): O(n log n + n·m).
* **Greedy rebalancing**: from the current placement, repeatedly move the task of the most loaded worker whose
  move lowers the objective most, until none does. The best target of a task of size ``p`` among the workers of
  one speed ``s`` is the least loaded of them (the squared-load change ``p/s · (2(L/s − T) + p/s)`` grows with
  ``L``), so a step looks at one worker per distinct speed plus the task's own current worker:
  O(m + tasks on the worker × distinct speeds) per move. Without affinity or capacities only (the dense
  version handles those).

Example:
    >>> import numpy as np
    >>> lpt_factored(np.array([3.0, 2.0, 2.0]), np.array([1.0, 1.0]), np.array([np.inf, np.inf])).tolist()
    [0, 1, 1]
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["lpt_factored", "rebalance_factored"]

_JIT = {"nogil": True, "cache": True}


@nb.njit(**_JIT)
def _lpt(order, size, speed, capacity):
    m = speed.shape[0]
    load = np.zeros(m)
    a = np.empty(size.shape[0], np.int64)
    for i in order:
        best, best_t, any_t, any_b = -1, np.inf, np.inf, 0
        for b in range(m):
            after = load[b] + size[i]
            t = after / speed[b]
            if t < any_t:
                any_t, any_b = t, b
            if after <= capacity[b] + 1e-9 and t < best_t:
                best_t, best = t, b
        if best < 0:
            best = any_b
        a[i] = best
        load[best] += size[i]
    return a


def lpt_factored(size: np.ndarray, speed: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """LPT: largest task first, to the worker (with room, if any has) on which it would finish earliest."""
    order = np.argsort(-size, kind="stable")
    return _lpt(order, np.ascontiguousarray(size, dtype=np.float64), np.ascontiguousarray(speed, dtype=np.float64),
                np.ascontiguousarray(capacity, dtype=np.float64))


@nb.njit(**_JIT)
def _term(L, s, target):
    return (L / s - target) ** 2


@nb.njit(**_JIT)
def _rebalance(a, size, speed, target, current, move_cost, speed_class, num_classes, max_moves):
    n, m = a.shape[0], speed.shape[0]
    L = np.zeros(m)
    head = np.full(m, -1, np.int64)  # doubly linked list of the tasks on each worker
    nxt = np.full(n, -1, np.int64)
    prv = np.full(n, -1, np.int64)
    for i in range(n):
        b = a[i]
        L[b] += size[i]
        nxt[i] = head[b]
        if head[b] >= 0:
            prv[head[b]] = i
        head[b] = i
    scale = 0.0
    for b in range(m):
        scale += _term(L[b], speed[b], target)
    tol = 1e-12 * (1.0 + scale)
    least = np.empty(num_classes, np.int64)
    moves = 0
    while moves < max_moves:
        b = 0
        for k in range(1, m):
            if L[k] / speed[k] > L[b] / speed[b]:
                b = k
        least[:] = -1
        for k in range(m):
            c = speed_class[k]
            if k != b and (least[c] < 0 or L[k] < L[least[c]]):
                least[c] = k
        best_d, best_i, best_k = -tol, -1, -1
        i = head[b]
        while i >= 0:
            p = size[i]
            leave = _term(L[b] - p, speed[b], target) - _term(L[b], speed[b], target)
            here = move_cost[i] if b != current[i] else 0.0
            for c in range(num_classes + 1):
                k = least[c] if c < num_classes else current[i]
                if k < 0 or k == b:
                    continue
                d = leave + _term(L[k] + p, speed[k], target) - _term(L[k], speed[k], target)
                d += (move_cost[i] if k != current[i] else 0.0) - here
                if d < best_d:
                    best_d, best_i, best_k = d, i, k
            i = nxt[i]
        if best_i < 0:
            break
        i, k = best_i, best_k
        if prv[i] >= 0:  # unlink from b, link at the head of k
            nxt[prv[i]] = nxt[i]
        else:
            head[b] = nxt[i]
        if nxt[i] >= 0:
            prv[nxt[i]] = prv[i]
        prv[i], nxt[i] = -1, head[k]
        if head[k] >= 0:
            prv[head[k]] = i
        head[k] = i
        L[b] -= size[i]
        L[k] += size[i]
        a[i] = k
        moves += 1
    return moves


def rebalance_factored(size: np.ndarray, speed: np.ndarray, target: float, current: np.ndarray,
                       move_cost: np.ndarray, max_moves: int | None = None) -> tuple[np.ndarray, int]:
    """Greedy rebalancing from ``current`` (every task placed); returns the assignment and the moves made."""
    classes, speed_class = np.unique(speed, return_inverse=True)
    a = np.array(current, dtype=np.int64)
    moves = _rebalance(a, np.ascontiguousarray(size, dtype=np.float64), np.ascontiguousarray(speed, dtype=np.float64),
                       float(target), np.ascontiguousarray(current, dtype=np.int64),
                       np.ascontiguousarray(move_cost, dtype=np.float64), speed_class.astype(np.int64), len(classes),
                       int(max_moves if max_moves is not None else 50 * len(a) + 100))
    return a, int(moves)
