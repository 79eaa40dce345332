"""One parallel-tempering run: its replicas, ladder and best state, advanced in chunks by the compiled kernel.

A :class:`TemperingRun` owns every array :func:`qiopt.backends.tempering.kernels.advance` updates (spins, fields,
energies, the ladder and which column sits where on it, random streams, statistics, the best state), so the
driver can stop it between any two sweeps (a deadline) and continue it later with the same result as one call.
Run ``k`` draws only from streams seeded by ``(seed, k)``: results do not depend on how runs are spread over
threads.

Example:
    >>> import dimod, numpy as np
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BQM({}, {(0, 1): -1.0, (1, 2): -1.0}, 0.0, "SPIN"))
    >>> run = TemperingRun(ModelArrays(cm), np.geomspace(0.1, 5.0, 8), copies=1, cluster_lo=8, seed=3, index=0,
    ...                    start=None)
    >>> run.advance(50)
    >>> run.best_energy, abs(int(run.best.sum()))
    (-2.0, 3)
"""

from __future__ import annotations

import numpy as np

from qiopt.backends._random import stream_state
from qiopt.backends.tempering import kernels
from qiopt.model import CompactModel

__all__ = ["ModelArrays", "TemperingRun"]

_COLUMN_STREAMS = 4096  # streams reserved per run (one per column; columns <= 2 * MAX_REPLICAS)
_AUX_SALT = np.uint64(0x5851F42D4C957F2D)  # separates the runs' exchange streams from their column streams
_TOL = 1e-6  # share of the largest local field: how far below the best a tracked energy must go to be checked


class ModelArrays:
    """The model's arrays as the kernel reads them (shared by every run of a call)."""

    __slots__ = ("data32", "indices", "indptr", "model", "tol")

    def __init__(self, model: CompactModel) -> None:
        self.model = model
        self.indptr, self.indices = model.indptr, model.indices
        self.data32 = model.data.astype(np.float32)
        field = np.abs(model.h) + np.bincount(model.rows, weights=np.abs(model.data), minlength=model.num_variables)
        self.tol = _TOL * max(float(field.max()), 1e-300)


class TemperingRun:
    """The state of one PT run: ``copies`` (1 or 2) ladders of ``len(betas)`` replicas each.

    ``start`` is a ±1 state every replica starts from, or ``None`` for independent random replicas. Houdayer
    moves run at ladder positions ``>= cluster_lo`` when ``copies == 2``.
    """

    def __init__(self, arrays: ModelArrays, betas: np.ndarray, copies: int, cluster_lo: int, seed: int,
                 index: int, start: np.ndarray | None) -> None:
        model = arrays.model
        n, R = model.num_variables, len(betas)
        W = copies * R
        self.arrays, self.cluster_lo, self.copies = arrays, cluster_lo, copies
        if start is None:
            rng = np.random.default_rng([seed, index])
            S = (2.0 * rng.integers(0, 2, size=(n, W)) - 1.0).astype(np.float32)
        else:
            S = np.repeat(np.asarray(start, dtype=np.float32)[:, None], W, axis=1)
        self.S = np.ascontiguousarray(S)
        self.F = np.empty((n, W), np.float32)
        kernels.local_fields(model.h, model.indptr, model.indices, model.data, self.S, self.F)
        self.E = np.empty(W, np.float64)
        kernels._energies(model.h, model.indptr, model.indices, model.data, self.S, self.E)
        self.betas = np.empty(R, np.float64)
        self.b2 = np.empty(W, np.float32)
        self.set_ladder(betas)
        seed64 = np.uint64(seed)
        self.rng = np.array([stream_state(seed64, np.uint64(index * _COLUMN_STREAMS + r)) for r in range(W)],
                            dtype=np.uint64)
        self.aux = np.array([stream_state(seed64 ^ _AUX_SALT, np.uint64(index))], dtype=np.uint64)
        self.sweeps = np.zeros(2, np.int64)  # sweeps done, sweep that found the best
        self._since = 0
        self.flips = np.zeros(R, np.float64)
        self.swaps = np.zeros((2, max(R - 1, 0)), np.int64)
        self.clusters = np.zeros(3, np.int64)
        c = int(np.argmin(self.E))
        self.best = self.S[:, c].astype(np.int8)
        self._best_energy = np.array([self.E[c]])

    @property
    def best_energy(self) -> float:
        """The best state's energy (with the model's offset)."""
        return float(self._best_energy[0]) + self.arrays.model.offset

    def set_ladder(self, betas: np.ndarray) -> None:
        """Put βs ``betas`` (hottest first) on the ladder positions; replicas keep their positions."""
        self.betas[:] = betas
        self.b2[:] = np.repeat(2.0 * self.betas, self.copies)

    def advance(self, num_sweeps: int) -> None:
        """Run ``num_sweeps`` more sweeps (each with its exchanges, cluster moves and best-state check)."""
        a, m = self.arrays, self.arrays.model
        kernels.advance(m.h, a.indptr, a.indices, m.data, a.data32, self.S, self.F, self.E, self.b2, self.betas,
                        self.copies, self.rng, self.aux, self.sweeps, self.flips, self.swaps, self.clusters,
                        self.best, self._best_energy, int(num_sweeps), self.cluster_lo, a.tol)

    def take_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """Swap acceptance per neighbour pair and accepted flips per sweep per position since the last call
        (or the start), averaged over the copies; the counts restart from zero."""
        accept = self.swaps[1] / np.maximum(self.swaps[0], 1)
        done = int(self.sweeps[0]) - self._since
        flips = self.flips / max(self.copies * done, 1)
        self._since = int(self.sweeps[0])
        self.swaps[:] = 0
        self.flips[:] = 0.0
        return accept, flips
