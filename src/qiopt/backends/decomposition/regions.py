"""Compiled pieces of the decomposition: which variables form a sub-problem, the sub-problem itself, and its
merge back into the whole state.

All work on a :class:`~qiopt.model.CompactModel`'s arrays (spin domain, symmetric CSR) and one ±1 state ``s``:

* :func:`flip_costs`: the energy change of flipping each variable alone, ``−2 s_i (h_i + Σ_j J_ij s_j)``
  (the *energy impact* of dwave-hybrid's decomposers: < 0 where a flip helps; small where a variable is
  nearly indifferent, which is where a local minimum can still be left);
* :func:`grow_region`: a connected region of up to ``size`` variables grown breadth-first from a seed
  variable, cheapest flip costs first at each ring, skipping variables marked busy;
* :func:`extract`: the region's sub-model with everything outside it clamped to ``s`` (outside couplings
  become linear biases), as CSR arrays of its own;
* :func:`region_delta`: the exact energy change of writing new values into a region of the current state.

Every function is O(the degrees of the variables it touches), never O(n) except :func:`flip_costs`.

Example (a chain 0 - 1 - 2 - 3 of ferromagnetic couplings, spins +1 +1 -1 -1):
    >>> import dimod, numpy as np
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BQM({}, {(0, 1): -1.0, (1, 2): -1.0, (2, 3): -1.0}, 0.0, "SPIN"))
    >>> s = np.array([1, 1, -1, -1], np.int8)
    >>> (flip_costs(cm.h, cm.indptr, cm.indices, cm.data, s) + 0.0).tolist()
    [2.0, 0.0, 0.0, 2.0]
    >>> region = np.array([2, 3], np.int32); pos = np.full(4, -1, np.int32)
    >>> region_delta(cm.h, cm.indptr, cm.indices, cm.data, s, region, np.array([1, 1], np.int8), pos)
    -2.0
"""

from __future__ import annotations

import numba as nb
import numpy as np

from qiopt.backends._random import JIT

__all__ = ["extract", "flip_costs", "grow_region", "region_delta"]


@nb.njit(**JIT)
def flip_costs(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, s: np.ndarray
               ) -> np.ndarray:
    """``cost[i]``: energy change of flipping ``s[i]`` alone (float64, shape ``(n,)``)."""
    n = h.shape[0]
    cost = np.empty(n, np.float64)
    for i in range(n):
        f = h[i]
        for k in range(indptr[i], indptr[i + 1]):
            f += data[k] * s[indices[k]]
        cost[i] = -2.0 * s[i] * f
    return cost


@nb.njit(**JIT)
def grow_region(indptr: np.ndarray, indices: np.ndarray, cost: np.ndarray, busy: np.ndarray, start: int,
                size: int, mark: np.ndarray) -> np.ndarray:
    """Up to ``size`` variables (int32, sorted) reached breadth-first from ``start``; at each ring the
    neighbours are taken cheapest flip cost first, so a ring cut by ``size`` keeps its cheapest variables.
    Variables with ``busy[v] != 0`` are not taken (another region of this round has them). ``mark`` is an
    all-zero int8 scratch of length n, left all zero."""
    region = np.empty(size, np.int32)
    if busy[start] != 0 or size < 1:
        return region[:0]
    region[0] = start
    mark[start] = 1
    count, head = 1, 0
    while head < count < size:
        end = count
        bound = 0
        for q in range(head, end):
            bound += indptr[region[q] + 1] - indptr[region[q]]
        ring = np.empty(bound, np.int32)
        found = 0
        for q in range(head, end):  # every neighbour of the current ring, not yet taken or busy
            v = region[q]
            for k in range(indptr[v], indptr[v + 1]):
                u = indices[k]
                if mark[u] == 0 and busy[u] == 0:
                    mark[u] = 1
                    ring[found] = u
                    found += 1
        ring = ring[:found]
        ring = ring[np.argsort(cost[ring], kind="mergesort")]
        take = min(found, size - count)
        region[count:count + take] = ring[:take]
        for k in range(take, found):
            mark[ring[k]] = 0
        head, count = end, count + take
    for k in range(count):
        mark[region[k]] = 0
    out = region[:count].copy()
    out.sort()
    return out


@nb.njit(**JIT)
def extract(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, s: np.ndarray,
            region: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                          np.ndarray]:
    """The sub-model of ``region`` (sorted variable indices) with the rest clamped to ``s``:
    ``(h_sub, indptr_sub, indices_sub, data_sub, s_sub)``; its energy differs from the whole model's, over
    states that agree with ``s`` outside the region, by a constant. ``pos`` is an all ``-1`` int32 scratch of
    length n, left so."""
    m = region.shape[0]
    for k in range(m):
        pos[region[k]] = k
    nnz = 0
    for k in range(m):
        v = region[k]
        for t in range(indptr[v], indptr[v + 1]):
            if pos[indices[t]] >= 0:
                nnz += 1
    hs = np.empty(m, np.float64)
    ptr = np.empty(m + 1, np.int64)
    idx = np.empty(nnz, np.int32)
    val = np.empty(nnz, np.float64)
    sub = np.empty(m, np.int8)
    ptr[0] = 0
    w = 0
    for k in range(m):
        v = region[k]
        f = h[v]
        for t in range(indptr[v], indptr[v + 1]):
            u = indices[t]
            if pos[u] >= 0:
                idx[w] = pos[u]
                val[w] = data[t]
                w += 1
            else:
                f += data[t] * s[u]
        hs[k] = f
        ptr[k + 1] = w
        sub[k] = s[v]
    for k in range(m):
        pos[region[k]] = -1
    return hs, ptr, idx, val, sub


@nb.njit(**JIT)
def region_delta(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, s: np.ndarray,
                 region: np.ndarray, new: np.ndarray, pos: np.ndarray) -> float:
    """Energy change of setting ``s[region] = new`` in the current state ``s`` (exact: couplings inside the
    region counted once, those leaving it against the current outside values). ``pos`` as in :func:`extract`."""
    m = region.shape[0]
    for k in range(m):
        pos[region[k]] = k
    delta = 0.0
    for k in range(m):
        v = region[k]
        outside, in_new, in_old = h[v], 0.0, 0.0
        for t in range(indptr[v], indptr[v + 1]):
            u = indices[t]
            p = pos[u]
            if p >= 0:
                in_new += data[t] * new[p]
                in_old += data[t] * s[u]
            else:
                outside += data[t] * s[u]
        delta += (new[k] - s[v]) * outside + 0.5 * (new[k] * in_new - s[v] * in_old)
    for k in range(m):
        pos[region[k]] = -1
    return delta
