"""Files in, bounds out (issue 10): readers on the shared instances, roof duality on Beasley / GKA, LP files.

Three parts, each printing its table:

1. **Roof duality on the BQP sets**: every Beasley and GKA instance read by ``qiopt.read`` (the qbsolv reader,
   checked against the benchmark loader on Beasley), negated (the files are maximisation problems); the roof
   duality bound, how many variables it fixes, its time; then ``qiopt.solve`` with fixed work (``num_reads``,
   ``num_sweeps``) with and without ``preprocess="roof_duality"``: wall time, whether the best-known value was
   reached, and the certified gap of the answer.
2. **Generalized assignment as an LP file**: ``qiopt.write`` a GAP instance to ``.lp``, ``qiopt.read`` it,
   ``solve(time_limit=3)``: wall time, feasibility by ``cqm.check_feasible``, gap to the HiGHS optimum, the LP
   bound and certified gap; and ``qiopt solve gap.lp --time-limit 3`` in a subprocess (its exit code).
3. **A 3-variable QuadraticProgram** with an equality constraint: qiopt's answer against brute force.

Run (about 4 minutes on 2 cores)::

    python benchmarks/bench_bounds.py [--data ../shared/benchmarks] [--sizes 50,100,250,500,1000]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_gap import instance as gap_instance
from instances import data_dir, load_beasley

import qiopt
from qiopt.bounds import roof_duality_bound

WORK = {"num_reads": 32, "num_sweeps": 1000}


def bqp_rows(folder: Path, sizes: set[int]) -> list[tuple[str, Path, int, int]]:
    """``(instance, file, n, best_known_max)`` of the Beasley sizes asked for and every GKA instance."""
    rows = []
    for table in ("best_known_beasley.csv", "best_known_gka.csv"):
        with (folder / "bqp" / table).open() as fh:
            for row in csv.DictReader(fh):
                n = int(row["n"])
                if table.startswith("best_known_gka") or n in sizes:
                    rows.append((row["instance"], folder / "bqp" / row["file"], n, int(row["best_known_max"])))
    return rows


def roof_duality_table(folder: Path, sizes: set[int]) -> None:
    print("## 1. Roof duality on the BQP sets (minimising -Q; best known = -best_known_max)\n")
    print(f"fixed work per solve: {WORK}, seed 1; 'reached' = the best-known value\n")
    print("| instance | n | bound | best known | fixed | bound s | solve s | +preprocess s | reached / +pre | "
          "certified gap |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    totals = {"fixed": 0, "vars": 0, "plain": 0.0, "pre": 0.0, "reached": 0, "reached_pre": 0, "rows": 0}
    for name, path, n, best in bqp_rows(folder, sizes):
        bqm = qiopt.read(path)
        bqm.scale(-1.0)  # OR-Library's files maximise
        if name.startswith("bqp"):
            reference, _ = load_beasley(name, folder)
            if bqm != reference:
                raise SystemExit(f"{name}: qiopt.read disagrees with the benchmark loader")
        bound = roof_duality_bound(bqm)
        t0 = time.perf_counter()
        plain = qiopt.solve(bqm, seed=1, **WORK)
        t1 = time.perf_counter()
        pre = qiopt.solve(bqm, seed=1, preprocess="roof_duality", **WORK)
        t2 = time.perf_counter()
        reached = (plain.best_energy <= -best, pre.best_energy <= -best)
        gap = plain.certified_gap
        print(f"| {name} | {n} | {bound.value:.0f} | {-best} | {len(bound.fixed)} | {bound.seconds:.4f} | "
              f"{t1 - t0:.2f} | {t2 - t1:.2f} | {'yes' if reached[0] else 'no'} / {'yes' if reached[1] else 'no'} | "
              f"{'n/a' if gap is None else f'{100 * gap:.1f} %'} |")
        totals["fixed"] += len(bound.fixed)
        totals["vars"] += n
        totals["plain"] += t1 - t0
        totals["pre"] += t2 - t1
        totals["reached"] += reached[0]
        totals["reached_pre"] += reached[1]
        totals["rows"] += 1
    print(f"\n{totals['rows']} instances: {totals['fixed']} of {totals['vars']} variables fixed "
          f"({100 * totals['fixed'] / max(totals['vars'], 1):.1f} %); solve time {totals['plain']:.1f} s plain, "
          f"{totals['pre']:.1f} s with preprocessing (ratio {totals['pre'] / totals['plain']:.2f}); best known "
          f"reached {totals['reached']} plain, {totals['reached_pre']} with preprocessing\n")


def lp_file_table() -> None:
    print("## 2. Generalized assignment written to an LP file, read back and solved (time_limit=3)\n")
    print("| instance | variables | wall s | feasible | objective | HiGHS optimum | gap | LP bound | certified gap | "
          "CLI exit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, m, n, seed in (("D", 10, 100, 1), ("D", 20, 200, 2), ("C", 40, 400, 1)):
            problem = gap_instance(kind, m, n, seed)
            path = Path(tmp) / "gap.lp"
            qiopt.write(problem, path)
            cqm = qiopt.read(path)
            optimum = problem.reference("milp", time_limit=30).objective
            t0 = time.perf_counter()
            result = qiopt.solve(cqm, time_limit=3, seed=1)
            wall = time.perf_counter() - t0
            feasible = cqm.check_feasible(result.best_sample)
            cli = subprocess.run([sys.executable, "-m", "qiopt", "solve", str(path), "--time-limit", "3", "--seed",
                                  "1"], capture_output=True, text=True, check=False)
            gap = 100 * (result.best_energy - optimum) / optimum
            print(f"| {kind} {m}x{n} s{seed} | {len(cqm.variables)} | {wall:.2f} | {feasible} | "
                  f"{result.best_energy:.0f} | {optimum:.0f} | {gap:.2f} % | "
                  f"{result.lower_bound:.1f} | {100 * result.certified_gap:.2f} % | {cli.returncode} |")
    print()


def program_table() -> None:
    from qiskit_optimization import QuadraticProgram

    print("## 3. A 3-variable QuadraticProgram with an equality constraint\n")
    qp = QuadraticProgram("three")
    for name in ("x", "y", "z"):
        qp.binary_var(name)
    qp.minimize(linear={"x": 2, "y": -1, "z": 3}, quadratic={("x", "z"): -6, ("y", "z"): 1}, constant=0.5)
    qp.linear_constraint({"x": 1, "y": 1, "z": 1}, "==", 2, "two")
    best = min((qp.objective.evaluate(list(s)), s) for s in itertools.product((0, 1), repeat=3) if sum(s) == 2)
    result = qiopt.solve(qp, seed=1)
    print(f"brute force: {best[1]} objective {best[0]}; qiopt: {tuple(result.best_sample.values())} objective "
          f"{result.best_energy}; lower bound {result.lower_bound:.4f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of the shared benchmarks (default ../shared/benchmarks)")
    parser.add_argument("--sizes", default="50,100,250,500,1000", help="Beasley sizes (comma-separated)")
    args = parser.parse_args()
    folder = data_dir(args.data)
    print(f"# bench_bounds: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, qiopt {qiopt.__version__}\n")
    qiopt.solve(np.array([[0.0, 1.0], [0.0, 0.0]]), num_reads=2, num_sweeps=10)  # compile the kernels first
    roof_duality_table(folder, {int(s) for s in args.sizes.split(",")})
    lp_file_table()
    program_table()


if __name__ == "__main__":
    main()
