"""TaskAllocation: bad input, decode/evaluate round trips, repair, MILP agreement, the seed scenario."""

import copy
import itertools
import json
import time
from importlib.resources import files

import dimod
import numpy as np
import pytest

import qiopt
from qiopt.problems import Solution, TaskAllocation

BASE = {"agents": [{"id": "a1", "capacity": 4, "skills": ["travel"]}, {"id": "a2", "capacity": 4, "skills": []}],
        "tasks": [{"id": "t1", "demand": 2, "skill": "travel"}, {"id": "t2", "demand": 2}, {"id": "t3", "demand": 3}],
        "costs": {"t1": {"a1": 1.0}, "t2": {"a1": 2.0, "a2": 1.0}, "t3": {"a1": 1.0, "a2": 3.0}},
        "affinity": [["t2", "t3", 1.5]]}


def _with(path, value):
    d = copy.deepcopy(BASE)
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return d


@pytest.mark.parametrize(("data", "match"), [
    (_with(["agents", 1, "id"], "a1"), "duplicate id 'a1'"),
    (_with(["tasks", 1, "id"], "t1"), "duplicate id 't1'"),
    (_with(["agents", 0, "capacity"], -1), "agent 'a1' capacity"),
    (_with(["tasks", 0, "demand"], -2), "task 't1' demand"),
    (_with(["tasks", 0, "skill"], "diving"), "task 't1' needs skill 'diving'"),
    (_with(["costs", "t9"], {"a1": 1}), "unknown task 't9'"),
    (_with(["costs", "t1"], {"a7": 1}), "unknown agent 'a7'"),
    (_with(["affinity"], [["t1", "zz", 1]]), "unknown task 'zz'"),
    (_with(["tasks", 2, "demand"], 5), "task 't3' \\(demand 5\\) fits no eligible agent"),
    (_with(["agents", 1, "capacity"], 2), "total demand 7 exceeds total capacity 6"),
    (_with(["colour"], "red"), "unknown key"),
])
def test_bad_input_names_the_culprit(data, match):
    with pytest.raises(ValueError, match=match):
        TaskAllocation.from_dict(data)


def test_input_not_mutated_and_json(tmp_path):
    before = copy.deepcopy(BASE)
    TaskAllocation.from_dict(BASE)
    assert before == BASE
    path = tmp_path / "p.json"
    path.write_text(json.dumps(BASE))
    assert TaskAllocation.from_json(path).items == ["t1", "t2", "t3"]


def test_only_eligible_variables_and_penalties_reported():
    p = TaskAllocation.from_dict(BASE)
    xs = [v for v in p.to_bqm().variables if v[0] == "x"]
    assert ("x", "t1", "a2") not in xs and len(xs) == 5
    assert set(p.penalties) == {"assign", "capacity"} and min(p.penalties.values()) > 0
    p2 = TaskAllocation.from_dict(BASE, penalty={"capacity": 50.0})
    assert p2.penalties["capacity"] == 50.0


def test_decode_evaluate_round_trip_on_every_sample():
    p = TaskAllocation.from_dict(BASE)
    bqm, obj = p.to_bqm(), p.objective_bqm
    labels = list(bqm.variables)
    for bits in itertools.product((0, 1), repeat=len(labels)):
        sample = dict(zip(labels, bits, strict=True))
        sol = p.decode(sample)
        again = p.evaluate(sol.assignment)
        if sol.feasible:
            assert again.feasible and again.objective == pytest.approx(sol.objective)
            assert sol.objective == pytest.approx(obj.energy({v: sample[v] for v in obj.variables}))
            assert bqm.energy(sample) >= sol.objective - 1e-9
        else:
            penalty = bqm.energy(sample) - obj.energy({v: sample[v] for v in obj.variables})
            assert penalty >= min(p.penalties.values()) - 1e-9


def test_evaluate_foreign_assignment_and_errors():
    p = TaskAllocation.from_dict(BASE)
    sol = p.evaluate({"t1": "a2", "t2": "a1"})
    assert sol.violations == {"assign[t3]": 1.0, "eligible[t1]": 1.0} and not sol.feasible
    over = p.evaluate({"t1": "a1", "t2": "a1", "t3": "a1"})
    assert over.violations == {"capacity[a1]": 3.0}
    with pytest.raises(ValueError, match="unknown agent 'zz'"):
        p.evaluate({"t1": "zz"})
    repaired = p.repair(over)
    assert repaired.feasible and repaired.details["repair"]["status"] == "feasible"


def test_repair_says_when_it_cannot():
    p = TaskAllocation.from_dict({"agents": [{"id": "a", "capacity": 3}, {"id": "b", "capacity": 3}],
                                  "tasks": [{"id": f"t{i}", "demand": 2} for i in range(3)]})
    out = p.repair(Solution({}, 0.0))
    assert not out.feasible and out.details["repair"]["status"].startswith("could not make feasible")


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_milp_on_small_instances(seed):
    p = TaskAllocation.random(8, 3, tightness=0.8, seed=seed)
    milp = p.reference("milp", time_limit=10)
    assert milp.details["reference"]["status"] == "optimal" and milp.feasible  # these seeds give feasible instances
    result = qiopt.solve(p, backend="sa", seed=seed, num_reads=16, num_sweeps=500, reference="milp")
    assert result.solution.feasible
    assert result.solution.objective == pytest.approx(milp.objective, abs=1e-6)
    assert result.gap == pytest.approx(0.0, abs=1e-9)
    brute = min(p.evaluate(dict(zip(p.items, c, strict=True))).objective
                for c in itertools.product(p.bins, repeat=len(p.items))
                if p.evaluate(dict(zip(p.items, c, strict=True))).feasible)
    assert milp.objective == pytest.approx(brute)


def test_greedy_reference_and_seed_scenario():
    p = TaskAllocation.from_json(files("qiopt") / "data" / "travel_planning.json")
    greedy = p.reference("greedy")
    result = qiopt.solve(p, backend="sa", seed=1, reference="milp", time_limit=5)
    sol = result.solution
    assert sol.feasible and sol.objective <= greedy.objective + 1e-9 and result.gap <= 0.01
    plan = p.format_plan(sol)
    assert "Travel agent 1" in plan and "feasible" in plan
    assert sol.energy == pytest.approx(sol.objective)  # a feasible answer pays no penalty
    assert sol.details["source"].startswith("sa anneal") and np.isfinite(p.penalties["assign"])


def test_polish_is_seeded():
    p = TaskAllocation.random(30, 4, seed=0)
    sampleset = qiopt.get_backend("sa", seed=0, num_reads=4, num_sweeps=100).sample(p.to_bqm())  # the QUBO path
    first = p.best_solution(sampleset, seed=5)
    assert p.best_solution(sampleset, seed=5).assignment == first.assignment
    p.seed = 5
    assert p.best_solution(sampleset).assignment == first.assignment


def test_to_dict_round_trips_and_json_file(tmp_path):
    from qiopt.problems import LoadBalancing

    for problem in (TaskAllocation.random(12, 3, seed=4), LoadBalancing.random(10, 3, skew=0.8, seed=2)):
        again = type(problem).from_dict(problem.to_dict())
        assert again.to_dict() == problem.to_dict()
        assert again.to_bqm() == problem.to_bqm()
        path = tmp_path / "p.json"
        problem.to_json(path)
        assert type(problem).from_json(path).to_dict() == problem.to_dict()
        data = problem.to_dict()
        data["tasks"].clear()
        assert problem.to_dict()["tasks"], "to_dict must return a copy"


def test_format_plan_without_capacity_or_demand_and_hand_made_solution():
    p = TaskAllocation([{"id": "x", "name": "Agent X"}, {"id": "y", "capacity": 2}],
                       [{"id": "x", "name": "Task X"}, {"id": "t2", "demand": 2}, {"id": "t3"}],
                       costs={"t2": {"y": 1.5}})
    plan = p.format_plan(Solution({"x": "x", "t2": "y", "t3": "nobody"}, 0.0))   # no details, unknown agent
    assert "Agent X" in plan and "load 1 (no cap), cost 0: Task X" in plan
    assert "load 2/2, cost 1.5: t2" in plan and "unassigned: t3" in plan


def test_best_solution_time_limit_caps_the_search():
    p = TaskAllocation.random(200, 8, seed=0)
    p.kicks = 10**6   # the polish would run for its whole polish_time (3 s)
    rng = np.random.default_rng(0)
    sampleset = dimod.SampleSet.from_samples_bqm(
        (rng.integers(0, 2, size=(8, len(p.labels))), p.labels), dimod.BinaryQuadraticModel(
            dict.fromkeys(p.labels, 0.0), {}, 0.0, "BINARY"))
    started = time.perf_counter()
    sol = p.best_solution(sampleset, time_limit=0.3)
    assert time.perf_counter() - started < 1.5
    assert sol.details["start"] and "polish" in sol.details
    quick = p.best_solution(sampleset, time_limit=0)   # no search time: the best sample and the warm start
    assert quick.details["start"] in {"sample 0", "greedy"}


def test_agent_dependent_demand_gap_input_and_arrays(tmp_path):
    data = {"agents": [{"id": "a", "capacity": 4}, {"id": "b", "capacity": 4}],
            "tasks": [{"id": "t", "demand": {"a": 3, "b": 1}}, {"id": "u", "demand": {"a": 1}}, {"id": "v"}],
            "costs": {"t": {"a": 1.0, "b": 5.0}, "u": {"a": 2.0}, "v": {"a": 1.0, "b": 1.0}}}
    before = copy.deepcopy(data)
    p = TaskAllocation.from_dict(data)
    assert data == before
    assert p.arrays.size[0].tolist() == [3.0, 1.0] and p.arrays.eligible[1].tolist() == [True, False]
    assert p.evaluate({"t": "a", "u": "a", "v": "b"}).violations == {}
    assert p.evaluate({"t": "a", "u": "a", "v": "a"}).violations == {"capacity[a]": 1.0}
    result = qiopt.solve(p, seed=1, reference="milp")
    assert result.solution.feasible and result.gap == 0.0
    again = TaskAllocation.from_dict(p.to_dict())
    assert again.to_dict() == p.to_dict()
    arrays = TaskAllocation.from_arrays(p.arrays.cost, np.where(p.arrays.eligible, p.arrays.size, np.inf), [4, 4])
    assert arrays.evaluate({"t0": "a0", "t1": "a0", "t2": "a1"}).objective == pytest.approx(4.0)
    assert qiopt.solve(arrays, seed=1).solution.objective == pytest.approx(result.solution.objective)


@pytest.mark.parametrize(("demand", "match"), [
    ({"zz": 1}, "task 't1' demand names unknown agent 'zz'"),
    ({"a1": -1}, "task 't1' demand\\['a1'\\]"),
    ({"a1": float("nan")}, "task 't1' demand\\['a1'\\] must be a finite number"),
    ({"a1": float("inf")}, "must be a finite number"),
    ({}, "empty mapping"),
    ({"a1": "3"}, "must be a number"),
])
def test_agent_dependent_demand_bad_input(demand, match):
    data = _with(["tasks", 0, "demand"], demand)
    with pytest.raises((ValueError, TypeError), match=match):
        TaskAllocation.from_dict(data)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cost": np.array([1.0, 2.0])}, "matrix"),
    ({"cost": np.array([[np.nan, 1.0]])}, "NaN"),
    ({"cost": np.ones((2, 2)), "capacity": [1.0]}, "one entry per agent"),
])
def test_from_arrays_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TaskAllocation.from_arrays(**kwargs)


@pytest.mark.parametrize("seed", range(4))
def test_lp_relaxation_bounds_the_optimum_and_starts_the_engine(seed):
    from qiopt.problems import reference as ref

    rng = np.random.default_rng(seed)  # a small generalized assignment (agent-dependent demands, tight)
    size, cost = rng.integers(1, 6, size=(9, 3)).astype(float), rng.integers(1, 20, size=(9, 3)).astype(float)
    p = TaskAllocation.from_arrays(cost, size, np.floor(0.9 * size.sum(axis=0) / 3) + 3)
    milp = p.reference("milp", time_limit=10)
    a, info = ref.lp_relaxation(p.arrays)
    assert info["status"] == "optimal" and info["bound"] <= milp.objective + 1e-9
    assert a.shape == (9,) and p.arrays.eligible[np.arange(9), a].all() and 0 <= info["fractional"] <= 9
    starts = dict(p.structured_starts())
    state = starts["lp"]
    assert state.sum() == 9 and p.from_state(state).assignment == {
        t: p.bins[k] for t, k in zip(p.items, a, strict=True)}
    result = qiopt.solve(p, seed=seed, num_sweeps=300)
    assert "lp" in result.info["starts"] and "lp start + sa anneal" in result.solution.details["source"]
    assert result.timing["starts_ns"] > 0 and result.solution.objective == pytest.approx(milp.objective)


def test_lp_start_only_for_linear_objectives_and_stage_flags():
    with_affinity = TaskAllocation.random(12, 3, seed=1)  # affinities: the LP of the linearised pairs is no guide
    assert with_affinity.arrays.affinity.nnz and with_affinity.structured_starts() == []
    p = TaskAllocation.random(12, 3, affinity_pairs=0, seed=1)
    names = [[name for name, _ in p.structured_starts(time_limit=t)] for t in (None, 0, 1e-4, 1.0)]
    # the Lagrangian start always runs (one step at least); the LP only with time for it: 36 pairs need 3.6e-4 s
    assert names == [["lagrangian", "lp"], ["lagrangian"], ["lagrangian"], ["lagrangian", "lp"]]
    plain = qiopt.solve(p, seed=1, num_sweeps=200, starts=False, search=False)
    assert "starts" not in plain.info and "search_ns" not in plain.timing
    assert plain.solution.details["source"] in {"sa anneal", "sa anneal + polish"}
    full = qiopt.solve(p, seed=1, num_sweeps=200)
    assert "search_ns" in full.timing and full.solution.details["source"].startswith("lagrangian / lp start")
    affinity = qiopt.solve(with_affinity, seed=1, num_sweeps=200)  # asked, none found: its time is still reported
    assert "starts" not in affinity.info and affinity.timing["starts_ns"] > 0


@pytest.mark.parametrize("seed", range(10))
def test_lagrangian_answer_is_feasible_and_brackets_the_optimum(seed):
    from qiopt.problems._lagrange import lagrangian

    rng = np.random.default_rng(100 + seed)  # generalized assignment, tight: 12 tasks, 3 agents
    size, cost = rng.integers(1, 8, size=(12, 3)).astype(float), rng.integers(1, 30, size=(12, 3)).astype(float)
    p = TaskAllocation.from_arrays(cost, size, np.floor(0.85 * size.sum(axis=0) / 3) + 4)
    optimum = p.reference("milp", time_limit=10).objective
    a, info = lagrangian(p.arrays.cost, p.arrays.size, p.arrays.capacity, iterations=200)
    assert info["bound"] <= optimum + 1e-9 <= info["objective"] + 2e-9 or not np.isfinite(info["objective"])
    if np.isfinite(info["objective"]):
        answer = p.reference("lagrangian")
        assert answer.feasible and answer.objective == pytest.approx(info["objective"])
        assert (a >= 0).all() and answer.details["reference"]["iterations"] <= 200
        assert info["objective"] <= 1.25 * optimum  # the regret heuristic on good prices is close


def test_lagrangian_starts_from_given_prices():
    from qiopt.problems._lagrange import lagrangian

    rng = np.random.default_rng(7)
    size, cost = rng.integers(1, 8, size=(60, 5)).astype(float), rng.integers(1, 30, size=(60, 5)).astype(float)
    capacity = np.r_[np.floor(0.8 * size.sum(axis=0)[:4] / 5), np.inf]  # the last bin has no capacity
    _, full = lagrangian(cost, size, capacity, iterations=300)
    prices = full["prices"]
    assert prices.shape == (5,) and (prices >= 0).all() and prices[4] == 0.0 and prices.any()
    _, cold = lagrangian(cost, size, capacity, iterations=1)
    _, warm = lagrangian(cost, size, capacity, iterations=1, prices=prices)
    assert warm["bound"] == pytest.approx(full["bound"]) and cold["bound"] < warm["bound"]  # L(λ) at the prices
    _, ignored = lagrangian(cost, size, capacity, iterations=1, prices=np.r_[-1.0, prices[1:4], 5.0])
    assert ignored["prices"][0] == 0.0 and ignored["prices"][4] == 0.0  # negative and uncapped prices: 0


def test_lagrangian_reports_no_answer_when_the_regret_heuristic_finds_no_room():
    from qiopt.problems._lagrange import lagrangian

    # two tasks of 2 on bins of 3 and 2: only "big task first to the big bin" fits... with sizes that trap greed
    cost = np.array([[0.0, 9.0], [0.0, 9.0]])
    a, info = lagrangian(cost, np.array([[2.0, 2.0], [2.0, 2.0]]), np.array([3.0, 1.0]), iterations=5)
    assert info["objective"] == np.inf and (a == -1).all() and info["iterations"] <= 5
    assert info["bound"] <= 9.0  # still a bound (no feasible answer exists at all here)


def test_allocator_batches_start_from_the_lagrangian_answer():
    from qiopt import Allocator

    rng = np.random.default_rng(3)
    agents = [{"id": f"a{k}", "capacity": 12} for k in range(4)]
    alloc = Allocator(agents, seed=1, time_budget=0.5)
    batch = [{"id": f"r{i}", "demand": int(rng.integers(1, 4)),
              "costs": {f"a{k}": float(rng.integers(1, 9)) for k in range(4)}} for i in range(20)]
    alloc.submit(batch)
    assert "lagrangian" in alloc.last_result.info["starts"] and "greedy" not in alloc.last_result.info["starts"]


@pytest.mark.parametrize("speed", [None, np.array([1.0, 2.0, 1.5, 1.0])])
def test_search_keeps_its_move_deltas_exact_move_by_move(speed):
    """The search updates its (items × bins) delta table after each move instead of rebuilding it: after any
    sequence of moves and swaps the table equals a fresh one, so the search takes the same steps as before."""
    import scipy.sparse as sp

    from qiopt.problems._search import AssignmentArrays

    rng = np.random.default_rng(4)
    n, m = 30, 4
    cost = rng.uniform(1, 5, (n, m))
    cost[rng.random((n, m)) < 0.1] = np.inf
    cost[np.isinf(cost).all(axis=1), 0] = 1.0
    affinity = sp.random(n, n, density=0.2, random_state=2)
    affinity = sp.csr_matrix(affinity + affinity.T)
    affinity.setdiag(0)
    affinity.eliminate_zeros()
    arr = AssignmentArrays(cost, rng.uniform(1, 3, (n, m)), np.full(m, 14.0), affinity, speed=speed,
                           target=0.0 if speed is None else 10.0)
    a = np.array([rng.choice(np.flatnonzero(np.isfinite(cost[i]))) for i in range(n)])
    L, M = arr.loads(a), arr.neighbour_sums(a)
    D = arr.move_deltas(a, L, M, np.arange(n))
    for step in range(40):
        i = int(rng.integers(n))
        if step % 3 == 2:  # a swap of two items on different bins
            j = int(rng.choice(np.flatnonzero(a != a[i])))
            bi, bj = int(a[i]), int(a[j])
            arr.place(a, L, M, i, bj)
            arr.place(a, L, M, j, bi)
            arr._moved(D, a, L, M, [bi, bj])
        else:
            b = int(rng.choice(np.flatnonzero(np.isfinite(cost[i]) & (np.arange(m) != a[i]))))
            old = int(a[i])
            arr.place(a, L, M, i, b)
            arr._moved(D, a, L, M, [old, b])
        np.testing.assert_array_equal(D, arr.move_deltas(a, L, M, np.arange(n)))


def test_an_untimed_search_stops_after_a_fixed_amount_of_work():
    p = TaskAllocation.random(50, 10, tightness=0.9, seed=3)
    start = p.evaluate(p.reference("greedy").assignment)
    assert p.search(start).details["search"]["kicks"] == p.kicks  # 500 pairs: 4,000 kicks of work, 800 allowed
    p.search_work = 5_000  # 10 kicks on 500 pairs, whatever the machine's speed
    first, again = p.search(start, seed=4), p.search(start, seed=4)
    assert first.details["search"]["kicks"] == 10 and first.assignment == again.assignment
    assert p.search(start, time_limit=5.0, seed=4).details["search"]["kicks"] == p.kicks  # timed: kicks, not work


def _gap_type_d(m: int, n: int, seed: int) -> TaskAllocation:
    """Chu & Beasley's class D: cost and demand anti-correlated, capacities 80 % of the mean demand per agent."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 101, size=(m, n)).astype(float)
    c = 111.0 - a + rng.integers(-10, 11, size=(m, n))
    return TaskAllocation.from_arrays(c.T, a.T, np.floor(0.8 * a.sum(axis=1) / m))


def test_lagrangian_goes_on_when_its_first_answer_finds_no_room():
    from qiopt.problems._lagrange import _regret, lagrangian
    from qiopt.problems.reference import lp_relaxation

    arr = _gap_type_d(8, 60, seed=3).arrays
    assert not np.isfinite(_regret(arr.cost, arr.size, arr.capacity, np.zeros(arr.m))[1])  # at zero prices
    a, info = lagrangian(arr.cost, arr.size, arr.capacity, iterations=300)
    lp = lp_relaxation(arr)[1]["bound"]
    assert info["iterations"] > 1 and info["bound"] >= lp - 1e-3 * abs(lp) and info["bound"] <= lp + 1e-6 * abs(lp)
    assert np.isfinite(info["objective"]) and arr.overflow(a).sum() == 0 and info["objective"] >= lp


def test_the_engine_anneals_on_the_lagrangian_prices_and_reports_true_objectives():
    p = _gap_type_d(6, 40, seed=1)
    result = qiopt.solve(p, seed=2, num_sweeps=300)
    prices = p.structured_prices()
    assert prices is not None and prices.shape == (p.to_constrained().num_constraints,) and prices.max() > 0
    assert result.info["stages"]["anneal"]["priced"] is True
    record = result.sampleset.record
    assert np.allclose(record.energy, p.to_constrained().energy(record.sample))  # the model's, not the priced one
    exact = p.reference("milp").objective
    assert result.solution.feasible and result.solution.objective <= exact * 1.02
    from qiopt.backends.annealing.engine import anneal_constrained

    with pytest.raises(ValueError, match="prices must be"):
        anneal_constrained(p.to_constrained(), num_sweeps=5, prices=np.ones(2))
