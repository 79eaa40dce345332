"""The "pt" backend: contract, quality against the exact solver, seeds, warm starts, deadlines and bad input."""

import time

import dimod
import dimod.testing
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.backends.tempering.ladder import adapt
from qiopt.testing import planted_wishart, random_bqm

FAST = {"num_reads": 2, "num_sweeps": 100, "num_replicas": 8}


@pytest.mark.parametrize("cluster_moves", [True, False])
def test_sparse_frustrated_model_optimum_with_and_without_cluster_moves(cluster_moves):
    bqm = dimod.generators.frustrated_loop(nx.random_regular_graph(3, 16, seed=2), 10, seed=3)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    sampleset = qiopt.get_backend("pt", seed=4, num_reads=2, num_sweeps=300, cluster_moves=cluster_moves,
                                  polish=False).sample(bqm)
    assert sampleset.first.energy == pytest.approx(exact)
    assert sampleset.info["cluster_moves"] is cluster_moves
    assert sampleset.info["num_copies"] == (2 if cluster_moves else 1)
    if cluster_moves:
        stats = sampleset.info["cluster_stats"]
        assert stats["attempted"] == 2 * 300 * (sampleset.info["num_replicas"] // 2)  # 2 runs, the cold half
        assert 0 < stats["nontrivial"] <= stats["attempted"] and stats["mean_size"] >= 1


def test_auto_cluster_moves_follow_the_mean_degree():
    sparse = dimod.generators.ran_r(1, nx.path_graph(20), seed=1)
    dense = dimod.generators.ran_r(1, nx.random_regular_graph(3, 20, seed=1), seed=1)
    sampler = qiopt.get_backend("pt", seed=1, **FAST)
    assert sampler.sample(sparse).info["cluster_moves"] is True
    assert sampler.sample(dense).info["cluster_moves"] is False


def test_planted_wishart_ground_state():
    bqm, _, energy = planted_wishart(32, 0.75, seed=3)
    sampleset = qiopt.get_backend("pt", seed=1, num_reads=2, num_sweeps=1000).sample(bqm)
    assert sampleset.first.energy == pytest.approx(energy, abs=1e-9)


def test_same_seed_same_samples_whatever_num_threads():
    bqm = random_bqm(40, "SPIN", seed=5, density=0.1)
    runs = [qiopt.get_backend("pt", seed=11, num_reads=4, num_sweeps=200, num_threads=t, polish=False,
                                  cluster_moves=True).sample(bqm)
            for t in (1, 2, 1)]
    for other in runs[1:]:
        assert np.array_equal(runs[0].record.sample, other.record.sample)
        assert runs[0].info["ladder"] == other.info["ladder"]
    assert runs[0].info["cluster_moves"] is True
    other_seed = qiopt.get_backend("pt", seed=12, num_reads=4, num_sweeps=200, polish=False,
                                   cluster_moves=True).sample(bqm)
    assert other_seed.info["ladder"] != runs[0].info["ladder"]


def test_initial_states_seed_the_replicas_and_are_never_lost():
    bqm = random_bqm(14, "BINARY", seed=4)
    best = dimod.ExactSolver().sample(bqm).first.sample
    given = {v: int(x) for v, x in best.items()}
    sampleset = qiopt.get_backend("pt", initial_states=given, initial_states_generator="tile", num_reads=3,
                                  num_sweeps=1, beta_range=(0.01, 0.01), adapt_ladder=False, polish=False,
                                  seed=0).sample(bqm)
    assert all(dict(zip(sampleset.variables, row, strict=True)) == best for row in sampleset.record.sample)
    assert given == {v: int(x) for v, x in best.items()}  # not mutated


def test_initial_states_none_generator_needs_every_read():
    bqm = random_bqm(6, "SPIN", seed=1)
    with pytest.raises(ValueError, match="initial_states"):
        qiopt.get_backend("pt", initial_states={v: 1 for v in bqm.variables}, initial_states_generator="none",
                          **FAST).sample(bqm)


def test_time_limit_bounds_one_long_run_and_keeps_going():
    bqm = dimod.generators.ran_r(1, 1000, seed=1)  # dense: one run of 10**6 sweeps would take hours
    sampler = qiopt.get_backend("pt", seed=1, num_reads=2, num_sweeps=10**6, time_limit=0.3)
    sampler.sample(random_bqm(5, "SPIN", 1), time_limit=None, num_sweeps=1)  # load the compiled kernels first
    started = time.perf_counter()
    sampleset = sampler.sample(bqm)
    assert time.perf_counter() - started < 1.5
    assert sampleset.info["stopped_by_time_limit"] and len(sampleset) == 2
    continuing = qiopt.get_backend("pt", seed=1, num_reads=2, time_limit=0.3).sample(random_bqm(30, "SPIN", 1))
    assert continuing.info["num_sweeps_done"] > 1000 and continuing.info["num_batches"] == 1
    restarts = qiopt.get_backend("pt", seed=1, num_reads=2, num_sweeps=50, time_limit=0.3).sample(
        random_bqm(30, "SPIN", 1))
    assert restarts.info["num_batches"] > 1 and len(restarts) == 2


def test_polish_reaches_local_minimum():
    bqm = random_bqm(50, "SPIN", seed=3, density=0.3)
    sampleset = qiopt.get_backend("pt", seed=2, num_reads=3, num_sweeps=2, num_replicas=2).sample(bqm)
    for sample, energy in sampleset.data(["sample", "energy"]):
        for v in bqm.variables:
            assert bqm.energy({**sample, v: -sample[v]}) >= energy - 1e-9


def test_ladder_adapts_within_beta_range_and_trims_a_frozen_cold_end():
    bqm, _, _ = planted_wishart(24, 0.5, seed=1)  # continuous couplings: the default cold end is far too cold
    info = qiopt.get_backend("pt", seed=1, num_reads=1, num_sweeps=1000).sample(bqm).info
    ladder, (hot, cold) = np.array(info["ladder"]), info["beta_range"]
    assert info["ladder_adaptations"] == 4 and ladder[0] == hot and ladder[-1] < cold / 10
    assert (np.diff(ladder) > 0).all() and len(info["swap_acceptance"]) == len(ladder) - 1
    fixed = qiopt.get_backend("pt", seed=1, num_reads=1, num_sweeps=1000, beta_range=(0.1, 50.0)).sample(bqm)
    assert fixed.info["ladder"][0] == 0.1 and fixed.info["ladder"][-1] == 50.0


def test_adapt_equalises_acceptance():
    betas = np.geomspace(0.1, 10.0, 6)
    new = adapt(betas, np.array([0.95, 0.95, 0.95, 0.2, 0.2]), np.full(6, 10.0), trim_cold=True)
    assert new[0] == betas[0] and new[-1] == betas[-1]
    assert np.diff(np.log(new))[-1] < np.diff(np.log(betas))[-1]  # denser where swaps were rejected


@pytest.mark.parametrize("options, match", [
    ({"num_reads": 0}, "num_reads"),
    ({"num_sweeps": 2.5}, "num_sweeps"),
    ({"num_replicas": 1}, "num_replicas"),
    ({"num_replicas": True}, "num_replicas"),
    ({"beta_range": (5, 1)}, "beta_range"),
    ({"cluster_moves": "yes"}, "cluster_moves"),
    ({"cluster_moves": 1}, "cluster_moves"),
    ({"adapt_ladder": "no"}, "adapt_ladder"),
    ({"polish": None}, "polish"),
    ({"time_limit": -1}, "time_limit"),
    ({"seed": -1}, "seed"),
    ({"num_replica": 4}, "num_replica"),
])
def test_bad_options_named(options, match):
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("pt", **options)
