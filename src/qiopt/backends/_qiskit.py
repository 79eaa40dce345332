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

import numpy as np

from qiopt.backends._statevector import DiagonalQAOA, cost_diagonal
from qiopt.model import CompactModel

# The statevector engine lives in _statevector (no qiskit); re-exported for the backends using this adapter.
__all__ = ["DiagonalQAOA", "aer_sample", "aer_transpile", "circuit_values", "cost_diagonal", "decode_bits",
           "decode_counts", "ising_operator", "qaoa_circuit", "statevector_bytes"]

# Gates every Aer method runs natively: transpiling to them skips building AerSimulator's target (~0.15 s).
_AER_BASIS = ("h", "rx", "ry", "rz", "rzz", "cx", "measure")


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


def statevector_bytes(num_qubits: int, aer: bool = False) -> int:
    """Peak memory of one statevector QAOA solve: building the cost diagonal (float64 and its level
    temporaries, 32 B per amplitude) dominates the engine (float32 state, levels, probabilities); ``aer`` adds
    Aer's complex128 state for sampling."""
    return (32 + (16 if aer else 0)) * 2**num_qubits


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


def aer_transpile(circuit: Any, seed: int | None) -> Any:
    """``circuit`` in gates every Aer simulation method supports (once per solve; milliseconds)."""
    from qiskit import transpile

    return transpile(circuit, basis_gates=list(_AER_BASIS), optimization_level=1, seed_transpiler=seed)


def aer_sample(circuit: Any, x: np.ndarray, shots: int, seed: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``shots`` from the measured circuit on Aer's :class:`~qiskit_aer.primitives.SamplerV2`.

    The circuit is transpiled once (:func:`aer_transpile`); a GPU is used when this Aer build has one.
    """
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import SamplerV2

    device = "GPU" if "GPU" in AerSimulator().available_devices() else "CPU"
    isa = aer_transpile(circuit, seed)
    sampler = SamplerV2(default_shots=shots, seed=seed, options={"backend_options": {"method": method,
                                                                                       "device": device}})
    result = sampler.run([(isa, circuit_values(isa, x)[0])]).result()[0]
    return decode_bits(result.data.meas.to_bool_array(order="little"))
