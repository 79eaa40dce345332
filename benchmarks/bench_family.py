"""The solver family side by side at equal time: qiopt's sa, tabu, sb, pt, sqa and auto against the open anchors
(dwave-samplers' SA and tabu, OpenJij's SA and SQA, the ``simulated-bifurcation`` package).

Every solver gets the same wall-clock budget per run on the same machine in the same run. qiopt's backends get
``time_limit``; an anchor without one is called again and again (fresh seeds, its default sweeps or steps per
call) until the budget is spent, keeping its best (its first call always completes, so it may overrun a little:
the table prints the seconds each one really took). Anchors that are not installed are reported, not hidden.

Sections (``--only``):

* ``gset``: best cut per graph (higher is better; best-known in the header);
* ``bqp``: Beasley bqp50-bqp1000 and GKA: how many instances each solver brings to the best-known value in the
  budget, and the mean gap to it;
* ``wishart``: planted Wishart instances (known ground state; ``qiopt.testing.planted_wishart``): runs that reach
  the ground state out of ``--runs`` and success per second of budget.

With ``--ladder`` qiopt's backends also get a time to the target (see :data:`LADDER`).

Run from the repository root, for example::

    python benchmarks/bench_family.py --only gset --graphs G22,G55,G70 --time 30
    python benchmarks/bench_family.py --only bqp --time 5 --solvers auto,tabu,dwave-tabu
    python benchmarks/bench_family.py --only wishart --time 10 --runs 5
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dimod
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instances import data_dir, gka_names, load_beasley, load_gka, load_gset

import qiopt
from qiopt.testing import planted_wishart

QIOPT = ("auto", "sa", "tabu", "sb", "pt", "sqa")
ANCHORS = ("dwave-sa", "dwave-tabu", "openjij-sa", "openjij-sqa", "sb-package")
_NEEDS = {"dwave-sa": "dwave.samplers", "dwave-tabu": "dwave.samplers", "openjij-sa": "openjij",
          "openjij-sqa": "openjij", "sb-package": "simulated_bifurcation"}

Runner = Callable[[dimod.BinaryQuadraticModel, float, int, float | None], tuple[float, float, float | None]]
"""``(bqm, seconds, seed, target) -> (best energy, seconds taken, seconds to the target or None)``."""


LADDER = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1)
"""With ``--ladder``, a qiopt backend runs at these shares of the budget until one reaches the target: its time
to the target is then the smallest budget that reached it (qiopt's backends keep running until their
``time_limit``, so a single run says only that the target was reached within it)."""


def _qiopt(name: str, ladder: bool) -> Runner:
    def once(bqm, seconds, seed, target):
        t0 = time.perf_counter()
        sampleset = qiopt.get_backend(name, time_limit=seconds, seed=seed).sample(bqm)
        took = time.perf_counter() - t0
        best = float(sampleset.first.energy)
        return best, took, (took if target is not None and best <= target + 1e-6 else None)

    def run(bqm, seconds, seed, target):
        if not ladder or target is None:
            return once(bqm, seconds, seed, target)
        for share in LADDER:
            out = once(bqm, share * seconds, seed, target)
            if out[2] is not None:
                return out
        return out
    return run


def _repeat(call: Callable[[int], float]) -> Runner:
    """An anchor without a time limit: call it with fresh seeds until the budget is spent."""
    def run(bqm, seconds, seed, target):
        t0, best, hit, k = time.perf_counter(), float("inf"), None, 0
        while True:
            best = min(best, call(seed * 1000 + k))
            k += 1
            now = time.perf_counter() - t0
            if hit is None and target is not None and best <= target + 1e-6:
                hit = now
            if now >= seconds or hit is not None:
                return best, now, hit
    return run


def anchor(name: str, bqm: dimod.BinaryQuadraticModel) -> Runner:
    """The runner of anchor ``name`` for ``bqm`` (its model conversion done once, outside the timing)."""
    if name == "dwave-sa":
        from dwave.samplers import SimulatedAnnealingSampler

        sampler = SimulatedAnnealingSampler()
        return _repeat(lambda s: float(sampler.sample(bqm, num_reads=os.cpu_count() or 1, seed=s).first.energy))
    if name == "dwave-tabu":
        from dwave.samplers import TabuSampler

        def run(bqm_, seconds, seed, target):
            t0 = time.perf_counter()
            best = float(TabuSampler().sample(bqm_, timeout=int(1000 * seconds), num_reads=1, seed=seed).first.energy)
            took = time.perf_counter() - t0
            return best, took, (took if target is not None and best <= target + 1e-6 else None)
        return run
    if name in ("openjij-sa", "openjij-sqa"):
        import openjij as oj

        sampler = oj.SASampler() if name == "openjij-sa" else oj.SQASampler()
        ising = bqm.change_vartype(dimod.SPIN, inplace=False)
        h, J = dict(ising.linear), dict(ising.quadratic)
        return _repeat(lambda s: float(ising.energies(sampler.sample_ising(h, J, num_reads=1, seed=s)).min()))
    if name == "sb-package":
        import simulated_bifurcation as sb
        import torch

        labels = list(bqm.variables)
        ising = bqm.change_vartype(dimod.SPIN, inplace=False)
        lin, (row, col, val), _ = ising.to_numpy_vectors(variable_order=labels)
        quad = np.zeros((len(labels),) * 2)
        quad[row, col] = val
        matrix, vector = torch.tensor(quad, dtype=torch.float32), torch.tensor(lin, dtype=torch.float32)

        def call(s: int) -> float:
            torch.manual_seed(s)
            spins, _ = sb.minimize(matrix, vector, domain="spin", agents=128, best_only=True, verbose=False)
            return float(ising.energy(dict(zip(labels, spins.numpy().astype(int).tolist(), strict=True))))
        return _repeat(call)
    raise ValueError(f"unknown anchor {name!r}; choose from {', '.join(ANCHORS)}")


def runner(name: str, bqm: dimod.BinaryQuadraticModel, ladder: bool = False) -> Runner | None:
    """A runner for a qiopt backend or an anchor; None when it is not installed here."""
    if name in QIOPT:
        return _qiopt(name, ladder) if qiopt.available_backends()[name].usable else None
    return anchor(name, bqm) if importlib.util.find_spec(_NEEDS[name]) else None


def gset(args, folder: Path) -> None:
    print(f"\n### Gset, best cut at {args.time:g} s per solver (seed 1)\n")
    names = args.graphs.split(",")
    loaded = {g: load_gset(g, folder) for g in names}
    print("| solver | " + " | ".join(f"{g} (best known {loaded[g][1]})" for g in names) + " |")
    print("|---|" + "---|" * len(names))
    for solver in args.solvers:
        cells = []
        for g in names:
            bqm, _, total = loaded[g]
            run = runner(solver, bqm)
            if run is None:
                cells.append("not installed")
                continue
            energy, took, _ = run(bqm, args.time, 1, None)
            cells.append(f"{(total - energy) / 2:.0f} ({took:.1f} s)")
        print(f"| {solver} | " + " | ".join(cells) + " |", flush=True)


def bqp(args, folder: Path) -> None:
    names = [f"bqp{n}-{k}" for n in (50, 100, 250, 500, 1000) for k in range(1, 11)] + gka_names(folder)
    if args.instances:
        names = [n for n in names if any(n.startswith(p) for p in args.instances.split(","))]
    loaded = {n: (load_gka if n.startswith("gka") else load_beasley)(n, folder) for n in names}
    print(f"\n### Beasley and GKA: best-known reached in {args.time:g} s per instance (seed 1)\n")
    how = "ladder budget" if args.ladder else "whole budget for time-limited solvers, first hit for repeated anchors"
    print(f"| solver | instances | best known reached | mean gap % | worst gap % | mean seconds to reach ({how}) |")
    print("|---|---|---|---|---|---|")
    for solver in args.solvers:
        reached, gaps, hits, missed = 0, [], [], []
        for name, (bqm, best) in loaded.items():
            run = runner(solver, bqm, args.ladder)
            if run is None:
                break
            energy, _, hit = run(bqm, args.time, 1, -best)
            gap = 100.0 * (best + energy) / abs(best)
            gaps.append(gap)
            reached += gap <= 1e-9
            if hit is not None:
                hits.append(hit)
            if gap > 1e-9:
                missed.append(f"{name} ({-energy:.0f})")
        if not gaps:
            print(f"| {solver} | not installed | | | | |")
            continue
        tail = f"{np.mean(hits):.2f}" if hits else "-"
        print(f"| {solver} | {len(gaps)} | {reached} | {np.mean(gaps):.3f} | {max(gaps):.3f} | {tail} |", flush=True)
        if missed:
            print(f"|  | missed: {', '.join(missed)} | | | | |", flush=True)


def wishart(args) -> None:
    cases = [(int(n), float(a)) for n, a in (c.split(":") for c in args.wishart.split(","))]
    print(f"\n### Planted Wishart: runs reaching the ground state, {args.time:g} s each, {args.runs} runs\n")
    print("| solver | " + " | ".join(f"n={n}, α={a}" for n, a in cases) + " |")
    print("|---|" + "---|" * len(cases))
    models = {case: planted_wishart(case[0], case[1], seed=case[0]) for case in cases}
    for solver in args.solvers:
        cells = []
        for case in cases:
            bqm, _, ground = models[case]
            run = runner(solver, bqm, args.ladder)
            if run is None:
                cells.append("not installed")
                continue
            outcomes = [run(bqm, args.time, seed, ground) for seed in range(1, args.runs + 1)]
            wins = [o[2] for o in outcomes if o[2] is not None]
            rate = len(wins) / (args.runs * args.time)
            first = f", first at {min(wins):.1f} s" if wins and (args.ladder or solver not in QIOPT) else ""
            gap = min(o[0] for o in outcomes) - ground
            cells.append(f"{len(wins)}/{args.runs} ({rate:.2f}/s{first}; best gap {gap:.2f})")
        print(f"| {solver} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("gset", "bqp", "wishart"), required=True)
    parser.add_argument("--time", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--solvers", default=",".join(QIOPT + ANCHORS),
                        help="comma-separated, from " + ", ".join(QIOPT + ANCHORS))
    parser.add_argument("--graphs", default="G1,G22,G55,G70")
    parser.add_argument("--instances", default="", help="bqp: name prefixes, e.g. bqp250,gka1")
    parser.add_argument("--wishart", default="128:0.75,192:0.5,256:0.5", help="n:alpha pairs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ladder", action="store_true", help="time to target for qiopt's backends (see LADDER)")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    args.solvers = args.solvers.split(",")
    unknown = [s for s in args.solvers if s not in QIOPT + ANCHORS]
    if unknown:
        parser.error(f"unknown solvers {unknown}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"command: python {' '.join(sys.argv)}")
    if args.only == "wishart":
        wishart(args)
    else:
        (gset if args.only == "gset" else bqp)(args, data_dir(args.data))


if __name__ == "__main__":
    main()
