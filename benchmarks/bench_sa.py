"""Benchmark qiopt's ``"sa"`` kernel and sampler against dwave-samplers' ``SimulatedAnnealingSampler``.

Prints markdown tables:

1. throughput (spin-update attempts/s = n * sweeps * reads / sampling time) at equal reads and sweeps, each
   with its default geometric β range (dwave's computed before timing), best of ``--repeats`` timings: dwave
   (one thread), qiopt's kernel on 1 and 2 threads and qiopt's full sampler on 1 thread, with best and median
   objective over the reads (cut for Gset, ``sum Q x`` for BQP; higher is better; no polish, as dwave has
   none);
2. lockstep block width (full mode only): kernel throughput when at most ``w`` reads run in lockstep;
3. time to best-known: dwave and qiopt (1 thread, same sweeps) with num_reads doubling from 8 until a read
   reaches the best-known value or the time cap; and qiopt's sampler with ``time_limit`` and default options.

Run from the repository root: ``python benchmarks/bench_sa.py [--quick] [--data FOLDER]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instances import data_dir, load_beasley, load_gset

import qiopt
from qiopt.backends.annealing import kernels
from qiopt.backends.annealing.schedule import beta_schedule, default_beta_range
from qiopt.model import CompactModel


class Instance:
    """A benchmark model with its objective (higher is better) and best-known value."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        if name.startswith("G"):
            self.bqm, self.best_known, total = load_gset(name, folder)
            self.objective = lambda e: (total - np.asarray(e)) / 2
        else:
            self.bqm, self.best_known = load_beasley(name, folder)
            self.objective = lambda e: -np.asarray(e)
        self.cm = CompactModel.from_bqm(self.bqm)
        self.n = self.cm.num_variables


def best_times(fns: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, float], dict[str, object]]:
    """Best wall time of each function over ``repeats`` interleaved rounds (so a burst of load on the shared
    machine hits every contender alike), and each function's last result."""
    best = dict.fromkeys(fns, float("inf"))
    out: dict[str, object] = {}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            out[key] = fn()
            best[key] = min(best[key], time.perf_counter() - t0)
    return best, out


def dwave_beta_range(inst: Instance) -> tuple[float, float] | None:
    """dwave-samplers' default β range (its private helper), or None to let dwave compute it in the timing."""
    try:
        from dwave.samplers.sa.sampler import _default_ising_beta_range
    except ImportError:
        return None
    h, J, _ = inst.bqm.to_ising()
    return tuple(_default_ising_beta_range(h, J))


def dwave_sample(inst: Instance, reads: int, sweeps: int, beta_range: tuple[float, float] | None, seed: int,
                 criteria: str = "Metropolis"):
    from dwave.samplers import SimulatedAnnealingSampler

    return SimulatedAnnealingSampler().sample(inst.bqm, num_reads=reads, num_sweeps=sweeps,
                                              beta_range=beta_range, seed=seed,
                                              proposal_acceptance_criteria=criteria)


def qiopt_sample(inst: Instance, seed: int, **options):
    return qiopt.get_backend("sa", seed=seed, **options).sample(inst.bqm)


def compile_time() -> str:
    """Time of the first kernel calls in this process (numba compile, or loading its on-disk cache)."""
    cache = Path(kernels.__file__).parent / "__pycache__"
    cached = any(cache.glob("kernels.*.nbi"))
    cm = CompactModel.from_bqm(_tiny_bqm())
    states = np.ones((2, cm.num_variables), dtype=np.int8)
    t0 = time.perf_counter()
    kernels.anneal(cm, np.array([0.1, 1.0]), 1, states, seed=0)
    kernels.anneal(cm, np.array([0.1, 1.0]), 1, states, seed=0, gibbs=True)
    kernels.steepest_descent(cm, states)
    dt = time.perf_counter() - t0
    return f"{dt:.2f} s ({'loaded from numba cache' if cached else 'compiled; cached for later processes'})"


def _tiny_bqm():
    import dimod

    return dimod.BinaryQuadraticModel({0: 0.5}, {(0, 1): -1.0}, 0.0, "SPIN")


def throughput_rows(instances: list[Instance], reads: int, sweeps: int, repeats: int) -> list[str]:
    rows = []
    for inst in instances:
        betas = beta_schedule(default_beta_range(inst.cm), sweeps, "geometric")
        work = inst.n * sweeps * reads
        start = (2 * np.random.default_rng(0).integers(0, 2, (reads, inst.n)) - 1).astype(np.int8)

        def kernel(threads: int, cm=inst.cm, start=start, betas=betas) -> np.ndarray:
            states = start.copy()
            kernels.anneal(cm, betas, 1, states, seed=1, num_threads=threads)
            return states

        dw_range = dwave_beta_range(inst)
        t, out = best_times({
            "dw": lambda i=inst, br=dw_range: dwave_sample(i, reads, sweeps, br, 1),
            "k1": lambda: kernel(1),
            "k2": lambda: kernel(2),
            "q1": lambda i=inst: qiopt_sample(i, 1, num_reads=reads, num_sweeps=sweeps, num_threads=1, polish=False),
        }, repeats)
        t_dw, t_k1, t_k2, t_q1, ss_dw, ss_q = t["dw"], t["k1"], t["k2"], t["q1"], out["dw"], out["q1"]
        v_dw, v_q = inst.objective(ss_dw.record.energy), inst.objective(ss_q.record.energy)
        rows.append(
            f"| {inst.name} | {inst.n} | {reads}×{sweeps} | {work / t_dw / 1e6:.1f} "
            f"| {work / t_k1 / 1e6:.1f} | {t_dw / t_k1:.2f}× | {work / t_q1 / 1e6:.1f} (**{t_dw / t_q1:.2f}×**) "
            f"| {work / t_k2 / 1e6:.1f} "
            f"| **{t_k1 / t_k2:.2f}×** | {v_dw.max():.0f} / {np.median(v_dw):.1f} "
            f"| {v_q.max():.0f} / {np.median(v_q):.1f} | {inst.best_known} |")
    return rows


def gibbs_rows(inst: Instance, reads: int, sweeps: int, repeats: int) -> list[str]:
    """Gibbs (heat-bath) acceptance: dwave's sampler and qiopt's kernel and sampler, one thread each."""
    betas = beta_schedule(default_beta_range(inst.cm), sweeps, "geometric")
    start = (2 * np.random.default_rng(0).integers(0, 2, (reads, inst.n)) - 1).astype(np.int8)
    t, _ = best_times({
        "dw": lambda: dwave_sample(inst, reads, sweeps, dwave_beta_range(inst), 1, "Gibbs"),
        "k": lambda: kernels.anneal(inst.cm, betas, 1, start.copy(), seed=1, gibbs=True),
        "q": lambda: qiopt_sample(inst, 1, num_reads=reads, num_sweeps=sweeps, num_threads=1, polish=False,
                                  proposal_acceptance_criteria="Gibbs"),
    }, repeats)
    work = inst.n * sweeps * reads / 1e6
    return [f"| {inst.name} | {reads}×{sweeps} | {work / t['dw']:.1f} | {work / t['k']:.1f} "
            f"({t['dw'] / t['k']:.2f}×) | {work / t['q']:.1f} (**{t['dw'] / t['q']:.2f}×**) |"]


def schedule_rows(inst: Instance, reads: int, sweeps: int) -> list[str]:
    """Median and best cut with qiopt's β range and with dwave's (the same kernel, 2 threads, no polish)."""
    rows = []
    for name, beta_range in (("qiopt's (typical uphill flip)", None), ("dwave's (worst case)", dwave_beta_range(inst))):
        ss = qiopt_sample(inst, 1, num_reads=reads, num_sweeps=sweeps, polish=False, beta_range=beta_range)
        value = inst.objective(ss.record.energy)
        hot, cold = ss.info["beta_range"]
        rows.append(f"| {inst.name} | {name} | [{hot:.3g}, {cold:.3g}] | {reads}×{sweeps} "
                    f"| {np.median(value):.1f} | {value.max():.0f} | {inst.best_known} |")
    return rows


def width_rows(inst: Instance, reads: int, sweeps: int, repeats: int) -> list[str]:
    betas = beta_schedule(default_beta_range(inst.cm), sweeps, "geometric")
    start = (2 * np.random.default_rng(0).integers(0, 2, (reads, inst.n)) - 1).astype(np.int8)
    rows, default = [], kernels.MAX_BLOCK
    try:
        for width in (1, 4, 16, 32, 64, 128):
            kernels.MAX_BLOCK = width
            t, _ = best_times({"k": lambda: kernels.anneal(inst.cm, betas, 1, start.copy(), seed=1)}, repeats)
            rows.append(f"| {inst.name} | {width} | {inst.n * sweeps * reads / t['k'] / 1e6:.1f} |")
    finally:
        kernels.MAX_BLOCK = default
    return rows


def doubling(sample: Callable[[int], np.ndarray], target: float, cap: float) -> str:
    """Double num_reads from 8 until a read reaches ``target``; report that run's time and reads."""
    reads, spent = 8, 0.0
    while spent < cap:
        t0 = time.perf_counter()
        best = float(sample(reads).max())
        dt = time.perf_counter() - t0
        spent += dt
        if best >= target:
            return f"{dt:.2f} s ({reads} reads)"
        reads *= 2
    return f"not reached in {spent:.0f} s (best {best:.0f})"


def target_rows(instances: list[Instance], sweeps: int, time_limit: float, cap: float,
                with_dwave: bool) -> list[str]:
    rows = []
    for inst in instances:
        dw, dw_range = "—", dwave_beta_range(inst)
        if with_dwave:
            dw = doubling(lambda r, inst=inst, br=dw_range: inst.objective(
                dwave_sample(inst, r, sweeps, br, 2).record.energy), inst.best_known, cap)
            q1 = doubling(lambda r, inst=inst: inst.objective(qiopt_sample(
                inst, 2, num_reads=r, num_sweeps=sweeps, num_threads=1, polish=False).record.energy),
                inst.best_known, cap)
        else:
            q1 = "—"
        t0 = time.perf_counter()
        ss = qiopt_sample(inst, 3, time_limit=time_limit)
        took = time.perf_counter() - t0
        got = float(inst.objective(ss.first.energy))
        mark = "yes" if got >= inst.best_known else f"no ({got - inst.best_known:+.0f})"
        rows.append(f"| {inst.name} | {inst.best_known} | {dw} | {q1} | {got:.0f}: {mark} "
                    f"({ss.info['num_reads_annealed']} reads, {took:.1f} s) |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder of the shared benchmark instances")
    parser.add_argument("--quick", action="store_true", help="small run (< 1 minute)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per measurement; the best is kept")
    parser.add_argument("--only", choices=["gibbs", "schedule"], help="run only this section")
    args = parser.parse_args(argv)
    folder = data_dir(args.data)
    if args.only:
        print(f"machine: {os.cpu_count()} cores, numba kernel first call: {compile_time()}\n")
    if args.only in (None, "gibbs"):
        print("### Gibbs acceptance (G1, 1 thread, no polish; M spin-update attempts/s, best of "
              f"{args.repeats}; ratio to dwave)\n")
        print("| instance | reads×sweeps | dwave Gibbs | qiopt kernel | qiopt sampler |\n|---|---|---|---|---|")
        print("\n".join(gibbs_rows(Instance("G1", folder), 128, 500, args.repeats)) + "\n", flush=True)
    if args.only in (None, "schedule"):
        print("### β range: qiopt's hot end vs dwave's (G22, qiopt's sampler, 2 threads, no polish, seed 1)\n")
        print("| instance | β range | values | reads×sweeps | median cut | best cut | best known |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(schedule_rows(Instance("G22", folder), 256, 1000)) + "\n", flush=True)
    if args.only:
        return 0
    if args.quick:
        speed, reads, sweeps = ["G1", "bqp250-1"], 128, 500
        targets, with_dwave, time_limit = ["G1", "bqp100-1"], False, 1.0
    else:
        speed, reads, sweeps = ["G1", "G22", "bqp250-1", "bqp500-1"], 128, 1000
        beasley = [f"bqp{n}-{k}" for n in (50, 100, 250, 500) for k in range(1, 11)]
        targets = ["G1", "G2", "G3", "G43", *beasley]
        with_dwave, time_limit = True, 2.0
    print(f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
          f"numba kernel first call: {compile_time()}\n")
    print("### Throughput at equal reads × sweeps (million spin-update attempts/s, best of "
          f"{args.repeats}; objective best / median over reads, no polish)\n")
    print("| instance | n | reads×sweeps | dwave 1T | qiopt kernel 1T | kernel/dwave | qiopt sampler 1T "
          "| qiopt kernel 2T | 2T/1T | dwave best / median | qiopt best / median | best known |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    instances = {name: Instance(name, folder) for name in dict.fromkeys(speed + targets)}
    print("\n".join(throughput_rows([instances[k] for k in speed], reads, sweeps, args.repeats)), flush=True)
    if not args.quick:
        print("\n### Lockstep block width (kernel, 1 thread, G1, 128 reads × 1000 sweeps)\n")
        print("| instance | max reads in lockstep | M updates/s |\n|---|---|---|")
        print("\n".join(width_rows(instances["G1"], reads, sweeps, args.repeats)), flush=True)
    cap = 30.0
    print(f"\n### Time to best-known ({sweeps if not args.quick else 1000} sweeps; reads doubling from 8, "
          f"cap {cap:.0f} s) and qiopt `time_limit={time_limit:g}` with default options "
          f"({len(os.sched_getaffinity(0))} threads, polish)\n")
    print("| instance | best known | dwave 1T | qiopt 1T (no polish) | qiopt time_limit |")
    print("|---|---|---|---|---|")
    rows = target_rows([instances[k] for k in targets], 1000, time_limit, cap, with_dwave)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
