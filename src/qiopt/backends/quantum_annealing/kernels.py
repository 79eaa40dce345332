"""Compiled path-integral Monte Carlo kernels of the ``"sqa"`` backend (numba, compiled lazily, cached on disk).

A read is ``P`` Trotter slices of the ``n`` spins on a ring (:mod:`.schedule` gives the weight). Layout, for
throughput: a read keeps its spins ``S`` and the classical local fields ``F = h + J s`` of every slice as
float32 arrays laid out ``(n, P)``, so the slices are the vector lane. Slices are stored even ones first:
position ``m < P/2`` holds slice ``2m``, position ``P/2 + m`` slice ``2m + 1``.

A sweep visits every spin ``i`` and

1. proposes flipping ``i`` in all even slices at once, then in all odd slices (a checkerboard on the ring:
   slices of one colour share no bond, so each half is an exact block Metropolis update given the other); each
   half is a branch-free loop over contiguous lanes, with one xorshift64 stream per slice;
2. optionally proposes a **world-line move**, flipping ``i`` in every slice (the ring term is unchanged, so
   only the classical energy decides): it crosses barriers that strongly bound slices cannot cross one by one;
3. if anything flipped, updates the neighbours' fields of every slice (a vector loop per coupling) and the
   slice energies.

After every sweep the lowest-energy slice is compared with the best state the read has seen, which starts as
the read's start state. Fields and energies are recomputed exactly every ``REFRESH_SWEEPS`` sweeps of the
schedule, so float32 rounding never builds up. A read draws only from its streams ``(seed, read index)``, and
everything it needs lives in :class:`Paths`, so a read's result does not depend on ``num_threads`` or on how
the schedule is cut into chunks (the sampler checks the clock between chunks).

Example:
    >>> import numpy as np, dimod
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: 1.0}, {(0, 1): -1.0}, 0.0, "SPIN"))
    >>> paths = Paths.start(cm, np.ones((2, 2), dtype=np.int8), trotter=4, seed=3, first_read=0)
    >>> gammas = np.geomspace(2.0, 1e-3, 200)
    >>> anneal(cm, paths, beta=8.0, gammas=gammas, first_sweep=0, world_line=True)
    >>> paths.best.tolist(), paths.best_energy.tolist()
    ([[-1, -1], [-1, -1]], [-2.0, -2.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from qiopt.backends._random import JIT, exp_neg, stream_state, uniform, xorshift64
from qiopt.backends.annealing.kernels import local_fields
from qiopt.backends.quantum_annealing.schedule import interslice_coupling
from qiopt.model import CompactModel
from qiopt.threads import run_tasks

__all__ = ["REFRESH_SWEEPS", "WORLD_LINE_STREAM", "Paths", "anneal"]

REFRESH_SWEEPS = 64
WORLD_LINE_STREAM = np.uint64(0x5851F42D4C957F2D)
"""Seed salt of each read's world-line-move stream (its slice streams use the plain seed)."""

_F0, _F1, _H = np.float32(0.0), np.float32(1.0), 0.5


@dataclass
class Paths:
    """Everything a batch of reads carries between chunks of its schedule (a row per read)."""

    spins: np.ndarray  # (reads, n, P) float32 ±1, even slices first
    fields: np.ndarray  # (reads, n, P) float32 classical local fields h + J s of each slice
    energies: np.ndarray  # (reads, P) float64 classical energies (without offset) of each slice
    slice_rng: np.ndarray  # (reads, P) uint64 xorshift64 states
    world_rng: np.ndarray  # (reads,) uint64 states of the world-line moves
    best: np.ndarray  # (reads, n) int8 lowest slice seen
    best_energy: np.ndarray  # (reads,) float64 its energy (without offset; float32-field precision)
    world_accepted: np.ndarray  # (reads,) int64 world-line moves accepted

    @classmethod
    def start(cls, cm: CompactModel, starts: np.ndarray, trotter: int, seed: int, first_read: int) -> Paths:
        """Every slice of read ``r`` starts as ``starts[r]`` (±1 int8); read ``r`` is read ``first_read + r``
        of the run: its streams come from ``(seed, first_read + r)`` only."""
        reads = starts.shape[0]
        spins = np.ascontiguousarray(np.repeat(starts.astype(np.float32)[:, :, None], trotter, axis=2))
        seed64 = np.uint64(int(seed) % 2**64)
        paths = cls(spins, np.empty_like(spins), np.empty((reads, trotter)), np.empty((reads, trotter), np.uint64),
                    np.empty(reads, np.uint64), starts.astype(np.int8, copy=True), np.empty(reads),
                    np.zeros(reads, np.int64))
        _start(cm.h, cm.indptr, cm.indices, cm.data, paths.spins, paths.fields, paths.energies, paths.slice_rng,
               paths.world_rng, paths.best_energy, seed64, np.uint64(first_read))
        return paths

    def slices(self) -> np.ndarray:
        """Every slice of every read as ±1 int8 rows ``(reads, P, n)`` (ring order not kept)."""
        return np.ascontiguousarray(self.spins.transpose(0, 2, 1)).astype(np.int8)


@nb.njit(**JIT)
def _energies(h: np.ndarray, S: np.ndarray, F: np.ndarray, E: np.ndarray) -> None:
    """``E[p] = Σ_i s_ip (h_i + F_ip) / 2``: each slice's energy without offset, from exact fields."""
    E[:] = 0.0
    for i in range(S.shape[0]):
        for p in range(S.shape[1]):
            E[p] += _H * S[i, p] * (h[i] + F[i, p])


@nb.njit(**JIT)
def _start(h, indptr, indices, data, spins, fields, energies, slice_rng, world_rng, best_energy, seed, first):
    trotter = spins.shape[2]
    for r in range(spins.shape[0]):
        read = first + np.uint64(r)
        local_fields(h, indptr, indices, data, spins[r], fields[r])
        _energies(h, spins[r], fields[r], energies[r])
        best_energy[r] = energies[r, 0]
        for p in range(trotter):
            slice_rng[r, p] = stream_state(seed, read * np.uint64(trotter) + np.uint64(p))
        world_rng[r] = stream_state(seed ^ WORLD_LINE_STREAM, read)


@nb.njit(inline="always", fastmath=True, **JIT)
def _half(s: np.ndarray, f: np.ndarray, ring: np.ndarray, rng: np.ndarray, lo: int, b2p: np.float32,
          k2: np.float32) -> None:
    """Metropolis flips of one colour: lanes ``lo .. lo + P/2`` with ring-neighbour sums ``ring``."""
    for m in range(ring.shape[0]):
        p = lo + m
        x = xorshift64(rng[p])
        rng[p] = x
        sp = s[p]
        x_neg = sp * (b2p * f[p] - k2 * ring[m])  # = -ΔH of flipping slice p, in units of 1
        s[p] = -sp if uniform(x) <= exp_neg(min(x_neg, _F0)) else sp


@nb.njit(fastmath=True, **JIT)
def _anneal_read(h, indptr, indices, data, data32, S, F, E, rng, world, best, best_energy, accepted, b2p, k2s,
                 first_sweep, world_line):
    """Run the sweeps of ``k2s`` (2K per sweep) on one read: ``S``, ``F`` are ``(n, P)``, ``E``, ``rng`` ``(P,)``;
    returns the world-line state. ``best``/``best_energy``/``accepted`` are this read's entries (arrays of one)."""
    n, trotter = S.shape
    half = trotter // 2
    old = np.empty(trotter, np.float32)
    ring = np.empty(half, np.float32)
    for t in range(k2s.shape[0]):
        k2 = k2s[t]
        for i in range(n):
            s, f = S[i], F[i]
            for p in range(trotter):
                old[p] = s[p]
            ring[0] = s[trotter - 1] + s[half]  # even slice 2m: odd slices 2m - 1 and 2m + 1
            for m in range(1, half):
                ring[m] = s[half + m - 1] + s[half + m]
            _half(s, f, ring, rng, 0, b2p, k2)
            for m in range(half - 1):  # odd slice 2m + 1: even slices 2m and 2m + 2
                ring[m] = s[m] + s[m + 1]
            ring[half - 1] = s[half - 1] + s[0]
            _half(s, f, ring, rng, half, b2p, k2)
            if world_line:
                total = _F0
                for p in range(trotter):
                    total += s[p] * f[p]
                world = xorshift64(world)
                if uniform(world) <= exp_neg(min(b2p * total, _F0)):
                    accepted[0] += 1
                    for p in range(trotter):
                        s[p] = -s[p]
            moved = _F0
            for p in range(trotter):
                d = s[p] - old[p]
                old[p] = d
                E[p] += d * f[p]
                moved += abs(d)
            if moved > _F0:
                for k in range(indptr[i], indptr[i + 1]):
                    j, w = indices[k], data32[k]
                    fj = F[j]
                    for p in range(trotter):
                        fj[p] += w * old[p]
        if (first_sweep + t + 1) % REFRESH_SWEEPS == 0:
            local_fields(h, indptr, indices, data, S, F)
            _energies(h, S, F, E)
        low = 0
        for p in range(1, trotter):
            if E[p] < E[low]:
                low = p
        if E[low] < best_energy[0]:
            best_energy[0] = E[low]
            for i in range(n):
                best[i] = np.int8(S[i, low])
    return world


@nb.njit(**JIT)
def _anneal_reads(h, indptr, indices, data, data32, spins, fields, energies, slice_rng, world_rng, best,
                  best_energy, accepted, b2p, k2s, first_sweep, world_line, lo, hi):
    for r in range(lo, hi):
        world_rng[r] = _anneal_read(h, indptr, indices, data, data32, spins[r], fields[r], energies[r], slice_rng[r],
                                    world_rng[r], best[r], best_energy[r:r + 1], accepted[r:r + 1], b2p, k2s,
                                    first_sweep, world_line)


def anneal(cm: CompactModel, paths: Paths, beta: float, gammas: np.ndarray, first_sweep: int, world_line: bool,
           num_threads: int = 1) -> None:
    """Advance every read of ``paths`` in place by one sweep per transverse field in ``gammas``, at inverse
    temperature ``beta``; ``first_sweep`` is the index of ``gammas[0]`` in the whole schedule (it times the
    exact refreshes, so cutting a schedule into chunks changes nothing). Reads run in parallel on
    ``num_threads`` threads; the result does not depend on it."""
    trotter = paths.spins.shape[2]
    if trotter < 2 or trotter % 2:
        raise ValueError(f"the Trotter number must be even and >= 2, got {trotter}")
    reads = paths.spins.shape[0]
    k2s = (2.0 * interslice_coupling(beta, gammas, trotter)).astype(np.float32)
    if reads == 0 or k2s.size == 0:
        return
    b2p = np.float32(2.0 * beta / trotter)
    data32 = cm.data.astype(np.float32)
    step = -(-reads // max(1, min(num_threads, reads)))

    def work(lo: int, hi: int) -> None:
        _anneal_reads(cm.h, cm.indptr, cm.indices, cm.data, data32, paths.spins, paths.fields, paths.energies,
                      paths.slice_rng, paths.world_rng, paths.best, paths.best_energy, paths.world_accepted, b2p,
                      k2s, int(first_sweep), bool(world_line), lo, hi)

    run_tasks([(lo, min(lo + step, reads)) for lo in range(0, reads, step)], work, num_threads)
