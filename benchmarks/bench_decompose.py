"""Decomposition on 200,000-variable sparse models: qiopt's ``"decompose"`` against one long anneal of the whole
model (qiopt ``sa`` and dwave-samplers' SA) and against dwave-hybrid's energy-impact decomposition loop, at equal
wall-clock time, side by side in one run.

Instances (spin domain, no fields, couplings ±1 drawn from ``--seed``):

* ``torus``: a 448 × 448 toroidal grid (200,704 spins, 401,408 couplings), Gset's toroidal family scaled up
  (G81 is 20,000 spins); the ground-state energy per spin of the 2D ±J glass is about −1.40;
* ``random``: 200,000 spins, 400,000 couplings between uniformly drawn pairs (mean degree 4).

Solvers, each given ``--time`` seconds for the whole call (the table prints the seconds the timed call took):

* ``decompose``: ``qiopt.solve(bqm, backend="decompose", time_limit=T)`` (threads of this machine), and
  with ``start_share=0.6`` (a longer start anneal of the whole model, fewer rounds of sub-problems);
* ``decompose-dask``: the same with ``executor=`` a 2-worker ``LocalCluster`` (one thread each; its start-up is
  not counted), sub-problems sent to the workers (``--dask``);
* ``sa``: ``qiopt.solve(bqm, backend="sa", num_reads=2)`` with the sweeps that fill T (measured first: two short
  calls give the cost per sweep), and ``time_limit=T`` as a guard;
* ``dwave-sa``: dwave-samplers' ``SimulatedAnnealingSampler``, 2 reads, sweeps calibrated the same way;
* ``dwave-hybrid``: dwave-hybrid's loop, as its documentation composes one: a start from its
  ``SimulatedAnnealingProblemSampler`` (200 sweeps), then ``EnergyImpactDecomposer(size=500, rolling=True,
  traversal="bfs") | SimulatedAnnealingSubproblemSampler(num_reads=16, num_sweeps=250) | SplatComposer()``
  (the sub-problem's reads start from the current values; the sizes are qiopt's defaults, like with like),
  kept only where it lowers the energy (``ArgMin`` against the current state), looped until T.

Run from the repository root: ``python benchmarks/bench_decompose.py [--time 30] [--instances torus random]
[--dask]``; ``--grid`` compares sub-problem options on the torus instead. Prints a Markdown table: the best
energy, per spin, the seconds really taken, and each solver's energy above qiopt decompose's (in % of |E|).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import time

import dimod
import numpy as np

import qiopt


def torus(side: int, seed: int) -> dimod.BinaryQuadraticModel:
    rng = np.random.default_rng(seed)
    idx = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([idx.ravel(), idx.ravel()])
    cols = np.concatenate([np.roll(idx, -1, 0).ravel(), np.roll(idx, -1, 1).ravel()])
    return _bqm(side * side, rows, cols, rng.choice([-1.0, 1.0], size=rows.size))


def random_graph(n: int, edges: int, seed: int) -> dimod.BinaryQuadraticModel:
    rng = np.random.default_rng(seed)
    pairs = np.sort(rng.integers(0, n, size=(int(1.05 * edges), 2)), axis=1)
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)
    pairs = pairs[rng.permutation(len(pairs))[:edges]]
    return _bqm(n, pairs[:, 0], pairs[:, 1], rng.choice([-1.0, 1.0], size=len(pairs)))


def _bqm(n: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> dimod.BinaryQuadraticModel:
    return dimod.BQM.from_numpy_vectors(np.zeros(n), (rows, cols, values), 0.0, "SPIN")


def calibrated_sweeps(run, seconds: float) -> int:
    """Sweeps that make ``run(sweeps)`` take about ``seconds``: a line through two short calls."""
    t = []
    for sweeps in (50, 200):
        start = time.perf_counter()
        run(sweeps)
        t.append(time.perf_counter() - start)
    slope = max((t[1] - t[0]) / 150, 1e-9)
    return max(10, int((0.95 * seconds - (t[0] - 50 * slope)) / slope))


def timed(call):
    """``(value, seconds)`` of one call."""
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


def run_decompose(bqm, seconds, seed, executor=None, **options):
    result, took = timed(lambda: qiopt.solve(bqm, backend="decompose", time_limit=seconds, seed=seed,
                                             executor=executor, **options))
    return result.best_energy, took, result.info["decomposition"]


def run_sa(bqm, seconds, seed):
    sweeps = calibrated_sweeps(lambda s: qiopt.solve(bqm, backend="sa", num_reads=2, num_sweeps=s, seed=seed),
                               seconds)
    result, took = timed(lambda: qiopt.solve(bqm, backend="sa", num_reads=2, num_sweeps=sweeps, seed=seed,
                                             time_limit=seconds))
    return result.best_energy, took, {"sweeps": sweeps}


def run_dwave_sa(bqm, seconds, seed):
    from dwave.samplers import SimulatedAnnealingSampler

    sampler = SimulatedAnnealingSampler()
    sweeps = calibrated_sweeps(lambda s: sampler.sample(bqm, num_reads=2, num_sweeps=s, seed=seed), seconds)
    sampleset, took = timed(lambda: sampler.sample(bqm, num_reads=2, num_sweeps=sweeps, seed=seed))
    return float(sampleset.first.energy), took, {"sweeps": sweeps}


def run_hybrid(bqm, seconds, seed):
    import hybrid

    started = time.perf_counter()
    start = hybrid.SimulatedAnnealingProblemSampler(num_reads=1, num_sweeps=200)
    def warm(_, state):  # the sub-problem's reads start from the current values (its sampler reads subsamples)
        sub, sample = state.subproblem, state.samples.first.sample
        return state.updated(subsamples=dimod.SampleSet.from_samples_bqm({v: sample[v] for v in sub.variables},
                                                                           sub))

    step = (hybrid.EnergyImpactDecomposer(size=500, rolling=True, rolling_history=1.0, traversal="bfs")
            | hybrid.Lambda(warm)
            | hybrid.SimulatedAnnealingSubproblemSampler(num_reads=16, num_sweeps=250)
            | hybrid.SplatComposer())
    state = start.run(hybrid.State.from_sample(hybrid.random_sample(bqm), bqm)).result()
    iteration = hybrid.ParallelBranches(hybrid.Identity(), step) | hybrid.ArgMin()
    rounds = 0
    while time.perf_counter() - started < seconds:
        state = iteration.run(state).result()
        rounds += 1
    return float(state.samples.first.energy), time.perf_counter() - started, {"iterations": rounds}


def payload(bqm: dimod.BinaryQuadraticModel) -> int:
    """Pickled bytes of one sub-problem task's arguments with the default options, on a random state."""
    import pickle

    from qiopt.backends.decomposition import DecompositionOptions, regions
    from qiopt.backends.decomposition.sampler import subproblem_betas
    from qiopt.model import CompactModel

    cm, options = CompactModel.from_bqm(bqm), DecompositionOptions()
    s = (2 * np.random.default_rng(0).integers(0, 2, cm.num_variables) - 1).astype(np.int8)
    cost = regions.flip_costs(cm.h, cm.indptr, cm.indices, cm.data, s)
    n = cm.num_variables
    region = regions.grow_region(cm.indptr, cm.indices, cost, np.zeros(n, np.int8), 0, options.subproblem_size,
                                 np.zeros(n, np.int8))
    arrays = regions.extract(cm.h, cm.indptr, cm.indices, cm.data, s, region, np.full(n, -1, np.int32))
    return len(pickle.dumps((*arrays, subproblem_betas(cm, options), options.subproblem_reads, 0)))


GRID = ({"subproblem_size": 500, "subproblem_sweeps": 1000, "subproblem_reads": 2},
        {"subproblem_size": 500, "subproblem_sweeps": 250, "subproblem_reads": 16},
        {"subproblem_size": 250, "subproblem_sweeps": 250, "subproblem_reads": 16},
        {"subproblem_size": 1000, "subproblem_sweeps": 250, "subproblem_reads": 16},
        {"subproblem_size": 500, "subproblem_sweeps": 100, "subproblem_reads": 16},
        {"subproblem_size": 500, "subproblem_sweeps": 250, "subproblem_reads": 16, "reheat": 1.0},
        {"subproblem_size": 500, "subproblem_sweeps": 250, "subproblem_reads": 16, "reheat": 0.2})
"""With ``--grid``: the sub-problem options compared on the torus at equal time (how the defaults were chosen)."""


def grid(args: argparse.Namespace) -> None:
    bqm = torus(448, args.seed)
    qiopt.solve(torus(16, 0), backend="decompose", seed=0, num_rounds=1)
    print("| options | best energy | per spin | rounds | sub-problems merged / solved |")
    print("|---|---|---|---|---|")
    for options in GRID:
        result = qiopt.solve(bqm, backend="decompose", time_limit=args.time, seed=args.seed + 1, **options)
        info = result.info["decomposition"]
        text = ", ".join(f"{k.replace('subproblem_', '')}={v}" for k, v in options.items())
        print(f"| {text} | {result.best_energy:.0f} | {result.best_energy / bqm.num_variables:.5f} | "
              f"{info['rounds']} | {info['merged']} / {info['subproblems']} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time", type=float, default=30.0)
    parser.add_argument("--instances", nargs="+", default=["torus", "random"], choices=["torus", "random"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dask", action="store_true", help="also run decompose on a 2-worker LocalCluster")
    parser.add_argument("--grid", action="store_true", help="only decompose on the torus, over GRID's options")
    args = parser.parse_args()
    if args.grid:
        grid(args)
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; budget {args.time:g} s per call\n")
    solvers = {"decompose": run_decompose,
               "decompose, start_share=0.6": lambda bqm, seconds, seed: run_decompose(bqm, seconds, seed,
                                                                                    start_share=0.6),
               "sa": run_sa}
    if importlib.util.find_spec("dwave.samplers"):
        solvers["dwave-sa"] = run_dwave_sa
    if importlib.util.find_spec("hybrid"):
        solvers["dwave-hybrid"] = run_hybrid
    client = cluster = None
    if args.dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        solvers["decompose-dask"] = lambda bqm, seconds, seed: run_decompose(bqm, seconds, seed, client)
    # compile qiopt's kernels before any timing
    qiopt.solve(torus(16, 0), backend="decompose", seed=0, num_rounds=1)
    print("| instance | solver | best energy | per spin | seconds | above decompose | notes |")
    print("|---|---|---|---|---|---|---|")
    try:
        for name in args.instances:
            bqm = torus(448, args.seed) if name == "torus" else random_graph(200_000, 400_000, args.seed)
            rows = {}
            for solver, run in solvers.items():
                rows[solver] = run(bqm, args.time, args.seed + 1)
            ours = rows["decompose"][0]
            for solver, (energy, seconds, notes) in rows.items():
                text = ", ".join(f"{k}={v}" for k, v in notes.items() if k in (
                    "sweeps", "iterations", "rounds", "subproblems", "merged", "start_energy"))
                text = text.replace("start_energy=", "start ")
                print(f"| {name} {bqm.num_variables:,} | {solver} | {energy:.0f} | {energy / bqm.num_variables:.5f} "
                      f"| {seconds:.1f} | {100 * (energy - ours) / abs(ours):+.3f}% | {text} |", flush=True)
        print()
        print(f"one sub-problem task (torus, default options): sends {payload(torus(448, args.seed)):,} bytes "
              "pickled, gets back 500")
    finally:
        if client is not None:
            client.close()
            cluster.close()


if __name__ == "__main__":
    main()
