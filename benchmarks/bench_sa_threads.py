"""Thread scaling of the SA kernel alone: 1 vs 2 threads on Gset G1, best of ``--repeats``, no other work between.

    python benchmarks/bench_sa_threads.py [--data ../shared/benchmarks] [--instance G1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from instances import data_dir, load_gset

from qiopt.backends.annealing import kernels, schedule
from qiopt.model import CompactModel


def best_time(cm: CompactModel, betas: np.ndarray, reads: int, threads: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        states = np.ones((reads, cm.num_variables), dtype=np.int8)
        started = time.perf_counter()
        kernels.anneal(cm, betas, 1, states, 1, num_threads=threads)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--instance", default="G1")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bqm, *_ = load_gset(args.instance, data_dir(args.data))
    cm = CompactModel.from_bqm(bqm)
    betas = schedule.beta_schedule(schedule.default_beta_range(cm), 1000, "geometric")
    best_time(cm, betas, 64, 2, 1)  # compile / load the cache
    print("| instance | reads × sweeps | 1 thread s | 2 threads s | 2T/1T |\n|---|---|---|---|---|")
    for reads in (128, 256, 512):
        one, two = (best_time(cm, betas, reads, t, args.repeats) for t in (1, 2))
        print(f"| {args.instance} | {reads}×1000 | {one:.3f} | {two:.3f} | {one / two:.2f}× |")


if __name__ == "__main__":
    main()
