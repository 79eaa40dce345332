"""The statevector engine of QAOA's optimisation loop: numba kernels, no qiskit (tested equal to Aer's circuit).

Bit order and angle conventions are those of :mod:`qiopt.backends._qiskit`: qubit ``i`` is bit ``i`` of the
basis index and variable ``i`` of the model, a measured ``1`` is spin ``+1``; the state for angles
``[γ_0..γ_{p-1}, β_0..β_{p-1}]`` is ``prod_k exp(-i β_k M) exp(-i γ_k H) |init>`` with
``M = sum cos θ_i Z_i + sin θ_i X_i`` (``θ = π/2``: plain QAOA, ``|init> = |+...+>``).

Layout: the state is two arrays (real, imaginary parts; float32 by default, float64 on request), so every
butterfly vectorises. Each layer is two passes over memory, both cache-blocked and parallel over blocks: pass A
applies the cost phase (a table lookup by energy level) and the mixer on the low qubits of a contiguous block;
pass B gathers a tile of the high qubits into a per-thread buffer, mixes them and scatters back. The first
pass builds the initial state; the last one accumulates ``<H>``.

Example:
    >>> import numpy as np
    >>> engine = DiagonalQAOA(np.array([0.0, 1.0, 1.0, 0.0]))
    >>> round(engine.expectation(np.array([0.0, 0.0])), 6)   # |++>: the mean of the diagonal
    0.5
"""

from __future__ import annotations

import os

import numba
import numpy as np
from numba import njit, prange

from qiopt.model import CompactModel

__all__ = ["DiagonalQAOA", "cost_diagonal"]

_LOW = 13  # qubits mixed inside one contiguous block of pass A (2**13 amplitudes: L1/L2 resident)
_WIDTH = 16  # contiguous amplitudes per row of a pass-B tile (one cache line of float32)
_THREADED = 14  # below this many qubits one thread is faster than waking the others


def cost_diagonal(model: CompactModel) -> np.ndarray:
    """Energy of every basis state ``k`` (``2**n`` float64), in the bit order of the module docstring.

    The variables are split into a low and a high half: the energy is ``E_low[k_lo] + E_high[k_hi]`` plus the
    cross couplings, one matrix product ``S_hi @ F_lo`` of the high spins with the low halves' local fields.

    >>> import dimod
    >>> model = CompactModel.from_bqm(dimod.BQM({"a": 1.0}, {("a", "b"): -1.0}, 0.5, "SPIN"))
    >>> cost_diagonal(model).tolist()   # states b a = 00, 01, 10, 11 (x = 0 is spin -1)
    [-1.5, 2.5, 0.5, 0.5]
    """
    n = model.num_variables
    J = np.triu(model.dense_couplings())  # the compact CSR is symmetric: each coupling once
    low = n // 2

    def energies(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        k = np.arange(1 << (hi - lo))
        spins = (2.0 * ((k[:, None] >> np.arange(hi - lo)) & 1) - 1.0)
        sub = J[lo:hi, lo:hi]
        return spins @ model.h[lo:hi] + np.einsum("ki,ij,kj->k", spins, sub, spins), spins

    e_lo, s_lo = energies(0, low)
    e_hi, s_hi = energies(low, n)
    cross = s_hi @ (J[:low, low:].T @ s_lo.T)  # (2**(n-low), 2**low)
    return (model.offset + e_hi[:, None] + e_lo[None, :] + cross).reshape(-1)


def _levels(diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, level)`` with ``diag == values[level]``: few values when the energies lie on a grid of step
    1/4 (integer-weighted models; ``level`` then uint8/uint16 when it fits), else every entry its own value."""
    low = diag.min()
    for step in (1.0, 0.25):
        scaled = (diag - low) / step
        top = scaled.max()
        if top < 2**20 and np.array_equal(scaled, np.rint(scaled)):
            kind = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int32
            return low + step * np.arange(int(top) + 1), scaled.astype(kind)
    return diag, np.arange(diag.size, dtype=np.int32)


@njit(inline="always")
def _pair(re: np.ndarray, im: np.ndarray, k: int, h: int, c: float, a: float, b: float) -> None:
    """``[x, y] → [[c - ia, -ib], [-ib, c + ia]] [x, y]`` on amplitudes ``x = k``, ``y = k + h``."""
    xr, xi, yr, yi = re[k], im[k], re[k + h], im[k + h]
    re[k] = c * xr + a * xi + b * yi
    im[k] = c * xi - a * xr - b * yr
    re[k + h] = b * xi + c * yr - a * yi
    im[k + h] = c * yi + a * yr - b * xr


@njit(inline="always")
def _strided(re: np.ndarray, im: np.ndarray, base: int, size: int, h: int, c: float, a: float, b: float) -> None:
    for i in range(size // (2 * h)):  # h a literal: LLVM vectorises over i with interleaved loads
        for j in range(h):
            _pair(re, im, base + 2 * h * i + j, h, c, a, b)


@njit(inline="always")
def _butterflies(re: np.ndarray, im: np.ndarray, base: int, size: int, h: int, c: float, a: float,
                 b: float) -> None:
    """:func:`_pair` on every pair ``(k, k + h)`` of ``[base, base + size)`` (``h`` a power of two dividing
    ``size``), written so that LLVM vectorises: over ``h`` contiguous pairs (views, ``h >= 16``), else over
    groups, with ``h`` a compile-time constant."""
    if h >= 16:
        for start in range(base, base + size, 2 * h):
            xre, xim = re[start:start + h], im[start:start + h]
            yre, yim = re[start + h:start + 2 * h], im[start + h:start + 2 * h]
            for i in range(h):
                xr, xi, yr, yi = xre[i], xim[i], yre[i], yim[i]
                xre[i] = c * xr + a * xi + b * yi
                xim[i] = c * xi - a * xr - b * yr
                yre[i] = b * xi + c * yr - a * yi
                yim[i] = c * yi + a * yr - b * xr
    elif h == 1:
        _strided(re, im, base, size, 1, c, a, b)
    elif h == 2:
        _strided(re, im, base, size, 2, c, a, b)
    elif h == 4:
        _strided(re, im, base, size, 4, c, a, b)
    else:
        _strided(re, im, base, size, 8, c, a, b)


@njit(parallel=True, cache=True, fastmath=True)
def _pass_low(re: np.ndarray, im: np.ndarray, init: np.ndarray, cos_t: np.ndarray, sin_t: np.ndarray,
              level: np.ndarray, mix: np.ndarray, low: int, values: np.ndarray, energy: bool) -> float:
    """Pass A: (``init`` when non-empty: fresh state) cost phase, mixer on qubits ``< low``, optionally <H>."""
    size = 1 << low
    total = 0.0
    for blk in prange(re.size >> low):
        base = blk << low
        if init.size == 0:
            for k in range(base, base + size):
                c, s = cos_t[level[k]], sin_t[level[k]]
                xr, xi = re[k], im[k]
                re[k] = xr * c + xi * s
                im[k] = xi * c - xr * s
        elif init.size == 1:
            for k in range(base, base + size):
                re[k] = init[0] * cos_t[level[k]]
                im[k] = -init[0] * sin_t[level[k]]
        else:
            for k in range(base, base + size):
                re[k] = init[k] * cos_t[level[k]]
                im[k] = -init[k] * sin_t[level[k]]
        for q in range(low):
            _butterflies(re, im, base, size, 1 << q, mix[q, 0], mix[q, 1], mix[q, 2])
        if energy:
            part = 0.0
            for k in range(base, base + size):
                part += (re[k] * re[k] + im[k] * im[k]) * values[level[k]]
            total += part
    return total


@njit(parallel=True, cache=True, fastmath=True)
def _pass_high(re: np.ndarray, im: np.ndarray, buf: np.ndarray, level: np.ndarray, mix: np.ndarray, low: int,
               values: np.ndarray, energy: bool) -> float:
    """Pass B: mixer on qubits ``>= low``, tile by tile (``rows x width`` gathered into ``buf[thread]``)."""
    threads, stride = buf.shape[0], 1 << low
    rows = re.size >> low
    width, tiles = buf.shape[2] // rows, stride // (buf.shape[2] // rows)
    total = 0.0
    for t in prange(threads):
        bre, bim = buf[t, 0], buf[t, 1]
        part = 0.0
        for tile in range(t, tiles, threads):
            off = tile * width
            for r in range(rows):
                for w in range(width):
                    bre[r * width + w] = re[r * stride + off + w]
                    bim[r * width + w] = im[r * stride + off + w]
            q = low
            while (1 << q) < re.size:  # row r, column w of the tile is bre[r * width + w]
                _butterflies(bre, bim, 0, rows * width, width << (q - low), mix[q, 0], mix[q, 1], mix[q, 2])
                q += 1
            for r in range(rows):
                for w in range(width):
                    k = r * stride + off + w
                    re[k], im[k] = bre[r * width + w], bim[r * width + w]
                    if energy:
                        part += (re[k] * re[k] + im[k] * im[k]) * values[level[k]]
        total += part
    return total


def _aligned(size: int, dtype: np.dtype) -> np.ndarray:
    """``np.empty(size)`` starting on a 4 KiB boundary, so that every pass-B row is whole cache lines (numpy
    aligns large arrays to 16 bytes only: each 64-byte row then straddles two lines, each read twice)."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.empty(size + 4096 // itemsize, dtype=dtype)
    start = (-raw.ctypes.data % 4096) // itemsize
    return raw[start:start + size]


@njit(parallel=True, cache=True)
def _probabilities(re: np.ndarray, im: np.ndarray, out: np.ndarray) -> None:
    for k in prange(re.size):
        out[k] = np.float64(re[k]) ** 2 + np.float64(im[k]) ** 2


class DiagonalQAOA:
    """QAOA states of a diagonal cost without a circuit (the loop's objective; see the module docstring).

    Built once per solve: the cost diagonal's distinct values (``values``, indexed by ``level``) make each cost
    layer a table lookup; the state buffers are reused by every evaluation. ``theta`` gives the warm start;
    ``dtype`` the precision of the state (float32: ~1e-6 relative error on ``<H>``, half the memory and time).

    >>> import numpy as np
    >>> engine = DiagonalQAOA(np.array([3.0, 1.0, 1.0, 3.0]))
    >>> probs = engine.probabilities(np.array([0.4, -0.3]))
    >>> int(engine.sample(probs, shots=8, seed=1)[1].sum()), round(engine.summary(probs)["expected_energy"], 4)
    (8, 1.3314)
    """

    def __init__(self, diag: np.ndarray, theta: np.ndarray | None = None, dtype: type = np.float32) -> None:
        # OpenMP workers (numba's threading layer here) sleep between the short parallel passes instead of
        # spinning: measured 1.4-1.5x faster at 20 qubits on 2 cores, idle or with one busy process beside it.
        # libgomp reads this once, when first loaded (numba's first parallel region, normally the first pass
        # below); an explicit user setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        diag = np.asarray(diag, dtype=np.float64)
        self.n = int(diag.size).bit_length() - 1
        self.values, self.level = _levels(diag)
        self.theta = None if theta is None else np.asarray(theta, dtype=np.float64)
        self._dtype = np.dtype(dtype)
        self._re, self._im = _aligned(diag.size, self._dtype), _aligned(diag.size, self._dtype)
        if self.theta is None:
            self._init = np.full(1, 2.0 ** (-self.n / 2), dtype=self._dtype)
        else:
            amp = np.ones(1)
            for t in self.theta:  # later qubits are more significant bits
                amp = np.kron([np.cos(t / 2), np.sin(t / 2)], amp)
            self._init = amp.astype(self._dtype)
        self._low = min(self.n, _LOW)
        width = min(_WIDTH, 1 << self._low)
        threads = numba.get_num_threads()
        tile = (diag.size >> self._low) * width
        self._buf = _aligned(threads * 2 * tile, self._dtype).reshape(threads, 2, tile)

    def _mixer(self, beta: float) -> np.ndarray:
        cos_theta = np.zeros(self.n) if self.theta is None else np.cos(self.theta)
        sin_theta = np.ones(self.n) if self.theta is None else np.sin(self.theta)
        rows = np.stack([np.full(self.n, np.cos(beta)), np.sin(beta) * cos_theta, np.sin(beta) * sin_theta], 1)
        return rows.astype(self._dtype)

    def _evolve(self, x: np.ndarray, energy: bool) -> float:
        """Run the layers into the state buffers; return ``<H>`` when ``energy`` (else 0)."""
        x = np.asarray(x, dtype=np.float64)
        p = len(x) // 2
        threads = numba.get_num_threads()
        numba.set_num_threads(threads if self.n >= _THREADED else 1)
        total = 0.0
        try:
            for k, (gamma, beta) in enumerate(zip(x[:p], x[p:], strict=True)):
                last = energy and k == p - 1
                angle = gamma * self.values
                mix = self._mixer(beta)
                init = self._init if k == 0 else self._init[:0]
                total = _pass_low(self._re, self._im, init, np.cos(angle).astype(self._dtype),
                                  np.sin(angle).astype(self._dtype), self.level, mix, self._low, self.values,
                                  last and self._low == self.n)
                if self._low < self.n:
                    total = _pass_high(self._re, self._im, self._buf, self.level, mix, self._low, self.values,
                                       last)
        finally:
            numba.set_num_threads(threads)
        return total

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """``|<k|ψ(x)>|^2`` for every basis state (float64)."""
        self._evolve(x, False)
        out = np.empty(self._re.size)
        _probabilities(self._re, self._im, out)
        return out

    def expectation(self, x: np.ndarray, alpha: float = 1.0) -> float:
        """``<H>``, or its CVaR: the mean over the lowest-energy ``alpha`` of the probability mass."""
        if alpha >= 1.0:
            return self._evolve(x, True)
        mass = np.bincount(self.level, weights=self.probabilities(x), minlength=self.values.size)
        order = np.argsort(self.values, kind="stable")
        mass, values = mass[order], self.values[order]
        kept = np.minimum(mass, np.maximum(alpha - (np.cumsum(mass) - mass), 0.0))
        return float(kept @ values) / alpha

    def sample(self, probs: np.ndarray, shots: int, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
        """``shots`` basis states drawn (seeded) from ``probs`` (:meth:`probabilities`): distinct ±1 rows
        (column ``i`` = qubit ``i``) and their counts."""
        cumulative = np.cumsum(probs)
        draws = np.random.default_rng(seed).random(shots) * cumulative[-1]
        index, counts = np.unique(np.searchsorted(cumulative, draws, side="right"), return_counts=True)
        index = np.minimum(index, cumulative.size - 1)
        bits = (index[:, None] >> np.arange(self.n)) & 1
        return (2 * bits - 1).astype(np.int8), counts.astype(np.int64)

    def summary(self, probs: np.ndarray) -> dict[str, float]:
        """Expected energy under ``probs``, its approximation ratio ``(E_max - <E>) / (E_max - E_min)`` and
        P(optimum)."""
        mass = np.bincount(self.level, weights=probs, minlength=self.values.size)
        e_min, e_max = float(self.values.min()), float(self.values.max())
        expected = float(mass @ self.values)
        ratio = 1.0 if e_max == e_min else (e_max - expected) / (e_max - e_min)
        return {"expected_energy": expected, "ground_energy": e_min, "max_energy": e_max,
                "approximation_ratio": ratio, "probability_of_ground": float(mass[self.values == e_min].sum())}
