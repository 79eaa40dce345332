"""The ``"ibm"`` backend: QAOA sampled on an IBM Quantum device (or a fake one, offline) with qiskit-ibm-runtime.

The angles are optimised on the local noise-free statevector engine (as the ``"qaoa"`` backend does), then the
circuit is transpiled to the device's ISA with ``generate_preset_pass_manager`` and sampled once with the
client-side :class:`qiskit_ibm_runtime.executor_sampler.Sampler` (the executor-based primitive; the legacy
``SamplerV2`` is deprecated since 0.50). Measurements are of the virtual qubits, so the layout needs no decoding.

Credentials, in order: ``QISKIT_IBM_TOKEN`` (with ``QISKIT_IBM_INSTANCE``, ``QISKIT_IBM_CHANNEL``), the saved
account named by ``account``, the default saved account (``QiskitRuntimeService.save_account``). Never a file of
the project. The token is registered with :func:`qiopt.secrets.register_secret`, so no message carries it.

Models above ``max_qubits`` variables, or whose statevector would not fit in memory, are refused up front
(:class:`~qiopt.backends.base.BackendError`, before connecting), as by the ``"qaoa"`` backend. Every qiskit
call goes through the adapter :mod:`qiopt.backends._qiskit`.

``device="fake_manila"`` (any ``qiskit_ibm_runtime.fake_provider`` device) runs offline in local testing mode with
that device's noise model. ``mode="session"`` is not available on the Open Plan: use ``"job"`` or ``"batch"``.

Example:
    >>> import networkx as nx, qiopt
    >>> bqm = qiopt.model.maxcut_bqm(nx.cycle_graph(4))
    >>> result = qiopt.get_backend("ibm", device="fake_manila", seed=1).sample(bqm)  # doctest: +SKIP
    >>> result.info["device"]  # doctest: +SKIP
    'fake_manila'
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends.base import Backend, BackendError, RunOutput
from qiopt.model import CompactModel
from qiopt.options import Options, nonneg_int, one_of, option, optional, positive_float, positive_int, seed_value
from qiopt.secrets import redact, register_secret

__all__ = ["IBMBackend", "IBMOptions"]

logger = logging.getLogger(__name__)
_NO_CREDENTIALS = (
    "ibm backend: no IBM Quantum credentials found. Set the environment variables QISKIT_IBM_TOKEN (and "
    "QISKIT_IBM_INSTANCE, QISKIT_IBM_CHANNEL='ibm_quantum_platform'), or save an account once with "
    "QiskitRuntimeService.save_account(token=..., instance=..., set_as_default=True); or use an offline fake "
    "device, e.g. device='fake_manila'.")


def _level(name: str, value: Any) -> int:
    value = nonneg_int(name, value)
    if value > 3:
        raise ValueError(f"option {name!r} must be 0, 1, 2 or 3, got {value!r}")
    return value


@dataclass(frozen=True)
class IBMOptions(Options):
    device: str | None = option(None, "Device name ('ibm_brisbane', 'fake_manila'...); None: the least busy "
                                "operational device with enough qubits.", check=optional(lambda n, v: _text(n, v)))
    account: str | None = option(None, "Name of a saved account (QiskitRuntimeService.save_account(name=...)).",
                                 check=optional(lambda n, v: _text(n, v)))
    shots: int = option(1024, "Samples taken on the device.", check=positive_int)
    reps: int = option(1, "QAOA depth p.", check=positive_int)
    maxiter: int = option(100, "Optimiser iterations of the local angle optimisation.", check=positive_int)
    seed: int | None = option(None, "Seed of the angle optimisation and the transpiler (and fake devices' noise).",
                              check=seed_value)
    optimization_level: int = option(2, "Transpiler optimisation level (0-3).", check=_level)
    dynamical_decoupling: bool = option(False, "Dynamical decoupling on idle qubits.", check=one_of(True, False))
    twirling: bool = option(False, "Pauli twirling of gates and measurements.", check=one_of(True, False))
    mode: str = option("job", "'job', 'batch' or 'session' (sessions are not available on the Open Plan).",
                       check=one_of("job", "batch", "session"))
    max_execution_time: int | None = option(None, "Seconds of device time the job may use.",
                                            check=optional(positive_int))
    timeout: float = option(600.0, "Seconds to wait for the job's result (queue included).", check=positive_float)
    retries: int = option(3, "Attempts for transient failures (unreachable service, failed or timed-out job).",
                          check=positive_int)
    backoff: float = option(2.0, "Seconds before the first retry; doubles each time.", check=positive_float)
    time_limit: float | None = option(None, "Seconds for the local angle optimisation.",
                                      check=optional(positive_float))
    max_qubits: int = option(28, "Refuse models with more variables than this (the angles are optimised on a "
                             "local statevector).", check=positive_int)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"option {name!r} must be a non-empty string, got {value!r}")
    return value


class IBMBackend(Backend):
    """QAOA on IBM Quantum hardware through qiskit-ibm-runtime; fake devices run offline."""

    name = "ibm"
    options_type = IBMOptions
    requires = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime")
    install_hint = "pip install 'qiopt[ibm]'"
    summary = "QAOA on IBM Quantum devices (qiskit-ibm-runtime; fake_* devices offline)"

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        from qiopt.backends import _qiskit as qk
        from qiopt.backends.qaoa import QAOAOptions, _Objective, _optimise, check_statevector

        started = time.perf_counter()
        n = model.num_variables
        check_statevector("ibm", n, options.max_qubits, qk.statevector_bytes(n), required=True,
                          hint="use backend 'sa'")  # before connecting
        device = _with_retries(lambda: _device(options, n), options, "connect")
        local = QAOAOptions(reps=options.reps, maxiter=options.maxiter, seed=options.seed,
                            time_limit=options.time_limit)
        engine = qk.DiagonalQAOA(qk.cost_diagonal(model))
        objective = _Objective(engine.expectation, local, started)
        x = _optimise(objective, model, local)
        isa = qk.preset_transpile(qk.qaoa_circuit(qk.ising_operator(model), options.reps), device,
                                  options.optimization_level, options.seed)
        values = qk.circuit_values(isa, x)[0]
        bits, job_info = _with_retries(lambda: _sample(isa, values, device, options), options, "job")
        spins, counts = qk.decode_bits(bits)
        p = len(x) // 2
        info = {"device": device.name, "num_qubits_device": device.num_qubits, **job_info,
                "optimal_parameters": {"gamma": x[:p].tolist(), "beta": x[p:].tolist()},
                "objective_trace": objective.trace, "num_evaluations": len(objective.trace),
                "transpiled_depth": isa.depth(), "two_qubit_gates": _two_qubit_count(isa)}
        return RunOutput(spins, info, counts)


def _device(options: Any, num_qubits: int) -> Any:
    """The device: a fake one by name (offline), or one of the account's (named, or least busy)."""
    from qiopt.backends import _qiskit as qk

    name = options.device
    if name is not None and name.startswith("fake_"):
        device = qk.fake_device(name)
    else:
        service = _service(options)
        device = (service.backend(name) if name is not None
                  else service.least_busy(operational=True, simulator=False, min_num_qubits=num_qubits))
    if device.num_qubits < num_qubits:
        raise BackendError(f"ibm backend: the model has {num_qubits} variables, device {device.name} has "
                           f"{device.num_qubits} qubits")
    return device


def _service(options: Any) -> Any:
    """A runtime service from the environment or a saved account; its token is registered as a secret."""
    from qiopt.backends import _qiskit as qk

    token = os.environ.get("QISKIT_IBM_TOKEN")
    register_secret(token)
    try:
        service = qk.runtime_service(token, os.environ.get("QISKIT_IBM_CHANNEL"),
                                     os.environ.get("QISKIT_IBM_INSTANCE"), options.account)
    except PermissionError:
        raise PermissionError(_NO_CREDENTIALS) from None
    account = service.active_account() if hasattr(service, "active_account") else None
    if isinstance(account, Mapping) and isinstance(account.get("token"), str):
        register_secret(account["token"])  # a saved account's token: no environment variable names it
    return service


def _sample(isa: Any, values: np.ndarray, device: Any, options: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """One sampler job in the chosen mode; the bits (column ``i`` = variable ``i``) and the job's data."""
    from qiopt.backends import _qiskit as qk

    return qk.runtime_sample(isa, values, device, options)


def _two_qubit_count(isa: Any) -> int:
    return sum(1 for inst in isa.data if inst.operation.num_qubits == 2)


def _transient(exc: BaseException) -> bool:
    """Failures worth retrying: the service unreachable, a job that failed or timed out."""
    from qiopt.backends import _qiskit as qk

    return not isinstance(exc, ValueError | TypeError | BackendError) and qk.is_transient(exc)


def _redacted(exc: ValueError | TypeError) -> ValueError | TypeError:
    """A new exception of ``exc``'s type (else its ValueError/TypeError base) carrying the redacted message."""
    text = redact(exc)
    try:
        copy = type(exc)(text)
    except Exception:
        copy = None
    if not isinstance(copy, ValueError | TypeError) or str(copy) != text:
        copy = (ValueError if isinstance(exc, ValueError) else TypeError)(text)
    return copy


def _with_retries(action: Any, options: Any, what: str) -> Any:
    """Run ``action``, retrying transient failures with exponential back-off.

    Errors come back as :class:`BackendError` (bad input: the same ValueError/TypeError type) with redacted
    messages and without the original exception attached (its text may hold a secret).
    """
    delay, failure = options.backoff, ""
    for attempt in range(1, options.retries + 1):
        invalid = None
        try:
            return action()
        except (ValueError, TypeError) as exc:
            invalid = _redacted(exc)
        except Exception as exc:
            failure = f"{type(exc).__name__}: {redact(exc)}"
            transient = _transient(exc)
        if invalid is not None:
            raise invalid from None  # raised outside the handler: no __context__ either
        if not transient:
            break
        logger.warning("ibm backend (%s): attempt %d/%d failed: %s", what, attempt, options.retries, failure)
        if attempt < options.retries:
            time.sleep(delay)
            delay *= 2
    else:
        raise BackendError(f"ibm backend ({what}): {options.retries} attempts failed; last: {failure}")
    raise BackendError(f"ibm backend ({what}): {failure}")
