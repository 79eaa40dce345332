"""``qiopt.Allocator``: a stateful allocator for streams of requests over a set of agents.

Agents are :class:`~qiopt.problems.TaskAllocation` agent records (``id``, ``capacity``, ``skills``, ``name``).
A request is a task record plus its costs: ``{"id", "demand", "skill", "costs": {agent: cost}, "name"}``, the
demand a number or ``{agent: amount}`` (agent-dependent; an agent it does not name is not eligible), a missing
cost 0, as in :class:`~qiopt.problems.TaskAllocation`.

:meth:`Allocator.submit` places a batch at least cost within the capacity left. Placed requests stay where
they are, so the batch is a generalized assignment over the room left, with one extra option per request,
"not placed", priced above what any answer with one request fewer could save (``1 + Σ_i (max(0, highest
cost_i) − min(0, lowest cost_i))``): the engine places as many requests as fit first, then as cheaply as it
can. Its reads start from a Lagrangian answer (the regret heuristic on prices that a few subgradient steps
put on the capacities, :mod:`qiopt.problems._lagrange`: feasible and within about 1 % of the optimum in
milliseconds; the greedy answer, cheapest agent with room and largest request first, when it finds none;
each batch's steps start from the agents' prices at the end of the last batch, kept with the state) and,
when the time budget allows, the rounded LP relaxation. Then a ``fill`` stage places any request left out on the
cheapest agent that still has room, so ``None`` means exactly that no eligible agent has room for it. A
capacity is never exceeded: an engine answer that would is replaced by the greedy one (``last_info["source"]``
says which answer was used).

Writers (submit, release, agent changes) run one at a time; readers (:attr:`Allocator.assignment`,
:attr:`Allocator.loads`, :meth:`Allocator.to_dict`) see the state before or after a write, never half of it.
A batch is checked whole before anything is applied: a bad request raises and leaves the state unchanged.
With ``seed``, batch ``k`` is solved with a seed derived from ``(seed, k)``, so replaying the same calls gives
the same placements.

Example:
    >>> alloc = Allocator([{"id": "a", "capacity": 3}, {"id": "b", "capacity": 2, "skills": ["visa"]}], seed=1)
    >>> alloc.submit([{"id": "r1", "demand": 2, "costs": {"a": 1, "b": 5}},
    ...               {"id": "r2", "demand": 2, "skill": "visa", "costs": {"b": 1}},
    ...               {"id": "r3", "demand": 2, "costs": {"a": 2, "b": 1}}])
    {'r1': 'a', 'r2': 'b', 'r3': None}
    >>> alloc.release(["r1"]); alloc.loads
    {'a': 0.0, 'b': 2.0}
    >>> alloc.remove_agent("b")
    {'r2': None}
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from qiopt.problems import reference as ref
from qiopt.problems._data import capacities, check_keys, number, records, skill_list
from qiopt.problems._search import AssignmentArrays
from qiopt.problems.assignment import AssignmentProblem
from qiopt.services.tables import TOL, fill, matrices, within

__all__ = ["Allocator", "UnknownIdError"]

_AGENT_KEYS = {"capacity", "skills", "name"}
_REQUEST_KEYS = {"demand", "skill", "costs", "name"}
_NOT_PLACED = "__not placed__"
_WARM_STEP = 0.5  # the Lagrangian's first step size from warm prices (2 from zero prices)
_SMALLEST_SHARE = 0.25  # of time_budget, the least a solve smaller than the largest batch gets


class UnknownIdError(ValueError, LookupError):
    """An id that names no live request, or no agent (a ``ValueError``; the gateway answers ``404``)."""


class _Batch(AssignmentProblem):
    """One batch: requests → agents (with room), with or without the "not placed" bin; reads start from the
    ``current`` placement when there is one, the Lagrangian answer (greedy when it found none), and the LP
    when there is time for it."""

    item_kind, bin_kind = "request", "agent"
    start_share = 0.5  # the Lagrangian start is most of the answer (measured: the anneal adds ~0.1 % to it)

    def __init__(self, items: list[Hashable], bins: list[Hashable], arrays: AssignmentArrays,
                 current: np.ndarray | None = None, prices: np.ndarray | None = None) -> None:
        super().__init__(items, bins, arrays)
        self.current, self.prices = current, prices

    def _relax(self, time_limit: float | None) -> tuple[np.ndarray, dict[str, Any]]:
        """The Lagrangian relaxation from the last batch's prices (consecutive batches price the same agents
        alike), with shorter steps; the prices it ends with are kept in :attr:`prices` for the next batch."""
        from qiopt.problems._lagrange import lagrangian

        arr = self.arrays
        a, info = lagrangian(arr.cost, arr.size, arr.capacity, time_limit, prices=self.prices,
                             scale=_WARM_STEP if self.prices is not None else 2.0)
        self.prices = info["prices"]
        return a, info

    def structured_starts(self, time_limit: float | None = None) -> list[tuple[str, Any]]:
        priced = self.priced_starts(time_limit)  # the Lagrangian answer: feasible and close, in milliseconds
        named = [] if self.current is None else [("current", self.current)]
        if not any(name == "lagrangian" for name, _ in priced):
            named.append(("greedy", ref.greedy_cheapest(self.arrays)[0]))
        states = [(name, self._state_of(a)) for name, a in named]
        return [(name, x) for name, x in states if x is not None] + priced


class Allocator:
    """Places streams of requests on agents; see the module. ``backend``, ``config`` and ``time_budget``
    (seconds per batch solve, ``None``: the engine's default sweeps) go to :func:`qiopt.solve`. A smaller solve
    (the live requests of a lost agent, say) gets a share of ``time_budget`` in proportion to its size against
    the largest batch submitted so far, at least a quarter of it: time goes with the work."""

    def __init__(self, agents: Sequence[Mapping[str, Any]], *, backend: str | None = None, seed: int | None = None,
                 time_budget: float | None = None, config: Any = None) -> None:
        self.backend, self.seed, self.config = backend, seed, config
        self.time_budget = None if time_budget is None else number(time_budget, "time_budget", positive=True)
        self._agents: dict[Hashable, dict[str, Any]] = {}
        for row in records(agents, "agents", _AGENT_KEYS):
            self._agents[row["id"]] = _agent(row)
        self._live: dict[Hashable, dict[str, Any]] = {}  # request id -> {"request", "agent", "amount"}
        self._removed: set[Hashable] = set()  # agents lost: requests may still name them (they are dropped)
        self._batches = 0
        self._largest = 0  # the most requests one submit() solved: the size time_budget is meant for
        self._prices: dict[Hashable, float] = {}  # agent -> its Lagrangian price in the last batch
        self._write = threading.Lock()  # one writer at a time, for a whole operation
        self._state = threading.Lock()  # held briefly: readers never see half a write
        self.last_result: Any = None
        """The :class:`~qiopt.result.Result` of the last batch solve (``None`` when nothing was solved)."""
        self.last_info: dict[str, Any] = {}
        """What the last placement did: ``source``, ``placed``, ``not_placed``, ``filled``, ``seconds``."""

    # -- reading -------------------------------------------------------------------------------------------
    @property
    def assignment(self) -> dict[Hashable, Hashable]:
        """``{request id: agent id}`` of the live requests."""
        with self._state:
            return {rid: live["agent"] for rid, live in self._live.items()}

    @property
    def loads(self) -> dict[Hashable, float]:
        """``{agent id: load}``: the sum of its live requests' demands on it."""
        with self._state:
            return self._loads()

    @property
    def agents(self) -> list[dict[str, Any]]:
        """The agent records (copies)."""
        with self._state:
            return [dict(a["record"]) for a in self._agents.values()]

    def _loads(self) -> dict[Hashable, float]:
        out = dict.fromkeys(self._agents, 0.0)
        for live in self._live.values():
            out[live["agent"]] += live["amount"]
        return out

    # -- writing -------------------------------------------------------------------------------------------
    def submit(self, requests: Sequence[Mapping[str, Any]]) -> dict[Hashable, Hashable | None]:
        """Place a batch (see module); returns ``{request id: agent id or None}`` in the batch's order."""
        with self._write:
            if isinstance(requests, Sequence) and not isinstance(requests, str | bytes) and not requests:
                return {}
            rows = records(requests, "requests", _REQUEST_KEYS)
            for row in rows:
                if row["id"] in self._live:
                    raise ValueError(f"request {row['id']!r} is already placed; release it first or use a new id")
            largest, self._largest = self._largest, max(self._largest, len(rows))
            try:
                placed = self._place(rows, warm=True)
            except BaseException:  # a rejected batch leaves no trace
                self._largest = largest
                raise
            self._apply(placed, remove=[])
            return {rid: agent for rid, (agent, _) in placed.items()}

    def release(self, request_ids: Sequence[Hashable]) -> None:
        """Free the capacity of finished requests (every id must be live; none is released otherwise)."""
        with self._write:
            ids = list(request_ids) if not isinstance(request_ids, str | bytes) else [request_ids]
            for rid in ids:
                if rid not in self._live:
                    raise UnknownIdError(f"request {rid!r} is not placed; nothing was released")
            self._apply({}, remove=ids)

    def remove_agent(self, agent_id: Hashable) -> dict[Hashable, Hashable | None]:
        """An agent is lost: its live requests are placed again on the others, as a batch; returns their new
        placements (``None``: no agent has room, and the request is no longer live)."""
        with self._write:
            if agent_id not in self._agents:
                raise UnknownIdError(f"unknown agent {agent_id!r}; known agents: {list(self._agents)}")
            moved = [rid for rid, live in self._live.items() if live["agent"] == agent_id]
            rows = [self._live[rid]["request"] for rid in moved]
            placed = self._place(rows, without=agent_id) if rows else {}
            self._apply(placed, remove=moved, lost=agent_id)
            return {rid: agent for rid, (agent, _) in placed.items()}

    def add_agent(self, agent: Mapping[str, Any]) -> None:
        """Add an agent record (a new id); live requests stay where they are."""
        with self._write:
            (row,) = records([agent], "agent", _AGENT_KEYS)
            if row["id"] in self._agents:
                raise ValueError(f"agent {row['id']!r} already exists; agent ids must be unique")
            parsed = _agent(row)
            with self._state:
                self._agents[row["id"]] = parsed
                self._removed.discard(row["id"])

    def rebalance(self, migration_cost: float = 1.0) -> dict[Hashable, Hashable]:
        """Place every live request again at least cost plus ``migration_cost`` for each one that moves (the
        stream's re-balancing, run when you call it: placed requests otherwise stay put). Every request stays
        placed and no capacity is exceeded; the answer is never worse than the current placement, which
        starts the reads. Returns ``{request id: new agent}`` for the requests that moved."""
        with self._write:
            move = number(migration_cost, "migration_cost")
            if not self._live:
                return {}
            started = time.perf_counter()
            ids = list(self._agents)
            rows = [live["request"] for live in self._live.values()]
            cost, size, eligible = self._matrices(rows, ids, self._removed)
            column = {k: j for j, k in enumerate(ids)}
            current = np.array([column[live["agent"]] for live in self._live.values()])
            room = np.array([self._agents[k]["capacity"] for k in ids])
            fits = eligible & within(size, room)
            moved_cost = cost + move * (np.arange(len(ids))[None, :] != current[:, None])
            chosen = self._solve(moved_cost, size, fits, room, [r["id"] for r in rows], current=current)
            self.last_info |= {"moved": int((chosen != current).sum()), "seconds": time.perf_counter() - started}
            placed = {r["id"]: (ids[k], {"request": r, "agent": ids[k], "amount": float(size[i, k])})
                      for i, (r, k) in enumerate(zip(rows, chosen, strict=True)) if k != current[i]}
            self._apply(placed, remove=[])
            return {rid: agent for rid, (agent, _) in placed.items()}

    def _apply(self, placed: dict[Hashable, tuple[Hashable | None, dict[str, Any]]], remove: list[Hashable],
               lost: Hashable | None = None) -> None:
        """One write, seen whole by readers: ``remove`` requests (and the ``lost`` agent), add ``placed``."""
        with self._state:
            if lost is not None:
                del self._agents[lost]
                self._removed.add(lost)
            for rid in remove:
                del self._live[rid]
            for rid, (agent, live) in placed.items():
                if agent is not None:
                    self._live[rid] = live

    # -- placing -------------------------------------------------------------------------------------------
    def _matrices(self, rows: list[dict[str, Any]], ids: list[Hashable], gone: set[Hashable]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`_matrices` of ``rows`` on the agents ``ids``, with their skills."""
        return matrices(rows, ids, {k: self._agents[k]["skills"] for k in ids}, gone)

    def _place(self, rows: list[dict[str, Any]], without: Hashable | None = None, warm: bool = False
               ) -> dict[Hashable, tuple[Hashable | None, Any]]:
        """Solve one batch on the room left of every agent but ``without``; ``{id: (agent or None, live
        record)}``. A request may name removed agents (and ``without``): they are dropped. ``warm``: the
        Lagrangian start begins at the agents' prices from the last such batch, and keeps the new ones (a
        submitted batch; the few requests of a lost agent would price the room differently)."""
        started = time.perf_counter()
        ids = [k for k in self._agents if k != without]
        cost, size, eligible = self._matrices(rows, ids, self._removed | {without})
        load = self._loads()
        room = np.array([self._agents[k]["capacity"] - load[k] for k in ids])
        fits = eligible & within(size, room)
        chosen = np.full(len(rows), -1)
        todo = np.flatnonzero(fits.any(axis=1))
        self.last_info = {"source": "nothing to solve", "placed": 0}
        if len(todo):
            chosen[todo] = self._solve(cost[todo], size[todo], fits[todo], room, [rows[i]["id"] for i in todo],
                                       agents=ids if warm else None)
        filled = fill(chosen, size, fits, cost, room)
        out = {}
        for i, row in enumerate(rows):
            k = chosen[i]
            out[row["id"]] = (None, None) if k < 0 else \
                (ids[k], {"request": row, "agent": ids[k], "amount": float(size[i, k])})
        self.last_info |= {"placed": int((chosen >= 0).sum()), "not_placed": int((chosen < 0).sum()),
                           "filled": filled, "seconds": time.perf_counter() - started}
        return out

    def _solve(self, cost: np.ndarray, size: np.ndarray, fits: np.ndarray, room: np.ndarray,
               names: list[Hashable], current: np.ndarray | None = None, agents: list[Hashable] | None = None
               ) -> np.ndarray:
        """The engine on the batch; the agent index of each request (``-1``: none). New requests get a "not
        placed" bin; with a feasible ``current`` placement (re-balancing) every request stays placed and the
        current placement is the fallback answer. With ``agents`` (the ids of the columns), the Lagrangian
        start begins at their last prices and the new ones are kept."""
        import qiopt

        m = len(room)
        if current is None:
            # placing one more request changes the others' cost by at most Σ_i (max(0, hi_i) − min(0, lo_i)):
            # a "not placed" price above it makes every answer with more requests placed cheaper
            spread = np.where(fits, cost, np.nan)
            big = 1.0 + float(np.sum(np.maximum(np.nanmax(spread, axis=1), 0)
                                     - np.minimum(np.nanmin(spread, axis=1), 0)))
            arrays = AssignmentArrays(np.c_[np.where(fits, cost, np.inf), np.full(len(cost), big)],
                                      np.c_[np.where(fits, size, 0.0), np.zeros(len(cost))], np.r_[room, np.inf],
                                      sp.csr_matrix((len(cost), len(cost))))
            known = agents is not None and bool(self._prices)
            prices = np.array([*(self._prices.get(k, 0.0) for k in agents), 0.0]) if known else None
            batch = _Batch(names, [*range(m), _NOT_PLACED], arrays, prices=prices)
        else:
            arrays = AssignmentArrays(np.where(fits, cost, np.inf), np.where(fits, size, 0.0), room,
                                      sp.csr_matrix((len(cost), len(cost))))
            batch = _Batch(names, list(range(m)), arrays, current)
        seed = None if self.seed is None else \
            int(np.random.SeedSequence([int(self.seed), self._batches]).generate_state(1, np.uint64)[0] >> 1)
        self._batches += 1
        options = {} if seed is None else {"seed": seed}
        limit = self.time_budget
        if limit is not None and self._largest:
            limit *= min(1.0, max(_SMALLEST_SHARE, len(cost) / self._largest))
        result = qiopt.solve(batch, backend=self.backend, config=self.config, time_limit=limit, **options)
        self.last_result = result
        if agents is not None and batch.prices is not None:
            self._prices = {k: float(p) for k, p in zip(agents, batch.prices[:m], strict=True)}
        a = batch._as_array(result.solution)
        source = result.solution.details.get("source", result.backend)
        if not result.solution.feasible or (a < 0).any():  # never exceed a capacity: a safe answer instead
            a, source = (ref.greedy_cheapest(arrays)[0], "greedy (the engine's answer was infeasible)") \
                if current is None else (current, "current placement (the engine's answer was infeasible)")
        self.last_info = {"source": source}
        return np.where(a >= m, -1, a)

    # -- saving --------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole state as plain data (JSON-ready when ids, records and ``config`` are)."""
        with self._state:
            return {"version": 1, "agents": [dict(a["record"]) for a in self._agents.values()],
                    "requests": [{"request": dict(live["request"]), "agent": live["agent"]}
                                 for live in self._live.values()],
                    "backend": self.backend, "seed": self.seed, "time_budget": self.time_budget,
                    "config": self.config if isinstance(self.config, str | Mapping) else None,
                    "batches": self._batches, "largest_batch": self._largest,
                    "prices": [[k, p] for k, p in self._prices.items() if k in self._agents],
                    "removed_agents": sorted(self._removed, key=repr)}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON (ids must be strings or numbers)."""
        state = self.to_dict()
        for entry in state["requests"]:
            rid = entry["request"]["id"]
            if not isinstance(rid, str | int | float):
                raise TypeError(f"request id {rid!r} cannot be saved as JSON; use strings or numbers")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(state, f)

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Allocator:
        """Rebuild an allocator from :meth:`to_dict`'s data (checked: every placement must fit)."""
        check_keys(state, {"version", "agents", "requests", "backend", "seed", "time_budget", "config", "batches",
                           "largest_batch", "removed_agents", "prices"}, "allocator state")
        out = cls(state["agents"], backend=state.get("backend"), seed=state.get("seed"),
                  time_budget=state.get("time_budget"), config=state.get("config"))
        out._batches = int(state.get("batches", 0))
        out._largest = int(state.get("largest_batch", 0))
        out._prices = {k: number(p, f"prices[{k!r}]") for k, p in state.get("prices", []) if k in out._agents}
        entries = state.get("requests", [])
        rows = records([e["request"] for e in entries], "requests", _REQUEST_KEYS) if entries else []
        ids = list(out._agents)
        column = {k: j for j, k in enumerate(ids)}
        out._removed = set(state.get("removed_agents", []))
        _, size, eligible = out._matrices(rows, ids, out._removed)
        for i, (row, entry) in enumerate(zip(rows, entries, strict=True)):
            k = column.get(entry["agent"])
            if k is None or not eligible[i, k]:
                raise ValueError(f"request {row['id']!r} is placed on {entry['agent']!r}, which cannot take it")
            out._live[row["id"]] = {"request": row, "agent": entry["agent"], "amount": float(size[i, k])}
        over = [k for k, v in out._loads().items() if v > out._agents[k]["capacity"] * (1 + TOL) + TOL]
        if over:
            raise ValueError(f"the saved placements exceed the capacity of agents {over}")
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Allocator:
        """Read a state written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


def _agent(row: dict[str, Any]) -> dict[str, Any]:
    return {"record": row, "capacity": float(capacities([row], "agent")[0]), "skills": set(skill_list(row))}
