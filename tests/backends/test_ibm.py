"""The "ibm" backend: end to end on fake_manila, credentials, retries at the service boundary, token hygiene."""

from __future__ import annotations

import logging

import networkx as nx
import pytest

import qiopt
from qiopt.backends import _qiskit as qk
from qiopt.backends import ibm
from qiopt.backends.base import BackendError
from qiopt.model import maxcut_bqm
from qiopt.secrets import redact

TOKEN = "tok-0123456789abcdef-SECRET"


def test_fake_manila_end_to_end():
    bqm = maxcut_bqm(nx.cycle_graph(4))
    result = qiopt.get_backend("ibm", device="fake_manila", shots=512, seed=1).sample(bqm)
    assert result.first.energy == -4.0  # the noisy device still samples the optimum
    info = result.info
    assert info["device"] == "fake_manila" and info["job_id"] and info["num_evaluations"] > 0
    assert sum(result.record.num_occurrences) == 512


def test_unknown_fake_device_is_named():
    with pytest.raises(ValueError, match="fake_nowhere"):
        qiopt.get_backend("ibm", device="fake_nowhere").sample(maxcut_bqm(nx.cycle_graph(3)))


def test_too_many_qubits_for_device():
    with pytest.raises(BackendError, match="5 qubits"):
        qiopt.get_backend("ibm", device="fake_manila").sample(maxcut_bqm(nx.cycle_graph(6)))


def test_no_credentials_names_env_vars_and_save_account(no_account):
    with pytest.raises(BackendError, match=r"QISKIT_IBM_TOKEN.*save_account"):
        qiopt.get_backend("ibm", backoff=0.01).sample(maxcut_bqm(nx.cycle_graph(3)))


@pytest.mark.parametrize("error", [ConnectionError("service unreachable"), TimeoutError("job timed out")])
def test_transient_failures_are_retried_then_raise(monkeypatch, error):
    calls = []

    def failing(options, n):
        calls.append(1)
        raise error

    monkeypatch.setattr(ibm, "_device", failing)
    with pytest.raises(BackendError, match="3 attempts failed"):
        qiopt.get_backend("ibm", retries=3, backoff=0.001).sample(maxcut_bqm(nx.cycle_graph(3)))
    assert len(calls) == 3


def test_job_failure_retried_then_succeeds(monkeypatch):
    from qiskit_ibm_runtime import RuntimeJobFailureError

    real, calls = ibm._sample, []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeJobFailureError("job failed on the device")
        return real(*args)

    monkeypatch.setattr(ibm, "_sample", flaky)
    result = qiopt.get_backend("ibm", device="fake_manila", backoff=0.001, seed=2).sample(
        maxcut_bqm(nx.cycle_graph(4)))
    assert len(calls) == 2 and result.first.energy == -4.0


def test_token_never_leaks(monkeypatch, caplog, no_account):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)

    def service(options):
        raise ConnectionError(f"cannot reach https://quantum.cloud.ibm.com with token {TOKEN}")

    monkeypatch.setattr(ibm, "_service", service)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BackendError) as excinfo:
        qiopt.get_backend("ibm", device="ibm_fez", retries=2, backoff=0.001).sample(
            maxcut_bqm(nx.cycle_graph(3)))
    assert TOKEN not in str(excinfo.value) and TOKEN not in repr(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None  # the original is dropped
    assert TOKEN not in caplog.text and "attempt 1/2" in caplog.text


@pytest.mark.parametrize(("n", "kw", "match"), [(40, {}, r"40 variables, above max_qubits=28 .*GiB"),
                                                (5, {"max_qubits": 4}, "max_qubits=4")])
def test_too_many_variables_refused_before_connecting(monkeypatch, n, kw, match):
    def connect(options, num_qubits):
        raise AssertionError("connected")

    monkeypatch.setattr(ibm, "_device", connect)
    with pytest.raises(BackendError, match=match):  # a 40-variable model would need 2**40 floats
        qiopt.get_backend("ibm", **kw).sample(maxcut_bqm(nx.cycle_graph(n)))


@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_invalid_input_errors_are_redacted(monkeypatch, no_account, error):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)

    def service(options):
        raise error(f"instance rejected for {TOKEN}")

    monkeypatch.setattr(ibm, "_service", service)
    with pytest.raises(error) as excinfo:
        qiopt.get_backend("ibm", device="ibm_fez").sample(maxcut_bqm(nx.cycle_graph(3)))
    assert type(excinfo.value) is error and "instance rejected for ***" in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None


def test_saved_account_token_is_registered(monkeypatch, no_account):
    saved = "saved-account-token-5551234-SECRET"

    class FakeService:
        def active_account(self):
            return {"channel": "ibm_quantum_platform", "token": saved}

    seen = []
    monkeypatch.setattr(qk, "runtime_service", lambda *args: seen.append(args) or FakeService())
    ibm._service(ibm.IBMOptions(account="mine"))
    assert seen == [(None, None, None, "mine")]  # no token in the environment: the saved account
    assert redact(f"denied for {saved}") == "denied for ***"

    class NoToken:
        def active_account(self):
            return {"channel": "ibm_quantum_platform"}

    monkeypatch.setattr(qk, "runtime_service", lambda *args: NoToken())
    assert isinstance(ibm._service(ibm.IBMOptions()), NoToken)


def test_transient_classification():
    from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError, IBMRuntimeError

    for exc in (ConnectionError(), TimeoutError(), OSError(), IBMRuntimeError("x")):
        assert ibm._transient(exc), exc
    for exc in (PermissionError(), IBMNotAuthorizedError("x"), ValueError(), BackendError("x"), KeyError()):
        assert not ibm._transient(exc), exc
