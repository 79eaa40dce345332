"""The allocation engine: exact optima on small instances, feasible reads, seeds, stages, warm starts."""

import itertools

import numpy as np
import pytest

import qiopt
from qiopt.backends.annealing.engine import anneal_constrained
from qiopt.problems import GraphPartitioning, LoadBalancing, TaskAllocation


def brute_force(p):
    best = None
    for combo in itertools.product(p.bins, repeat=len(p.items)):
        sol = p.evaluate(dict(zip(p.items, combo, strict=True)))
        if sol.feasible and (best is None or sol.objective < best):
            best = sol.objective
    return best


@pytest.mark.parametrize("seed", range(14))
def test_anneal_alone_finds_the_exact_optimum_on_small_instances(seed):
    p = TaskAllocation.random(7, 3, tightness=0.85, seed=seed)  # with affinities (a quadratic objective)
    optimum = brute_force(p)
    run = anneal_constrained(p.to_constrained(), num_reads=4, num_sweeps=400, seed=seed, polish=False)
    if optimum is None:  # seeds 1 and 13: no feasible answer exists, and none is claimed
        assert not run.feasible.any()
        return
    assert run.feasible.all()
    assert run.objective.min() == pytest.approx(optimum)


@pytest.mark.parametrize("seed", range(3))
def test_load_balancing_squared_loads_match_brute_force(seed):
    p = LoadBalancing.random(7, 3, skew=0.7, seed=seed)
    optimum = brute_force(p)
    result = qiopt.solve(p, seed=seed, num_reads=4, num_sweeps=400, polish=False)
    assert result.solution.objective == pytest.approx(optimum)
    assert result.solution.details["source"] == "greedy rebalance start + sa anneal"
    assert result.info["starts"] == ["greedy rebalance"] and result.info["options"]["initial_states"] is None
    scratch = LoadBalancing(p.worker_data, [{"id": r["id"], "load": r["load"]} for r in p.task_data])
    assert qiopt.solve(scratch, seed=seed, num_sweeps=400).solution.details["source"].startswith("lpt start")
    random_starts = qiopt.solve(p, seed=seed, num_reads=4, num_sweeps=400, polish=False, starts=False)
    assert "starts" not in random_starts.info and random_starts.solution.details["source"] == "sa anneal"
    assert random_starts.solution.objective == pytest.approx(optimum)


@pytest.mark.parametrize(("tasks", "agents"), [(50, 10), (200, 20)])
def test_anneal_alone_returns_feasible_reads(tasks, agents):
    p = TaskAllocation.random(tasks, agents, tightness=0.9, seed=1)
    run = anneal_constrained(p.to_constrained(), num_reads=8, num_sweeps=300, seed=1, polish=False)
    assert run.feasible.mean() >= 0.9
    assert run.info["stages"]["anneal"]["feasible_reads"] == run.feasible.sum()
    assert "polish" not in run.info["stages"]


def test_same_seed_same_answer_on_any_thread_count():
    cm = TaskAllocation.random(60, 6, seed=2).to_constrained()
    runs = [anneal_constrained(cm, num_reads=3, num_sweeps=100, seed=9, num_threads=t) for t in (1, 2, 3)]
    for run in runs[1:]:
        assert (run.states == runs[0].states).all()
    other = anneal_constrained(cm, num_reads=3, num_sweeps=100, seed=10)
    assert not (other.states == runs[0].states).all()


def test_energies_reported_equal_the_model_energies():
    p = TaskAllocation.random(40, 5, seed=3)
    cm = p.to_constrained()
    sampleset = qiopt.get_backend("sa", seed=1, num_reads=5, num_sweeps=50).sample_constrained(cm)
    states = sampleset.record.sample
    assert np.allclose(sampleset.record.energy, cm.energy(states))
    feasible, satisfied = cm.feasible_rows(states)
    assert (sampleset.record.is_feasible == feasible).all() and (sampleset.record.is_satisfied == satisfied).all()
    order = np.lexsort((sampleset.record.energy, ~sampleset.record.is_feasible))
    assert (order == np.arange(len(order))).all()  # best feasible first


def test_solution_reports_its_stages_and_honest_energy():
    p = TaskAllocation.random(80, 8, seed=4)
    result = qiopt.solve(p, seed=4, reference="milp")
    sol = result.solution
    assert sol.feasible and sol.details["source"].startswith("sa anneal")
    assert result.best_energy == pytest.approx(sol.energy) and sol.energy == pytest.approx(sol.objective)
    assert {"anneal_ns", "polish_ns", "decode_ns"} <= set(result.timing)
    assert result.info["stages"]["polish"]["rounds"] >= 1
    assert result.reference.feasible and 0.0 <= result.gap <= 0.02
    assert p.evaluate(sol.assignment).objective == pytest.approx(sol.objective)


def test_polish_can_be_turned_off_and_only_improves():
    cm = TaskAllocation.random(150, 10, seed=5).to_constrained()
    plain = anneal_constrained(cm, num_reads=2, num_sweeps=20, seed=1, polish=False)
    polished = anneal_constrained(cm, num_reads=2, num_sweeps=20, seed=1, polish=True)
    assert (polished.objective[plain.feasible] <= plain.objective[plain.feasible] + 1e-9).all()
    assert polished.info["stages"]["polish"]["moves"] > 0


def test_warm_start_is_used_and_checked():
    p = TaskAllocation.random(30, 4, seed=6)
    cm = p.to_constrained()
    warm = anneal_constrained(cm, num_reads=1, num_sweeps=300, seed=1).states
    cold_start = qiopt.get_backend("sa", seed=2, num_reads=1, num_sweeps=1, beta_range=(50.0, 50.0), polish=False)
    again = cold_start.sample_constrained(cm, initial_states=(warm, list(cm.sample_labels)))
    assert again.record.energy[0] == pytest.approx(cm.energy(warm[0]))
    bad = warm.copy()
    bad[0, :] = 0
    with pytest.raises(ValueError, match="one-hot group"):
        cold_start.sample_constrained(cm, initial_states=bad)


def test_partitioning_goes_through_the_engine():
    import networkx as nx

    result = qiopt.solve(GraphPartitioning(nx.barbell_graph(5, 0), 2), seed=1)
    assert result.solution.feasible and result.solution.objective == 1.0
    assert result.info["engine"] == "moves"


def test_other_backends_get_the_sound_qubo():
    p = TaskAllocation.random(4, 2, tightness=0.8, seed=7)
    result = qiopt.solve(p, backend="exact")
    assert result.solution.feasible and result.solution.objective == pytest.approx(brute_force(p))
    assert result.solution.details["source"].startswith("exact sample")


def test_concurrent_solves_share_the_thread_budget_and_keep_their_answers(monkeypatch):
    import threading

    from qiopt import threads as budget

    monkeypatch.setenv(budget.VARIABLE, "4")
    problems = [TaskAllocation.random(40, 5, seed=s) for s in range(4)]
    alone = [qiopt.solve(p, seed=s, num_sweeps=200) for s, p in enumerate(problems)]
    assert all(r.info["num_threads"] == 4 for r in alone)  # alone, a solve takes the whole budget
    together: list = [None] * 4
    workers = [threading.Thread(target=lambda k=k: together.__setitem__(
        k, qiopt.solve(problems[k], seed=k, num_sweeps=200))) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert [r.solution.assignment for r in together] == [r.solution.assignment for r in alone]
    monkeypatch.setenv(budget.VARIABLE, "zero")
    with pytest.raises(ValueError, match="QIOPT_NUM_THREADS"):
        qiopt.solve(problems[0], seed=0, num_sweeps=10)
