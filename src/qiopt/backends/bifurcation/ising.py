"""The zero-field Ising form simulated bifurcation integrates, and the step sizes set from its scale.

**Linear terms.** SB evolves positions ``x`` under the force ``-J x``; a field ``h`` would act at full strength
while the ``x`` are still near zero and push every agent to the field's signs before the couplings matter. As
the ``simulated-bifurcation`` package does, a model with a field gains one auxiliary spin ``a`` coupled to every
variable by ``J_ia = h_i``. The extended model ``E'(s, a) = sum_i h_i s_i a + sum_{i<j} J_ij s_i s_j`` has no
field and is symmetric under flipping every spin, and ``E'(s, a) = E(a s) - offset``, so a sign state ``(s, a)``
of the extended model is read back as ``a * s``: the energy of every state is exactly the model's.

**Scales** (``a0 = 1``). The coupling constant follows Goto et al. (2019, 2021): ``c0 = 0.5 / (sqrt(N) sigma)``
with ``sigma`` the standard deviation of the ``N(N-1)`` off-diagonal entries of ``J`` (zeros included), i.e.
``c0 = 0.5 sqrt(N - 1) / ||J||_F``, from the Frobenius norm. The papers' fixed step ``dt = 1.25`` is stable only
while the stiffest mode is soft: symplectic Euler on ``x'' = -k x`` is stable for ``dt < 2 / sqrt(k)``, and the
stiffest restoring mode of bSB has ``k = a0 (a0 + c0 rho)`` with ``rho`` the spectral radius of ``J``. On a
Sherrington-Kirkpatrick model ``c0 rho ~ 1`` and 1.25 is safe, but on a dense model with a nonzero mean (the
Wishart planted ensemble, dense ferromagnets) ``c0 rho`` grows like ``sqrt(N)`` and a fixed step oscillates
between the walls. So ``dt = min(1.25, 0.9 * 2 / sqrt(a0 (a0 + c0 rho)))``, with ``rho`` from
:data:`POWER_ITERATIONS` power iterations on the CSR matrix (times 1.05: power iteration approaches ``rho`` from
below); both cost a few sparse mat-vecs.

Example:
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> form = IsingForm.from_model(CompactModel.from_bqm(dimod.BQM({0: 1.0}, {(0, 1): -2.0}, 0.0, "SPIN")))
    >>> form.num_spins, form.auxiliary
    (3, True)
    >>> form.spins(np.array([[1, -1, -1]], dtype=np.int8)).tolist()
    [[-1, 1]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qiopt.model import CompactModel

__all__ = ["A0", "MAX_TIME_STEP", "POWER_ITERATIONS", "IsingForm"]

A0 = 1.0
"""The final pump amplitude ``a0`` (it only sets the time unit; ``dt`` and ``c0`` are relative to it)."""
MAX_TIME_STEP = 1.25
"""The papers' step; the default step never exceeds it."""
POWER_ITERATIONS = 20
"""Power iterations that estimate the spectral radius of ``J``."""


@dataclass(frozen=True)
class IsingForm:
    """A model as a zero-field Ising matrix (CSR, float32 data) with its scales."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    num_variables: int
    auxiliary: bool
    frobenius: float
    spectral_radius: float

    @property
    def num_spins(self) -> int:
        """Spins integrated: the model's variables plus the auxiliary spin if there is one."""
        return self.num_variables + int(self.auxiliary)

    @classmethod
    def from_model(cls, model: CompactModel) -> IsingForm:
        n = model.num_variables
        matrix = model.couplings.tocsr()
        auxiliary = bool(np.any(model.h != 0))
        if auxiliary:
            column = sp.csr_matrix(model.h.reshape(-1, 1))
            matrix = sp.bmat([[matrix, column], [column.T, None]], format="csr")
        matrix.sort_indices()
        frobenius = float(np.sqrt(np.sum(np.square(matrix.data))))
        return cls(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64),
                   matrix.data.astype(np.float32), n, auxiliary, frobenius, _spectral_radius(matrix))

    def c0(self) -> float:
        """The default coupling constant ``0.5 sqrt(N - 1) / ||J||_F`` (1.0 for a model without couplings)."""
        if self.frobenius == 0.0:
            return 1.0
        return 0.5 * np.sqrt(max(self.num_spins - 1, 1)) / self.frobenius

    def time_step(self, c0: float) -> float:
        """The default step for coupling constant ``c0`` (the rule in the module docstring)."""
        return min(MAX_TIME_STEP, 1.8 / np.sqrt(A0 * (A0 + c0 * self.spectral_radius)))

    def spins(self, signs: np.ndarray) -> np.ndarray:
        """Sign rows ``(k, num_spins)`` of the extended model as ±1 int8 rows of the model."""
        signs = np.asarray(signs, dtype=np.int8)
        if not self.auxiliary:
            return np.ascontiguousarray(signs)
        return np.ascontiguousarray(signs[:, :-1] * signs[:, -1:])

    def extend(self, spins: np.ndarray) -> np.ndarray:
        """Model rows as rows of the extended model (auxiliary spin +1)."""
        if not self.auxiliary:
            return spins
        return np.concatenate([spins, np.ones((spins.shape[0], 1), dtype=spins.dtype)], axis=1)


def _spectral_radius(matrix: sp.csr_matrix) -> float:
    if matrix.nnz == 0:
        return 0.0
    v = np.random.default_rng(0).standard_normal(matrix.shape[0])  # fixed start: the scales are reproducible
    estimate = 0.0
    for _ in range(POWER_ITERATIONS):
        w = matrix @ v
        norm = float(np.linalg.norm(w))
        if norm == 0.0:
            break
        estimate = norm / float(np.linalg.norm(v))
        v = w / norm
    return 1.05 * estimate
