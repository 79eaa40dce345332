"""Shared fixtures: small backend configurations so the whole suite stays fast."""

from __future__ import annotations

import pytest

#: Options that keep each built-in backend quick on the tiny models of the contract tests.
FAST_OPTIONS: dict[str, dict] = {
    "sa": {"num_reads": 8, "num_sweeps": 200},
    "auto": {"num_reads": 4},
    "decompose": {"num_reads": 2, "start_sweeps": 50, "subproblem_size": 8, "subproblem_sweeps": 100,
                  "num_rounds": 2},
    "tabu": {"num_reads": 4, "num_iterations": 1000, "stall_iterations": 200},
    "sb": {"num_reads": 8, "num_steps": 200},
    "sqa": {"num_reads": 4, "num_sweeps": 100, "trotter": 8},
    "pt": {"num_reads": 2, "num_sweeps": 100, "num_replicas": 8},
    "exact": {},
    "qaoa": {"reps": 1, "shots": 256, "maxiter": 15, "seed": 1},
    "ibm": {"device": "fake_manila", "shots": 256, "reps": 1, "seed": 1},
}


@pytest.fixture(autouse=True)
def _clean_qiopt_env(monkeypatch):
    """Tests never see the developer's QIOPT_* settings."""
    import os

    for key in list(os.environ):
        if key.startswith("QIOPT_"):
            monkeypatch.delenv(key)


@pytest.fixture
def no_account(monkeypatch, tmp_path):
    """No IBM token in the environment and no saved account (an empty home)."""
    for var in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
