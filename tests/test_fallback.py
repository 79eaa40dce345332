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
