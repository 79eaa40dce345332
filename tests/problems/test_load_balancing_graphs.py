"""LoadBalancing and the graph problems: errors, figures, references."""

import networkx as nx
import pytest

import qiopt
from qiopt.problems import AffinityClustering, GraphPartitioning, LoadBalancing, MaxCut

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
    p = LoadBalancing.random(300, 20, skew=0.8, seed=1)
    assert len(p.labels) == 300 * 4
    sol = p.best_solution(qiopt.solve(p, backend="sa", seed=1, num_reads=2, num_sweeps=50).sampleset)
    assert sol.objective <= min(p.reference("lpt").objective, p.reference("greedy").objective)


def test_graph_problems():
    g = nx.barbell_graph(4, 0)
    assert qiopt.solve(MaxCut(g), backend="sa", seed=1).solution.details["cut"] == 9.0
    part = qiopt.solve(GraphPartitioning(g, 2), backend="sa", seed=1).solution
    assert part.objective == 1.0 and part.feasible
    clusters = qiopt.solve(AffinityClustering(g, 2), backend="sa", seed=1).solution
    assert sorted(map(sorted, clusters.details["groups"])) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="k must be"):
        GraphPartitioning(g, 1)
