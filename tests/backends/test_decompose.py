"""The decomposition backend: its compiled pieces against brute force, the merge never worsening the state,
replay across thread counts and executors, and its options. The family file runs dimod's kit and the exact
optimum of small models on it."""

from concurrent.futures import ThreadPoolExecutor

import dimod
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.backends.decomposition import regions
from qiopt.backends.decomposition.rounds import choose_regions
from qiopt.backends.decomposition.sampler import DecompositionBackend
from qiopt.model import CompactModel
from qiopt.testing import random_bqm


def _model(n=60, seed=0, density=0.1):
    return CompactModel.from_bqm(random_bqm(n, "SPIN", seed=seed, density=density))


def _state(n, seed):
    return (2 * np.random.default_rng(seed).integers(0, 2, n) - 1).astype(np.int8)


def test_flip_costs_are_the_energy_change_of_each_flip():
    cm = _model()
    s = _state(cm.num_variables, 1)
    cost = regions.flip_costs(cm.h, cm.indptr, cm.indices, cm.data, s)
    flipped = np.repeat(s[None], cm.num_variables, axis=0)
    flipped[np.arange(cm.num_variables), np.arange(cm.num_variables)] *= -1
    np.testing.assert_allclose(cost, cm.energies(flipped) - cm.energies(s[None])[0], atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_a_grown_region_is_connected_sorted_bounded_and_skips_busy_variables(seed):
    graph = nx.random_regular_graph(3, 200, seed=seed)
    cm = CompactModel.from_bqm(dimod.generators.ran_r(1, graph, seed=seed))
    s = _state(200, seed)
    cost = regions.flip_costs(cm.h, cm.indptr, cm.indices, cm.data, s)
    busy = np.zeros(200, np.int8)
    busy[np.random.default_rng(seed).choice(200, 30, replace=False)] = 1
    start = int(np.flatnonzero(busy == 0)[0])
    mark = np.zeros(200, np.int8)
    region = regions.grow_region(cm.indptr, cm.indices, cost, busy, start, 25, mark)
    assert 1 <= len(region) <= 25 and start in region
    assert np.all(np.diff(region) > 0) and not busy[region].any() and not mark.any()
    assert nx.is_connected(graph.subgraph(region.tolist()))
    assert regions.grow_region(cm.indptr, cm.indices, cost, busy, int(np.flatnonzero(busy)[0]), 25, mark).size == 0


@pytest.mark.parametrize("seed", range(4))
def test_the_clamped_sub_model_and_the_merge_delta_are_exact(seed):
    cm = _model(seed=seed, density=0.2)
    n = cm.num_variables
    s = _state(n, seed)
    region = np.sort(np.random.default_rng(seed).choice(n, 15, replace=False)).astype(np.int32)
    pos = np.full(n, -1, np.int32)
    h, ptr, idx, val, current = regions.extract(cm.h, cm.indptr, cm.indices, cm.data, s, region, pos)
    assert (pos == -1).all()
    np.testing.assert_array_equal(current, s[region])
    sub = CompactModel(labels=range(len(region)), vartype=dimod.SPIN, h=h, indptr=ptr, indices=idx, data=val,
                       offset=0.0)
    for trial in range(5):
        new = _state(len(region), 100 + trial)
        whole = s.copy()
        whole[region] = new
        change = cm.energies(whole[None])[0] - cm.energies(s[None])[0]
        assert sub.energies(new[None])[0] - sub.energies(current[None])[0] == pytest.approx(change, abs=1e-9)
        assert regions.region_delta(cm.h, cm.indptr, cm.indices, cm.data, s, region, new, pos) == \
            pytest.approx(change, abs=1e-9)
        assert (pos == -1).all()


def _glass(side=20, seed=0):
    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side, periodic=True))
    return dimod.generators.ran_r(1, graph, seed=seed)


def test_decomposition_improves_on_its_start_and_reports_where_the_answer_came_from():
    bqm = _glass()
    sampleset = qiopt.get_backend("decompose", seed=3, start_sweeps=20, subproblem_size=50).sample(bqm)
    info = sampleset.info["decomposition"]
    assert info["energy"] == pytest.approx(sampleset.first.energy)  # the merged energy is tracked exactly
    assert info["energy"] < info["start_energy"] and info["merged"] > 0
    assert info["subproblems"] == info["rounds"] * 8 and info["where"] == "threads"
    assert len(sampleset) == 2  # the decomposed read first, then the other start read


def test_a_warm_start_is_never_made_worse():
    bqm = _glass(seed=1)
    good = qiopt.get_backend("sa", seed=1, num_reads=1, num_sweeps=2000).sample(bqm).first
    sampleset = qiopt.get_backend("decompose", seed=2, num_reads=1, initial_states=good.sample,
                                  subproblem_size=30, subproblem_sweeps=50).sample(bqm)
    assert sampleset.first.energy <= good.energy
    assert sampleset.info["decomposition"]["start_energy"] <= good.energy  # descended, not annealed away


def test_same_seed_same_answer_on_any_thread_count_and_on_an_executor():
    bqm = _glass(seed=2)
    options = {"seed": 5, "start_sweeps": 20, "subproblem_size": 40, "num_rounds": 6}
    one = qiopt.get_backend("decompose", num_threads=1, **options).sample(bqm)
    two = qiopt.get_backend("decompose", num_threads=2, **options).sample(bqm)
    with ThreadPoolExecutor(3) as pool:
        remote = DecompositionBackend(executor=pool, subproblems_per_round=8, **options).sample(bqm)
        solved = qiopt.solve(bqm, backend="decompose", executor=pool, subproblems_per_round=8, **options)
    for other in (two, remote):
        np.testing.assert_array_equal(one.record.sample, other.record.sample)
    assert remote.info["decomposition"]["where"] == "ThreadPoolExecutor"
    assert solved.info["decomposition"]["where"] == "ThreadPoolExecutor"
    assert solved.best_energy == one.first.energy


def test_time_limit_ends_the_rounds():
    bqm = _glass(side=40)
    sampleset = qiopt.get_backend("decompose", seed=1, time_limit=0.5, subproblem_size=100).sample(bqm)
    info = sampleset.info["decomposition"]
    assert info["stopped_by_time_limit"] and info["rounds"] >= 1
    assert info["start_seconds"] + info["rounds_seconds"] < 5.0  # generous: the promise is benchmarked


def test_regions_span_components_smaller_than_their_size():
    graph = nx.disjoint_union_all([nx.cycle_graph(5) for _ in range(40)])
    cm = CompactModel.from_bqm(dimod.generators.ran_r(1, graph, seed=0))
    busy, mark = np.zeros(200, np.int8), np.zeros(200, np.int8)
    chosen = choose_regions(cm, np.zeros(200), busy, mark, np.random.default_rng(1), 30, 3)
    assert [len(region) for region in chosen] == [30, 30, 30]
    assert len(set(np.concatenate(chosen).tolist())) == 90 and busy.sum() == 90 and not mark.any()


def test_an_untimed_run_stops_after_a_cover_of_rounds_that_merge_nothing():
    ferromagnet = dimod.BQM({}, {edge: -1.0 for edge in nx.grid_2d_graph(10, 10).edges}, 0.0, "SPIN")
    info = qiopt.get_backend("decompose", seed=1).sample(ferromagnet).info["decomposition"]
    assert info["merged"] == 0 and info["rounds"] == 1  # the start is the ground state; one region covers all


def test_the_default_round_grows_with_an_executor_and_the_users_states_are_kept():
    bqm = _glass(side=10)
    warm = np.ones((1, 100), dtype=np.int8)
    labels = list(bqm.variables)
    with ThreadPoolExecutor(6) as pool:
        sampleset = DecompositionBackend(executor=pool, seed=1, num_rounds=1, subproblem_size=10,
                                         initial_states=(warm, labels)).sample(bqm)
    assert sampleset.info["decomposition"]["subproblems_per_round"] == 12
    assert (warm == 1).all()


class _Failing:
    """An executor whose third task fails."""

    def __init__(self):
        self.pool, self.calls = ThreadPoolExecutor(2), 0

    def submit(self, fn, *args):
        self.calls += 1
        return self.pool.submit(_boom if self.calls == 3 else fn, *args)


def _boom(*args):
    raise RuntimeError("worker lost")


def test_a_failed_sub_problem_fails_the_call_and_a_bad_executor_is_named():
    failing = _Failing()
    with failing.pool, pytest.raises(RuntimeError, match="worker lost"):
        DecompositionBackend(executor=failing, seed=1, subproblem_size=20, num_rounds=2).sample(_glass(side=10))
    with pytest.raises(TypeError, match="submit"):
        DecompositionBackend(executor=object())


@pytest.mark.parametrize(("options", "match"), [
    ({"subproblem_size": 0}, "subproblem_size"), ({"reheat": -1.0}, "reheat"),
    ({"subproblems_per_round": 1.5}, "subproblems_per_round"), ({"num_rounds": 0}, "num_rounds"),
    ({"start_share": 0.0}, "start_share"), ({"subproblem_reads": 0}, "subproblem_reads"),
    ({"start_sweeps": -5}, "start_sweeps"),
])
def test_bad_options_are_named(options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        qiopt.get_backend("decompose", **options)
