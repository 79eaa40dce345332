"""QAOA max-cut: qiopt's "qaoa" backend side by side with qiskit-optimization 0.7, and qubits vs time/memory.

Both use COBYLA with the same budget (maxiter 100) and 1024 final shots on the same seeded 3-regular graphs.
qiskit-optimization: ``MinimumEigenOptimizer(QAOA(SamplerV2(), COBYLA(), reps=p))`` on Aer's SamplerV2 (its
random initial point seeded). qiopt: its defaults (fixed-angle start, float32 statevector engine); "qiopt qaoa"
draws the final shots on Aer's SamplerV2, "qiopt qaoa/statevector" from the optimised state's exact
probabilities; "init='random'" starts from one random point as qiskit-optimization does, so the comparison of
engines is not mixed with the choice of starting angles. "ms / evaluation" (wall time over objective
evaluations, shots included) compares the engines alone.
Reported: wall time end to end, objective evaluations, best sampled cut, and the expected-cut ratio
``E[cut] / max cut`` both of the 1024 returned samples (like with like) and exact, from the optimised state
(qiskit-optimization's optimal circuit on Aer's statevector); exact max cut by enumeration.

Run: ``python benchmarks/bench_qaoa.py`` (``--sizes 12 16 20 --reps 1 2 --scaling 24``); ``--sizes`` alone
runs only the scaling table, whose peak RSS is then that of qiopt alone.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import networkx as nx
import numpy as np

import qiopt
from qiopt.model import maxcut_bqm


def cuts(graph: nx.Graph, bits: np.ndarray) -> np.ndarray:
    edges = np.array(graph.edges)
    return (bits[:, edges[:, 0]] != bits[:, edges[:, 1]]).sum(axis=1)


Run = tuple[float, int, np.ndarray, np.ndarray, float]  # seconds, evaluations, bits, weights, exact E[cut]


def run_qiopt(graph: nx.Graph, reps: int, seed: int, sampler: str = "aer", **options: object) -> Run:
    t = time.perf_counter()
    result = qiopt.get_backend("qaoa", reps=reps, seed=seed, maxiter=100, shots=1024, sampler=sampler,
                               **options).sample(maxcut_bqm(graph))
    elapsed = time.perf_counter() - t
    bits = (result.record.sample[:, [result.variables.index(v) for v in graph.nodes]] > 0).astype(int)
    expected_cut = (graph.number_of_edges() - result.info["expected_energy"]) / 2  # maxcut_bqm: E = m - 2 cut
    return elapsed, result.info["num_evaluations"], bits, result.record.num_occurrences, expected_cut


def run_qiskit_optimization(graph: nx.Graph, reps: int, seed: int) -> Run:
    from qiskit.quantum_info import Statevector
    from qiskit_aer.primitives import SamplerV2
    from qiskit_optimization.algorithms import MinimumEigenOptimizer
    from qiskit_optimization.applications import Maxcut
    from qiskit_optimization.minimum_eigensolvers import QAOA
    from qiskit_optimization.optimizers import COBYLA
    from qiskit_optimization.utils import algorithm_globals

    algorithm_globals.random_seed = seed
    evaluations = []
    t = time.perf_counter()
    problem = Maxcut(graph).to_quadratic_program()
    qaoa = QAOA(SamplerV2(default_shots=1024, seed=seed), COBYLA(maxiter=100), reps=reps,
                callback=lambda *args: evaluations.append(1))
    result = MinimumEigenOptimizer(qaoa).solve(problem)
    elapsed = time.perf_counter() - t
    bits = np.array([s.x for s in result.samples], dtype=int)
    probs = np.array([s.probability for s in result.samples])
    solved = result.min_eigen_solver_result
    circuit = solved.optimal_circuit.remove_final_measurements(inplace=False)
    exact = Statevector(circuit.assign_parameters(solved.optimal_point)).probabilities()
    k = np.arange(exact.size)
    all_bits = (k[:, None] >> np.arange(graph.number_of_nodes())) & 1  # qubit i = node i (little-endian)
    return elapsed, len(evaluations), bits, probs, float(exact @ cuts(graph, all_bits))


def compare(sizes: list[int], reps_list: list[int], seed: int) -> None:
    print("| n | p | solver | wall s | evaluations | ms / evaluation | best cut | max cut | E[cut]/max 1024 shots "
          "| E[cut]/max exact | speed-up | speed-up per evaluation |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        graph = nx.random_regular_graph(3, n, seed=seed)
        exact = qiopt.get_backend("exact").sample(maxcut_bqm(graph)).first.energy
        max_cut = int((graph.number_of_edges() - exact) / 2)
        for reps in reps_list:
            rows = {}
            contenders = (("qiskit-optimization", run_qiskit_optimization), ("qiopt qaoa (Aer sampling)", run_qiopt),
                          ("qiopt qaoa/statevector", lambda *a: run_qiopt(*a, sampler="statevector")),
                          ("qiopt qaoa, init='random' (1 start, Aer sampling)",
                           lambda *a: run_qiopt(*a, init="random", restarts=1)))
            for name, runner in contenders:
                elapsed, evals, bits, weights, exact = runner(graph, reps, seed)
                c = cuts(graph, bits)
                rows[name] = (elapsed, evals, int(c.max()), float(weights @ c / weights.sum()) / max_cut,
                              exact / max_cut)
            base, base_evals = rows["qiskit-optimization"][:2]
            for name, (elapsed, evals, best, ratio, exact) in rows.items():
                per = elapsed / max(evals, 1)
                print(f"| {n} | {reps} | {name} | {elapsed:.2f} | {evals} | {1000 * per:.1f} | {best} | {max_cut} "
                      f"| {ratio:.3f} | {exact:.3f} | {base / elapsed:.1f}x | {base / max(base_evals, 1) / per:.1f}x |",
                      flush=True)


def scaling(max_n: int, reps: int, seed: int) -> None:
    print("\n| n | p | wall s | evaluations | wall s / evaluations | peak RSS GiB (process) | approx. ratio |")
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
    parser.add_argument("--sizes", type=int, nargs="*", default=[12, 16, 20],
                        help="n of the side-by-side table (none: only the scaling table, for its peak memory)")
    parser.add_argument("--reps", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scaling", type=int, default=24, help="largest n of the qubits-vs-time table (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Using Sampler V2")  # qiskit-optimization's, about its transpilation
    t = time.perf_counter()
    qiopt.get_backend("qaoa", seed=1).sample(maxcut_bqm(nx.cycle_graph(4)))
    print(f"first qiopt call (imports, numba cache load or compile): {time.perf_counter() - t:.2f} s\n")
    if args.sizes:
        warm = nx.random_regular_graph(3, 6, seed=1)  # warm-up of both sides: imports, transpiler, Aer start-up
        run_qiskit_optimization(warm, 1, 1)
        run_qiopt(warm, 1, 1, sampler="aer")
        compare(args.sizes, args.reps, args.seed)
    if args.scaling:
        scaling(args.scaling, 2, args.seed)


if __name__ == "__main__":
    main()
