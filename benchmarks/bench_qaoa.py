"""QAOA max-cut: qiopt's "qaoa" backend side by side with qiskit-optimization 0.7, and qubits vs time/memory.

Both use COBYLA (maxiter 100) and Aer's SamplerV2 for the final samples (1024 shots) on the same seeded
3-regular graphs. qiskit-optimization: ``MinimumEigenOptimizer(QAOA(SamplerV2(), COBYLA(), reps=p))``.
Reported: wall time end to end, circuit evaluations, best sampled cut, and the expected-cut ratio
``E[cut] / max cut`` of the returned samples (exact max cut by enumeration).

Run: ``python benchmarks/bench_qaoa.py`` (``--sizes 12 16 20 --reps 1 2 --scaling 24``).
"""

from __future__ import annotations

import argparse
import resource
import time

import networkx as nx
import numpy as np

import qiopt
from qiopt.model import maxcut_bqm


def cuts(graph: nx.Graph, bits: np.ndarray) -> np.ndarray:
    edges = np.array(graph.edges)
    return (bits[:, edges[:, 0]] != bits[:, edges[:, 1]]).sum(axis=1)


def run_qiopt(graph: nx.Graph, reps: int, seed: int) -> tuple[float, int, np.ndarray, np.ndarray]:
    t = time.perf_counter()
    result = qiopt.get_backend("qaoa", reps=reps, seed=seed, maxiter=100, shots=1024).sample(maxcut_bqm(graph))
    elapsed = time.perf_counter() - t
    bits = (result.record.sample[:, [result.variables.index(v) for v in graph.nodes]] > 0).astype(int)
    return elapsed, result.info["num_evaluations"], bits, result.record.num_occurrences


def run_qiskit_optimization(graph: nx.Graph, reps: int, seed: int) -> tuple[float, int, np.ndarray, np.ndarray]:
    from qiskit_aer.primitives import SamplerV2
    from qiskit_optimization.algorithms import MinimumEigenOptimizer
    from qiskit_optimization.applications import Maxcut
    from qiskit_optimization.minimum_eigensolvers import QAOA
    from qiskit_optimization.optimizers import COBYLA

    evaluations = []
    t = time.perf_counter()
    problem = Maxcut(graph).to_quadratic_program()
    qaoa = QAOA(SamplerV2(default_shots=1024, seed=seed), COBYLA(maxiter=100), reps=reps,
                callback=lambda *args: evaluations.append(1))
    result = MinimumEigenOptimizer(qaoa).solve(problem)
    elapsed = time.perf_counter() - t
    bits = np.array([s.x for s in result.samples], dtype=int)
    probs = np.array([s.probability for s in result.samples])
    return elapsed, len(evaluations), bits, probs


def compare(sizes: list[int], reps_list: list[int], seed: int) -> None:
    print("| n | p | solver | wall s | evaluations | best cut | max cut | E[cut]/max | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        graph = nx.random_regular_graph(3, n, seed=seed)
        exact = qiopt.get_backend("exact").sample(maxcut_bqm(graph)).first.energy
        max_cut = int((graph.number_of_edges() - exact) / 2)
        for reps in reps_list:
            rows = {}
            for name, runner in (("qiskit-optimization", run_qiskit_optimization), ("qiopt qaoa", run_qiopt)):
                elapsed, evals, bits, weights = runner(graph, reps, seed)
                c = cuts(graph, bits)
                rows[name] = (elapsed, evals, int(c.max()), float(weights @ c / weights.sum()) / max_cut)
            base = rows["qiskit-optimization"][0]
            for name, (elapsed, evals, best, ratio) in rows.items():
                print(f"| {n} | {reps} | {name} | {elapsed:.2f} | {evals} | {best} | {max_cut} | {ratio:.3f} | "
                      f"{base / elapsed:.1f}x |", flush=True)


def scaling(max_n: int, reps: int, seed: int) -> None:
    print("\n| n | p | wall s | evaluations | s/evaluation | peak RSS GiB | approx. ratio |")
    print("|---|---|---|---|---|---|---|")
    for n in range(16, max_n + 1, 4):
        graph = nx.random_regular_graph(3, n, seed=seed)
        t = time.perf_counter()
        result = qiopt.get_backend("qaoa", reps=reps, seed=seed, maxiter=100).sample(maxcut_bqm(graph))
        elapsed = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        evals = result.info["num_evaluations"]
        print(f"| {n} | {reps} | {elapsed:.1f} | {evals} | {elapsed / evals:.3f} | {rss:.2f} | "
              f"{result.info['approximation_ratio']:.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 20])
    parser.add_argument("--reps", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scaling", type=int, default=24, help="largest n of the qubits-vs-time table (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    qiopt.get_backend("qaoa", seed=1).sample(maxcut_bqm(nx.cycle_graph(4)))  # warm-up: imports, numba cache
    compare(args.sizes, args.reps, args.seed)
    if args.scaling:
        scaling(args.scaling, 2, args.seed)


if __name__ == "__main__":
    main()
