"""``qiopt.solve_many`` on a Dask ``LocalCluster``: 1 worker against 2 (one thread each), same answers as local;
with ``--overhead``, what one task costs (the figures of the scaling plan in ``docs/scaling.md``).

Run: ``python benchmarks/bench_dask.py [--problems 8] [--tasks 200] [--agents 20] [--overhead]``.

``--overhead`` measures, on a 2-worker cluster: the round trip of a trivial solve task (submit to result, median
of 50), the bytes a task sends and gets back (pickled model and Result) for a 200 × 20 allocation, a 1,000 × 50
allocation and a 20,000-node sparse BQM, and one ``qiopt.solve(..., executor=client)`` spread over both workers
against the same solve on one local thread at equal ``time_limit``.

Seeded ``TaskAllocation.random`` problems (tightness 0.9, affinities), each one ``qiopt.solve`` call with its
own seed and default options (no time limit, so the answer depends on the seed only). Each cluster is started
and warmed up (every worker compiles the kernels on one small solve) before the timed run; the wall time is the
``solve_many`` call alone. The answers are compared with local ``qiopt.solve`` calls with the same seeds.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time

import distributed
import networkx as nx

import qiopt
from qiopt.problems import TaskAllocation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--overhead", action="store_true", help="per-task costs instead (see above)")
    args = parser.parse_args()
    if args.overhead:
        overhead()
        return
    print("| cluster | wall of solve_many | answers |\n|---|---|---|")
    problems = [TaskAllocation.random(args.tasks, args.agents, tightness=0.9, seed=s) for s in range(args.problems)]
    seeds = list(range(100, 100 + args.problems))
    qiopt.solve(TaskAllocation.random(6, 2, seed=0), num_sweeps=10)
    local = [qiopt.solve(p, seed=s, num_threads=1) for p, s in zip(problems, seeds, strict=True)]
    walls = {}
    for workers in (1, 2):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        with distributed.Client(cluster) as client:
            qiopt.solve_many([TaskAllocation.random(6, 2, seed=k) for k in range(workers)], seed=0, executor=client,
                             num_sweeps=10)  # every worker compiles the kernels
            t = time.perf_counter()
            results = qiopt.solve_many(problems, seeds=seeds, executor=client)
            walls[workers] = time.perf_counter() - t
        cluster.close()
        same = all(r.solution.assignment == q.solution.assignment for r, q in zip(results, local, strict=True))
        print(f"| {workers} worker{'s' if workers > 1 else ''} × 1 thread | {walls[workers]:.2f} s | "
              f"{'same as local' if same else 'DIFFERENT from local'} |", flush=True)
    print(f"| speed-up 2 vs 1 | {walls[1] / walls[2]:.2f}× | |")


def overhead() -> None:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    tiny = nx.cycle_graph(4)
    with distributed.Client(cluster) as client:
        qiopt.solve_many([tiny, tiny], seed=0, executor=client)  # compile on both workers
        trips = []
        for k in range(50):
            t = time.perf_counter()
            client.submit(qiopt.solve, tiny, seed=k, num_reads=1, num_sweeps=1, pure=False).result()
            trips.append(time.perf_counter() - t)
        print("| what | value |\n|---|---|")
        print(f"| round trip of a trivial solve task (median of 50) | {1e3 * statistics.median(trips):.1f} ms |")
        sparse = nx.random_regular_graph(3, 20_000, seed=1)
        for name, model in (("TaskAllocation 200 × 20", TaskAllocation.random(200, 20, seed=1)),
                            ("TaskAllocation 1,000 × 50", TaskAllocation.random(1000, 50, seed=1)),
                            ("max-cut BQM, 20,000 nodes, degree 3", sparse)):
            result = qiopt.solve(model, seed=1, time_limit=1.0, num_threads=1)
            print(f"| {name}: task sends / gets back | {len(pickle.dumps(model)) / 1e6:.2f} MB / "
                  f"{len(pickle.dumps(result)) / 1e6:.2f} MB |", flush=True)
        graph = nx.random_regular_graph(3, 2000, seed=2)
        for limit in (1.0, 4.0):
            local = qiopt.solve(graph, seed=3, time_limit=limit, num_threads=1)
            t = time.perf_counter()
            spread = qiopt.solve(graph, seed=3, time_limit=limit, executor=client)
            wall = time.perf_counter() - t
            print(f"| 2,000-node max-cut, time_limit={limit:g}: best energy, local on 1 thread / spread on 2 "
                  f"workers | {local.best_energy:.0f} / {spread.best_energy:.0f} (spread wall {wall:.2f} s) |",
                  flush=True)
    cluster.close()


if __name__ == "__main__":
    main()
