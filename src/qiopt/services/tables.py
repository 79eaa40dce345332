"""Request tables of :class:`qiopt.Allocator`: a batch of request records as ``(cost, size, eligible)``
arrays over the agents, checked field by field (errors name the request), the room check, and the ``fill``
stage that places what the engine left out wherever there is still room.

Example:
    >>> cost, size, eligible = matrices([{"id": "r", "demand": 2, "costs": {"a": 1.5}}], ["a", "b"],
    ...                                 {"a": set(), "b": {"x"}}, set())
    >>> cost.tolist(), size.tolist(), eligible.tolist()
    ([[1.5, 0.0]], [[2.0, 2.0]], [[True, True]])
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from itertools import chain
from typing import Any

import numpy as np

from qiopt.problems._data import amounts, number

__all__ = ["TOL", "cost_row", "fill", "matrices", "within"]

TOL = 1e-9
"""Relative round-off accepted when a size is checked against the room left."""
_PLAIN = (int, float)  # types read without the (slower) abstract-class checks


def matrices(rows: list[dict[str, Any]], ids: list[Hashable], skills: Mapping[Hashable, set[Any]],
              gone: set[Hashable]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cost, size, eligible)``, each ``(requests, agents)``, with every field checked (errors name the
    request). Agents in ``gone`` (removed ones) may still be named: they are dropped; any other name not in
    ``ids`` is an error. Costs that list every agent in ``ids``' order (the usual form) are read for all such
    rows in one array, others row by row, so a batch of 1,000 requests × 50 agents takes a few milliseconds."""
    cost = np.zeros((len(rows), len(ids)))
    index = {k: j for j, k in enumerate(ids)}
    known = index.keys() | gone

    def unknown(r: Mapping[str, Any], field: str, names: Any) -> None:
        if names.keys() <= known:
            return
        name = next(name for name in names if name not in known)
        verb = "name" if field == "costs" else "names"
        raise ValueError(f"request {r['id']!r} {field} {verb} unknown agent {name!r}; known agents: {ids}")

    demands, nowhere, whole = [], [], []
    order = tuple(ids)
    for i, r in enumerate(rows):
        demand = r.get("demand")
        if type(demand) not in _PLAIN and isinstance(demand, Mapping) and demand:
            unknown(r, "demand", demand)
            r = {**r, "demand": {k: v for k, v in demand.items() if k in index}}
            if not r["demand"]:  # every agent it named is gone: eligible nowhere
                nowhere.append(i)
                r = {**r, "demand": 1.0}
        demands.append(r)
        costs = r.get("costs", {})
        if type(costs) is not dict and not isinstance(costs, Mapping):
            raise TypeError(f"request {r['id']!r} costs must be a mapping {{agent: cost}}, got {costs!r}")
        if tuple(costs) == order:  # the usual form: every agent, as listed; read below, all rows at once
            whole.append(i)
            continue
        unknown(r, "costs", costs)
        cols = np.fromiter((index.get(agent, -1) for agent in costs), dtype=np.int64, count=len(costs))
        row = cost_row(r, costs)
        cost[i, cols[cols >= 0]] = row[cols >= 0]
    if whole:
        flat = list(chain.from_iterable(rows[i]["costs"].values() for i in whole))
        block = np.array(flat, dtype=np.float64).reshape(len(whole), len(ids)) \
            if set(map(type, flat)) <= {int, float} else None  # plain numbers (bools are not)
        if block is None or not np.isfinite(block).all():  # find the row at fault: its error names it
            block = np.array([cost_row(rows[i], rows[i]["costs"]) for i in whole])
        cost[whole] = block
    size = amounts(demands, "demand", ids, 1.0, "agent", "request") if ids else np.full((len(rows), 0), np.inf)
    size[nowhere] = np.inf
    wanted = {r.get("skill") for r in rows}
    masks = {skill: np.array([skill is None or skill in skills[k] for k in ids], dtype=bool) for skill in wanted}
    skilled = np.array([masks[r.get("skill")] for r in rows], dtype=bool).reshape(len(rows), len(ids))
    return cost, np.where(np.isfinite(size), size, 0.0), skilled & np.isfinite(size)


def cost_row(r: Mapping[str, Any], costs: Mapping[Hashable, Any]) -> np.ndarray:
    """The values of ``costs`` as floats, checked (an error names the request and the agent)."""
    values = list(costs.values())
    fast = set(map(type, values)) <= {int, float}  # plain numbers: checked at once (bools are not)
    row = np.array(values, dtype=np.float64) if fast else \
        np.array([number(c, f"request {r['id']!r} costs[{a!r}]", signed=True) for a, c in costs.items()])
    if not np.isfinite(row).all():
        agent = list(costs)[int(np.flatnonzero(~np.isfinite(row))[0])]
        number(costs[agent], f"request {r['id']!r} costs[{agent!r}]", signed=True)  # raises, naming it
    return row


def within(size: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Where ``size`` fits in ``room``, up to round-off (relative :data:`TOL`)."""
    return size <= room + TOL * np.maximum(1.0, np.abs(room))


def fill(chosen: np.ndarray, size: np.ndarray, fits: np.ndarray, cost: np.ndarray, room: np.ndarray) -> int:
    """Place each request left out (largest first) on its cheapest agent that still has room; returns how
    many it placed. After it, a request is left out only when no eligible agent has room for it."""
    left = room.copy()
    for i in np.flatnonzero(chosen >= 0):
        left[chosen[i]] -= size[i, chosen[i]]
    if (left < -TOL * np.maximum(1.0, np.abs(room)) - TOL).any():
        raise RuntimeError("internal error: a batch placement exceeds a capacity")
    filled = 0
    for i in sorted(np.flatnonzero(chosen < 0), key=lambda i: -size[i].max(initial=0.0)):
        ok = fits[i] & within(size[i], left)
        if ok.any():
            k = int(np.argmin(np.where(ok, cost[i], math.inf)))
            chosen[i], left[k], filled = k, left[k] - size[i, k], filled + 1
    return filled
