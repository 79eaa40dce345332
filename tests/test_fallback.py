"""The fallback chain with the quantum backends: ibm → qaoa → sa, failures recorded without secrets."""

from __future__ import annotations

import networkx as nx
import pytest

import qiopt
from qiopt.backends import ibm
from qiopt.model import maxcut_bqm

TOKEN = "tok-fallback-9876543210-SECRET"


def _config(**ibm_options):
    return {"backend": "ibm", "fallback": ["qaoa", "sa"],
            "backend_options": {"ibm": {"backoff": 0.001, **ibm_options}, "qaoa": {"seed": 1, "shots": 128}}}


def test_no_credentials_falls_back_to_qaoa(no_account):
    result = qiopt.solve(nx.cycle_graph(4), config=_config())
    assert result.backend == "qaoa" and result.best_energy == -4.0
    (failure,) = result.info["failures"]
    assert failure["backend"] == "ibm" and "QISKIT_IBM_TOKEN" in failure["message"]


@pytest.mark.parametrize("error", [ConnectionError, TimeoutError])
def test_unreachable_or_timeout_retries_then_falls_back(monkeypatch, no_account, error):
    calls = []

    def service(options):
        calls.append(1)
        raise error(f"boom token={TOKEN}")

    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    monkeypatch.setattr(ibm, "_service", service)
    result = qiopt.solve(nx.cycle_graph(4), config=_config(retries=2, device="ibm_fez"))
    assert len(calls) == 2 and result.backend == "qaoa"
    assert TOKEN not in repr(result.info) and TOKEN not in repr(result)


def test_too_many_qubits_falls_through_to_sa(no_account):
    model = maxcut_bqm(nx.random_regular_graph(3, 10, seed=1))
    config = _config(device="fake_manila")
    config["backend_options"]["qaoa"]["max_qubits"] = 8
    result = qiopt.solve(model, config=config)
    assert result.backend == "sa"
    assert [f["backend"] for f in result.info["failures"]] == ["ibm", "qaoa"]
    assert "max_qubits=8" in result.info["failures"][1]["message"]


def test_fake_device_answers_first():
    result = qiopt.solve(nx.cycle_graph(4), config=_config(device="fake_manila", seed=1))
    assert result.backend == "ibm" and result.info["failures"] == []


def test_model_above_ibm_max_qubits_falls_back_without_connecting(monkeypatch, no_account):
    def connect(options, n):
        raise AssertionError("connected")

    monkeypatch.setattr(ibm, "_device", connect)
    config = _config(max_qubits=3)
    result = qiopt.solve(nx.cycle_graph(4), config=config)
    assert result.backend == "qaoa" and "max_qubits=3" in result.info["failures"][0]["message"]


def test_runtime_value_error_falls_back_and_call_options_reach_the_fallback(monkeypatch):
    from qiopt.backends.qaoa import QAOABackend

    def broken(self, *args, **kwargs):
        raise ValueError("the service answered with malformed JSON")

    monkeypatch.setattr(QAOABackend, "_sample_compact", broken)
    graph = nx.random_regular_graph(3, 12, seed=2)
    first = qiopt.solve(graph, backend="qaoa", fallback=["sa"], seed=7, shots=64)
    assert first.backend == "sa" and first.info["failures"][0]["type"] == "ValueError"
    assert first.info["options"]["seed"] == 7  # the call's option reached the fallback; shots is not sa's
    again = qiopt.solve(graph, backend="qaoa", fallback=["sa"], seed=7, shots=64)
    assert (again.sampleset.record.sample == first.sampleset.record.sample).all()  # a seeded chain replays
    with pytest.raises(ValueError, match="malformed JSON"):  # a chain of one re-raises the backend's error
        qiopt.solve(graph, backend="qaoa", seed=7)
    with pytest.raises(ValueError, match="shots"):  # a bad option still raises before anything runs
        qiopt.solve(graph, backend="qaoa", fallback=["sa"], shots=-1)
