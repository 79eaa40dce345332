"""``qiopt.solve_many`` on a Dask ``LocalCluster``: 1 worker against 2 (one thread each), same answers as local.

Run: ``python benchmarks/bench_dask.py [--problems 8] [--tasks 200] [--agents 20]``.

Seeded ``TaskAllocation.random`` problems (tightness 0.9, affinities), each one ``qiopt.solve`` call with its
own seed and default options (no time limit, so the answer depends on the seed only). Each cluster is started
and warmed up (every worker compiles the kernels on one small solve) before the timed run; the wall time is the
``solve_many`` call alone. The answers are compared with local ``qiopt.solve`` calls with the same seeds.
"""

from __future__ import annotations

import argparse
import time

import distributed

import qiopt
from qiopt.problems import TaskAllocation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    args = parser.parse_args()
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


if __name__ == "__main__":
    print("| cluster | wall of solve_many | answers |\n|---|---|---|")
    main()
