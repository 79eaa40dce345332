"""The Qiskit adapter: Ising conversion against brute force, the statevector engine against Aer's circuit."""

from __future__ import annotations

import pathlib
import re

import dimod
import numpy as np
import pytest

from qiopt.backends import _qiskit as qk
from qiopt.model import CompactModel


def _random_model(n: int, vartype: str, seed: int) -> tuple[dimod.BinaryQuadraticModel, CompactModel]:
    rng = np.random.default_rng(seed)
    quad = {(i, j): rng.normal() for i in range(n) for j in range(i + 1, n) if rng.random() < 0.6}
    bqm = dimod.BQM({i: rng.normal() for i in range(n)}, quad, rng.normal(), vartype)
    return bqm, CompactModel.from_bqm(bqm)


def _all_states(n: int) -> np.ndarray:
    k = np.arange(2**n)
    return (k[:, None] >> np.arange(n)) & 1  # column i = bit i of the basis index = qubit i


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_operator_and_diagonal_equal_brute_force(vartype):
    bqm, model = _random_model(6, vartype, seed=3)
    bits = _all_states(6)
    samples = bits if vartype == "BINARY" else 2 * bits - 1
    expected = bqm.energies((samples, model.labels))
    assert np.allclose(qk.cost_diagonal(model), expected)
    assert np.allclose(qk.ising_operator(model).to_matrix(sparse=True).diagonal().real, expected)


@pytest.mark.parametrize(("n", "warm", "vartype"), [(5, False, "BINARY"), (5, True, "BINARY"),
                                                     (15, False, "SPIN"), (15, True, "BINARY")])
def test_engine_matches_aer_statevector_of_qaoa_ansatz(n, warm, vartype):
    from qiskit_aer import AerSimulator

    _, model = _random_model(n, vartype, seed=4)  # n = 15: both passes (blocks of 2**13, then the high qubits)
    if vartype == "SPIN":  # integer weights: the energy-level table path
        model = CompactModel.from_bqm(dimod.BQM({i: float(i % 3) for i in range(n)},
                                                {(i, (i * 7 + 3) % n): 1.0 for i in range(n)}, 0.0, "SPIN"))
    rng = np.random.default_rng(0)
    theta = rng.uniform(0.4, 2.7, n) if warm else None
    x = rng.normal(size=4)
    circuit = qk.qaoa_circuit(qk.ising_operator(model), 2, theta, measure=False)
    circuit = circuit.assign_parameters(qk.circuit_values(circuit, x)[0])
    circuit.save_statevector()
    aer = np.asarray(AerSimulator(method="statevector").run(circuit).result().get_statevector())
    diag = qk.cost_diagonal(model)
    exact = float(np.abs(aer) ** 2 @ diag)
    for dtype, tol in ((np.float64, 1e-9), (np.float32, 1e-5)):
        engine = qk.DiagonalQAOA(diag, theta, dtype=dtype)
        assert np.allclose(engine.probabilities(x), np.abs(aer) ** 2, atol=tol)
        assert engine.expectation(x) == pytest.approx(exact, rel=tol, abs=tol)
        assert engine.summary(engine.probabilities(x))["expected_energy"] == pytest.approx(exact, rel=tol, abs=tol)


def test_engine_samples_follow_the_probabilities():
    engine = qk.DiagonalQAOA(np.array([0.0, 1.0, 1.0, 3.0, 2.0, 0.0, 1.0, 2.0]))
    x = np.array([0.7, -0.4])
    probs = engine.probabilities(x)
    spins, counts = engine.sample(probs, shots=20_000, seed=3)
    index = ((spins > 0) * (1 << np.arange(3))).sum(axis=1)
    freq = np.zeros(8)
    freq[index] = counts / counts.sum()
    assert np.allclose(freq, probs, atol=0.015)
    assert np.array_equal(engine.sample(probs, 50, seed=1)[1], engine.sample(probs, 50, seed=1)[1])


def test_cvar_is_mean_of_best_fraction():
    engine = qk.DiagonalQAOA(np.array([0.0, 1.0, 2.0, 3.0]))
    x = np.zeros(2)  # uniform state
    assert engine.expectation(x) == pytest.approx(1.5)
    assert engine.expectation(x, alpha=0.5) == pytest.approx(0.5)
    assert engine.expectation(x, alpha=0.125) == pytest.approx(0.0)


def test_decoding_bit_order():
    spins, counts = qk.decode_bits(np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1]], dtype=bool))
    assert spins.tolist() == [[-1, 1, 1], [1, -1, -1]] and counts.tolist() == [1, 2]


def test_only_the_adapter_imports_qiskit():
    import qiopt

    adapter = {"_qiskit.py"}
    pattern = re.compile(r"^\s*(import|from)\s+qiskit", re.MULTILINE)  # qiskit, qiskit_aer, qiskit_ibm_runtime
    root = pathlib.Path(qiopt.__file__).parent
    assert all(any(root.rglob(name)) for name in adapter)  # the allowed module exists and is the one used
    assert pattern.search((root / "backends" / "_qiskit.py").read_text(encoding="utf-8"))
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name not in adapter and pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
