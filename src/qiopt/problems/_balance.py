"""Compiled references for load balancing in the factored form (millions of tasks): LPT and greedy rebalancing.

They compute exactly what :func:`qiopt.problems.reference.lpt` and :func:`~qiopt.problems.reference.greedy_rebalance`
compute on the dense arrays, without anything of size ``tasks × workers``:

* **LPT** (longest processing time first, earliest finish on uniform speeds): O(n log n + n log m) with a heap
  per distinct speed (the earliest finish among workers of one speed is on the least loaded), O(n·m) with
  capacities.
* **Greedy rebalancing**: from the current placement, repeatedly move the task of the most loaded worker whose
  move lowers the objective most, until none does. The best target of a task of size ``p`` among the workers of
  one speed ``s`` is the least loaded of them (the squared-load change ``p/s · (2(L/s − T) + p/s)`` grows with
  ``L``), so a step looks at one worker per distinct speed plus the task's own current worker, and finds the
  best task for each by a pruned walk over the worker's tasks sorted by load: about O(m + distinct speeds ·
  log n) per move. Without affinity or capacities only (the dense version handles those).

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


@nb.njit(**_JIT)
def _sift_down(heap_load, heap_bin, lo, hi, j):
    """Restore the (load, bin) min-heap stored in ``[lo, hi)`` below slot ``lo + j``."""
    size = hi - lo
    while True:
        c = 2 * j + 1
        if c >= size:
            return
        if c + 1 < size and (heap_load[lo + c + 1], heap_bin[lo + c + 1]) < (heap_load[lo + c], heap_bin[lo + c]):
            c += 1
        if (heap_load[lo + c], heap_bin[lo + c]) < (heap_load[lo + j], heap_bin[lo + j]):
            heap_load[lo + c], heap_load[lo + j] = heap_load[lo + j], heap_load[lo + c]
            heap_bin[lo + c], heap_bin[lo + j] = heap_bin[lo + j], heap_bin[lo + c]
            j = c
        else:
            return


@nb.njit(**_JIT)
def _lpt_heaps(order, size, speed, members, starts):
    """LPT without capacities: per distinct speed, a min-heap of (load, worker); the earliest finish of a task
    is at the top of one of them (within a speed the least loaded, lowest index first)."""
    m = speed.shape[0]
    heap_load = np.zeros(m)
    heap_bin = members.copy()  # all loads 0: any order by index is a heap
    a = np.empty(size.shape[0], np.int64)
    classes = starts.shape[0] - 1
    for i in order:
        best_c, best_t, best_b = -1, np.inf, m
        for c in range(classes):
            lo = starts[c]
            b = heap_bin[lo]
            t = (heap_load[lo] + size[i]) / speed[b]
            if t < best_t or (t == best_t and b < best_b):
                best_c, best_t, best_b = c, t, b
        lo, hi = starts[best_c], starts[best_c + 1]
        heap_load[lo] += size[i]
        a[i] = best_b
        _sift_down(heap_load, heap_bin, lo, hi, 0)
    return a


def lpt_factored(size: np.ndarray, speed: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """LPT: largest task first, to the worker (with room, if any has) on which it would finish earliest.
    O(n log m) by heaps per distinct speed without capacities, O(n·m) with them."""
    order = np.argsort(-size, kind="stable")
    size = np.ascontiguousarray(size, dtype=np.float64)
    speed = np.ascontiguousarray(speed, dtype=np.float64)
    if np.isfinite(capacity).any():
        return _lpt(order, size, speed, np.ascontiguousarray(capacity, dtype=np.float64))
    classes, speed_class = np.unique(speed, return_inverse=True)
    members = np.argsort(speed_class, kind="stable").astype(np.int64)
    starts = np.searchsorted(speed_class[members], np.arange(len(classes) + 1)).astype(np.int64)
    return _lpt_heaps(order, size, speed, members, starts)


@nb.njit(**_JIT)
def _term(L, s, target):
    return (L / s - target) ** 2


@nb.njit(**_JIT)
def _gain(Lb, sb, Lk, sk, p, target):
    """Squared-load change of moving load ``p`` from a worker (load ``Lb``, speed ``sb``) to another."""
    return (_term(Lb - p, sb, target) - _term(Lb, sb, target)
            + _term(Lk + p, sk, target) - _term(Lk, sk, target))


@nb.njit(**_JIT)
def _unlink(i, k, head, nxt, prv):
    if prv[i] >= 0:
        nxt[prv[i]] = nxt[i]
    else:
        head[k] = nxt[i]
    if nxt[i] >= 0:
        prv[nxt[i]] = prv[i]
    prv[i] = nxt[i] = -1


@nb.njit(**_JIT)
def _rebalance(a, size, speed, target, move_cost, speed_class, num_classes, max_moves):
    """Greedy rebalancing from ``a`` (the current placement, updated in place); returns the moves made.

    The tasks still on their current worker sit in one segment per worker sorted by load; for a target
    worker the change ``gain(p) + move_cost`` has ``gain`` convex in ``p``, so the best such task is found by
    walking outwards from the minimiser of ``gain`` and stopping once ``gain`` alone cannot beat the best
    found. Tasks that already moved (few) are kept in a linked list per worker and checked one by one."""
    n, m = a.shape[0], speed.shape[0]
    current = a.copy()
    L = np.zeros(m)
    for i in range(n):
        L[a[i]] += size[i]
    order = np.argsort(a * (size.max() + 1.0) + size)  # by worker, then load
    start = np.zeros(m + 1, np.int64)
    for i in range(n):
        start[a[i] + 1] += 1
    for k in range(m):
        start[k + 1] += start[k]
    sorted_load = size[order]
    gone = np.zeros(n, np.bool_)  # position left its segment
    position = np.empty(n, np.int64)
    for j in range(n):
        position[order[j]] = j
    head = np.full(m, -1, np.int64)
    nxt = np.full(n, -1, np.int64)
    prv = np.full(n, -1, np.int64)
    scale = 0.0
    for k in range(m):
        scale += _term(L[k], speed[k], target)
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
        i = head[b]  # tasks that moved here: every target, the way back home included
        while i >= 0:
            p = size[i]
            for c in range(num_classes + 1):
                k = least[c] if c < num_classes else current[i]
                if k < 0 or k == b:
                    continue
                d = _gain(L[b], speed[b], L[k], speed[k], p, target) + (move_cost[i] if k != current[i] else 0.0) \
                    - move_cost[i]
                if d < best_d:
                    best_d, best_i, best_k = d, i, k
            i = nxt[i]
        lo, hi = start[b], start[b + 1]
        for c in range(num_classes):  # tasks still at home: pruned walk from the gain's minimiser
            k = least[c]
            if k < 0 or lo == hi:
                continue
            sb, sk = speed[b], speed[k]
            p_star = ((L[b] / sb - target) / sb - (L[k] / sk - target) / sk) / (1.0 / sb**2 + 1.0 / sk**2)
            right = lo + np.searchsorted(sorted_load[lo:hi], p_star)
            left = right - 1
            while True:
                while left >= lo and gone[left]:
                    left -= 1
                while right < hi and gone[right]:
                    right += 1
                g_left = _gain(L[b], sb, L[k], sk, sorted_load[left], target) if left >= lo else np.inf
                g_right = _gain(L[b], sb, L[k], sk, sorted_load[right], target) if right < hi else np.inf
                if min(g_left, g_right) >= best_d:
                    break
                j = left if g_left <= g_right else right
                t = order[j]
                d = (g_left if j == left else g_right) + move_cost[t]
                if d < best_d:
                    best_d, best_i, best_k = d, t, k
                if j == left:
                    left -= 1
                else:
                    right += 1
        if best_i < 0:
            break
        i, k = best_i, best_k
        if a[i] == current[i]:
            gone[position[i]] = True
        else:
            _unlink(i, b, head, nxt, prv)
        nxt[i] = head[k]  # every task that is not at home is in its worker's list
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
                       float(target), np.ascontiguousarray(move_cost, dtype=np.float64), speed_class.astype(np.int64),
                       len(classes),
                       int(max_moves if max_moves is not None else 50 * len(a) + 100))
    return a, int(moves)
