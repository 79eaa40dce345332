"""Fuzzing (issue 8): random, often malformed inputs to the problems' ``from_dict``, ``qiopt.solve`` on plain
models, the command line and the Allocator give a clear ``ValueError`` / ``TypeError`` or a correct answer, never
another exception, and never change what the caller passed."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qiopt
from qiopt.cli import main
from qiopt.problems import LoadBalancing, TaskAllocation

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.one_of(st.sampled_from(["a", "b", "t1", "t2", "w"]), st.integers(-2, 3), st.none(), st.booleans())
numbers = st.one_of(st.integers(-3, 10), st.floats(allow_nan=True, allow_infinity=True, width=32),
                    st.sampled_from(["3", None, True, [], {}]))
scalars = st.one_of(ids, numbers)
values = st.one_of(scalars, st.lists(ids, max_size=3), st.dictionaries(ids.filter(lambda v: v is not None),
                                                                       numbers, max_size=3), st.just("<delete>"))
records = st.lists(st.dictionaries(st.sampled_from(["id", "capacity", "skills", "demand", "skill", "load",
                                                    "current", "speed", "costs", "name", "colour"]),
                                   values, max_size=5), max_size=4)

ALLOCATION = {"agents": [{"id": "a", "capacity": 5, "skills": ["x"]}, {"id": "b", "capacity": 4}],
              "tasks": [{"id": "t1", "demand": 2, "skill": "x"}, {"id": "t2", "demand": {"a": 1, "b": 3}},
                        {"id": "t3"}],
              "costs": {"t1": {"a": 1}, "t2": {"a": 2, "b": 1}}, "affinity": [["t2", "t3", 1.0]]}
BALANCING = {"workers": [{"id": "w1", "speed": 2.0, "capacity": 9}, {"id": "w2"}],
             "tasks": [{"id": "t1", "load": 3, "current": "w1", "migration_cost": 0.5},
                       {"id": "t2", "load": {"w1": 2, "w2": 1}}, {"id": "t3", "load": 1, "current": "w2"}],
             "affinity": [["t1", "t3", 0.5]]}


@st.composite
def mutated(draw, base):
    """``base`` with 1-3 random changes: a field set to a random value, deleted or added, at any depth."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        target, key = data, None
        while True:
            keys = list(target) if isinstance(target, dict) else list(range(len(target)))
            if not keys:
                break
            key = draw(st.sampled_from([*keys, "colour"] if isinstance(target, dict) else keys))
            child = target.get(key) if isinstance(target, dict) else target[key]
            if not isinstance(child, dict | list) or not child or draw(st.booleans()):
                break
            target = child
        value = draw(values)
        if key is None:
            continue
        if value == "<delete>":
            if isinstance(target, dict):
                target.pop(key, None)
            elif key < len(target):
                del target[key]
        else:
            target[key] = value
    return data


def _clean(data):
    """The same structure, rebuilt (``copy.deepcopy`` keeps NaN objects identical, so == compares them)."""
    return json.loads(json.dumps(data, default=str))


def _solve_or_refuse(build, data) -> None:
    before = copy.deepcopy(data)
    try:
        problem = build(data)
    except (ValueError, TypeError):
        return
    finally:
        assert _clean(data) == _clean(before)  # never mutated, accepted or not
    result = qiopt.solve(problem, seed=0, num_sweeps=20, time_limit=2)
    assert result.solution is not None and result.solution.objective == pytest.approx(
        problem.evaluate(result.solution.assignment).objective)


@FUZZ
@given(data=mutated(ALLOCATION))
def test_task_allocation_from_dict(data):
    _solve_or_refuse(TaskAllocation.from_dict, data)


@FUZZ
@given(data=mutated(BALANCING))
def test_load_balancing_from_dict(data):
    _solve_or_refuse(LoadBalancing.from_dict, data)


def test_the_fuzzed_bases_are_valid():  # so the fuzz explores around working inputs, not only refusals
    assert TaskAllocation.from_dict(ALLOCATION).arrays.n == 3 and LoadBalancing.from_dict(BALANCING).arrays.n == 3


@FUZZ
@given(terms=st.dictionaries(st.tuples(ids, ids), numbers, max_size=6))
def test_solve_plain_qubo(terms):
    before = copy.deepcopy(terms)
    try:
        result = qiopt.solve(terms, seed=0, num_reads=2, num_sweeps=20)
    except (ValueError, TypeError):
        pass
    else:
        bqm = qiopt.model.as_bqm(terms)
        assert result.best_energy == pytest.approx(bqm.energy(result.best_sample))
    assert _clean({str(k): v for k, v in terms.items()}) == _clean({str(k): v for k, v in before.items()})


@FUZZ
@given(requests=mutated([{"id": "r1", "demand": 2, "costs": {"a": 1, "b": 2}}, {"id": "r2", "skill": "x"},
                         {"id": "r3", "demand": {"a": 3}}]))
def test_allocator_batches(requests):
    alloc = qiopt.Allocator([{"id": "a", "capacity": 5}, {"id": "b", "capacity": 3, "skills": ["x"]}], seed=0,
                            time_budget=0.2)
    before = copy.deepcopy(requests)
    try:
        placed = alloc.submit(requests)
    except (ValueError, TypeError):
        assert alloc.assignment == {}  # nothing of a refused batch is applied
    else:
        loads = alloc.loads
        assert loads["a"] <= 5 + 1e-9 and loads["b"] <= 3 + 1e-9
        assert set(placed) == {r["id"] for r in requests}
    assert _clean(requests) == _clean(before)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(st.text(max_size=30), st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["agents", "tasks", "workers", "qubo", "kind"]), st.one_of(scalars, records), max_size=3))))
def test_command_line_exit_codes(tmp_path_factory, payload):
    path = tmp_path_factory.mktemp("fuzz") / "problem.json"
    path.write_text(payload, encoding="utf-8")
    assert main(["solve", str(path), "--seed", "0", "--time-limit", "2"]) in (0, 1, 2)
