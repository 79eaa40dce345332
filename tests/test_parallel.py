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
    glass = nx.convert_node_labels_to_integers(nx.grid_2d_graph(16, 16, periodic=True))
    decompose = {"backend": "decompose", "seed": 4, "start_sweeps": 20, "subproblem_size": 40, "num_rounds": 3,
                 "subproblems_per_round": 8}
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        results = qiopt.solve_many(problems, seeds=[3, 4], executor=client, num_sweeps=200)
        portfolio = qiopt.solve(nx.random_regular_graph(3, 60, seed=1), backend="auto", members=["sa", "tabu"],
                                time_limit=1.0, seed=2, executor=client)
        decomposed = qiopt.solve(glass, executor=client, **decompose)
    cluster.close()
    assert decomposed.info["decomposition"]["where"] == "Client"  # sub-problems solved on the workers
    assert decomposed.best_energy == qiopt.solve(glass, **decompose).best_energy
    assert _answers(results) == _answers(local)
    assert all(r.info["options"]["num_threads"] == 1 for r in results)  # the worker's threads, not the machine's
    assert [task["backend"] for task in portfolio.info["spread"]] == ["sa", "tabu"]  # a member per worker
    assert portfolio.info["options"]["num_threads"] == 1


def test_one_solve_spread_over_an_executor_keeps_the_best_task():
    problem = TaskAllocation.random(30, 4, tightness=0.7, seed=2)
    with ThreadPoolExecutor(3) as pool:
        result = qiopt.solve(problem, seed=7, num_sweeps=200, executor=pool)
    tasks = result.info["spread"]
    assert len(tasks) == 3 and len({task["seed"] for task in tasks}) == 3 and all(t["status"] == "done" for t in tasks)
    assert result.solution.objective == min(task["objective"] for task in tasks if task["feasible"])
    winner = tasks[result.info["answered_by"]]
    again = qiopt.solve(problem, seed=winner["seed"], num_sweeps=200)  # each task is a plain seeded solve
    assert again.solution.assignment == result.solution.assignment


def test_a_spread_solve_keeps_its_deadline_and_says_what_was_cut():
    import time

    graph = nx.random_regular_graph(3, 300, seed=3)
    with ThreadPoolExecutor(2) as pool:
        t0 = time.perf_counter()
        result = qiopt.solve(graph, time_limit=0.5, seed=1, executor=pool)
        elapsed = time.perf_counter() - t0
    assert elapsed < 2.0  # generous: a deadline check, not a speed test
    assert all(task["status"] == "done" for task in result.info["spread"])
    with ThreadPoolExecutor(2) as pool:  # one member named by a plain string, as the option allows
        one = qiopt.solve(graph, backend="auto", members="sa", time_limit=0.3, seed=1, executor=pool)
    assert [task["backend"] for task in one.info["spread"]] == ["sa"]
    with pytest.raises(ValueError, match="'spark'"):
        qiopt.solve(graph, executor="spark")
