"""Streaming allocation: ``qiopt.Allocator`` against a greedy cheapest-first allocator and the per-batch HiGHS optimum.

Run: ``python benchmarks/bench_stream.py [--batches 100] [--size 1000] [--agents 50] [--budget 0.05]
[--sample-every 10] [--no-freeze]``. By default the process is warmed up as ``qiopt serve`` does
(:func:`qiopt.services.gateway.warm_up`: kernels compiled, then :func:`gc.freeze`); ``--no-freeze`` measures
without it (a full garbage collection then adds ~100 ms to one call in a few dozen).

The stream (issue 12's target setting): agents and requests at random places in the unit square, cost = the
agent's price (1–3) + 10 × distance, so requests compete for the same nearby agents; demands 1–5; after every
batch the oldest ``size`` requests are released; capacities 10 % above the peak live demand (two batches'
expected demand), equal for every agent. Both allocators see the same stream. Printed:

* ``submit`` latency percentiles (wall time per call, the first call, which compiles the kernels, excluded);
* capacity checks (every batch) and the ``None`` rule (a request is left out only when no eligible agent has room);
* the busiest agent lost after the stream: how many requests it held, how many could not be placed again, and
  how long ``remove_agent`` took;
* on every ``--sample-every``-th batch, the batch cost against HiGHS's optimum for that batch given the room
  left (most requests placed first, then least cost; same state for both: the allocator's), and the greedy
  allocator's cost on the same batch and state.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from qiopt import Allocator
from qiopt.problems import reference as ref
from qiopt.problems._search import AssignmentArrays
from qiopt.services.gateway import warm_up


def stream(args: argparse.Namespace) -> tuple[list[dict], list[list[dict]]]:
    rng = np.random.default_rng(1)
    where, price = rng.random((args.agents, 2)), rng.uniform(1, 3, args.agents)
    capacity = float(np.ceil(1.1 * 2 * args.size * 3.0 / args.agents))
    agents = [{"id": f"a{k}", "capacity": capacity} for k in range(args.agents)]
    batches = []
    for b in range(args.batches + 1):
        at = rng.random((args.size, 2))
        cost = price + 10 * np.linalg.norm(at[:, None, :] - where[None, :, :], axis=2)
        demand = rng.integers(1, 6, args.size)
        batches.append([{"id": f"r{b}-{i}", "demand": int(demand[i]),
                         "costs": {f"a{k}": round(float(cost[i, k]), 3) for k in range(args.agents)}}
                        for i in range(args.size)])
    return agents, batches


def arrays_for(batch: list[dict], agents: list[dict], loads: dict) -> tuple[AssignmentArrays, np.ndarray]:
    """The batch on the room left, with a "not placed" bin that costs more than any placement saves."""
    room = np.array([a["capacity"] - loads[a["id"]] for a in agents])
    cost = np.array([[r["costs"][a["id"]] for a in agents] for r in batch])
    size = np.array([[r["demand"]] * len(agents) for r in batch], dtype=float)
    fits = size <= room + 1e-9
    big = 1.0 + float(np.abs(cost).max(axis=1).sum()) * 2  # above any cost change of one more request placed
    arr = AssignmentArrays(np.c_[np.where(fits, cost, np.inf), np.full(len(batch), big)],
                           np.c_[np.where(fits, size, 0), np.zeros(len(batch))], np.r_[room, np.inf],
                           sp.csr_matrix((len(batch), len(batch))))
    return arr, cost


def batch_cost(placed: dict, batch: list[dict]) -> tuple[int, float]:
    return (sum(a is not None for a in placed.values()),
            sum(r["costs"][placed[r["id"]]] for r in batch if placed[r["id"]] is not None))


class Greedy:
    """The anchor: each request, largest first, to its cheapest agent with room."""

    def __init__(self, agents: list[dict]) -> None:
        self.capacity = {a["id"]: a["capacity"] for a in agents}
        self.load = dict.fromkeys(self.capacity, 0.0)
        self.live: dict = {}

    def submit(self, batch: list[dict]) -> dict:
        out = {}
        for r in sorted(batch, key=lambda r: -r["demand"]):
            ok = [(c, a) for a, c in r["costs"].items() if self.load[a] + r["demand"] <= self.capacity[a] + 1e-9]
            out[r["id"]] = min(ok)[1] if ok else None
            if ok:
                self.load[out[r["id"]]] += r["demand"]
                self.live[r["id"]] = (out[r["id"]], r["demand"])
        return {r["id"]: out[r["id"]] for r in batch}

    def release(self, ids: list) -> None:
        for rid in ids:
            if rid in self.live:
                a, d = self.live.pop(rid)
                self.load[a] -= d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--budget", type=float, default=0.05, help="Allocator time_budget (s per batch)")
    parser.add_argument("--sample-every", type=int, default=10)
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the garbage collector as it is (qiopt serve freezes it after warming up)")
    args = parser.parse_args()
    agents, batches = stream(args)
    ours, greedy = Allocator(agents, seed=1, time_budget=args.budget), Greedy(agents)
    if not args.no_freeze:
        warm_up()  # what qiopt serve does before taking traffic: compile, collect, gc.freeze()
    ours.submit(batches[0])  # compiles the kernels; not timed
    greedy.submit(batches[0])
    latency, greedy_latency, none_ok, over, gaps, greedy_gaps, placed_diff = [], [], True, 0, [], [], []
    previous = batches[0]
    for k, batch in enumerate(batches[1:], start=1):
        loads = ours.loads
        sampled = k % args.sample_every == 0
        t = time.perf_counter()
        placed = ours.submit(batch)
        latency.append(time.perf_counter() - t)
        if sampled:  # the references after the timed call, on the state it started from
            arr, _ = arrays_for(batch, agents, loads)
            a, _ = ref.milp(arr, time_limit=60)
            optimum = batch_cost({r["id"]: (None if a[i] == len(agents) else f"a{a[i]}")
                                  for i, r in enumerate(batch)}, batch)
            twin = Greedy(agents)
            twin.load = dict(loads)
            greedy_cost = batch_cost(twin.submit(batch), batch)
            time.sleep(0.5)  # HiGHS's worker threads wind down before the next timed call
        t = time.perf_counter()
        greedy.submit(batch)
        greedy_latency.append(time.perf_counter() - t)
        after = ours.loads
        over += sum(after[a["id"]] > a["capacity"] + 1e-9 for a in agents)
        for r in batch:
            if placed[r["id"]] is None:
                none_ok &= all(r["demand"] > a["capacity"] - after[a["id"]] + 1e-9 for a in agents)
        if sampled:
            got = batch_cost(placed, batch)
            placed_diff.append(got[0] - optimum[0])
            gaps.append(100 * (got[1] - optimum[1]) / optimum[1])
            greedy_gaps.append(100 * (greedy_cost[1] - optimum[1]) / optimum[1])
        ours.release([r["id"] for r in previous])
        greedy.release([r["id"] for r in previous])
        previous = batch
    ms, greedy_ms = 1000 * np.array(latency), 1000 * np.array(greedy_latency)
    lost = max(ours.loads, key=ours.loads.get)  # the busiest agent is lost
    count = sum(a == lost for a in ours.assignment.values())
    t = time.perf_counter()
    moved = ours.remove_agent(lost)
    loss_ms = 1000 * (time.perf_counter() - t)
    print("| stream | submit latency p50 / p99 / max (ms) | capacity exceeded | None only when nothing fits | "
          "batch cost vs HiGHS optimum: mean (max) | greedy anchor on the same batches: mean (max) | "
          "placed vs optimum | greedy p99 (ms) | agent lost: requests re-placed (left out), ms |\n"
          "|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.batches} batches × {args.size} requests, {args.agents} agents, time_budget {args.budget:g} s"
          f"{', gc as is' if args.no_freeze else ', gc frozen after warm-up'} "
          f"| {np.percentile(ms, 50):.1f} / {np.percentile(ms, 99):.1f} / {ms.max():.1f} | {over} times "
          f"| {'yes' if none_ok else 'NO'} | {np.mean(gaps):+.2f}% ({np.max(gaps):+.2f}%) over {len(gaps)} batches "
          f"| {np.mean(greedy_gaps):+.2f}% ({np.max(greedy_gaps):+.2f}%) | {min(placed_diff):+d} to "
          f"{max(placed_diff):+d} requests | {np.percentile(greedy_ms, 99):.1f} | {count} "
          f"({sum(a is None for a in moved.values())}), {loss_ms:.1f} |")


if __name__ == "__main__":
    main()
