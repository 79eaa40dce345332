"""Seed scenario: a multi-agent travel-planning service allocates a batch of user requests to its agents.

Pools of travel, budget and cultural agents; each request needs one skill and has a demand; agents have
capacities and per-request costs; some requests prefer the same agent (affinity). Run::

    python examples/travel_planning.py [path/to/scenario.json]
"""

from __future__ import annotations

import sys
from importlib.resources import files

import qiopt
from qiopt.problems import TaskAllocation


def main(path: str | None = None) -> str:
    """Solve the scenario and return the printed plan."""
    source = path or files("qiopt") / "data" / "travel_planning.json"
    problem = TaskAllocation.from_json(source)
    result = qiopt.solve(problem, backend="sa", seed=1, reference="milp", time_limit=10)
    plan = problem.format_plan(result.solution)
    return f"{plan}\ngap to the HiGHS optimum: {result.gap:.2%}  (penalties {problem.penalties})"


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else None))
