"""End-to-end time of ``qiopt solve`` on a 50 × 10 allocation JSON (process start included).

Target: under 2 s once the first run has warmed the compile cache. The first run's time is reported separately.

    python benchmarks/bench_cli.py [--runs 5] [--tasks 50] [--agents 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qiopt.problems import TaskAllocation


def timed(command: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--agents", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "allocation.json"
        TaskAllocation.random(args.tasks, args.agents, seed=1).to_json(path)
        command = [sys.executable, "-m", "qiopt", "solve", str(path), "--seed", "1", "--output",
                   str(Path(folder) / "result.json")]
        first, code = timed(command)
        runs = [timed(command) for _ in range(args.runs)]
    times = sorted(t for t, _ in runs)
    print(f"| instance | first run | best of {args.runs} | median | exit codes |")
    print("|---|---|---|---|---|")
    print(f"| allocation {args.tasks}×{args.agents} | {first:.2f} s | {times[0]:.2f} s | "
          f"{times[len(times) // 2]:.2f} s | {sorted({code, *(c for _, c in runs)})} |")


if __name__ == "__main__":
    main()
