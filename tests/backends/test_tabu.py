"""The "tabu" backend: contract, quality against the exact solver, seeds and threads, warm starts, deadlines,
restarts, thresholds, bad options, and the tabu_polish stage."""

import time

import dimod
import dimod.testing
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.backends.annealing.kernels import steepest_descent
from qiopt.backends.tabu import tabu_polish
from qiopt.model import CompactModel
from qiopt.testing import random_bqm

FAST = {"num_reads": 4, "num_iterations": 1000, "stall_iterations": 200}


@pytest.mark.parametrize("selection", ["tree", "scan"])
def test_both_move_selections_find_optimum_of_a_frustrated_ring(selection):
    bqm = dimod.generators.frustrated_loop(nx.cycle_graph(16), 8, seed=3)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    sampleset = qiopt.get_backend("tabu", seed=1, move_selection=selection).sample(bqm)
    assert sampleset.first.energy == pytest.approx(exact)
    assert sampleset.info["move_selection"] == selection


def test_auto_selection_follows_density():
    tabu = qiopt.get_backend("tabu", **FAST, seed=0)
    sparse = dimod.generators.ran_r(1, nx.random_regular_graph(3, 600, seed=1), seed=1)
    assert tabu.sample(sparse).info["move_selection"] == "tree"
    assert tabu.sample(dimod.generators.ran_r(1, 60, seed=1)).info["move_selection"] == "scan"


@pytest.mark.parametrize("selection", ["tree", "scan"])
def test_same_seed_same_samples_whatever_num_threads(selection):
    bqm = random_bqm(60, "SPIN", seed=5, density=0.2)
    runs = [qiopt.get_backend("tabu", seed=11, num_reads=6, num_iterations=3000, stall_iterations=300,
                              move_selection=selection, num_threads=t).sample(bqm) for t in (1, 2, 1)]
    for other in runs[1:]:
        assert np.array_equal(runs[0].record.sample, other.record.sample)
        assert runs[0].info["iterations"] == other.info["iterations"]
    assert runs[0].info["restarts"] > 0
    different = qiopt.get_backend("tabu", seed=12, num_reads=6, num_iterations=30, tenure=0,
                                  move_selection=selection).sample(bqm)
    first = qiopt.get_backend("tabu", seed=11, num_reads=6, num_iterations=30, tenure=0,
                              move_selection=selection).sample(bqm)
    assert not np.array_equal(first.record.sample, different.record.sample)


def _local_minimum(bqm, seed):
    """A one-flip local minimum of ``bqm`` that is not a ground state, as a sample dict."""
    cm = CompactModel.from_bqm(bqm)
    states = (2 * np.random.default_rng(seed).integers(0, 2, (200, cm.num_variables)) - 1).astype(np.int8)
    steepest_descent(cm, states)
    energies = cm.energies(states)
    row = states[int(np.argmax(energies))]
    assert energies.max() > energies.min() + 1e-6
    return dict(zip(cm.labels, cm.to_vartype(row[None])[0].tolist(), strict=True))


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_initial_states_start_the_reads(vartype):
    bqm = random_bqm(40, vartype, seed=7, density=0.3)
    start = _local_minimum(bqm, seed=1)
    # one flip from a local minimum cannot improve it: the read returns its start, untouched
    out = qiopt.get_backend("tabu", initial_states=start, initial_states_generator="tile", num_reads=3,
                            num_iterations=1, seed=0).sample(bqm)
    assert all(dict(zip(out.variables, row, strict=True)) == start for row in out.record.sample)
    # a longer search from it never returns worse than it
    longer = qiopt.get_backend("tabu", initial_states=start, num_reads=1, num_iterations=500, seed=0).sample(bqm)
    assert longer.first.energy <= bqm.energy(start) + 1e-9


def test_initial_states_are_not_mutated():
    bqm = random_bqm(20, "SPIN", seed=3)
    start = -np.ones((2, 20), dtype=np.int8)
    qiopt.get_backend("tabu", **FAST, initial_states=start, seed=0).sample(bqm)
    assert (start == -1).all()


def test_time_limit_bounds_a_call_that_would_take_much_longer():
    bqm = dimod.generators.ran_r(1, 1500, seed=1)  # dense: a default read alone takes many seconds
    tabu = qiopt.get_backend("tabu", seed=1, num_reads=4)
    tabu.sample(bqm, num_iterations=10)  # compiled
    started = time.perf_counter()
    sampleset = tabu.sample(bqm, time_limit=0.3, num_iterations=10**9)
    assert time.perf_counter() - started < 1.5
    assert sampleset.info["stopped_by_time_limit"] and len(sampleset) == 4
    unbounded = tabu.sample(random_bqm(30, "SPIN", seed=2), time_limit=0.3)
    assert unbounded.info["num_iterations"] is None and unbounded.info["restarts"] > 0


def test_energy_threshold_ends_a_timed_call_early():
    bqm = random_bqm(14, "SPIN", seed=4)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    started = time.perf_counter()
    sampleset = qiopt.get_backend("tabu", seed=2, time_limit=20, energy_threshold=exact + 1e-9).sample(bqm)
    assert time.perf_counter() - started < 5
    assert sampleset.info["reads_reached_threshold"] >= 1 and not sampleset.info["stopped_by_time_limit"]
    assert sampleset.first.energy == pytest.approx(exact)


def test_num_restarts_caps_restarts():
    bqm = random_bqm(30, "SPIN", seed=6, density=0.3)
    tabu = qiopt.get_backend("tabu", seed=3, num_reads=2, stall_iterations=50, num_iterations=10**6)
    assert tabu.sample(bqm, num_restarts=0).info["restarts"] == 0
    assert tabu.sample(bqm, num_restarts=3).info["restarts"] == 6
    assert tabu.sample(bqm, num_restarts=None, num_iterations=5000).info["restarts"] > 6


def test_huge_biases_keep_the_optimum():
    bqm = dimod.BQM({0: 1e300, 1: -1e-300, 2: 3e299}, {(0, 1): 2e300, (1, 2): -1e300}, 0.0, "SPIN")
    exact = dimod.ExactSolver().sample(bqm).first.energy
    assert qiopt.get_backend("tabu", **FAST, seed=0).sample(bqm).first.energy == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("options, match", [
    ({"num_reads": 0}, "num_reads"),
    ({"tenure": -1}, "tenure"),
    ({"num_iterations": 0}, "num_iterations"),
    ({"stall_iterations": 1.5}, "stall_iterations"),
    ({"num_restarts": -2}, "num_restarts"),
    ({"perturbation": 0.0}, "perturbation"),
    ({"perturbation": 1.5}, "perturbation"),
    ({"energy_threshold": float("nan")}, "energy_threshold"),
    ({"move_selection": "heap"}, "move_selection"),
    ({"time_limit": 0}, "time_limit"),
])
def test_bad_options_named(options, match):
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("tabu", **options)


@pytest.mark.parametrize("options, match", [
    ({"tenure": 3}, "tenure"),
    ({"initial_states": {"x": 1}}, "initial_states"),
    ({"initial_states": {"a": 1, "b": 0, "c": 2}}, "initial_states"),
    ({"initial_states": {"a": 1, "b": 0, "c": 0}, "initial_states_generator": "none"}, "initial_states"),
])
def test_bad_options_at_sample_time_named(options, match):
    bqm = dimod.BQM({"a": 1.0, "b": -1.0, "c": 0.5}, {("a", "b"): 0.5}, 0.0, "BINARY")
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("tabu", num_reads=2, **options).sample(bqm)


def test_tabu_polish_improves_and_never_worsens():
    cm = CompactModel.from_bqm(random_bqm(80, "SPIN", seed=9, density=0.2))
    rng = np.random.default_rng(0)
    states = (2 * rng.integers(0, 2, (6, 80)) - 1).astype(np.int8)
    steepest_descent(cm, states)  # already local minima: polish must go further or stay
    before = cm.energies(states)
    one, two = states.copy(), states.copy()
    tabu_polish(cm, one, iterations=2000, seed=4, num_threads=1)
    tabu_polish(cm, two, iterations=2000, seed=4, num_threads=2)
    assert np.array_equal(one, two)
    after = cm.energies(one)
    assert (after <= before + 1e-9).all() and (after < before - 1e-9).any()


def test_tabu_polish_rejects_bad_input():
    cm = CompactModel.from_bqm(random_bqm(5, "SPIN", seed=1))
    with pytest.raises(ValueError, match="states"):
        tabu_polish(cm, np.ones((2, 5), dtype=np.int64), iterations=10)
    with pytest.raises(ValueError, match="iterations"):
        tabu_polish(cm, np.ones((2, 5), dtype=np.int8), iterations=-1)
    with pytest.raises(ValueError, match="tenure"):
        tabu_polish(cm, np.ones((2, 5), dtype=np.int8), iterations=10, tenure=-1)
