"""The IBM path offline: QAOA on a fake IBM device (qiskit-ibm-runtime's fake provider, full noise model).

A 5-node weighted max-cut through ``qiopt.solve(..., backend="ibm", device=...)``: the angles optimised on the
local statevector, the circuit transpiled to the device's ISA and sampled with its noise model, the samples
decoded. Printed per run: wall time (import and the first transpilation included in run 1), the decoded cut,
the optimum (brute force), and the device's qubit count. Target (issue 4 of the first wave): ≤ 60 s.

Run: ``python benchmarks/bench_ibm.py [--device fake_brisbane] [--runs 3]`` (needs the ``ibm`` extra).
"""

from __future__ import annotations

import argparse
import itertools
import time

import networkx as nx
import numpy as np

import qiopt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="fake_brisbane", help="a qiskit_ibm_runtime.fake_provider device")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    graph = nx.Graph()
    graph.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 2.0), (2, 3, 1.0), (3, 4, 1.5), (4, 0, 1.0), (0, 2, 0.5)])
    optimum = max(sum(w for u, v, w in graph.edges(data="weight") if side[u] != side[v])
                  for side in itertools.product((0, 1), repeat=5))
    print("| run | device | qubits | wall s | decoded cut | optimum |\n|---|---|---|---|---|---|")
    walls = []
    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        result = qiopt.solve(qiopt.MaxCut(graph), backend="ibm", device=args.device, seed=run)
        wall = time.perf_counter() - t0
        walls.append(wall)
        print(f"| {run} | {result.info.get('device', args.device)} | {result.info.get('num_qubits_device', '?')} "
              f"| {wall:.1f} | {result.solution.details['cut']:g} | {optimum:g} |", flush=True)
    print(f"\nbest {min(walls):.1f} s, median {np.median(walls):.1f} s over {args.runs} runs (target ≤ 60 s)")


if __name__ == "__main__":
    main()
