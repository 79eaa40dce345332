"""Load balancing from plain Python records, 10k to 1M tasks: time, memory and quality against LPT and greedy.

Run: ``python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--workers 1000] [--budget 60]``.
Each size runs in a fresh subprocess (so its peak memory is its own) and prints one row per case:

* **rebalance**: log-normal loads, speeds 1 / 1.5 / 2, a skewed current placement (60 % of tasks on the first
  20 % of workers), migration costs 0-5. Anchor: greedy rebalancing (the compiled reference, same moves as the
  dense one). Target: a lower objective.
* **from scratch**: the same loads without a current placement. Anchor: LPT (earliest finish on uniform
  speeds). Target: imbalance (makespan / ideal) no worse.

The wall time covers making the records, building the problem (validation, LPT and greedy candidates) and
``qiopt.solve(problem, time_limit=...)``, where the time limit is what the budget leaves after the build.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def make_records(n: int, m: int, seed: int, rebalance: bool) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(seed)
    speeds = rng.choice([1.0, 1.5, 2.0], size=m)
    workers = [{"id": f"w{k}", "speed": float(s)} for k, s in enumerate(speeds)]
    load = np.round(rng.lognormal(2.0, 1.0, size=n), 3).tolist()
    if not rebalance:
        return workers, [{"id": f"t{i}", "load": x} for i, x in enumerate(load)]
    hot = max(1, m // 5)
    current = np.where(rng.random(n) < 0.6, rng.integers(0, hot, size=n), rng.integers(0, m, size=n)).tolist()
    cost = np.round(rng.uniform(0, 5, size=n), 2).tolist()
    return workers, [{"id": f"t{i}", "load": x, "current": f"w{c}", "migration_cost": y}
                     for i, (x, c, y) in enumerate(zip(load, current, cost, strict=True))]


def one(n: int, m: int, rebalance: bool, budget: float) -> dict:
    import qiopt
    from qiopt.problems import LoadBalancing

    qiopt.solve(LoadBalancing.random(20, 3, seed=0), num_reads=1, num_sweeps=1)  # compile (not timed)
    started = time.perf_counter()
    workers, tasks = make_records(n, m, 1, rebalance)
    made = time.perf_counter()
    problem = LoadBalancing(workers, tasks)
    built = time.perf_counter()
    result = qiopt.solve(problem, seed=1, time_limit=max(1.0, budget - (built - started) - 1.0))
    wall = time.perf_counter() - started
    anchor = problem.reference("greedy" if rebalance else "lpt")
    sol = result.solution
    return {"n": n, "m": m, "case": "rebalance" if rebalance else "from scratch", "wall": wall,
            "records": made - started, "build": built - made, "solve": wall - (built - started),
            "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "variables": problem.to_constrained().num_variables, "objective": sol.objective,
            "imbalance": sol.details["imbalance"], "feasible": sol.feasible, "source": sol.details["source"],
            "anchor_objective": anchor.objective, "anchor_imbalance": anchor.details["imbalance"],
            "anchor_seconds": anchor.details["reference"]["seconds"],
            "sweeps": result.info["stages"]["anneal"]["sweeps"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for records + build + solve")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # n rebalance(0/1) budget: child mode
    args = parser.parse_args()
    if args.one:
        n, rebalance, budget = int(args.one[0]), args.one[1] == "1", float(args.one[2])
        print(json.dumps(one(n, args.workers, rebalance, budget)))
        return
    print("| tasks × workers | case | wall (s): records / build / solve | peak memory | model variables | "
          "sweeps | ours | anchor | verdict |\n|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for rebalance in (True, False):
            out = subprocess.run([sys.executable, __file__, "--workers", str(args.workers), "--one", str(n),
                                  "1" if rebalance else "0", str(args.budget)], capture_output=True, text=True,
                                 check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if rebalance:
                ours, anchor = f"objective {r['objective']:.1f}", f"greedy {r['anchor_objective']:.1f}"
                verdict = f"{100 * (r['objective'] - r['anchor_objective']) / r['anchor_objective']:+.3f}%"
            else:
                ours, anchor = f"imbalance {r['imbalance']:.7f}", f"LPT {r['anchor_imbalance']:.7f}"
                verdict = "≤ LPT" if r["imbalance"] <= r["anchor_imbalance"] + 1e-12 else "above LPT"
            print(f"| {n:,} × {r['m']} | {r['case']} | {r['wall']:.1f}: {r['records']:.1f} / {r['build']:.1f} / "
                  f"{r['solve']:.1f} | {r['peak_gib']:.2f} GiB | {r['variables']:,} | {r['sweeps']} | {ours} | "
                  f"{anchor} | {verdict} |", flush=True)


if __name__ == "__main__":
    main()
