"""Compiled parallel-tempering kernel of the ``"pt"`` backend (numba, compiled lazily and cached on disk).

One PT run keeps all its replicas in lockstep, as in the ``"sa"`` kernel: spins ``S`` and local fields
``F = h + J s`` are float32 arrays laid out ``(n, W)``, one column per replica, so the Metropolis sweep is a
branch-free vector loop over the columns with a per-column ``2β`` (``b2``). Columns are in ladder order, hottest
first: column ``t * copies + c`` is copy ``c`` at ladder position ``t``. An accepted exchange swaps the two
replicas' columns (spins, fields, energy: O(n), far cheaper than a sweep), so columns stay sorted by β and
``b2`` never changes between ladder adaptations. A variable's field update runs over all columns (a fixed-length
vector loop) when any of them flipped it: restricting it to the columns that flipped measured slower.
Exchanges alternate between even and odd neighbour pairs after each sweep, within each copy.

With two copies (columns ``2t`` and ``2t + 1`` at position ``t``), Houdayer cluster moves (isoenergetic
cluster moves, Zhu, Ochoa and Katzgraber 2015) run after each sweep at ladder positions ``t >= cluster_lo``:
the two replicas at that β are compared, a random site where they differ seeds a cluster grown over couplings
among the sites where they differ, and the cluster is flipped in both replicas. The pair's total energy is
unchanged, so the move is always accepted. A cluster holding every differing site would just exchange the two
replicas, and is skipped.

Each replica's energy is tracked incrementally (float32 flip energies summed per sweep into float64), and the
run's best state (lowest energy at any β) is checked after every sweep: a candidate's energy is recomputed
exactly before it replaces the best. Fields and energies are recomputed exactly every
:data:`~qiopt.backends.annealing.kernels.REFRESH_SWEEPS` sweeps, so rounding never builds up. All state lives in
arrays the caller owns, so a run continues across calls (chunks) exactly as if run in one call.

Example:
    >>> import numpy as np
    >>> e = np.zeros(1)
    >>> S = np.array([[1.0], [-1.0]], np.float32)
    >>> _energies(np.array([1.0, 0.0]), np.array([0, 1, 2]), np.array([1, 0], np.int32), np.array([2.0, 2.0]), S, e)
    >>> e.tolist()
    [-1.0]
"""

from __future__ import annotations

import numba as nb
import numpy as np

from qiopt.backends._random import JIT, exp_neg, uniform, xorshift64
from qiopt.backends.annealing.kernels import REFRESH_SWEEPS, local_fields

__all__ = ["advance"]

_F0, _F2 = np.float32(0.0), np.float32(2.0)


@nb.njit(**JIT)
def _energies(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, S: np.ndarray,
              E: np.ndarray) -> None:
    """``E[r] = sum_i S[i, r] (h[i] + 0.5 sum_j J_ij S[j, r])`` in float64 (the energy without the offset)."""
    acc = np.empty(S.shape[1], np.float64)
    E[:] = 0.0
    for i in range(S.shape[0]):
        acc[:] = h[i]
        for k in range(indptr[i], indptr[i + 1]):
            j, w = indices[k], 0.5 * data[k]
            for r in range(S.shape[1]):
                acc[r] += w * S[j, r]
        for r in range(S.shape[1]):
            E[r] += acc[r] * S[i, r]


@nb.njit(**JIT)
def _column_energy(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, S: np.ndarray,
                   c: int) -> float:
    """The exact (float64) energy of column ``c``, without the offset."""
    total = 0.0
    for i in range(S.shape[0]):
        f = h[i]
        for k in range(indptr[i], indptr[i + 1]):
            f += 0.5 * data[k] * S[indices[k], c]
        total += f * S[i, c]
    return total


@nb.njit(fastmath=True, **JIT)
def _sweep(indptr: np.ndarray, indices: np.ndarray, data32: np.ndarray, S: np.ndarray, F: np.ndarray,
           E: np.ndarray, b2: np.ndarray, rng: np.ndarray, flip: np.ndarray, dE: np.ndarray, moves: np.ndarray
           ) -> None:
    """One Metropolis sweep of every column (variables in index order), each at its own ``b2 = 2β``; ``moves``
    gets twice each column's number of accepted flips."""
    n, W = S.shape
    dE[:] = _F0
    moves[:] = _F0
    for i in range(n):
        moved = _F0
        for r in range(W):
            x = xorshift64(rng[r])
            rng[r] = x
            s = S[i, r]
            f = F[i, r]
            accept = uniform(x) <= exp_neg(min(b2[r] * s * f, _F0))  # exp(-β dE), dE = -2 s f
            d = -_F2 * s if accept else _F0
            flip[r] = d
            S[i, r] = s + d
            dE[r] += d * f
            moves[r] += abs(d)
            moved += abs(d)
        if moved > _F0:
            for k in range(indptr[i], indptr[i + 1]):
                j, w = indices[k], data32[k]
                for r in range(W):
                    F[j, r] += w * flip[r]
    for r in range(W):
        E[r] += dE[r]


@nb.njit(**JIT)
def _exchange(S: np.ndarray, F: np.ndarray, E: np.ndarray, betas: np.ndarray, copies: int, parity: int,
              aux: np.uint64, swaps: np.ndarray) -> np.uint64:
    """Metropolis swaps of neighbours ``(t, t + 1)`` for ``t`` of the given parity, in every copy."""
    for c in range(copies):
        for t in range(parity, betas.shape[0] - 1, 2):
            a, b = t * copies + c, (t + 1) * copies + c
            delta = (betas[t] - betas[t + 1]) * (E[a] - E[b])  # log of the swap's acceptance ratio
            swaps[0, t] += 1
            accept = delta >= 0.0
            if not accept:
                aux = xorshift64(aux)
                accept = uniform(aux) <= np.exp(delta)
            if accept:
                for i in range(S.shape[0]):
                    S[i, a], S[i, b] = S[i, b], S[i, a]
                    F[i, a], F[i, b] = F[i, b], F[i, a]
                E[a], E[b] = E[b], E[a]
                swaps[1, t] += 1
    return aux


@nb.njit(**JIT)
def _cluster_move(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, data32: np.ndarray, S: np.ndarray,
                  F: np.ndarray, E: np.ndarray, a: int, b: int, aux: np.uint64, members: np.ndarray,
                  mark: np.ndarray, differ: np.ndarray, clusters: np.ndarray) -> np.uint64:
    """One Houdayer move on columns ``a`` and ``b`` (same β); see the module docstring."""
    m = 0
    for i in range(S.shape[0]):
        if S[i, a] != S[i, b]:
            differ[m] = i
            m += 1
    clusters[0] += 1
    if m == 0:
        return aux
    aux = xorshift64(aux)
    start = differ[np.int64(aux % np.uint64(m))]
    members[0], mark[start], size, head = start, 1, 1, 0
    while head < size:  # breadth-first growth over couplings among differing sites
        i = members[head]
        head += 1
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if mark[j] == 0 and data[k] != 0.0 and S[j, a] != S[j, b]:
                mark[j] = 1
                members[size] = j
                size += 1
    for k in range(size):
        mark[members[k]] = 0
    if size == m:  # every differing site: the move would only exchange the two replicas
        return aux
    clusters[1] += 1
    clusters[2] += size
    for q in range(size):
        i = members[q]
        for c in (a, b):
            s = S[i, c]
            E[c] -= 2.0 * np.float64(s) * np.float64(F[i, c])
            S[i, c] = -s
            d = -_F2 * s
            for k in range(indptr[i], indptr[i + 1]):
                F[indices[k], c] += data32[k] * d
    return aux


@nb.njit(**JIT)
def advance(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, data32: np.ndarray,
            S: np.ndarray, F: np.ndarray, E: np.ndarray, b2: np.ndarray, betas: np.ndarray, copies: int,
            rng: np.ndarray, aux: np.ndarray, counters: np.ndarray, flips: np.ndarray, swaps: np.ndarray,
            clusters: np.ndarray, best: np.ndarray, best_energy: np.ndarray, num_sweeps: int, cluster_lo: int,
            tol: float) -> None:
    """Advance one PT run by ``num_sweeps`` sweeps, in place.

    Each sweep: a Metropolis sweep of every replica, neighbour exchanges (even pairs after odd-numbered
    sweeps, odd pairs after even ones), Houdayer moves at ladder positions ``>= cluster_lo`` (when there are
    two copies), then the best-state check. ``counters[0]`` counts the run's sweeps and ``counters[1]`` is the
    sweep that found the best; ``flips`` (accepted flips per ladder position), ``swaps`` (attempts and
    acceptances per neighbour pair) and ``clusters`` (moves attempted, non-trivial moves, spins flipped)
    accumulate statistics; ``aux[0]`` is the run's stream for exchanges and cluster seeds. ``tol`` is how far
    below the best a replica's tracked energy must be before its exact energy is computed.

    >>> import numpy as np
    >>> S = np.array([[-1.0, 1.0]], np.float32); F = np.ones((1, 2), np.float32); E = np.array([-1.0, 1.0])
    >>> best, best_e = np.ones(1, np.int8), np.array([1.0])
    >>> advance(np.ones(1), np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.float32),
    ...         S, F, E, np.array([20.0, 20.0], np.float32), np.array([10.0, 10.0]), 1,
    ...         np.array([5, 6], np.uint64), np.array([7], np.uint64), np.zeros(2, np.int64), np.zeros(2),
    ...         np.zeros((2, 1), np.int64), np.zeros(3, np.int64), best, best_e, 3, 2, 1e-9)
    >>> best.tolist(), best_e.tolist(), S.ravel().tolist()
    ([-1], [-1.0], [-1.0, -1.0])
    """
    n, W = S.shape
    R = betas.shape[0]
    flip, dE, moves = np.empty(W, np.float32), np.empty(W, np.float32), np.empty(W, np.float32)
    members, differ, mark = np.empty(n, np.int64), np.empty(n, np.int64), np.zeros(n, np.uint8)
    state = aux[0]
    for _ in range(num_sweeps):
        _sweep(indptr, indices, data32, S, F, E, b2, rng, flip, dE, moves)
        for r in range(W):
            flips[r // copies] += 0.5 * moves[r]
        counters[0] += 1
        if counters[0] % REFRESH_SWEEPS == 0:
            local_fields(h, indptr, indices, data, S, F)
            _energies(h, indptr, indices, data, S, E)
        state = _exchange(S, F, E, betas, copies, counters[0] % 2, state, swaps)
        if copies == 2:
            for t in range(cluster_lo, R):
                state = _cluster_move(indptr, indices, data, data32, S, F, E, 2 * t, 2 * t + 1, state,
                                      members, mark, differ, clusters)
        c = np.argmin(E)
        if E[c] < best_energy[0] - tol:
            E[c] = _column_energy(h, indptr, indices, data, S, c)
            if E[c] < best_energy[0]:
                best_energy[0] = E[c]
                counters[1] = counters[0]
                for i in range(n):
                    best[i] = np.int8(S[i, c])
    aux[0] = state
