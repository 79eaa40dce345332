"""Load balancing: tasks with loads onto workers with speeds, optional capacities, migration costs and affinity.

Input (see :meth:`LoadBalancing.from_dict`)::

    {"workers": [{"id": "w1", "speed": 1.0, "capacity": 100}],
     "tasks": [{"id": "t1", "load": 3.0, "current": "w1", "migration_cost": 0.5}],
     "affinity": [["t1", "t2", 1.0]]}

Worker time ``T_w = load on w / speed_w``; ideal ``T* = total load / total speed``. Objective =
``Σ_w (T_w − T*)² + Σ migration_cost·[task moved from current] − Σ affinity·[same worker]``. Solutions report
``makespan`` (max ``T_w``), ``imbalance`` (makespan / ``T*``) and ``migrations``.

Model size. Variables are ``("x", task, worker)``; the squared loads couple every pair of tasks a worker may
take, so the dense model grows as ``tasks² × workers``. Up to :attr:`LoadBalancing.dense_limit` variables every
pair is modelled; above it each task keeps ``candidates`` workers (its current one, its LPT one and seeded random
others), which keeps the model a few hundred thousand couplings at 1,000 × 20. The answer does not depend on
that pruning alone: :meth:`best_solution` repairs and improves decoded samples over *all* workers, and also
starts from LPT and greedy rebalancing (``details["start"]`` says which start won).

Example:
    >>> import qiopt
    >>> p = LoadBalancing.from_dict({"workers": [{"id": "w1"}, {"id": "w2", "speed": 2.0}],
    ...                              "tasks": [{"id": f"t{i}", "load": 1.0} for i in range(3)]})
    >>> sol = qiopt.solve(p, backend="exact").solution
    >>> sol.details["imbalance"], sol.details["migrations"]
    (1.0, 0)
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import numpy as np

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
)
from qiopt.problems._search import AssignmentArrays
from qiopt.problems.assignment import AssignmentProblem
from qiopt.problems.base import Solution

__all__ = ["LoadBalancing"]


class LoadBalancing(AssignmentProblem, JsonData):
    """Tasks → workers minimising squared deviation from the ideal time, migrations and lost affinity."""

    item_kind, bin_kind = "task", "worker"
    dense_limit = 100_000
    """Most task-worker pairs modelled without pruning candidate workers (the engine's cost grows with the pairs;
    the exported QUBO's with tasks² × workers)."""
    polish_time = 1.0
    """Seconds at most for the polish of :meth:`best_solution` (rebalancing is expected to be quick)."""
    repair_time = 0.25
    """Seconds at most for the local search of one repair."""

    def __init__(self, workers: list[Mapping[str, Any]], tasks: list[Mapping[str, Any]],
                 affinity: list[Any] | None = None, penalty: float | Mapping[str, float] | None = None,
                 candidates: int = 4, seed: int = 0) -> None:
        worker_rows = records(workers, "workers", {"speed", "capacity", "name"})
        task_rows = records(tasks, "tasks", {"load", "current", "migration_cost", "name"})
        worker_ids, task_ids = [r["id"] for r in worker_rows], [r["id"] for r in task_rows]
        w_index = {w: k for k, w in enumerate(worker_ids)}
        speed = np.array([number(r.get("speed", 1.0), f"worker {r['id']!r} speed", positive=True)
                          for r in worker_rows])
        capacity = capacities(worker_rows, "worker")
        current = np.full(len(task_rows), -1)
        move_cost = np.zeros(len(task_rows))
        for i, r in enumerate(task_rows):
            if r.get("current") is not None:
                if r["current"] not in w_index:
                    raise ValueError(f"task {r['id']!r} current worker {r['current']!r} is unknown; use ids "
                                     "from the workers list")
                current[i] = w_index[r["current"]]
                move_cost[i] = number(r.get("migration_cost", 0.0), f"task {r['id']!r} migration_cost")
        if not isinstance(candidates, int) or candidates < 1:
            raise ValueError(f"candidates must be a positive int, got {candidates!r}")
        if any(isinstance(r.get("load"), Mapping) for r in task_rows):  # worker-dependent loads: dense arrays
            load = amounts(task_rows, "load", worker_ids, 1.0, "worker")
            eligible = np.isfinite(load)
            check_fit(task_ids, load, capacity, "load", "worker", eligible)
            for i in np.flatnonzero((current >= 0) & ~eligible[np.arange(len(current)), np.maximum(current, 0)]):
                raise ValueError(f"task {task_ids[i]!r} has no load on its current worker {task_rows[i]['current']!r}")
            cost = np.where(eligible, move_cost[:, None], np.inf)
            cost[(current >= 0), current[current >= 0]] = 0.0
            size, extra = np.where(eligible, load, 0.0), {}
            total = np.where(eligible, load, np.inf).min(axis=1).sum()
        else:
            load = np.array([number(r.get("load", 1.0), f"task {r['id']!r} load") for r in task_rows])
            check_fit(task_ids, load, capacity, "load", "worker")
            cost, size, extra, total = None, load, {"move_cost": move_cost, "current": current}, load.sum()
        self.current, self.worker_data, self.task_data = current, worker_rows, task_rows
        self.speed = speed
        """Speed of each worker, in :attr:`bins` order (also ``arrays.speed``)."""
        self._input = {"workers": worker_rows, "tasks": task_rows, "affinity": copy.deepcopy(list(affinity or []))}
        arrays = AssignmentArrays(cost, size, capacity,
                                  affinity_matrix(affinity, {t: i for i, t in enumerate(task_ids)}, "task"),
                                  speed=speed, target=total / speed.sum(), **extra)
        super().__init__(task_ids, worker_ids, arrays, penalty, self._candidate_pairs(arrays, candidates, seed))

    def _candidate_pairs(self, arrays: AssignmentArrays, candidates: int, seed: int) -> np.ndarray | None:
        """``None`` (every eligible pair) when small, else for each task its current, LPT and greedy-rebalancing
        workers and random eligible others, ``candidates`` in all (fewer where they coincide), as sorted
        ``(task, worker)`` rows."""
        n, m = arrays.n, arrays.m
        if n * m <= self.dense_limit or candidates >= m:
            return None
        rng = np.random.default_rng(seed)
        self.arrays = arrays
        lpt = self._lpt[0]
        cols = [lpt, np.where(self.current >= 0, self.current, lpt), self._rebalance()[0]]
        if arrays.factored:
            cols.append(rng.integers(0, m, size=(max(candidates - 3, 0), n)))
        else:
            picks = np.array([rng.choice(np.flatnonzero(arrays.eligible[i]), size=max(candidates - 3, 0))
                              for i in range(n)]).reshape(n, -1)
            cols.append(picks.T)
        workers = np.sort(np.vstack([*cols[:3], *cols[3]]).T, axis=1)  # (n, k): rows stay in task order
        keep = np.ones(workers.shape, dtype=bool)
        keep[:, 1:] = workers[:, 1:] != workers[:, :-1]
        return np.stack([np.repeat(np.arange(n), keep.sum(axis=1)), workers[keep]], axis=1)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], penalty: float | Mapping[str, float] | None = None
                  ) -> LoadBalancing:
        """Build from ``{"workers", "tasks", "affinity"?}`` (the input is not modified)."""
        check_keys(data, {"workers", "tasks", "affinity"}, "load balancing data")
        for key in ("workers", "tasks"):
            if key not in data:
                raise ValueError(f"load balancing data has no {key!r} list; give workers and tasks")
        return cls(data["workers"], data["tasks"], data.get("affinity"), penalty)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], penalty: float | Mapping[str, float] | None = None
                  ) -> LoadBalancing:
        """Build from a JSON file in the :meth:`from_dict` format."""
        return cls.from_dict(read_json(path), penalty)

    @classmethod
    def from_arrays(cls, load: Any, speed: Any = None, current: Any = None, migration_cost: Any = 0.0,
                    capacity: Any = None, *, affinity: list[Any] | None = None, task_ids: list[Any] | None = None,
                    worker_ids: list[Any] | None = None, penalty: float | Mapping[str, float] | None = None,
                    candidates: int = 4, seed: int = 0) -> LoadBalancing:
        """Build from numpy arrays: ``load`` ``(n,)`` or ``(n, m)`` (worker-dependent; ``inf`` = may not run
        there), ``speed (m,)`` (default 1), ``current (n,)`` worker positions (``-1`` = none), ``migration_cost``
        a number or ``(n,)``, ``capacity (m,)`` (``inf`` or ``None`` = none), ``affinity`` as ``[[i, j, w], ...]``
        over task positions. The number of workers comes from ``speed``, ``capacity`` or ``load``'s columns.

        >>> import numpy as np
        >>> p = LoadBalancing.from_arrays(np.array([2.0, 1.0, 1.0]), speed=[1.0, 2.0], current=[0, 0, 0],
        ...                               migration_cost=0.1)
        >>> p.items, p.bins, p.reference("greedy").details["migrations"]
        (['t0', 't1', 't2'], ['w0', 'w1'], 2)
        """
        load = np.array(load, dtype=np.float64)
        sizes = [len(np.ravel(v)) for v in (speed, capacity) if v is not None] + ([load.shape[1]] if load.ndim == 2
                                                                                  else [])
        if load.ndim not in (1, 2) or not load.size or not sizes or len(set(sizes)) != 1:
            raise ValueError("load must be (tasks,) or (tasks, workers), and speed, capacity and load's columns must "
                             "agree on the number of workers (give speed or capacity with a 1-D load)")
        n, m = load.shape[0], sizes[0]
        speeds = np.ones(m) if speed is None else np.array(speed, dtype=np.float64).ravel()
        caps = None if capacity is None else np.array(capacity, dtype=np.float64).ravel()
        cur = None if current is None else np.array(current).ravel()
        if cur is not None and (cur.shape != (n,) or not np.issubdtype(cur.dtype, np.integer) or
                                (cur >= m).any() or (cur < -1).any()):
            raise ValueError(f"current must be {n} worker positions in 0..{m - 1}, or -1 for none")
        cost = np.broadcast_to(np.array(migration_cost, dtype=np.float64), (n,))
        tasks_ = task_ids or [f"t{i}" for i in range(n)]
        workers_ = worker_ids or [f"w{k}" for k in range(m)]
        if len(tasks_) != n or len(workers_) != m:
            raise ValueError(f"task_ids / worker_ids must have {n} / {m} entries")
        workers = [{"id": w, "speed": float(v)} | ({} if caps is None or not np.isfinite(caps[k]) else
                                                    {"capacity": float(caps[k])})
                   for k, (w, v) in enumerate(zip(workers_, speeds, strict=True))]
        tasks = []
        for i, t in enumerate(tasks_):
            row: dict[str, Any] = {"id": t, "load": float(load[i]) if load.ndim == 1 else
                                   {workers_[k]: float(v) for k, v in enumerate(load[i]) if np.isfinite(v)}}
            if cur is not None and cur[i] >= 0:
                row |= {"current": workers_[int(cur[i])], "migration_cost": float(cost[i])}
            tasks.append(row)
        pairs = None if affinity is None else [[tasks_[int(i)], tasks_[int(j)], w] for i, j, w in affinity]
        return cls(workers, tasks, pairs, penalty, candidates, seed)

    @classmethod
    def random(cls, num_tasks: int, num_workers: int, skew: float | None = None, seed: int | None = None
               ) -> LoadBalancing:
        """Random loads (1–100, log-uniform-ish), speeds 0.5–2; with ``skew`` a current placement where a
        fraction ``skew`` of tasks sits on the first 20% of workers, and migration costs 0–50.

        >>> LoadBalancing.random(10, 3, seed=1).arrays.size.shape
        (10, 3)
        """
        rng = np.random.default_rng(seed)
        workers = [{"id": f"w{k}", "speed": round(float(rng.uniform(0.5, 2.0)), 2)} for k in range(num_workers)]
        tasks: list[dict[str, Any]] = []
        for i in range(num_tasks):
            task: dict[str, Any] = {"id": f"t{i}", "load": round(float(np.exp(rng.uniform(0, np.log(100)))), 2)}
            if skew is not None:
                hot = max(1, num_workers // 5)
                k = int(rng.integers(hot)) if rng.random() < skew else int(rng.integers(num_workers))
                task |= {"current": f"w{k}", "migration_cost": round(float(rng.uniform(0, 50)), 2)}
            tasks.append(task)
        return cls(workers, tasks)

    def _details(self, a: np.ndarray) -> dict[str, Any]:
        arr = self.arrays
        times = arr.loads(a) / self.speed
        moved = (self.current >= 0) & (a != self.current)
        return {**super()._details(a), "makespan": float(times.max()),
                "imbalance": float(times.max() / arr.target) if arr.target > 0 else 1.0,
                "migrations": int(moved.sum()),
                "migration_cost": float(arr.pair_cost(np.flatnonzero(moved), a[moved]).sum())}

    def reference_methods(self) -> dict[str, Callable[[float | None], tuple[np.ndarray, dict[str, Any]]]]:
        """``"lpt"`` (from scratch), ``"greedy"`` (rebalancing from ``current``; LPT when no task has one) and
        ``"milp"`` (tangent-cut MILP with HiGHS, for small instances)."""
        return {"lpt": lambda t: ref.lpt(self.arrays), "greedy": lambda t: self._rebalance(),
                "milp": lambda t: ref.milp(self.arrays, t)}

    def _greedy_answer(self) -> np.ndarray:
        return self._lpt[0]

    @cached_property
    def _lpt(self) -> tuple[np.ndarray, dict[str, Any]]:
        return ref.lpt(self.arrays)

    @cached_property
    def _greedy(self) -> tuple[np.ndarray, dict[str, Any]]:
        return ref.greedy_rebalance(self.arrays, self.current)

    def _rebalance(self) -> tuple[np.ndarray, dict[str, Any]]:
        return self._lpt if (self.current < 0).any() else self._greedy

    def structured_starts(self, time_limit: float | None = None) -> list[tuple[str, Any]]:
        """The engine's reads start from greedy rebalancing (every task has a current worker) or from LPT:
        annealing then improves on the classical answer (measured far better than random starts on
        rebalancing, where a random start pays a migration for almost every task). Both are fast
        (O(n log n) and near-linear), so ``time_limit`` is not needed."""
        name = "lpt" if (self.current < 0).any() else "greedy rebalance"
        state = self._state_of(self._rebalance()[0])
        return [] if state is None else [(name, state)]

    def warm_starts(self) -> list[tuple[str, Solution]]:
        """LPT, and greedy rebalancing when every task has a current worker."""
        starts = [("lpt", self._solution(ref.lpt(self.arrays)[0]))]
        if (self.current >= 0).all():
            starts.append(("greedy rebalance", self._solution(self._rebalance()[0])))
        return starts

    def format_plan(self, solution: Solution) -> str:
        """A readable plan: a status line (objective, makespan, imbalance), a table of each worker (its ``name``
        if given) with load before (on ``current``; ``-`` when no task has one) and after, capacity (``no cap``
        when unlimited) and time after (load / speed), then the migrations, unassigned tasks and violations.

        Figures come from ``solution.assignment`` and :attr:`arrays` (any :class:`Solution` works); an unknown
        worker counts as unassigned. A task without ``current`` is placed, never migrated.

        >>> p = LoadBalancing([{"id": "w1", "capacity": 5}, {"id": "w2", "speed": 2.0}],
        ...                   [{"id": "t1", "load": 2, "current": "w1"}, {"id": "t2"}])
        >>> print(p.format_plan(p.evaluate({"t1": "w2", "t2": "w1"})))
        objective 0.00  (feasible)  makespan 1, imbalance 1, migrations 1
          worker  load before  load after  capacity  time after
          w1      2            1           5         1
          w2      0            2           no cap    1
          migrations (1): t1: w1 -> w2
        """
        arr, a = self.arrays, self._as_array(solution)
        worker_names = [str(r.get("name", r["id"])) for r in self.worker_data]
        task_names = [str(r.get("name", r["id"])) for r in self.task_data]
        before, after = arr.loads(self.current), arr.loads(a)
        times = after / self.speed
        known = (self.current >= 0).any()
        rows = [[name, f"{before[k]:g}" if known else "-", f"{after[k]:g}",
                 f"{arr.capacity[k]:g}" if np.isfinite(arr.capacity[k]) else "no cap", f"{times[k]:.3g}"]
                for k, name in enumerate(worker_names)]
        moved = np.flatnonzero((self.current >= 0) & (a != self.current))
        imbalance = times.max() / arr.target if arr.target > 0 else 1.0
        lines = [f"objective {solution.objective:.2f}  ({'feasible' if solution.feasible else 'INFEASIBLE'})  "
                 f"makespan {times.max():.3g}, imbalance {imbalance:.3g}, migrations {len(moved)}",
                 *_table(["worker", "load before", "load after", "capacity", "time after"], rows)]
        if known:
            lines.append(f"  migrations ({len(moved)}): " + (", ".join(
                f"{task_names[i]}: {worker_names[self.current[i]]} -> "
                + (worker_names[a[i]] if a[i] >= 0 else "(unassigned)") for i in moved) or "none"))
        missing = np.flatnonzero(a < 0)
        if len(missing):
            lines.append("  unassigned: " + ", ".join(task_names[i] for i in missing))
        lines += [f"  violated {name}: {amount:g}" for name, amount in solution.violations.items()]
        return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, indented by two spaces."""
    widths = [max(len(row[c]) for row in (header, *rows)) for c in range(len(header))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in (header, *rows)]
