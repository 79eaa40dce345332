"""Task allocation: every task to exactly one eligible agent, within capacities, at least cost minus affinity.

Input (plain data or JSON, see :meth:`TaskAllocation.from_dict`)::

    {"agents": [{"id": "a1", "capacity": 10, "skills": ["travel", "budget"]}, {"id": "a2", "capacity": 8}],
     "tasks":  [{"id": "t1", "demand": 3, "skill": "travel"},
                {"id": "t2", "demand": {"a1": 3, "a2": 5}}],
     "costs":  {"t1": {"a1": 2.5}},
     "affinity": [["t1", "t2", 1.5]]}

An agent is eligible for a task when the task has no ``skill`` or the agent has it, and the task's ``demand``
covers it: a number (the same on every agent, default 1) or a mapping ``{agent: amount}`` (agent-dependent,
the generalized assignment problem; an agent it does not name is not eligible). ``capacity`` defaults to
unlimited, a missing cost to 0 (costs of ineligible pairs are ignored). Objective =
``Σ cost[task][agent] − Σ w·[both tasks on the same agent]`` (a negative ``w`` keeps tasks apart). Model
variables ``("x", task, agent)`` exist for eligible pairs only; constraints and penalties are those of
:class:`~qiopt.problems.assignment.AssignmentProblem`.

Example:
    >>> import qiopt
    >>> p = TaskAllocation.from_dict({
    ...     "agents": [{"id": "a1", "capacity": 2}, {"id": "a2", "capacity": 2}],
    ...     "tasks": [{"id": "t1"}, {"id": "t2"}, {"id": "t3"}],
    ...     "costs": {"t1": {"a1": 1, "a2": 3}, "t2": {"a1": 1, "a2": 2}, "t3": {"a1": 1, "a2": 2}}})
    >>> result = qiopt.solve(p, backend="exact", reference="milp")
    >>> result.solution.objective, result.solution.feasible, result.gap
    (4.0, True, 0.0)
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from qiopt.problems import reference as ref
from qiopt.problems._data import (
    JsonData,
    affinity_matrix,
    amounts,
    capacities,
    check_fit,
    check_keys,
    number,
    read_json,
    records,
    skill_list,
)
from qiopt.problems._lagrange import lagrangian
from qiopt.problems._search import AssignmentArrays
from qiopt.problems.assignment import AssignmentProblem
from qiopt.problems.base import Solution

__all__ = ["TaskAllocation"]


class TaskAllocation(AssignmentProblem, JsonData):
    """Tasks → agents under skills and capacities (see module). Bad input raises before any solving."""

    item_kind, bin_kind = "task", "agent"

    def __init__(self, agents: list[Mapping[str, Any]], tasks: list[Mapping[str, Any]],
                 costs: Mapping[Any, Mapping[Any, float]] | None = None, affinity: list[Any] | None = None,
                 penalty: float | Mapping[str, float] | None = None) -> None:
        agent_rows = records(agents, "agents", {"capacity", "skills", "name"})
        task_rows = records(tasks, "tasks", {"demand", "skill", "name"})
        agent_ids, task_ids = [r["id"] for r in agent_rows], [r["id"] for r in task_rows]
        capacity = capacities(agent_rows, "agent")
        demand = amounts(task_rows, "demand", agent_ids, 1.0, "agent")
        skills = [set(skill_list(r)) for r in agent_rows]
        skilled = np.array([[r.get("skill") is None or r["skill"] in s for s in skills] for r in task_rows])
        eligible = skilled & np.isfinite(demand)
        for i, r in enumerate(task_rows):
            if not eligible[i].any():
                why = f"needs skill {r.get('skill')!r}, which no agent it names a demand for has" \
                    if skilled[i].any() else f"needs skill {r.get('skill')!r}, which no agent has"
                raise ValueError(f"task {r['id']!r} {why}; add the skill to an agent or change the task")
        cost = np.where(eligible, _cost_matrix(costs, task_ids, agent_ids), np.inf)
        check_fit(task_ids, demand, capacity, "demand", "agent", eligible)
        self.agent_data, self.task_data = agent_rows, task_rows
        self._input = copy.deepcopy({"agents": list(agents), "tasks": list(tasks), "costs": dict(costs or {}),
                                     "affinity": list(affinity or [])})
        arrays = AssignmentArrays(cost, np.where(eligible, demand, 0.0), capacity,
                                  affinity_matrix(affinity, {t: i for i, t in enumerate(task_ids)}, "task"))
        super().__init__(task_ids, agent_ids, arrays, penalty)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], penalty: float | Mapping[str, float] | None = None
                  ) -> TaskAllocation:
        """Build from ``{"agents", "tasks", "costs"?, "affinity"?}`` (the input is not modified)."""
        check_keys(data, {"agents", "tasks", "costs", "affinity"}, "allocation data")
        for key in ("agents", "tasks"):
            if key not in data:
                raise ValueError(f"allocation data has no {key!r} list; give agents and tasks")
        return cls(data["agents"], data["tasks"], data.get("costs"), data.get("affinity"), penalty)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], penalty: float | Mapping[str, float] | None = None
                  ) -> TaskAllocation:
        """Build from a JSON file in the :meth:`from_dict` format."""
        return cls.from_dict(read_json(path), penalty)

    @classmethod
    def from_arrays(cls, cost: Any, demand: Any = 1.0, capacity: Any = None, *, affinity: Any = None,
                    task_ids: list[Any] | None = None, agent_ids: list[Any] | None = None,
                    penalty: float | Mapping[str, float] | None = None) -> TaskAllocation:
        """Build from numpy arrays: ``cost (n, m)`` (``inf`` = the agent may not take the task), ``demand`` a
        number, ``(n,)`` or ``(n, m)`` (agent-dependent; ``inf`` = not eligible), ``capacity (m,)`` (``inf`` or
        ``None`` = unlimited), ``affinity`` an ``(n, n)`` matrix (dense or sparse; the upper triangle is read) or
        a list ``[[i, j, w], ...]`` of task positions. Ids default to ``t0, t1, ...`` and ``a0, a1, ...``.

        >>> import numpy as np
        >>> p = TaskAllocation.from_arrays(np.array([[1.0, np.inf], [2.0, 1.0]]), [[2, 0], [1, 3]], [3, 3])
        >>> p.evaluate({"t0": "a0", "t1": "a1"}).objective
        2.0
        """
        cost = np.array(cost, dtype=np.float64)
        if cost.ndim != 2 or not cost.size:
            raise ValueError(f"cost must be a non-empty (tasks, agents) matrix, got shape {cost.shape}")
        if np.isnan(cost).any() or (cost == -np.inf).any():
            raise ValueError("cost must be finite, or +inf where an agent may not take a task (found NaN or -inf)")
        n, m = cost.shape
        demand = np.broadcast_to(np.array(demand, dtype=np.float64).reshape(n, -1) if np.ndim(demand) else
                                 np.array(demand, dtype=np.float64), (n, m))
        cap = np.full(m, np.inf) if capacity is None else np.array(capacity, dtype=np.float64).ravel()
        if cap.shape != (m,):
            raise ValueError(f"capacity must have one entry per agent ({m}), got {cap.size}")
        tasks_, agents_ = task_ids or [f"t{i}" for i in range(n)], agent_ids or [f"a{k}" for k in range(m)]
        if len(tasks_) != n or len(agents_) != m:
            raise ValueError(f"task_ids / agent_ids must have {n} / {m} entries")
        ok = np.isfinite(cost) & np.isfinite(demand)
        uniform = (demand == demand[:, :1]).all(axis=1) & ok.all(axis=1)
        agents = [{"id": a} | ({} if not np.isfinite(c) else {"capacity": float(c)})
                  for a, c in zip(agents_, cap, strict=True)]
        tasks = [{"id": t, "demand": float(demand[i, 0]) if uniform[i] else
                  {agents_[k]: float(demand[i, k]) for k in np.flatnonzero(ok[i])}} for i, t in enumerate(tasks_)]
        costs = {t: {agents_[k]: float(cost[i, k]) for k in np.flatnonzero(ok[i])} for i, t in enumerate(tasks_)}
        pairs = None
        if affinity is not None:
            if isinstance(affinity, list):
                pairs = [[tasks_[int(i)], tasks_[int(j)], w] for i, j, w in affinity]
            else:
                upper = sp.triu(sp.coo_matrix(affinity), k=1)
                pairs = [[tasks_[i], tasks_[j], float(w)] for i, j, w in zip(upper.row, upper.col, upper.data,
                                                                               strict=True)]
        return cls(agents, tasks, costs, pairs, penalty)

    @classmethod
    def random(cls, num_tasks: int, num_agents: int, tightness: float = 0.9, affinity_pairs: int | None = None,
               seed: int | None = None) -> TaskAllocation:
        """A random instance: 3 skills (each agent 1–2, 30% of tasks need none), demands 1–5, costs 1–10,
        ``affinity_pairs`` (default ``num_tasks``) weights in ``[−2, 2]``, capacities ``≈ demand / tightness``.

        >>> TaskAllocation.random(6, 2, seed=1).arrays.cost.shape
        (6, 2)
        """
        rng = np.random.default_rng(seed)
        skills = ["s0", "s1", "s2"]
        agent_skills = [list(dict.fromkeys([skills[k % 3], str(rng.choice(skills))])) for k in range(num_agents)]
        skills = sorted({s for row in agent_skills for s in row})
        demand = rng.integers(1, 6, size=num_tasks)
        cap = int(np.ceil(demand.sum() / (tightness * num_agents)))
        agents = [{"id": f"a{k}", "capacity": cap, "skills": s} for k, s in enumerate(agent_skills)]
        tasks = [{"id": f"t{i}", "demand": int(d)} | ({} if rng.random() < 0.3 else {"skill": str(rng.choice(skills))})
                 for i, d in enumerate(demand)]
        costs = {f"t{i}": {f"a{k}": float(rng.integers(1, 11)) for k in range(num_agents)} for i in range(num_tasks)}
        pairs = rng.choice(num_tasks, size=(num_tasks if affinity_pairs is None else affinity_pairs, 2))
        affinity = [[f"t{i}", f"t{j}", round(float(rng.uniform(-2, 2)), 2)] for i, j in pairs if i != j]
        return cls(agents, tasks, costs, affinity)

    def _details(self, a: np.ndarray) -> dict[str, Any]:
        on = np.flatnonzero(a >= 0)
        return {**super()._details(a), "cost": float(self.arrays.cost0[on, a[on]].sum())}

    def reference_methods(self) -> dict[str, Callable[[float | None], tuple[np.ndarray, dict[str, Any]]]]:
        """``"milp"`` (exact, HiGHS), ``"greedy"`` (cheapest eligible agent with room, largest task first) and
        ``"lagrangian"`` (the regret heuristic on Lagrangian prices, :mod:`qiopt.problems._lagrange`)."""
        arr = self.arrays
        return {"milp": lambda t: ref.milp(arr, t), "greedy": lambda t: ref.greedy_cheapest(arr),
                "lagrangian": lambda t: lagrangian(arr.cost, arr.size, arr.capacity, t)}

    def structured_starts(self, time_limit: float | None = None) -> list[tuple[str, Any]]:
        """The engine's reads start from the Lagrangian answer (:meth:`lagrangian_start`, milliseconds) and the
        rounded LP relaxation (:meth:`lp_start`, in the time left; measured on generalized assignment, see
        BENCHMARKS.md)."""
        return self.priced_starts(time_limit)

    def warm_starts(self) -> list[tuple[str, Solution]]:
        """The greedy baseline, so the answer is never worse than it."""
        return [("greedy", self._solution(ref.greedy_cheapest(self.arrays)[0]))]

    def format_plan(self, solution: Solution) -> str:
        """A readable plan: a status line, then each agent (its ``name`` if given) with load / capacity (``no
        cap`` when unlimited), the cost of its tasks and the tasks; then unassigned tasks and violations.

        Loads and costs come from ``solution.assignment`` and :attr:`arrays` (so any :class:`Solution` works,
        also one built by hand or by another tool); an unknown agent counts as unassigned.

        >>> p = TaskAllocation([{"id": "a", "capacity": 3}, {"id": "b"}], [{"id": "t", "demand": 2}, {"id": "u"}])
        >>> print(p.format_plan(p.evaluate({"t": "a"})))
        objective 0.00  (INFEASIBLE)
          a                        load 2/3, cost 0: t
          b                        load 0 (no cap), cost 0: -
          unassigned: u
          violated assign[u]: 1
        """
        arr, a = self.arrays, self._as_array(solution)
        loads = arr.loads(a)
        agent_names = [r.get("name", r["id"]) for r in self.agent_data]
        task_names = [r.get("name", r["id"]) for r in self.task_data]
        lines = [f"objective {solution.objective:.2f}  ({'feasible' if solution.feasible else 'INFEASIBLE'})"]
        for k, name in enumerate(agent_names):
            mine = np.flatnonzero(a == k)
            cap = arr.capacity[k]
            load = f"{loads[k]:g}/{cap:g}" if np.isfinite(cap) else f"{loads[k]:g} (no cap)"
            lines.append(f"  {name!s:<24} load {load}, cost {arr.cost0[mine, k].sum():g}: "
                         + (", ".join(str(task_names[i]) for i in mine) or "-"))
        missing = np.flatnonzero(a < 0)
        if len(missing):
            lines.append("  unassigned: " + ", ".join(str(task_names[i]) for i in missing))
        lines += [f"  violated {name}: {amount:g}" for name, amount in solution.violations.items()]
        return "\n".join(lines)


def _cost_matrix(costs: Mapping[Any, Mapping[Any, float]] | None, tasks: list[Any], agents: list[Any]
                 ) -> np.ndarray:
    out = np.zeros((len(tasks), len(agents)))
    if costs is None:
        return out
    if not isinstance(costs, Mapping):
        raise TypeError(f"costs must be a dict {{task: {{agent: cost}}}}, got {type(costs).__name__}")
    ti, ai = {t: i for i, t in enumerate(tasks)}, {a: k for k, a in enumerate(agents)}
    for task, row in costs.items():
        if task not in ti:
            raise ValueError(f"costs names unknown task {task!r}; use ids from the tasks list")
        if not isinstance(row, Mapping):
            raise TypeError(f"costs[{task!r}] must be a dict {{agent: cost}}, got {type(row).__name__}")
        for agent, c in row.items():
            if agent not in ai:
                raise ValueError(f"costs[{task!r}] names unknown agent {agent!r}; use ids from the agents list")
            out[ti[task], ai[agent]] = number(c, f"costs[{task!r}][{agent!r}]", signed=True)
    return out
