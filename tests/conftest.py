"""Shared fixtures: small backend configurations so the whole suite stays fast."""

from __future__ import annotations

import pytest

#: Options that keep each built-in backend quick on the tiny models of the contract tests.
FAST_OPTIONS: dict[str, dict] = {
    "sa": {"num_reads": 8, "num_sweeps": 200},
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
