"""Benchmarks of the problem builders against HiGHS and the greedy baselines.

Run: ``python benchmarks/bench_problems.py [--instances N]``. Prints one markdown table. Times are whole
``qiopt.solve`` calls (model, anneal, polish, decode) after one untimed call that compiles the kernels; the
balancing rows use ``time_limit=2``, the allocation rows 32 reads × 1,000 sweeps.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import qiopt
from qiopt.problems import LoadBalancing, TaskAllocation


def allocation(tasks: int, agents: int, n: int, milp_limit: float) -> str:
    gaps, feasible, total, secs = [], 0, 0, []
    for seed in range(n):
        p = TaskAllocation.random(tasks, agents, tightness=0.9, seed=seed)
        t = time.perf_counter()
        result = qiopt.solve(p, backend="sa", seed=seed, num_reads=32, num_sweeps=1000)
        secs.append(time.perf_counter() - t)
        ref = p.reference("milp", time_limit=milp_limit)
        if not ref.feasible:
            continue
        total += 1
        feasible += result.solution.feasible
        gaps.append((result.solution.objective - ref.objective) / abs(ref.objective))
    return (f"| allocation {tasks}×{agents} | {feasible}/{total} feasible | mean gap to HiGHS "
            f"{100 * np.mean(gaps):.2f}% (max {100 * np.max(gaps):.2f}%) | {np.mean(secs):.2f} s |")


def balancing(skew: float | None) -> str:
    p = LoadBalancing.random(1000, 20, skew=skew, seed=1)
    t = time.perf_counter()
    sol = qiopt.solve(p, backend="sa", seed=1, time_limit=2.0).solution
    secs = time.perf_counter() - t
    lpt, greedy = p.reference("lpt"), p.reference("greedy")
    name = "from scratch" if skew is None else f"rebalance (skew {skew})"
    return (f"| balancing 1000×20 {name} | imbalance {sol.details['imbalance']:.5f} vs LPT "
            f"{lpt.details['imbalance']:.5f} | objective {sol.objective:.1f} vs LPT {lpt.objective:.1f}, "
            f"greedy {greedy.objective:.1f} (answer from: {sol.details['source']}) | {secs:.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=10)
    args = parser.parse_args()
    qiopt.solve(TaskAllocation.random(6, 2, seed=0), backend="sa", num_reads=1, num_sweeps=1)  # compile
    print("| case | feasibility / quality | vs reference | time (solve) |\n|---|---|---|---|")
    print(allocation(50, 10, args.instances, 30.0))
    print(allocation(200, 20, args.instances, 60.0))
    print(balancing(None))
    print(balancing(0.8))


if __name__ == "__main__":
    main()
