"""qiopt.solve_many: input order, seeds that give the same answers on local processes, threads and Dask, errors
that name the item."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import pytest

import qiopt
from qiopt.problems import LoadBalancing, TaskAllocation


def _problems() -> list:
    return [TaskAllocation.random(30, 4, seed=s) for s in range(3)] + [LoadBalancing.random(40, 4, skew=0.5, seed=1)]


def _answers(results) -> list:
    return [(r.solution.assignment, r.solution.objective) for r in results]


def test_processes_give_the_local_answers_in_order():
    problems = _problems()
    results = qiopt.solve_many(problems, seeds=[11, 12, 13, 14], num_sweeps=200)
    local = [qiopt.solve(p, seed=s, num_sweeps=200) for p, s in zip(problems, [11, 12, 13, 14], strict=True)]
    assert _answers(results) == _answers(local)
    assert results[0].model.label(0) == local[0].model.label(0)  # the model travelled back too


def test_threads_and_derived_seeds_replay():
    graphs = [nx.random_regular_graph(3, 16, seed=k) for k in range(4)]
    with ThreadPoolExecutor(2) as pool:
        first = qiopt.solve_many(graphs, seed=5, executor=pool, num_reads=4)
        again = qiopt.solve_many(graphs, seed=5, executor=pool, num_reads=4)
    assert [r.best_sample for r in first] == [r.best_sample for r in again]
    assert len({r.info["options"]["seed"] for r in first}) == 4  # each item its own seed
    assert qiopt.solve_many([]) == []


def test_errors_name_the_item():
    with pytest.raises(ValueError, match="one entry per model"):
        qiopt.solve_many([nx.cycle_graph(4)], seeds=[1, 2])
    with pytest.raises(ValueError, match="'spark'"):
        qiopt.solve_many([nx.cycle_graph(4)], executor="spark")
    with pytest.raises(TypeError, match="submit"):
        qiopt.solve_many([nx.cycle_graph(4)], executor=object())
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="model 1"):
        qiopt.solve_many([nx.cycle_graph(4), {(0, 0): float("nan")}], executor=pool)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_answers():
    distributed = pytest.importorskip("distributed", reason="the 'distributed' extra")
    problems = _problems()[:2]
    local = [qiopt.solve(p, seed=s, num_sweeps=200) for p, s in zip(problems, [3, 4], strict=True)]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        results = qiopt.solve_many(problems, seeds=[3, 4], executor=client, num_sweeps=200)
    cluster.close()
    assert _answers(results) == _answers(local)
    assert all(r.info["options"]["num_threads"] == 1 for r in results)  # the worker's threads, not the machine's
