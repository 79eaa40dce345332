"""The Quick start demo (``qiopt demo`` / ``python -m qiopt``): plan travel-planning requests with ``"sa"``.

It loads the embedded scenario ``qiopt/data/travel_planning.json`` (agents with capacities and skills,
requests with demands, per-pair costs, affinities), solves it with the default backend (local, no
credentials), prints the plan and compares it with the exact MILP reference when one is available.

Example:
    >>> import io
    >>> from qiopt.demo import run_demo
    >>> result = run_demo(stream=io.StringIO(), seed=1)  # doctest: +SKIP
    >>> result.solution.feasible  # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import sys
import time
from importlib.resources import files
from typing import Any, TextIO

from qiopt.result import Result

__all__ = ["format_result", "load_scenario", "run_demo", "seed_option"]

SCENARIO = "travel_planning.json"


def load_scenario(name: str = SCENARIO) -> dict[str, Any]:
    """The embedded scenario ``name`` (a JSON file under ``qiopt/data``) as a plain dict."""
    return json.loads(files("qiopt").joinpath("data", name).read_text(encoding="utf-8"))


def seed_option(backend: str, seed: int | None) -> dict[str, int]:
    """``{"seed": seed}`` when a seed is given and ``backend`` has a ``seed`` option, else ``{}``."""
    from qiopt.backends.registry import backend_class

    return {} if seed is None or "seed" not in backend_class(backend).options_type.names() else {"seed": seed}


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*header).rstrip(), line.format(*("-" * w for w in widths)).rstrip(),
            *(line.format(*r).rstrip() for r in rows)]


def _violations(solution: Any) -> str:
    if solution.feasible:
        return "feasible (no constraint violated)"
    parts = ", ".join(f"{name} {amount:g}" for name, amount in solution.violations.items())
    return f"INFEASIBLE: {parts}"


def format_result(result: Result, seconds: float) -> list[str]:
    """Summary lines common to every solve: backend, energy, objective, feasibility, time and any gap."""
    lines = [f"backend: {result.backend}   energy: {result.best_energy:.6g}   time: {seconds:.2f} s"]
    for failure in result.info.get("failures", []):
        lines.append(f"  (fell back from {failure['backend']}: {failure['type']}: {failure['message']})")
    solution = result.solution
    if solution is not None:
        repaired = " (repaired)" if solution.repaired else ""
        lines.append(f"objective: {solution.objective:.6g}{repaired}   {_violations(solution)}")
        if "source" in solution.details:
            lines.append(f"answer from: {solution.details['source']}")
    if "bound" in result.info:  # computed by the caller (the CLI does unless --no-bound)
        bound, gap = result.lower_bound, result.certified_gap
        shown = "none found" if bound is None else f"{bound:.6g}"
        lines.append(f"lower bound: {shown} ({result.info['bound']['method']})   certified gap: "
                     + ("n/a" if gap is None else f"{100 * gap:.2f} %"))
    if result.reference is not None:
        ref = result.reference
        gap = "n/a (only between feasible answers)" if result.gap is None else f"{100 * result.gap:.2f} %"
        lines.append(f"MILP reference objective: {ref.objective:.6g}   gap: {gap}")
    return lines


def run_demo(stream: TextIO | None = None, *, backend: str | None = None, seed: int | None = 7,
             reference: str | None = "milp") -> Result:
    """Solve the embedded travel-planning allocation, print the plan to ``stream`` and return the Result.

    ``stream`` defaults to the current ``sys.stdout``.
    ``backend`` defaults to the configured one (``"sa"``); ``reference`` names the classical method to compare
    with (skipped, with a note, if the problem has none or it fails).
    """
    import qiopt
    from qiopt.config import resolve_config
    from qiopt.problems import TaskAllocation

    stream = sys.stdout if stream is None else stream
    data = load_scenario()
    problem = TaskAllocation.from_dict(data)
    print(f"qiopt demo: travel planning, {len(data['tasks'])} requests for {len(data['agents'])} agents",
          file=stream)
    started = time.perf_counter()
    config = resolve_config(None, backend=backend)
    result = qiopt.solve(problem, config=config, **seed_option(config.backend, seed))
    seconds = time.perf_counter() - started
    if reference is not None:
        try:
            result.reference = problem.reference(reference)
        except (ValueError, ImportError, RuntimeError) as exc:
            print(f"(no {reference} reference: {exc})", file=stream)
    print("", *problem.format_plan(result.solution).splitlines(), "", *format_result(result, seconds),
          sep="\n", file=stream)
    return result
