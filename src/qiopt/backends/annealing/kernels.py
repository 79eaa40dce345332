"""Compiled simulated-annealing kernels of the ``"sa"`` backend (numba, compiled lazily and cached on disk).

Design, for throughput: reads are annealed in lockstep. A block of up to :data:`MAX_BLOCK` reads keeps its
spins ``S`` and local fields ``F = h + J s`` as float32 arrays laid out ``(n, reads)``, so visiting variable
``i`` reads row ``i`` once for every read of the block, and all per-read work (random draw, acceptance, flip)
is a branch-free loop over the contiguous read axis that LLVM vectorises (AVX2/AVX-512). Only if at least one
read flipped ``i`` are the neighbours' fields updated, again a vector loop per coupling. Each read draws from
its own xorshift64 stream seeded from ``(seed, read index)``, and the visiting order (sequential, or a fresh
random permutation per sweep drawn from ``seed`` alone and shared by all reads) never depends on the block, so
a read's result is the same whatever the batching (``first_read``) or ``num_threads``. Acceptance uses a fast
float32 ``exp`` (relative error < 1e-5); float32 fields are recomputed from the spins every
:data:`REFRESH_SWEEPS` sweeps, so rounding never builds up. The kernels only produce states: the sampler
recomputes every energy in float64.

Example:
    >>> import numpy as np, dimod
    >>> from qiopt.model import CompactModel
    >>> from qiopt.backends.annealing.kernels import anneal
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: 1.0}, {(0, 1): -1.0}, 0.0, "SPIN"))
    >>> states = np.ones((4, 2), dtype=np.int8)
    >>> anneal(cm, np.geomspace(0.1, 5.0, 50), 1, states, seed=7)
    >>> states.tolist()
    [[-1, -1], [-1, -1], [-1, -1], [-1, -1]]
"""

from __future__ import annotations

import itertools

import numba as nb
import numpy as np

from qiopt.backends._random import JIT, exp_neg, stream_state, uniform, xorshift64
from qiopt.model import CompactModel
from qiopt.threads import run_tasks

__all__ = ["MAX_BLOCK", "REFRESH_SWEEPS", "anneal", "blocks", "local_fields", "steepest_descent"]

MAX_BLOCK = 64
"""Most reads annealed in lockstep by one task (the vector dimension)."""
REFRESH_SWEEPS = 128
"""Sweeps between exact (float64-summed) recomputations of the float32 local fields."""

_F0, _F1, _F2 = np.float32(0.0), np.float32(1.0), np.float32(2.0)


@nb.njit(**JIT)
def local_fields(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, S: np.ndarray,
            F: np.ndarray) -> None:
    """``F[i, r] = h[i] + sum_j J_ij S[j, r]``, summed in float64 and stored as float32."""
    acc = np.empty(S.shape[1], np.float64)
    for i in range(S.shape[0]):
        acc[:] = h[i]
        for k in range(indptr[i], indptr[i + 1]):
            j, w = indices[k], data[k]
            for r in range(S.shape[1]):
                acc[r] += w * S[j, r]
        for r in range(S.shape[1]):
            F[i, r] = acc[r]


@nb.njit(**JIT)
def _permute(order: np.ndarray, state: np.uint64) -> np.uint64:
    """Fisher-Yates shuffle of ``order`` in place; returns the advanced generator state."""
    for i in range(order.shape[0] - 1, 0, -1):
        state = xorshift64(state)
        j = np.int64(state % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]
    return state


@nb.njit(inline="always", fastmath=True, **JIT)
def _flip_reads(S: np.ndarray, F: np.ndarray, flip: np.ndarray, rng: np.ndarray, i: int, b2: np.float32,
                gibbs: bool) -> np.float32:
    """Propose flipping ``i`` in every read; store the spin changes in ``flip``, return their total size."""
    moved = _F0
    for r in range(S.shape[1]):
        x = xorshift64(rng[r])
        rng[r] = x
        u = uniform(x)
        s = S[i, r]
        x_neg = b2 * s * F[i, r]  # = -beta * dE of flipping i
        if gibbs:  # u <= 1 / (1 + exp(beta dE)), with e = exp(-beta |dE|) <= 1 and no division
            e = exp_neg(-abs(x_neg))
            accept = u * (_F1 + e) <= (e if x_neg < _F0 else _F1)
        else:
            accept = u <= exp_neg(min(x_neg, _F0))
        d = -_F2 * s if accept else _F0
        flip[r] = d
        S[i, r] = s + d
        moved += abs(d)
    return moved


@nb.njit(fastmath=True, **JIT)
def _anneal_block(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                  data32: np.ndarray, betas: np.ndarray, sweeps_per_beta: int, states: np.ndarray, lo: int,
                  hi: int, seed: np.uint64, first_read: int, randomize: bool, gibbs: bool) -> None:
    """Anneal reads ``states[lo:hi]`` in lockstep (see the module docstring)."""
    n, width = states.shape[1], hi - lo
    S = np.empty((n, width), np.float32)
    for r in range(width):
        for i in range(n):
            S[i, r] = states[lo + r, i]
    F = np.empty((n, width), np.float32)
    local_fields(h, indptr, indices, data, S, F)
    rng = np.empty(width, np.uint64)
    for r in range(width):
        rng[r] = stream_state(seed, np.uint64(first_read + lo + r))
    order = np.arange(n)
    order_rng = stream_state(seed ^ np.uint64(0xD1B54A32D192ED03), np.uint64(0))
    flip = np.empty(width, np.float32)
    sweeps = 0
    for beta in betas:
        b2 = np.float32(2.0 * beta)
        for _ in range(sweeps_per_beta):
            if randomize:
                order_rng = _permute(order, order_rng)
            for v in range(n):
                i = order[v]
                # Literal flags, so that after inlining each call is a branch-free (vectorised) loop.
                moved = (_flip_reads(S, F, flip, rng, i, b2, True) if gibbs
                         else _flip_reads(S, F, flip, rng, i, b2, False))
                if moved > _F0:
                    for k in range(indptr[i], indptr[i + 1]):
                        j, w = indices[k], data32[k]
                        for r in range(width):
                            F[j, r] += w * flip[r]
            sweeps += 1
            if sweeps % REFRESH_SWEEPS == 0:
                local_fields(h, indptr, indices, data, S, F)
    for r in range(width):
        for i in range(n):
            states[lo + r, i] = np.int8(S[i, r])


@nb.njit(inline="always", **JIT)
def _lower(gain: np.ndarray, a: int, b: int) -> int:
    """The index of the smaller gain (``a < b``, so ties go to the lower index, as ``np.argmin``); -1 = empty."""
    if a < 0:
        return b
    if b < 0:
        return a
    return a if gain[a] <= gain[b] else b


@nb.njit(**JIT)
def _descend(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, states: np.ndarray,
             lo: int, hi: int, tol: float) -> None:
    """Steepest single-flip descent of reads ``states[lo:hi]`` (float64 fields). The steepest flip comes from a
    tournament tree over the gains (the root holds the index of the smallest; ties go to the lower index), so
    a flip costs O(degree · log n), not an O(n) scan, and the moves are those of ``np.argmin``."""
    n = states.shape[1]
    gain = np.empty(n, np.float64)  # dE of flipping i: -2 s_i f_i
    size = 1
    while size < n:
        size *= 2
    tree = np.full(2 * size, -1, np.int64)
    for r in range(lo, hi):
        s = states[r]
        for i in range(n):
            f = h[i]
            for k in range(indptr[i], indptr[i + 1]):
                f += data[k] * s[indices[k]]
            gain[i] = -2.0 * s[i] * f
            tree[size + i] = i
        for node in range(size - 1, 0, -1):
            tree[node] = _lower(gain, tree[2 * node], tree[2 * node + 1])
        while n > 0:
            i = tree[1]
            if gain[i] >= -tol:
                break
            s[i] = -s[i]
            gain[i] = -gain[i]
            _rise(tree, gain, size + i)
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                gain[j] -= 4.0 * data[k] * s[i] * s[j]
                _rise(tree, gain, size + j)


@nb.njit(inline="always", **JIT)
def _rise(tree: np.ndarray, gain: np.ndarray, leaf: int) -> None:
    """Recompute the tournament from ``leaf``'s parent up to the root after its gain changed."""
    node = leaf // 2
    while node >= 1:
        tree[node] = _lower(gain, tree[2 * node], tree[2 * node + 1])
        node //= 2


def _check(cm: CompactModel, states: np.ndarray, num_threads: int) -> None:
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    if not (isinstance(states, np.ndarray) and states.dtype == np.int8 and states.ndim == 2
            and states.shape[1] == cm.num_variables and states.flags.c_contiguous):
        raise ValueError(f"states must be a C-contiguous int8 array of shape (num_reads, {cm.num_variables})")


def blocks(num_reads: int, num_threads: int) -> list[tuple[int, int]]:
    """Split reads into near-equal blocks of at most MAX_BLOCK, a multiple of num_threads where possible."""
    count = -(-num_reads // MAX_BLOCK)
    count = min(num_reads, -(-count // num_threads) * num_threads)
    bounds = np.linspace(0, num_reads, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def anneal(cm: CompactModel, betas: np.ndarray, sweeps_per_beta: int, states: np.ndarray, seed: int,
           first_read: int = 0, randomize_order: bool = False, gibbs: bool = False,
           num_threads: int = 1) -> None:
    """Anneal each row of ``states`` (int8 ±1, shape ``(num_reads, n)``, C-contiguous) in place.

    ``sweeps_per_beta`` sweeps run at each value of ``betas``. Read ``k`` draws its random numbers only from
    ``(seed, first_read + k)``, so results do not depend on ``num_threads`` or on how reads are batched.
    Metropolis acceptance by default, Gibbs (heat-bath) with ``gibbs=True``. ``randomize_order=True`` visits
    variables in a fresh random permutation each sweep (drawn from ``seed`` alone, shared by all reads);
    otherwise in index order.

    >>> import numpy as np, dimod
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: -1.0}, {}, 0.0, "SPIN"))
    >>> s = -np.ones((2, 1), dtype=np.int8); anneal(cm, np.array([10.0]), 1, s, seed=0); s.ravel().tolist()
    [1, 1]
    """
    _check(cm, states, num_threads)
    if sweeps_per_beta < 0:
        raise ValueError(f"sweeps_per_beta must be >= 0, got {sweeps_per_beta}")
    betas = np.ascontiguousarray(betas, dtype=np.float64)
    if states.shape[0] == 0 or betas.size == 0 or sweeps_per_beta == 0:
        return
    data32 = cm.data.astype(np.float32)
    seed64 = np.uint64(int(seed) % 2**64)

    def work(lo: int, hi: int) -> None:
        _anneal_block(cm.h, cm.indptr, cm.indices, cm.data, data32, betas, int(sweeps_per_beta), states,
                      lo, hi, seed64, int(first_read), bool(randomize_order), bool(gibbs))

    run_tasks(blocks(states.shape[0], num_threads), work, num_threads)


def steepest_descent(cm: CompactModel, states: np.ndarray, num_threads: int = 1) -> None:
    """Greedy polish in place: repeatedly flip the spin whose flip lowers the energy most, until none does.

    Every row of ``states`` (int8 ±1, C-contiguous) ends in a single-flip local minimum, never higher in
    energy.

    >>> import numpy as np, dimod
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({}, {(0, 1): 1.0}, 0.0, "SPIN"))
    >>> s = np.ones((1, 2), dtype=np.int8); steepest_descent(cm, s); s.tolist()
    [[-1, 1]]
    """
    _check(cm, states, num_threads)
    if states.shape[0] == 0:
        return
    rows = cm.rows
    row_abs = np.bincount(rows, weights=np.abs(cm.data), minlength=cm.num_variables)
    tol = 1e-12 * float((np.abs(cm.h) + row_abs).max())
    step = -(-states.shape[0] // num_threads)
    tasks = [(lo, min(lo + step, states.shape[0])) for lo in range(0, states.shape[0], step)]
    run_tasks(tasks, lambda lo, hi: _descend(cm.h, cm.indptr, cm.indices, cm.data, states, lo, hi, tol),
         num_threads)
