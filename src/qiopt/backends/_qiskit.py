"""The Qiskit adapter: the only qiopt module that imports qiskit, qiskit_aer or qiskit_ibm_runtime.

Conventions (shared by every function here):

* **Bit order.** Qubit ``i`` carries variable index ``i`` of the :class:`~qiopt.model.CompactModel`
  (``model.labels[i]``). Qiskit is little-endian: in a basis index ``k`` (and in a counts string read from the
  right) bit ``i`` is qubit ``i``.
* **Substitution.** A binary variable is the qubit's measured bit, ``x = (1 - Z) / 2``; the model's spin is
  ``s = 2x - 1 = -Z``. So ``E(s) = offset + sum h_i s_i + sum J_ij s_i s_j`` becomes the diagonal operator
  ``H = offset - sum h_i Z_i + sum J_ij Z_i Z_j`` whose eigenvalue on basis state ``k`` is the model's energy of
  the sample whose bits are those of ``k`` (measured ``1`` means spin ``+1``, binary ``1``).
* **Angles.** ``qaoa_ansatz`` applies ``exp(-i γ H)`` then ``exp(-i β M)``; its parameters are named ``γ[k]``,
  ``β[k]``. qiopt keeps them as a vector ``[γ_0..γ_{p-1}, β_0..β_{p-1}]``; :func:`circuit_values` reorders.
* **Warm start** (Egger et al. 2021). Qubit ``i`` starts in ``RY(θ_i)|0>`` and mixes with
  ``M = sum cos θ_i Z_i + sin θ_i X_i`` (``θ_i = π/2`` for all ``i`` is plain QAOA: ``|+>`` and ``sum X_i``).

Example:
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> model = CompactModel.from_bqm(dimod.BQM({"a": 1.0}, {("a", "b"): -1.0}, 0.5, "SPIN"))
    >>> cost_diagonal(model).tolist()   # states b a = 00, 01, 10, 11 (x = 0 is spin -1)
    [-1.5, 2.5, 0.5, 0.5]
    >>> ising_operator(model).to_matrix(sparse=True).diagonal().real.tolist()
    [-1.5, 2.5, 0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from qiopt.model import CompactModel

__all__ = ["DiagonalQAOA", "aer_sample", "circuit_values", "cost_diagonal", "decode_bits", "decode_counts",
           "ising_operator", "qaoa_circuit", "statevector_bytes"]


def _edges(model: CompactModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-triangle couplings ``(i, j, J_ij)`` with ``i < j``."""
    rows = np.repeat(np.arange(model.num_variables), np.diff(model.indptr))
    keep = rows < model.indices
    return rows[keep], model.indices[keep].astype(np.int64), model.data[keep]


def ising_operator(model: CompactModel) -> Any:
    """The cost Hamiltonian as a :class:`~qiskit.quantum_info.SparsePauliOp` (offset as the identity term)."""
    from qiskit.quantum_info import SparsePauliOp

    n = model.num_variables
    terms = [("", [], model.offset)]
    terms += [("Z", [i], -h) for i, h in enumerate(model.h) if h != 0.0]
    terms += [("ZZ", [int(i), int(j)], w) for i, j, w in zip(*_edges(model), strict=True) if w != 0.0]
    return SparsePauliOp.from_sparse_list(terms, n).simplify(atol=0.0)


def statevector_bytes(num_qubits: int) -> int:
    """Memory of one statevector QAOA solve: complex128 state + float64 cost diagonal + Aer's sampling state."""
    return (16 + 8 + 16) * 2**num_qubits


def cost_diagonal(model: CompactModel) -> np.ndarray:
    """Energy of every basis state ``k`` (``2**n`` float64), in the bit order of the module docstring."""
    n = model.num_variables
    diag = np.full((2,) * n, model.offset)  # axis n-1-i is bit i
    spin = np.array([-1.0, 1.0])

    def axis_vector(i: int) -> np.ndarray:
        shape = [1] * n
        shape[n - 1 - i] = 2
        return spin.reshape(shape)

    for i, h in enumerate(model.h):
        if h != 0.0:
            diag += h * axis_vector(i)
    for i, j, w in zip(*_edges(model), strict=True):
        diag += w * (axis_vector(int(i)) * axis_vector(int(j)))
    return diag.reshape(-1)


# --- the statevector engine of the optimisation loop (equivalent to the qaoa_ansatz circuit; tested) ---------

@njit(parallel=True, cache=True, fastmath=True)
def _phase_and_low(psi: np.ndarray, phases: np.ndarray, level: np.ndarray, mix: np.ndarray, low: int) -> None:
    size = 1 << low
    for blk in prange(psi.size >> low):
        base = blk << low
        for k in range(base, base + size):
            psi[k] *= phases[level[k]]
        for q in range(low):
            h = 1 << q
            u00, u01, u10, u11 = mix[q, 0], mix[q, 1], mix[q, 2], mix[q, 3]
            for start in range(base, base + size, 2 * h):
                for k in range(start, start + h):
                    a, b = psi[k], psi[k + h]
                    psi[k] = u00 * a + u01 * b
                    psi[k + h] = u10 * a + u11 * b


@njit(parallel=True, cache=True, fastmath=True)
def _high(psi: np.ndarray, mix: np.ndarray, low: int, n: int) -> None:
    rows, stride = 1 << (n - low), 1 << low
    width = min(8, stride)
    for col in prange(stride // width):
        buf = np.empty((rows, width), dtype=np.complex128)
        off = col * width
        for r in range(rows):
            for w in range(width):
                buf[r, w] = psi[r * stride + off + w]
        for q in range(n - low):
            h = 1 << q
            u00, u01, u10, u11 = mix[low + q, 0], mix[low + q, 1], mix[low + q, 2], mix[low + q, 3]
            for start in range(0, rows, 2 * h):
                for r in range(start, start + h):
                    for w in range(width):
                        a, b = buf[r, w], buf[r + h, w]
                        buf[r, w] = u00 * a + u01 * b
                        buf[r + h, w] = u10 * a + u11 * b
        for r in range(rows):
            for w in range(width):
                psi[r * stride + off + w] = buf[r, w]


def _mixer_matrices(beta: float, theta: np.ndarray) -> np.ndarray:
    """``exp(-i β (cos θ Z + sin θ X))`` per qubit, as rows ``(u00, u01, u10, u11)``."""
    c, s = np.cos(beta), -1j * np.sin(beta)
    cz, sx = np.cos(theta), np.sin(theta)
    return np.ascontiguousarray(np.stack([c + s * cz, s * sx, s * sx, c - s * cz], axis=1), dtype=np.complex128)


class DiagonalQAOA:
    """QAOA states of a diagonal cost without a circuit: ``prod_k exp(-i β_k M) exp(-i γ_k H) |init>``.

    Built once per solve: the cost diagonal's distinct values (``levels``) make each cost layer a table lookup,
    and each layer is two cache-blocked passes over the state (numba, all cores). ``theta`` gives the warm
    start. Equivalent to :func:`qaoa_circuit` (tested against Aer's statevector).

    >>> import numpy as np
    >>> engine = DiagonalQAOA(np.array([0.0, 1.0, 1.0, 0.0]))
    >>> round(engine.expectation(np.array([0.0, 0.0])), 6)   # |++>: the mean of the diagonal
    0.5
    """

    def __init__(self, diag: np.ndarray, theta: np.ndarray | None = None) -> None:
        self.diag = np.ascontiguousarray(diag, dtype=np.float64)
        self.n = int(self.diag.size).bit_length() - 1
        self.theta = np.full(self.n, np.pi / 2) if theta is None else np.asarray(theta, dtype=np.float64)
        self._values, self._level = _levels(self.diag)
        half = self.n // 2
        self._init = [self._product(self.theta[half:]), self._product(self.theta[:half])]
        self._low = self.n if self.n <= 12 else (self.n + 1) // 2

    @staticmethod
    def _product(theta: np.ndarray) -> np.ndarray:
        out = np.ones(1, dtype=np.complex128)
        for t in theta:  # later qubits are more significant bits
            out = np.kron(np.array([np.cos(t / 2), np.sin(t / 2)]), out)
        return out

    def state(self, x: np.ndarray) -> np.ndarray:
        """The state for angles ``x = [γ_0..γ_{p-1}, β_0..β_{p-1}]``."""
        p = len(x) // 2
        psi = np.outer(*self._init).reshape(-1)
        threads = numba.get_num_threads()
        numba.set_num_threads(threads if self.n >= 18 else 1)  # below, thread start-up costs more than it gains
        try:
            for gamma, beta in zip(x[:p], x[p:], strict=True):
                mix = _mixer_matrices(float(beta), self.theta)
                phases = np.exp(-1j * float(gamma) * self._values)
                _phase_and_low(psi, phases, self._level, mix, self._low)
                if self._low < self.n:
                    _high(psi, mix, self._low, self.n)
        finally:
            numba.set_num_threads(threads)
        return psi

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        psi = self.state(x)
        return psi.real**2 + psi.imag**2

    def expectation(self, x: np.ndarray, alpha: float = 1.0) -> float:
        """``<H>``, or its CVaR: the mean over the lowest-energy ``alpha`` of the probability mass."""
        probs = self.probabilities(x)
        if alpha >= 1.0:
            return float(probs @ self.diag)
        mass = np.bincount(self._level, weights=probs, minlength=self._values.size)
        order = np.argsort(self._values, kind="stable")
        mass, values = mass[order], self._values[order]
        kept = np.minimum(mass, np.maximum(alpha - (np.cumsum(mass) - mass), 0.0))
        return float(kept @ values) / alpha


def _levels(diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, level)`` with ``diag == values[level]``: few values when the energies lie on a grid of step
    1/4 (integer-weighted models), else every entry its own value."""
    low = diag.min()
    for step in (1.0, 0.25):
        scaled = (diag - low) / step
        if scaled.max() < 2**20 and np.array_equal(scaled, np.rint(scaled)):
            values = low + step * np.arange(int(scaled.max()) + 1)
            return values, scaled.astype(np.int32)
    return diag, np.arange(diag.size, dtype=np.int32)


# --- circuits -------------------------------------------------------------------------------------------------

def qaoa_circuit(operator: Any, reps: int, theta: np.ndarray | None = None, measure: bool = True) -> Any:
    """The QAOA circuit of ``operator``: :func:`qiskit.circuit.library.qaoa_ansatz`, or with ``theta`` the
    warm-start circuit (same parameter names; each mixer ``exp(-iβ(cos θ Z + sin θ X))`` exactly, as
    ``RY(θ) RZ(2β) RY(-θ)``, where a Pauli-sum mixer would be Trotterised)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector
    from qiskit.circuit.library import PauliEvolutionGate, qaoa_ansatz

    n = operator.num_qubits
    if theta is None:
        circuit = qaoa_ansatz(operator, reps=reps)
    else:
        gammas, betas = ParameterVector("γ", reps), ParameterVector("β", reps)
        circuit = QuantumCircuit(n, name="QAOA")
        for i, t in enumerate(theta):
            circuit.ry(float(t), i)
        for k in range(reps):
            circuit.append(PauliEvolutionGate(operator, time=gammas[k]), range(n))
            for i, t in enumerate(theta):
                circuit.ry(-float(t), i)
                circuit.rz(2 * betas[k], i)
                circuit.ry(float(t), i)
        circuit = circuit.decompose(["PauliEvolution"])
    if measure:
        circuit.measure_all()
    return circuit


def circuit_values(circuit: Any, x: np.ndarray) -> np.ndarray:
    """Reorder qiopt's ``[γ..., β...]`` (one row per parameter set) to ``circuit.parameters`` order."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    p = x.shape[1] // 2
    where = {f"γ[{k}]": k for k in range(p)} | {f"β[{k}]": p + k for k in range(p)}
    return x[:, [where[param.name] for param in circuit.parameters]]


def decode_bits(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(shots, n)`` booleans (column ``i`` = qubit ``i``) → distinct ±1 rows and their counts."""
    unique, counts = np.unique(np.asarray(bits, dtype=np.int8), axis=0, return_counts=True)
    return (2 * unique - 1).astype(np.int8), counts.astype(np.int64)


def decode_counts(counts: Mapping[str, int], num_variables: int) -> tuple[np.ndarray, np.ndarray]:
    """Qiskit counts ``{"b_{n-1}..b_0": count}`` → ±1 rows (column ``i`` = qubit ``i``) and their counts.

    >>> decode_counts({"01": 3, "10": 1}, 2)[0].tolist()
    [[1, -1], [-1, 1]]
    """
    keys = list(counts)
    bits = np.array([[c == "1" for c in reversed(k.replace(" ", "")[-num_variables:])] for k in keys], dtype=np.int8)
    return (2 * bits - 1).astype(np.int8), np.array([counts[k] for k in keys], dtype=np.int64)


def aer_sample(circuit: Any, x: np.ndarray, shots: int, seed: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``shots`` from the measured circuit on Aer's :class:`~qiskit_aer.primitives.SamplerV2`.

    The circuit is transpiled once for the simulator; a GPU is used when this Aer build has one.
    """
    from qiskit import transpile
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import SamplerV2

    device = "GPU" if "GPU" in AerSimulator().available_devices() else "CPU"
    backend_options = {"method": method, "device": device}
    isa = transpile(circuit, AerSimulator(**backend_options), seed_transpiler=seed)
    sampler = SamplerV2(default_shots=shots, seed=seed, options={"backend_options": backend_options})
    result = sampler.run([(isa, circuit_values(isa, x)[0])]).result()[0]
    return decode_bits(result.data.meas.to_bool_array(order="little"))
