"""The gateway under load, over loopback: placed requests per second and latency percentiles of ``POST /requests``.

Run: ``python benchmarks/bench_gateway.py [--batches 200] [--size 100] [--agents 50] [--budget 0.02]
[--seconds 120]``.

``qiopt serve`` runs in a subprocess (a real service: its own interpreter, uvicorn, loopback only) over 50
agents; one client (httpx, keep-alive) posts batches of ``--size`` requests (costs = the agent's price + 10 ×
distance, demands 1–5) and, after each batch, releases the one before it, so at most two batches are live.
The run stops after ``--batches`` batches or ``--seconds``, whichever comes first (bounded: count and time).
Printed: placed requests per second over the whole run (wall time of the client, HTTP and JSON included),
``POST /requests`` latency p50 / p99 / max, and how many requests came back ``None``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from bench_stream import stream as make_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--budget", type=float, default=0.02, help="the allocator's time_budget per batch")
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    agents, stream = make_stream(args)  # the stream benchmark's agents and requests, at this batch size
    work = Path(tempfile.mkdtemp())
    (work / "agents.json").write_text(json.dumps(agents))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "QIOPT_SERVE_TOKEN"}
    server = subprocess.Popen([sys.executable, "-m", "qiopt", "serve", "--agents", str(work / "agents.json"),
                               "--seed", "1", "--time-budget", str(args.budget), "--port", str(port)], env=env)
    latency, placed, none, previous = [], 0, 0, []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get("/health")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("qiopt serve did not start") from None
                    time.sleep(0.1)
            http.post("/requests", json=[{"id": "warm-up", "demand": 1}])  # compiles the kernels; not timed
            http.request("DELETE", "/requests", json={"ids": ["warm-up"]})
            started = time.perf_counter()
            for batch in stream[1:]:
                t = time.perf_counter()
                response = http.post("/requests", json=batch)
                latency.append(time.perf_counter() - t)
                response.raise_for_status()
                answers = response.json()["placements"]
                placed += sum(a is not None for a in answers.values())
                none += sum(a is None for a in answers.values())
                if previous:
                    http.request("DELETE", "/requests", json={"ids": previous}).raise_for_status()
                previous = [rid for rid, a in answers.items() if a is not None]
                if time.perf_counter() - started > args.seconds:
                    break
            wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(20)
    ms = 1000 * np.array(latency)
    print("| load | placed requests / s | POST /requests p50 / p99 / max (ms) | returned None |\n|---|---|---|---|")
    print(f"| {len(latency)} batches × {args.size} requests, {args.agents} agents, time_budget {args.budget:g} s "
          f"| {placed / wall:.0f} | {np.percentile(ms, 50):.1f} / {np.percentile(ms, 99):.1f} / {ms.max():.1f} "
          f"| {none} |")


if __name__ == "__main__":
    main()
