"""The Qiskit adapter: the only qiopt module that imports qiskit, qiskit_aer or qiskit_ibm_runtime.

Everything qiskit-touching lives here as small named functions (circuits, Aer sampling and estimation, the IBM
runtime service, transpiling for a device, sampling on it, classifying its errors); the backends call them and
import no qiskit package themselves (a test checks this).

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

import logging
import time
from typing import Any

import numpy as np

from qiopt.backends._statevector import DiagonalQAOA, cost_diagonal
from qiopt.backends.base import BackendError
from qiopt.model import CompactModel
from qiopt.secrets import redact

# The statevector engine lives in _statevector (no qiskit); re-exported for the backends using this adapter.
__all__ = ["DiagonalQAOA", "aer_sample", "aer_transpile", "circuit_values", "cost_diagonal", "decode_bits",
           "fake_device", "is_transient", "ising_operator", "mps_estimator", "preset_transpile", "qaoa_circuit",
           "runtime_sample", "runtime_service", "statevector_bytes"]

logger = logging.getLogger(__name__)

# Gates every Aer method runs natively: transpiling to them skips building AerSimulator's target (~0.15 s).
_AER_BASIS = ("h", "rx", "ry", "rz", "rzz", "cx", "measure")


def _edges(model: CompactModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-triangle couplings ``(i, j, J_ij)`` with ``i < j``."""
    keep = model.rows < model.indices
    return model.rows[keep].astype(np.int64), model.indices[keep].astype(np.int64), model.data[keep]


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


def aer_transpile(circuit: Any, seed: int | None) -> Any:
    """``circuit`` in gates every Aer simulation method supports (once per solve; milliseconds)."""
    from qiskit import transpile

    return transpile(circuit, basis_gates=list(_AER_BASIS), optimization_level=1, seed_transpiler=seed)


def aer_sample(isa: Any, x: np.ndarray, shots: int, seed: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``shots`` from ``isa`` (a circuit from :func:`aer_transpile`; measured here if it has no
    measurements) on Aer's :class:`~qiskit_aer.primitives.SamplerV2`; a GPU is used when this Aer build has one.
    """
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import SamplerV2

    if not any(inst.operation.name == "measure" for inst in isa.data):
        isa = isa.measure_all(inplace=False)  # no layout (basis gates only): qubit i is still variable i
    device = "GPU" if "GPU" in AerSimulator().available_devices() else "CPU"
    sampler = SamplerV2(default_shots=shots, seed=seed, options={"backend_options": {"method": method,
                                                                                       "device": device}})
    result = sampler.run([(isa, circuit_values(isa, x)[0])]).result()[0]
    return decode_bits(result.data.meas.to_bool_array(order="little"))


def mps_estimator(isa: Any, operator: Any) -> Any:
    """``x → <H>`` on Aer's EstimatorV2 with the matrix-product-state method (``isa`` from :func:`aer_transpile`)."""
    from qiskit_aer.primitives import EstimatorV2

    estimator = EstimatorV2(options={"backend_options": {"method": "matrix_product_state"}})
    return lambda x: float(estimator.run([(isa, operator, circuit_values(isa, x)[0])]).result()[0].data.evs)


# --- IBM Quantum (qiskit-ibm-runtime) --------------------------------------------------------------------------

def fake_device(name: str) -> Any:
    """The ``qiskit_ibm_runtime.fake_provider`` device called ``name`` (offline); ValueError naming the others."""
    from qiskit.providers import BackendV2
    from qiskit_ibm_runtime import fake_provider

    # only the named device is built (the provider would build all ~60, with their warnings)
    fakes = {cls.backend_name: cls for cls in vars(fake_provider).values()
             if isinstance(cls, type) and issubclass(cls, BackendV2) and hasattr(cls, "backend_name")}
    if name not in fakes:
        raise ValueError(f"option 'device': unknown fake device {name!r}; available: {', '.join(sorted(fakes))}")
    return fakes[name]()


def runtime_service(token: str | None, channel: str | None, instance: str | None, account: str | None) -> Any:
    """A :class:`~qiskit_ibm_runtime.QiskitRuntimeService` from a token (with ``channel``, ``instance``), else the
    saved account ``account`` (None: the default one); PermissionError when there is no such account."""
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.accounts import AccountNotFoundError

    try:
        if token:
            kwargs = {"token": token, "channel": channel or "ibm_quantum_platform"}
            if instance:
                kwargs["instance"] = instance
            return QiskitRuntimeService(**kwargs)
        return QiskitRuntimeService(name=account) if account else QiskitRuntimeService()
    except AccountNotFoundError:
        raise PermissionError("no IBM Quantum account found") from None


def preset_transpile(circuit: Any, device: Any, level: int, seed: int | None) -> Any:
    """``circuit`` in ``device``'s ISA (``generate_preset_pass_manager`` at optimisation ``level``)."""
    from qiskit.transpiler import generate_preset_pass_manager

    return generate_preset_pass_manager(optimization_level=level, backend=device, seed_transpiler=seed).run(circuit)


def runtime_sample(isa: Any, values: np.ndarray, device: Any, options: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """One job of the executor-based runtime Sampler in ``options.mode`` (``"job"``, ``"batch"``, ``"session"``):
    the measured bits (column ``i`` = variable ``i``) and the job's data. ``options`` holds the ``"ibm"``
    backend's ``mode``, ``shots``, ``max_execution_time``, ``dynamical_decoupling``, ``twirling``, ``seed`` and
    ``timeout``."""
    from qiskit_ibm_runtime import Batch, Session
    from qiskit_ibm_runtime.executor_sampler import Sampler

    context = None
    fake = device.name.startswith("fake_")
    if options.mode != "job" and not fake:
        try:
            context = (Session if options.mode == "session" else Batch)(backend=device)
        except Exception as exc:
            hint = " (sessions are not available on the Open Plan; use mode='batch' or 'job')"
            raise BackendError(f"ibm backend: cannot open a {options.mode}: {redact(exc)}"
                               + (hint if options.mode == "session" else "")) from None
    try:
        sampler = Sampler(mode=context or device)
        sampler.options.default_shots = options.shots
        sampler.options.max_execution_time = options.max_execution_time
        sampler.options.dynamical_decoupling.enable = options.dynamical_decoupling
        sampler.options.twirling.enable_gates = options.twirling
        sampler.options.twirling.enable_measure = options.twirling
        if fake:
            sampler.options.simulator.seed_simulator = options.seed
        submitted = time.perf_counter()
        job = sampler.run([(isa, values)])
        logger.info("job %s submitted to %s", job.job_id(), device.name)
        result = _wait(job, options.timeout)
        info = {"job_id": job.job_id(), "mode": options.mode, "wall_time_s": time.perf_counter() - submitted,
                **_job_times(job)}
    finally:
        if context is not None:
            context.close()
    return result[0].data.meas.to_bool_array(order="little"), info


def _wait(job: Any, timeout: float) -> Any:
    try:
        return job.result(timeout=timeout)
    except TypeError:  # local jobs take no timeout
        return job.result()


def _job_times(job: Any) -> dict[str, Any]:
    """Queue and run times from the service's job metrics (absent for local jobs)."""
    try:
        metrics = job.metrics()
    except Exception:
        return {}
    stamps = metrics.get("timestamps", {})
    return {"timestamps": stamps, "quantum_seconds": metrics.get("usage", {}).get("quantum_seconds")}


def is_transient(exc: BaseException) -> bool:
    """Whether a runtime failure is worth retrying: the service unreachable (any ``OSError``: connection
    errors, timeouts), a runtime error, a failed or timed-out job; never a refused authorisation."""
    from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError, IBMRuntimeError

    if isinstance(exc, PermissionError | IBMNotAuthorizedError):
        return False
    return isinstance(exc, OSError | IBMRuntimeError) or "Job" in type(exc).__name__
