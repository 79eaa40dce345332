"""The "auto" portfolio: its rules, its split of the budget, its deadline and where its answer came from."""


import dimod
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.backends.portfolio import features, plan
from qiopt.model import CompactModel
from qiopt.testing import random_bqm


def test_small_models_are_enumerated_and_the_answer_is_the_optimum():
    bqm = random_bqm(12, "BINARY", seed=3)
    sampleset = qiopt.get_backend("auto", time_limit=0.5, seed=1).sample(bqm)
    assert sampleset.info["answered_by"] == "exact"
    assert sampleset.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)


def test_members_run_side_by_side_and_the_best_is_kept():
    bqm = qiopt.model.maxcut_bqm(nx.random_regular_graph(3, 120, seed=2))
    sampleset = qiopt.get_backend("auto", members=["sa", "tabu"], time_limit=0.6, seed=4, num_threads=2).sample(bqm)
    report = {entry["backend"]: entry for entry in sampleset.info["portfolio"]}
    assert set(report) == {"sa", "tabu"}
    assert all(entry["num_threads"] == 1 for entry in report.values())  # one thread each, both at once
    best = min(entry["best_energy"] for entry in report.values())
    assert sampleset.first.energy == pytest.approx(best)
    assert report[sampleset.info["answered_by"]]["best_energy"] == pytest.approx(best)
    np.testing.assert_allclose(sampleset.record.energy, bqm.energies(sampleset))


@pytest.mark.parametrize(("members", "threads"), [(["sa", "tabu"], 1), (["sa", "tabu", "pt"], 2)])
def test_more_members_than_threads_share_the_budget_in_rounds(members, threads):
    bqm = random_bqm(40, "SPIN", seed=5)
    sampleset = qiopt.get_backend("auto", members=members, time_limit=0.8, num_threads=threads).sample(bqm)
    limits = [entry["time_limit"] for entry in sampleset.info["portfolio"]]
    rounds = -(-len(members) // threads)
    assert rounds * max(limits) <= 0.8 and len(set(limits)) == 1  # the rounds fit in the budget together


def test_a_seeded_portfolio_on_one_thread_replays():
    bqm = random_bqm(30, "SPIN", seed=6)
    runs = [qiopt.get_backend("auto", members=["sa"], seed=9, num_reads=4).sample(bqm) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].record.sample, runs[1].record.sample)


def test_without_time_limit_auto_runs_the_first_member_of_the_plan():
    bqm = random_bqm(60, "SPIN", seed=7)
    sampleset = qiopt.get_backend("auto", seed=2).sample(bqm)
    assert [entry["backend"] for entry in sampleset.info["portfolio"]] == [plan(
        features(CompactModel.from_bqm(bqm)), None, 2)[0][0]]


def test_constrained_models_go_to_the_allocation_engine():
    problem = qiopt.problems.TaskAllocation.random(20, 4, seed=3)
    result = qiopt.solve(problem, backend="auto", time_limit=1.0, seed=1)
    assert result.solution.feasible
    assert result.sampleset.info["answered_by"] == "sa" and "stages" in result.sampleset.info


@pytest.mark.parametrize(("members", "message"), [
    (["auto"], "cannot be a portfolio member"), (["exact"], "cannot be a portfolio member"),
    (["sa", "sa"], "twice"), (["nope"], "unknown backend"), ([], "non-empty"),
])
def test_bad_members_are_named(members, message):
    with pytest.raises(ValueError, match=message):
        qiopt.get_backend("auto", members=members)


def test_features_and_the_plan_follow_density_and_threads():
    cut = features(CompactModel.from_bqm(qiopt.model.maxcut_bqm(nx.cycle_graph(60))))
    assert cut["mean_degree"] == 2.0 and cut["density"] < 0.05
    assert plan(cut, 10.0, 2) == [("sa", {"num_sweeps": 10_000})]  # long anneals on sparse models
    assert [m for m, _ in plan(cut, 10.0, 4)] == ["sa", "pt"]
    dense = features(CompactModel.from_bqm(random_bqm(60, "SPIN", seed=1, density=0.5)))
    assert [m for m, _ in plan(dense, 10.0, 1)] == ["tabu", "pt"]
    assert [m for m, _ in plan(dense, 10.0, 8)] == ["tabu", "pt", "sa"]
    small = features(CompactModel.from_bqm(random_bqm(22, "SPIN", seed=1)))
    assert plan(small, None, 1) == plan(small, None, 4)  # untimed: the same plan on any thread count
