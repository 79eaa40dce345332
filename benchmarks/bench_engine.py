"""The allocation engine against HiGHS (``scipy.optimize.milp``) and the previous QUBO pipeline, side by side.

Run: ``python benchmarks/bench_engine.py [--instances N] [--quick]``. Prints markdown tables:

1. **1,000 × 50** (skills, capacities 30 % above total demand, random costs 1-10, no affinity): ``qiopt.solve(p,
   time_limit=2)`` wall time, feasibility and gap to the optimum HiGHS proves (its time beside it).
2. **50 × 10 and 200 × 20** (tightness 0.9, task-pair affinities): the engine at ``time_limit=2`` next to the
   previous pipeline (SA on the penalised QUBO, 32 reads × 1,000 sweeps, then decode, repair and local search,
   as landed before the engine) and HiGHS.
3. **Ablation** on 1,000 × 50 and tight 200 × 20: anneal alone (``polish=False``, no search stage), with the
   polish, and with polish and the problem's search stage (the default), at equal time limits; the share of
   reads the anneal alone leaves feasible.
4. **Affinities, 2,000 × 50 with 10,000 pairs** (a quadratic objective HiGHS must linearise): both given 10 s;
   HiGHS runs in a subprocess stopped after ``--hard`` seconds, as it does not always honour its limit there.

Every qiopt time is a whole ``qiopt.solve`` call after one untimed call that compiles the kernels.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

import qiopt
from qiopt.problems import TaskAllocation


def highs(p: TaskAllocation, limit: float | None) -> tuple[float | None, float, str]:
    t = time.perf_counter()
    ref = p.reference("milp", time_limit=limit)
    return (ref.objective if ref.feasible else None), time.perf_counter() - t, ref.details["reference"]["status"]


def timed_solve(p: TaskAllocation, seed: int, **options) -> tuple[qiopt.Result, float]:
    """``qiopt.solve`` timed."""
    t = time.perf_counter()
    result = qiopt.solve(p, seed=seed, **options)
    return result, time.perf_counter() - t


def gap(value: float | None, best: float) -> float:
    return float("nan") if value is None else 100.0 * (value - best) / abs(best)


def big_allocation(n: int) -> None:
    print("\n### Allocation 1,000 × 50, time_limit=2\n")
    print("| seed | wall (s) | feasible | gap to HiGHS optimum | HiGHS time to optimum (s) | source |\n"
          "|---|---|---|---|---|---|")
    gaps, walls = [], []
    for seed in range(n):
        p = TaskAllocation.random(1000, 50, tightness=1 / 1.3, affinity_pairs=0, seed=seed)
        optimum, secs, status = highs(p, None)
        result, wall = timed_solve(p, seed, time_limit=2.0)
        g = gap(result.solution.objective if result.solution.feasible else None, optimum)
        gaps.append(g)
        walls.append(wall)
        print(f"| {seed} | {wall:.2f} | {result.solution.feasible} | {g:.3f}% | {secs:.1f} ({status}) | "
              f"{result.solution.details['source']} |")
    print(f"| mean | {np.mean(walls):.2f} (max {np.max(walls):.2f}) | | {np.mean(gaps):.3f}% "
          f"(max {np.max(gaps):.3f}%) | | |")


def previous_pipeline(p: TaskAllocation, seed: int) -> tuple[float | None, float]:
    """SA on the penalised QUBO plus the problem's decode, repair and local search (the pre-engine solve)."""
    t = time.perf_counter()
    sampleset = qiopt.get_backend("sa", seed=seed, num_reads=32, num_sweeps=1000).sample(p.to_bqm())
    sol = p.best_solution(sampleset, seed=seed)
    return (sol.objective if sol.feasible else None), time.perf_counter() - t


def small_allocations(n: int) -> None:
    print("\n### 50 × 10 and 200 × 20 (tightness 0.9, affinities): engine vs the previous pipeline vs HiGHS\n")
    print("| case | engine, time_limit=2: mean gap (max), feasible, wall | previous pipeline: mean gap (max), "
          "feasible, wall | anneal alone (no polish, no search): mean gap, feasible reads |\n|---|---|---|---|")
    for tasks, agents in ((50, 10), (200, 20)):
        rows = {"engine": [], "previous": [], "alone": []}
        feasible_reads, walls = [], {"engine": [], "previous": []}
        counted = 0
        for seed in range(n):
            p = TaskAllocation.random(tasks, agents, tightness=0.9, seed=seed)
            optimum, _, _ = highs(p, 60.0)
            if optimum is None:
                continue
            counted += 1
            result, wall = timed_solve(p, seed, time_limit=2.0)
            rows["engine"].append(gap(result.solution.objective if result.solution.feasible else None, optimum))
            walls["engine"].append(wall)
            value, wall = previous_pipeline(p, seed)
            rows["previous"].append(gap(value, optimum))
            walls["previous"].append(wall)
            alone, _ = timed_solve(p, seed, search=False, time_limit=2.0, polish=False)
            rows["alone"].append(gap(alone.solution.objective if alone.solution.feasible else None, optimum))
            stage = alone.info["stages"]["anneal"]
            feasible_reads.append(stage["feasible_reads"] / stage["reads"])

        def cell(key: str, rows: dict[str, list[float]] = rows) -> str:
            g = np.array(rows[key])
            ok = np.isfinite(g)
            return f"{np.mean(g[ok]):.2f}% ({np.max(g[ok]):.2f}%), {ok.sum()}/{len(g)}"

        print(f"| {tasks}×{agents} ({counted} instances) | {cell('engine')}, {np.mean(walls['engine']):.2f} s | "
              f"{cell('previous')}, {np.mean(walls['previous']):.2f} s | {cell('alone')}, "
              f"{100 * np.mean(feasible_reads):.0f}% |")


def ablation(n: int) -> None:
    print("\n### Ablation (time_limit=2): what each stage adds\n")
    print("| instance | anneal alone, random starts: gap, feasible reads | anneal from the LP start: gap, feasible "
          "reads | + polish: gap | + polish + search (default): gap, source |\n|---|---|---|---|---|")
    cases = [(f"1000×50 seed {s}", TaskAllocation.random(1000, 50, tightness=1 / 1.3, affinity_pairs=0, seed=s))
             for s in range(n)]
    cases += [(f"200×20 tight seed {s}", TaskAllocation.random(200, 20, tightness=0.9, seed=s)) for s in range(n)]
    for name, p in cases:
        optimum, _, _ = highs(p, 60.0)
        alone, _ = timed_solve(p, 0, starts=False, search=False, time_limit=2.0, polish=False)
        started, _ = timed_solve(p, 0, search=False, time_limit=2.0, polish=False)
        polished, _ = timed_solve(p, 0, search=False, time_limit=2.0)
        full, _ = timed_solve(p, 0, time_limit=2.0)

        def reads(r: qiopt.Result) -> str:
            stage = r.info["stages"]["anneal"]
            return f"{stage['feasible_reads']}/{stage['reads']}"

        print(f"| {name} | {gap(alone.solution.objective, optimum):.3f}%, {reads(alone)} "
              f"| {gap(started.solution.objective, optimum):.3f}%, {reads(started)} "
              f"| {gap(polished.solution.objective, optimum):.3f}% | {gap(full.solution.objective, optimum):.3f}%, "
              f"{full.solution.details['source']} |")


_AFFINITY_HIGHS = """
import json, sys, time
from qiopt.problems import TaskAllocation
p = TaskAllocation.random(2000, 50, tightness=1 / 1.3, affinity_pairs=10_000, seed=int(sys.argv[1]))
t = time.perf_counter()
ref = p.reference("milp", time_limit=float(sys.argv[2]))
print(json.dumps({"objective": ref.objective if ref.feasible else None, "seconds": time.perf_counter() - t,
                  "status": ref.details["reference"]["status"]}))
"""


def highs_with_deadline(seed: int, limit: float, hard: float) -> tuple[float | None, float, str]:
    """HiGHS with ``time_limit=limit`` in a subprocess killed after ``hard`` seconds (HiGHS does not always
    honour its limit while it builds and presolves a large model)."""
    t = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-c", _AFFINITY_HIGHS, str(seed), str(limit)], capture_output=True,
                             text=True, timeout=hard, check=True)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t, f"no answer, stopped after {hard:.0f} s"
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return r["objective"], r["seconds"], r["status"]


def affinities(n: int, hard: float) -> None:
    print("\n### Affinities: 2,000 × 50, 10,000 task pairs, both given 10 s\n")
    print("| seed | qiopt objective (feasible, wall) | HiGHS at time_limit=10 (status, wall) | qiopt vs HiGHS |\n"
          "|---|---|---|---|")
    for seed in range(n):
        p = TaskAllocation.random(2000, 50, tightness=1 / 1.3, affinity_pairs=10_000, seed=seed)
        result, wall = timed_solve(p, seed, time_limit=10.0)
        value, secs, status = highs_with_deadline(seed, 10.0, hard)
        ours = result.solution.objective
        versus = "HiGHS returned no feasible answer" if value is None else f"{gap(ours, value):+.2f}%"
        print(f"| {seed} | {ours:.2f} ({result.solution.feasible}, {wall:.1f} s) | "
              f"{'-' if value is None else f'{value:.2f}'} ({status}, {secs:.1f} s) | {versus} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one instance each (a smoke run)")
    parser.add_argument("--only-affinities", action="store_true")
    parser.add_argument("--hard", type=float, default=120.0, help="seconds before a HiGHS subprocess is stopped")
    args = parser.parse_args()
    n = 1 if args.quick else args.instances
    qiopt.solve(TaskAllocation.random(6, 2, seed=0), num_reads=1, num_sweeps=1)  # compile the kernels
    if not args.only_affinities:
        big_allocation(n)
        small_allocations(2 * n)
        ablation(n)
    affinities(max(1, n // 2), args.hard)


if __name__ == "__main__":
    main()
