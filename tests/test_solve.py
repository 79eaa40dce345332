import dimod
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.backends.base import BackendError


def test_default_backend_is_sa_and_result_fields():
    result = qiopt.solve(nx.cycle_graph(6), seed=1, num_reads=4)
    assert result.backend == "sa"
    assert result.best_energy == -6.0
    assert set(result.best_sample) == set(range(6))
    assert {"preprocessing_ns", "sampling_ns", "postprocessing_ns"} <= set(result.timing)
    assert result.info["options"]["num_reads"] == 4 and result.info["failures"] == []
    assert result.solution is None and "sa" in repr(result)


@pytest.mark.parametrize("model", [
    {(0, 0): -1.0, (0, 1): 2.0},
    ({0: 1.0}, {(0, 1): -1.0}),
    np.array([[1.0, -2.0], [0.0, 1.0]]),
    dimod.BQM({"x": 1.0}, {}, 0.0, "SPIN"),
])
def test_every_model_shape_solves_exactly(model):
    result = qiopt.solve(model, backend="exact")
    bqm = qiopt.model.as_bqm(model)
    assert result.best_energy == pytest.approx(min(bqm.energies(dimod.ExactSolver().sample(bqm))))


def test_callers_model_untouched():
    bqm = dimod.BQM({"a": 1.0}, {("a", "b"): -1.0}, 0.5, "BINARY")
    before = bqm.copy()
    qiopt.solve(bqm, seed=0)
    assert bqm == before


def test_empty_model_rejected():
    with pytest.raises(ValueError, match="empty"):
        qiopt.solve(dimod.BQM("SPIN"))


def test_env_backend_used(monkeypatch):
    monkeypatch.setenv("QIOPT_BACKEND", "exact")
    assert qiopt.solve({(0, 0): -1.0}).backend == "exact"
    assert qiopt.solve({(0, 0): -1.0}, backend="sa").backend == "sa"


def test_fallback_records_failure_and_answers():
    too_big = dimod.BQM({i: 1.0 for i in range(12)}, {}, 0.0, "SPIN")
    options = {"exact": {"max_variables": 4}, "sa": {"seed": 1}}
    result = qiopt.solve(too_big, config={"backend": "exact", "backend_options": options}, fallback=["sa"])
    assert result.backend == "sa"
    assert result.info["failures"][0]["backend"] == "exact"
    assert "max_variables=4" in result.info["failures"][0]["message"]
    assert result.best_energy == -12.0


def test_without_fallback_failure_raises():
    too_big = dimod.BQM({i: 1.0 for i in range(12)}, {}, 0.0, "SPIN")
    with pytest.raises(BackendError, match="max_variables"):
        qiopt.solve(too_big, backend="exact", max_variables=4)


def test_whole_chain_failing_raises_with_every_failure():
    too_big = dimod.BQM({i: 1.0 for i in range(12)}, {}, 0.0, "SPIN")
    cfg = {"backend": "exact", "fallback": ["qaoa"], "backend_options": {"exact": {"max_variables": 4},
                                                                        "qaoa": {"max_qubits": 4}}}
    with pytest.raises(BackendError, match=r"exact: BackendError.*qaoa: BackendError"):
        qiopt.solve(too_big, config=cfg)


def test_chain_does_not_hide_bad_options():
    with pytest.raises(ValueError, match="num_reads"):  # a bad option value: raised before anything runs
        qiopt.solve({(0, 0): 1.0}, backend="sa", fallback=["exact"], num_reads=0)
    # an option combination found wrong only at run time is a run-time failure: the chain moves on, and says so
    cfg = {"backend": "sa", "fallback": ["exact"], "backend_options": {"sa": {"beta_schedule_type": "custom"}}}
    result = qiopt.solve({(0, 0): 1.0}, config=cfg)
    assert result.backend == "exact" and "beta_schedule" in result.info["failures"][0]["message"]
    with pytest.raises(ValueError, match="beta_schedule"):  # alone, it raises
        qiopt.solve({(0, 0): 1.0}, config={**cfg, "fallback": []})


def test_explicit_backend_beats_environment_in_a_resolved_config(monkeypatch):
    from qiopt.config import resolve_config

    cfg = resolve_config(None, backend="sa", env={})
    monkeypatch.setenv("QIOPT_BACKEND", "exact")
    assert qiopt.solve({(0, 0): -1.0}, config=cfg).backend == "sa"


def test_time_limit_is_passed_to_backends_that_take_it():
    result = qiopt.solve(nx.petersen_graph(), time_limit=0.2, num_sweeps=20, num_reads=2, seed=0)
    assert result.info["options"]["time_limit"] == pytest.approx(0.2, abs=0.05)


def test_bad_option_is_named_before_solving():
    with pytest.raises(ValueError, match="num_sweep"):
        qiopt.solve({(0, 0): 1.0}, num_sweep=10)


def test_reference_needs_problem():
    with pytest.raises(ValueError, match="Problem"):
        qiopt.solve({(0, 0): 1.0}, reference="milp")


def test_reference_has_its_own_time_limit(monkeypatch):
    from qiopt.problems import TaskAllocation

    p = TaskAllocation.random(8, 2, seed=1)
    seen = []
    original = type(p).reference

    def spy(self, method="milp", time_limit=None):
        seen.append(time_limit)
        return original(self, method, time_limit)

    monkeypatch.setattr(type(p), "reference", spy)
    result = qiopt.solve(p, seed=1, time_limit=0.5, reference="milp", reference_time_limit=7)
    qiopt.solve(p, seed=1, time_limit=0.5, reference="milp")
    assert seen == [7.0, 0.5] and result.info["reference_seconds"] >= 0
    with pytest.raises(ValueError, match="reference_time_limit"):
        qiopt.solve(p, seed=1, reference="milp", reference_time_limit=0)
