"""Compiled Gray-code enumeration behind the ``"exact"`` backend (imported on first use only).

Example:
    >>> import numpy as np
    >>> spins, energies = lowest_states(np.array([1.0, -1.0]), np.zeros((2, 2)), 1)
    >>> spins.tolist(), energies.tolist()
    ([[-1, 1]], [-2.0])
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _block(h: np.ndarray, J: np.ndarray, prefix: int, num_high: int, k: int,
           best_e: np.ndarray, best_idx: np.ndarray) -> None:
    """Visit every state whose top ``num_high`` bits equal ``prefix``; keep the k lowest in best_e/best_idx."""
    n = h.shape[0]
    low = n - num_high
    prefix = np.int64(prefix)
    s = np.empty(n)
    for b in range(n):
        s[b] = 1.0 if (b >= low and (prefix >> (b - low)) & 1) else -1.0
    field = h.copy()
    for i in range(n):
        for j in range(n):
            field[i] += J[i, j] * s[j]
    energy = 0.0
    for i in range(n):
        energy += s[i] * (h[i] + 0.5 * (field[i] - h[i]))
    state = prefix << np.int64(low)  # low bits all 0 (spin -1)
    best_e[:] = np.inf
    best_idx[:] = -1
    for step in range(np.int64(1) << np.int64(low)):
        if step:
            b = 0
            while not (step >> b) & 1:
                b += 1
            energy -= 2.0 * s[b] * field[b]
            s[b] = -s[b]
            state ^= np.int64(1) << np.int64(b)
            for j in range(n):
                field[j] += 2.0 * J[j, b] * s[b]
        if energy < best_e[k - 1]:
            pos = k - 1
            while pos > 0 and best_e[pos - 1] > energy:
                best_e[pos] = best_e[pos - 1]
                best_idx[pos] = best_idx[pos - 1]
                pos -= 1
            best_e[pos] = energy
            best_idx[pos] = state


@numba.njit(cache=True, nogil=True, parallel=True)
def _all_blocks(h: np.ndarray, J: np.ndarray, num_high: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    blocks = 1 << num_high
    energies = np.empty((blocks, k))
    indices = np.empty((blocks, k), dtype=np.int64)
    for p in numba.prange(blocks):
        _block(h, J, p, num_high, k, energies[p], indices[p])
    return energies, indices


def lowest_states(h: np.ndarray, J: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` lowest-energy spin states of ``E = h·s + ½ sᵀJs`` (J symmetric, zero diagonal), sorted.

    Returns ``(spins int8 (k, n), energies float64 (k,))``; energies exclude any offset.
    """
    n = h.shape[0]
    num_high = min(n, 8) if n > 12 else 0
    energies, indices = _all_blocks(np.ascontiguousarray(h, dtype=np.float64),
                                    np.ascontiguousarray(J, dtype=np.float64), num_high, k)
    flat_e, flat_i = energies.ravel(), indices.ravel()
    keep = flat_i >= 0
    flat_e, flat_i = flat_e[keep], flat_i[keep]
    order = np.lexsort((flat_i, flat_e))[:k]
    bits = (flat_i[order, None] >> np.arange(n)) & 1
    return (2 * bits - 1).astype(np.int8), flat_e[order]
