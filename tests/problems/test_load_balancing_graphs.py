"""LoadBalancing and the graph problems: errors, figures, references."""

import ast
import itertools
from pathlib import Path

import dimod
import networkx as nx
import numpy as np
import pytest

import qiopt
import qiopt.model
from qiopt.problems import AffinityClustering, GraphPartitioning, LoadBalancing, MaxCut, Solution

LB = {"workers": [{"id": "w1", "speed": 1.0}, {"id": "w2", "speed": 2.0, "capacity": 100}],
      "tasks": [{"id": f"t{i}", "load": float(i + 1), "current": "w1", "migration_cost": 0.5} for i in range(5)],
      "affinity": [["t0", "t1", 1.0]]}


@pytest.mark.parametrize(("data", "match"), [
    ({**LB, "workers": [{"id": "w1", "speed": 0}]}, "worker 'w1' speed"),
    ({**LB, "tasks": [{"id": "t", "current": "w9"}]}, "current worker 'w9' is unknown"),
    ({**LB, "tasks": [{"id": "t", "load": -1}]}, "task 't' load"),
    ({"workers": [{"id": "w", "capacity": 1}], "tasks": [{"id": "t", "load": 2}]}, "task 't' \\(load 2\\)"),
])
def test_load_balancing_errors(data, match):
    with pytest.raises(ValueError, match=match):
        LoadBalancing.from_dict(data)


def test_load_balancing_figures_and_references():
    p = LoadBalancing.from_dict(LB)
    result = qiopt.solve(p, backend="sa", seed=2, num_reads=8, num_sweeps=300, reference="milp")
    sol = result.solution
    assert sol.feasible and {"makespan", "imbalance", "migrations"} <= set(sol.details)
    for method in ("lpt", "greedy"):
        assert sol.objective <= p.reference(method).objective + 1e-9
    assert result.reference.details["reference"]["gap"] <= 1e-3
    assert sol.objective <= result.reference.objective + 1e-6
    same = p.evaluate(sol.assignment)
    assert same.objective == pytest.approx(sol.objective)


def test_large_load_balancing_prunes_candidates():
    p = LoadBalancing.random(300, 400, skew=0.8, seed=1)
    cm = p.to_constrained()
    assert cm.num_groups == 300 and set(np.diff(cm.group_ptr)) <= {1, 2, 3, 4} and cm.num_variables > 300 * 3
    lpt, greedy = p.reference("lpt"), p.reference("greedy")
    candidates = set(p.labels)
    assert all(("x", t, w) in candidates for t, w in lpt.assignment.items())
    assert all(("x", r["id"], r["current"]) in candidates for r in p.task_data)
    sol = qiopt.solve(p, seed=1).solution
    assert sol.objective <= min(lpt.objective, greedy.objective)


def test_factored_references_match_the_dense_ones():
    from qiopt.problems import reference as ref
    from qiopt.problems._search import AssignmentArrays

    for seed in range(3):
        p = LoadBalancing.random(200, 7, skew=0.8, seed=seed)
        arr = p.arrays
        assert arr.factored
        dense = AssignmentArrays(arr.cost, arr.item_size, arr.capacity, arr.affinity, arr.speed, arr.target)
        assert (ref.lpt(arr)[0] == ref.lpt(dense)[0]).all()
        fast, slow = ref.greedy_rebalance(arr, p.current)[0], ref.greedy_rebalance(dense, p.current)[0]
        assert arr.objective(fast) == pytest.approx(dense.objective(slow), rel=1e-9)
        assert arr.objective(fast) == pytest.approx(dense.objective(fast))


def test_graph_problems():
    g = nx.barbell_graph(4, 0)
    assert qiopt.solve(MaxCut(g), backend="sa", seed=1).solution.details["cut"] == 9.0
    part = qiopt.solve(GraphPartitioning(g, 2), backend="sa", seed=1).solution
    assert part.objective == 1.0 and part.feasible
    clusters = qiopt.solve(AffinityClustering(g, 2), backend="sa", seed=1).solution
    assert sorted(map(sorted, clusters.details["groups"])) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="k must be"):
        GraphPartitioning(g, 1)


@pytest.mark.parametrize("cls", [AffinityClustering, GraphPartitioning])
def test_graph_and_k_are_checked_before_use(cls):
    with pytest.raises(TypeError, match="graph must be a networkx Graph"):
        cls(None, 2)
    with pytest.raises(ValueError, match="k must be an int ≥ 2"):
        cls(nx.path_graph(4), 0)
    with pytest.raises(TypeError, match="k must be an int ≥ 2"):
        cls(nx.path_graph(4), "2")
    with pytest.raises(ValueError, match="graph has no nodes"):
        cls(nx.Graph(), 2)


@pytest.mark.parametrize("make", [MaxCut, lambda g: GraphPartitioning(g, 2), lambda g: AffinityClustering(g, 2)])
@pytest.mark.parametrize("graph", [nx.DiGraph([(0, 1), (1, 2)]), nx.MultiGraph([(0, 1), (0, 1), (1, 2)])])
def test_graph_problems_share_maxcut_graph_checks(make, graph):
    with pytest.raises(TypeError, match="undirected simple"):
        qiopt.model.maxcut_bqm(graph)
    with pytest.raises(TypeError, match="undirected simple"):
        make(graph)


def test_maxcut_model_is_maxcut_bqm_and_class_is_honest():
    g = nx.barbell_graph(3, 1)
    for k, (u, v) in enumerate(g.edges):
        g[u][v]["weight"] = k + 1.0
    p = MaxCut(g)
    bqm, spin = p.to_bqm(), qiopt.model.maxcut_bqm(g)
    total = sum(w for _, _, w in g.edges(data="weight"))
    assert bqm.vartype is dimod.BINARY and list(bqm.variables) == p.labels == [("x", t) for t in g.nodes]
    assert p.constraints == [] and p.penalties == {}
    assert p.objective_bqm.variables == bqm.variables
    for bits in itertools.product((0, 1), repeat=len(g)):
        sample = dict(zip(p.labels, bits, strict=True))
        spins = {t: 2 * x - 1 for (_, t), x in sample.items()}
        sol = p.decode(sample)
        assert bqm.energy(sample) == pytest.approx((spin.energy(spins) - total) / 2)
        assert sol.objective == pytest.approx(bqm.energy(sample)) == pytest.approx(-sol.details["cut"])
    with pytest.raises(ValueError, match="no value for model variable"):
        p.decode({})


def test_load_balancing_total_capacity_message():
    with pytest.raises(ValueError, match="total load 5 exceeds total capacity 4; add workers"):
        LoadBalancing([{"id": "w1", "capacity": 2}, {"id": "w2", "capacity": 2}],
                      [{"id": "a", "load": 2}, {"id": "b", "load": 2}, {"id": "c"}])


def test_load_balancing_format_plan_without_optional_fields():
    p = LoadBalancing([{"id": "w1"}, {"id": "w2", "name": "Second", "capacity": 3}], [{"id": "t1"}, {"id": "t2"}])
    plan = p.format_plan(Solution({"t1": "w1", "t2": "w2"}, 0.0))   # hand-made: no details
    assert "no cap" in plan and "Second" in plan and "migrations" not in plan.splitlines()[-1]
    rows = {line.split()[0]: line.split() for line in plan.splitlines()[2:4]}
    assert rows["w1"][1:] == ["-", "1", "no", "cap", "1"] and rows["Second"][1:] == ["-", "1", "3", "1"]
    q = LoadBalancing.from_dict(LB)
    sol = q.evaluate({f"t{i}": "w2" if i == 4 else "w1" for i in range(5)})
    plan = q.format_plan(sol)
    assert "migrations (1): t4: w1 -> w2" in plan and "(feasible)" in plan
    assert "unassigned: t0" in q.format_plan(q.evaluate({f"t{i}": "w1" for i in range(1, 5)}))


def test_library_code_has_no_assert():
    root = Path(qiopt.__file__).parent
    for path in [*sorted((root / "problems").glob("*.py")), root / "constraints.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)], path


def test_load_balancing_from_arrays_and_worker_dependent_loads():
    p = LoadBalancing.from_arrays(np.array([3.0, 2.0, 2.0, 1.0]), speed=[1.0, 2.0], current=[0, 0, 0, -1],
                                  migration_cost=[0.5, 0.1, 0.1, 0.0])
    assert p.arrays.factored and p.current.tolist() == [0, 0, 0, -1]
    sol = qiopt.solve(p, seed=1).solution
    assert sol.feasible and sol.objective <= p.reference("greedy").objective + 1e-9
    dep = LoadBalancing.from_arrays(np.array([[1.0, np.inf], [2.0, 1.0]]), capacity=[5.0, 5.0])
    assert not dep.arrays.factored and dep.arrays.eligible.tolist() == [[True, False], [True, True]]
    assert qiopt.solve(dep, seed=1).solution.assignment["t0"] == "w0"
    with pytest.raises(ValueError, match="agree on the number of workers"):
        LoadBalancing.from_arrays(np.ones(3))
    with pytest.raises(ValueError, match="worker positions"):
        LoadBalancing.from_arrays(np.ones(2), speed=[1.0], current=[0, 3])
    with pytest.raises(ValueError, match="unknown worker 'zz'"):
        LoadBalancing.from_dict({"workers": [{"id": "w"}], "tasks": [{"id": "t", "load": {"zz": 1}}]})
