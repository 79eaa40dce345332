"""Checks of plain-data input shared by the builders; every error names the field or id and the fix.

Example:
    >>> rows = records([{"id": "a", "capacity": 2}], "agents", {"capacity"})
    >>> rows[0]["capacity"]
    2
    >>> records([{"id": "a"}, {"id": "a"}], "agents", set())
    Traceback (most recent call last):
    ...
    ValueError: agents: duplicate id 'a'; every id must be unique
"""

from __future__ import annotations

import copy
import json
import math
import numbers
import os
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["JsonData", "affinity_matrix", "amounts", "capacities", "check_fit", "check_keys", "number", "read_json",
           "records"]


class JsonData:
    """Mixin of builders read from JSON: the domain data as given, back as plain data or a file."""

    _input: dict[str, Any]  # a deep copy of the domain data, set by the builder's __init__ once validated

    def to_dict(self) -> dict[str, Any]:
        """The domain data in the JSON input format (a copy: ``type(p).from_dict(p.to_dict())`` rebuilds ``p``)."""
        return copy.deepcopy(self._input)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as a JSON file readable by ``from_json`` and ``qiopt solve``."""
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(self._input, stream, indent=1)
            stream.write("\n")


def check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse keys outside ``allowed``."""
    if type(data) is not dict and not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(data).__name__}")
    if data.keys() <= allowed:
        return
    unknown = sorted(set(data) - allowed, key=str)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def records(data: Any, field: str, optional: set[str]) -> list[dict[str, Any]]:
    """A list of ``{"id": ..., <optional keys>}`` dicts with unique hashable ids (copies, never the input)."""
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise TypeError(f"{field} must be a list of objects with an 'id', got {type(data).__name__}")
    out, seen = [], set()
    allowed = {"id", *optional}
    for k, row in enumerate(data):
        if type(row) is not dict or not row.keys() <= allowed:
            check_keys(row, allowed, f"{field}[{k}]")
        if "id" not in row:
            raise ValueError(f"{field}[{k}] has no 'id'; give every entry a unique id")
        ident = row["id"]
        if type(ident) not in (str, int) and (not isinstance(ident, Hashable) or isinstance(ident, bool)):
            raise TypeError(f"{field}[{k}]: id must be a string or number, got {ident!r}")
        if ident in seen:
            raise ValueError(f"{field}: duplicate id {ident!r}; every id must be unique")
        seen.add(ident)
        out.append(dict(row))
    if not out:
        raise ValueError(f"{field} is empty; give at least one")
    return out


def number(value: Any, where: str, *, positive: bool = False, signed: bool = False) -> float:
    """``value`` as a finite float ``≥ 0`` (``> 0`` when ``positive``, any sign when ``signed``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out) or (not signed and (out < 0 or (positive and out == 0))):
        rule = "" if signed else " > 0" if positive else " ≥ 0"
        raise ValueError(f"{where} must be a finite number{rule}, got {value!r}")
    return out


def capacities(rows: Sequence[Mapping[str, Any]], kind: str) -> np.ndarray:
    """The ``capacity`` of each row (``inf`` = unlimited when missing or ``None``); errors name ``kind`` and id.

    >>> capacities([{"id": "a", "capacity": 2}, {"id": "b"}], "agent").tolist()
    [2.0, inf]
    """
    return np.array([math.inf if r.get("capacity") is None else number(r["capacity"], f"{kind} {r['id']!r} capacity")
                     for r in rows], dtype=np.float64)


def check_fit(items: Sequence[Hashable], size: np.ndarray, capacity: np.ndarray, size_name: str, bin_kind: str,
              eligible: np.ndarray | None = None) -> None:
    """Refuse input no assignment can satisfy: a task larger than every (eligible) bin's capacity, or more
    total ``size`` (each task at its smallest eligible size) than total capacity. ``size`` is ``(n,)`` or
    ``(n, m)`` (bin-dependent). Messages name the task, its ``size_name`` and the fix.

    >>> check_fit(["t"], np.array([3.0]), np.array([2.0, 2.0]), "load", "worker")
    Traceback (most recent call last):
    ...
    ValueError: task 't' (load 3) fits no worker's capacity; raise a capacity or split the task
    """
    n, m = len(items), len(capacity)
    if np.ndim(size) == 1 and eligible is None:  # the same size on every bin: O(n)
        size = np.asarray(size, dtype=np.float64)
        too_big = np.flatnonzero(size > capacity.max())
        if len(too_big):
            raise ValueError(f"task {items[too_big[0]]!r} ({size_name} {size[too_big[0]]:g}) fits no {bin_kind}'s "
                             "capacity; raise a capacity or split the task")
        if size.sum() > capacity.sum():
            raise ValueError(f"total {size_name} {size.sum():g} exceeds total capacity {capacity.sum():g}; add "
                             f"{bin_kind}s or capacity, or drop tasks")
        return
    sizes = np.broadcast_to(np.asarray(size, dtype=np.float64).reshape(n, -1), (n, m))
    allowed = np.ones((n, m), dtype=bool) if eligible is None else eligible
    fits = (allowed & (capacity[None, :] >= sizes)).any(axis=1)
    if not fits.all():
        i = int(np.flatnonzero(~fits)[0])
        which = "eligible " if eligible is not None else ""
        shown = np.where(allowed[i], sizes[i], np.inf).min()
        raise ValueError(f"task {items[i]!r} ({size_name} {shown:g}) fits no {which}{bin_kind}'s capacity; "
                         "raise a capacity or split the task")
    least = np.where(allowed, sizes, np.inf).min(axis=1).sum()
    if least > capacity.sum():
        raise ValueError(f"total {size_name} {least:g} exceeds total capacity {capacity.sum():g}; add "
                         f"{bin_kind}s or capacity, or drop tasks")


def amounts(rows: Sequence[Mapping[str, Any]], key: str, bins: Sequence[Hashable], default: float,
            bin_kind: str = "agent", item_kind: str = "task") -> np.ndarray:
    """The ``(n, m)`` matrix of a per-row amount that is a number (the same on every bin) or a mapping
    ``{bin id: amount}`` (bin-dependent; a bin it does not name gets ``inf``: not eligible).

    >>> amounts([{"id": "t", "demand": {"a": 3}}, {"id": "u"}], "demand", ["a", "b"], 1.0).tolist()
    [[3.0, inf], [1.0, 1.0]]
    """
    index = {b: k for k, b in enumerate(bins)}
    out = np.empty((len(rows), len(bins)), dtype=np.float64)
    values = [r.get(key, default) for r in rows]
    if set(map(type, values)) <= {int, float}:  # plain numbers (the usual form): checked all at once
        flat = np.array(values, dtype=np.float64)
        if np.isfinite(flat).all() and (flat >= 0).all():
            out[:] = flat[:, None]
            return out
    for i, r in enumerate(rows):
        value = r.get(key, default)
        if isinstance(value, Mapping):
            if not value:
                raise ValueError(f"{item_kind} {r['id']!r} {key} is an empty mapping; name at least one eligible "
                                 f"{bin_kind}")
            out[i] = np.inf
            for b, v in value.items():
                if b not in index:
                    raise ValueError(f"{item_kind} {r['id']!r} {key} names unknown {bin_kind} {b!r}; use ids from the "
                                     f"{bin_kind}s list")
                out[i, index[b]] = number(v, f"{item_kind} {r['id']!r} {key}[{b!r}]")
        else:
            out[i] = number(value, f"{item_kind} {r['id']!r} {key}")
    return out


def skill_list(row: Mapping[str, Any]) -> list[Any]:
    """The ``skills`` of an agent record as a list (default none); a string or a non-collection is refused."""
    skills = row.get("skills", [])
    if isinstance(skills, str) or not isinstance(skills, list | tuple | set | frozenset):
        raise TypeError(f"agent {row['id']!r} skills must be a list of names, got {skills!r}")
    return list(skills)


def affinity_matrix(pairs: Any, index: Mapping[Hashable, int], kind: str) -> sp.csr_matrix:
    """``[[id1, id2, w], ...]`` → symmetric sparse matrix over ``index`` (repeated pairs add up)."""
    n = len(index)
    if pairs is None:
        return sp.csr_matrix((n, n))
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Sequence):
        raise TypeError(f"affinity must be a list of [{kind}1, {kind}2, weight], got {type(pairs).__name__}")
    rows, cols, vals = [], [], []
    for k, entry in enumerate(pairs):
        if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or len(entry) != 3:
            raise ValueError(f"affinity[{k}] must be [{kind}1, {kind}2, weight], got {entry!r}")
        u, v, w = entry
        for ident in (u, v):
            if ident not in index:
                raise ValueError(f"affinity[{k}] names unknown {kind} {ident!r}; use ids from the {kind}s list")
        if u == v:
            raise ValueError(f"affinity[{k}] pairs {kind} {u!r} with itself; give two different ids")
        w = number(w, f"affinity[{k}] weight", signed=True)
        rows += [index[u], index[v]]
        cols += [index[v], index[u]]
        vals += [w, w]
    out = sp.csr_matrix((np.array(vals), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
                        shape=(n, n))
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a JSON object from ``path``."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{os.fspath(path)}: expected a JSON object at the top level, got {type(data).__name__}")
    return data
