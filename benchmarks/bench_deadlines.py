"""Deadlines: the wall time of whole ``qiopt.solve`` calls against ``time_limit`` (issue 8's table).

Run: ``python benchmarks/bench_deadlines.py [--repeats 3] [--data FOLDER]``.

For each case and ``T`` in {0.2, 1}: ``--repeats`` calls of ``qiopt.solve(model, time_limit=T, seed=k)`` after
one untimed call that compiles the kernels; the worst wall time is compared with the promise ``1.05 T + 50 ms``
(ratio ≤ 1 holds it). Cases: Gset G22 max-cut (the BQM path; also with so many sweeps that one read outlasts
``T``, so the first batch itself must stop), allocations 200 × 20 (affinities) and 1,000 × 50
(the engine, the LP start), load balancing of 20,000 tasks on 100 workers (the engine at scale; the problem
is built before the clock starts), and the ``"decompose"`` backend on G22 and on the 200,704-spin torus of
``bench_decompose.py`` (its start anneal, its first round priced from a probe).
"""

from __future__ import annotations

import argparse
import time

from bench_decompose import torus
from instances import data_dir, load_gset

import qiopt
from qiopt.problems import LoadBalancing, TaskAllocation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=None, help="folder of the shared benchmark instances")
    args = parser.parse_args()
    g22, _, _ = load_gset("G22", data_dir(args.data))
    cases = {"G22 max-cut (BQM)": g22, "G22, num_sweeps=10^6 (one read outlasts T)": (g22, {"num_sweeps": 10**6}),
             "allocation 200×20": TaskAllocation.random(200, 20, tightness=0.9, seed=1),
             "allocation 1000×50": TaskAllocation.random(1000, 50, tightness=1 / 1.3, affinity_pairs=0, seed=1),
             "load balancing 20000×100": LoadBalancing.random(20_000, 100, skew=0.8, seed=1),
             "G22, backend='decompose'": (g22, {"backend": "decompose"}),
             "torus 200,704 spins, backend='decompose'": (torus(448, 0), {"backend": "decompose"})}
    print("| case | T (s) | worst wall (s) | worst / (1.05 T + 0.05) |\n|---|---|---|---|")
    for name, case in cases.items():
        model, options = case if isinstance(case, tuple) else (case, {})
        qiopt.solve(model, time_limit=0.2, seed=0, **options)  # compile, build caches: untimed
        for limit in (0.2, 1.0):
            walls = []
            for k in range(args.repeats):
                t = time.perf_counter()
                qiopt.solve(model, time_limit=limit, seed=k, **options)
                walls.append(time.perf_counter() - t)
            print(f"| {name} | {limit:g} | {max(walls):.3f} | {max(walls) / (1.05 * limit + 0.05):.2f} |", flush=True)


if __name__ == "__main__":
    main()
