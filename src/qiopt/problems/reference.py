"""Classical references on :class:`~qiopt.problems._search.AssignmentArrays`: an exact MILP, its LP relaxation
and greedy baselines.

Each function returns ``(a, info)``: the assignment array (``a[i]`` = bin of item ``i``) and what the method
reports (``seconds``, and for the MILP ``status``, ``bound`` and relative ``gap``).

MILP (HiGHS through :func:`scipy.optimize.milp`): ``x_ib`` binary for eligible pairs, ``Σ_b x_ib = 1``,
``Σ_i size_i x_ib ≤ capacity_b``; an affinity ``w`` between items ``i, j`` on a common bin ``b`` gets
``y ∈ [0, 1]`` with ``y ≤ x_ib, y ≤ x_jb`` (``w > 0``, objective ``−w y``) or ``y ≥ x_ib + x_jb − 1``
(``w < 0``, objective ``|w| y``). The squared-load term ``(T_b − target)²`` becomes ``z_b`` above tangents of the
parabola at :data:`TANGENTS`, so the MILP bound is a valid lower bound and the answer is scored exactly: with
a squared-load term ``gap`` compares that exact score with the bound.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> arr = AssignmentArrays(np.array([[1.0, 2.0], [1.0, 3.0]]), np.ones(2), np.array([1.0, 1.0]),
    ...                        sp.csr_matrix((2, 2)))
    >>> a, info = milp(arr)
    >>> a.tolist(), info["status"]
    ([1, 0], 'optimal')
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from qiopt.problems._search import AssignmentArrays

__all__ = ["TANGENTS", "greedy_cheapest", "greedy_rebalance", "lp_relaxation", "lpt", "milp"]

TANGENTS = np.concatenate([-np.geomspace(1.0, 1e-4, 13), [0.0], np.geomspace(1e-4, 4.0, 16)])
"""Relative offsets ``τ / target − 1`` where the squared-load term is under-estimated by its tangents."""


def milp(arr: AssignmentArrays, time_limit: float | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Solve the MILP above with HiGHS (``time_limit`` seconds, default none)."""
    return _highs(arr, time_limit, relax=False)


def lp_relaxation(arr: AssignmentArrays, time_limit: float | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """The MILP's LP relaxation (HiGHS), rounded: each item to the bin of its largest share. ``info["bound"]``
    is the LP optimum (a lower bound on every answer's objective), ``info["fractional"]`` the number of items
    the LP split; the rounded assignment may exceed capacities (a start for the engine, not an answer).

    >>> arr = AssignmentArrays(np.array([[1.0, 2.0], [1.0, 3.0]]), np.ones(2), np.array([1.0, 1.0]),
    ...                        sp.csr_matrix((2, 2)))
    >>> a, info = lp_relaxation(arr)
    >>> a.tolist(), info["bound"], info["fractional"]
    ([1, 0], 3.0, 0)
    """
    return _highs(arr, time_limit, relax=True)


def _highs(arr: AssignmentArrays, time_limit: float | None, relax: bool) -> tuple[np.ndarray, dict[str, Any]]:
    """The model above, solved by HiGHS as a MILP, or (``relax``) as its LP relaxation by :func:`_relaxed`."""
    started = time.perf_counter()
    pairs = np.argwhere(arr.eligible)
    nx = len(pairs)
    index = np.full((arr.n, arr.m), -1)
    index[pairs[:, 0], pairs[:, 1]] = np.arange(nx)
    coo = arr.affinity.tocoo()
    keep = coo.row < coo.col
    r, c, w = coo.row[keep], coo.col[keep], coo.data[keep]
    e, b = np.nonzero((index[r] >= 0) & (index[c] >= 0))
    ny, nz = len(e), (arr.m if arr.speed is not None else 0)
    xr, xc, wy = index[r[e], b], index[c[e], b], w[e]
    nvar = nx + ny + nz
    cost = np.concatenate([arr.cost0[pairs[:, 0], pairs[:, 1]], -wy, np.ones(nz)])
    rows: list[sp.coo_matrix] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []

    def add(data: np.ndarray, ri: np.ndarray, ci: np.ndarray, nrows: int, low: np.ndarray, high: np.ndarray
            ) -> None:
        rows.append(sp.coo_matrix((data, (ri, ci)), shape=(nrows, nvar)))
        lo.append(low)
        hi.append(high)

    add(np.ones(nx), pairs[:, 0], np.arange(nx), arr.n, np.ones(arr.n), np.ones(arr.n))
    capped = np.flatnonzero(np.isfinite(arr.capacity))
    slot = np.full(arr.m, -1)
    slot[capped] = np.arange(len(capped))
    on = slot[pairs[:, 1]] >= 0
    add(arr.size[pairs[on, 0], pairs[on, 1]], slot[pairs[on, 1]], np.flatnonzero(on), len(capped),
        np.full(len(capped), -np.inf), arr.capacity[capped])
    pos, neg = np.flatnonzero(wy > 0), np.flatnonzero(wy < 0)
    for xs in (xr, xc):  # y - x <= 0 for attracting pairs
        add(np.r_[np.ones(len(pos)), -np.ones(len(pos))], np.r_[np.arange(len(pos)), np.arange(len(pos))],
            np.r_[nx + pos, xs[pos]], len(pos), np.full(len(pos), -np.inf), np.zeros(len(pos)))
    k = np.arange(len(neg))  # x_i + x_j - y <= 1 for repelling pairs
    add(np.r_[np.ones(2 * len(neg)), -np.ones(len(neg))], np.r_[k, k, k], np.r_[xr[neg], xc[neg], nx + neg],
        len(neg), np.full(len(neg), -np.inf), np.ones(len(neg)))
    if arr.speed is not None:
        _tangent_rows(arr, arr.speed, pairs, nx + ny, add)
    A, lo_all, hi_all = sp.vstack(rows).tocsr(), np.concatenate(lo), np.concatenate(hi)
    var_lo, var_hi = np.r_[np.zeros(nx + ny), np.full(nz, -np.inf)], np.r_[np.ones(nx + ny), np.full(nz, np.inf)]
    options = {"time_limit": time_limit} if time_limit else {}
    if relax:
        return _relaxed(arr, cost, A, lo_all, hi_all, np.c_[var_lo, var_hi], options, pairs, started)
    from scipy.optimize import Bounds, LinearConstraint, milp  # HiGHS; imported on use (0.2 s)

    res = milp(cost, constraints=[LinearConstraint(A, lo_all, hi_all)], integrality=np.r_[np.ones(nx),
               np.zeros(ny + nz)], bounds=Bounds(var_lo, var_hi), options=options)
    info: dict[str, Any] = {"status": _status(res), "seconds": time.perf_counter() - started}
    if res.x is None:
        return np.full(arr.n, -1), {**info, "bound": None, "gap": None}
    chosen = pairs[res.x[:nx] > 0.5]
    a = np.full(arr.n, -1)
    a[chosen[:, 0]] = chosen[:, 1]
    bound = float(getattr(res, "mip_dual_bound", res.fun))
    exact = arr.objective(a)
    return a, {**info, "bound": bound, "gap": (exact - bound) / max(abs(exact), 1e-9)}


def _relaxed(arr: AssignmentArrays, cost: np.ndarray, A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray,
             bounds: np.ndarray, options: dict[str, Any], pairs: np.ndarray, started: float
             ) -> tuple[np.ndarray, dict[str, Any]]:
    """The LP of :func:`_highs`'s rows, by HiGHS's interior point method with crossover (measured up to 2.5×
    faster than the dual simplex on generalized assignment at 128k pairs; crossover returns a vertex, so few
    items are split), rounded to the largest share per item."""
    from scipy.optimize import linprog  # HiGHS; imported on use

    eq, up, down = lo == hi, np.isfinite(hi) & (lo != hi), np.isfinite(lo) & (lo != hi)
    res = linprog(cost, A_ub=sp.vstack([A[up], -A[down]]), b_ub=np.r_[hi[up], -lo[down]], A_eq=A[eq], b_eq=hi[eq],
                  bounds=bounds, method="highs-ipm", options=options)
    info: dict[str, Any] = {"status": _status(res), "seconds": time.perf_counter() - started}
    if res.status != 0:
        return np.full(arr.n, -1), {**info, "bound": None, "fractional": None}
    share = sp.csr_matrix((res.x[:len(pairs)], (pairs[:, 0], pairs[:, 1])), shape=(arr.n, arr.m))
    split = (share.data > 1e-6) & (share.data < 1 - 1e-6)
    a = np.asarray(share.argmax(axis=1)).ravel()
    return a, {**info, "bound": float(res.fun), "fractional": len(np.unique(share.tocoo().row[split]))}


def _status(res: Any) -> str:
    """HiGHS's result status through scipy (``milp`` or ``linprog``), in words."""
    return {0: "optimal", 1: "time limit"}.get(res.status, res.message)


def _tangent_rows(arr: AssignmentArrays, speed: np.ndarray, pairs: np.ndarray, z0: int, add: Any) -> None:
    """``z_b ≥ (τ−t)² + 2(τ−t)(L_b/speed_b − τ)`` for every tangent point ``τ = t(1 + offset)``."""
    t = arr.target
    for tau in t * (1.0 + TANGENTS):
        slope = 2.0 * (tau - t)
        # slope * L_b/speed_b - z_b <= slope * tau - (tau - t)^2
        coef = slope * arr.size[pairs[:, 0], pairs[:, 1]] / speed[pairs[:, 1]]
        add(np.r_[coef, -np.ones(arr.m)], np.r_[pairs[:, 1], np.arange(arr.m)],
            np.r_[np.arange(len(pairs)), z0 + np.arange(arr.m)], arr.m, np.full(arr.m, -np.inf),
            np.full(arr.m, slope * tau - (tau - t) ** 2))


def greedy_cheapest(arr: AssignmentArrays) -> tuple[np.ndarray, dict[str, Any]]:
    """Largest item first, to its cheapest eligible bin with room (else the eligible bin with most room)."""
    started = time.perf_counter()
    a, load = np.full(arr.n, -1), np.zeros(arr.m)
    for i in np.argsort(-arr.item_size, kind="stable"):
        room = arr.capacity - load
        fits = arr.eligible[i] & (room >= arr.size[i] - 1e-9)
        b = int(np.argmin(np.where(fits, arr.cost[i], np.inf))) if fits.any() else \
            int(np.argmax(np.where(arr.eligible[i], room, -np.inf)))
        a[i], load[b] = b, load[b] + arr.size[i, b]
    return a, {"seconds": time.perf_counter() - started}


def lpt(arr: AssignmentArrays) -> tuple[np.ndarray, dict[str, Any]]:
    """Longest processing time first: largest item to the eligible bin that would finish earliest (with room
    if any has). Compiled, O(n·m) without an ``n × m`` array, on the factored form."""
    started = time.perf_counter()
    speed = arr.speed if arr.speed is not None else np.ones(arr.m)
    if arr.factored:
        from qiopt.problems._balance import lpt_factored

        return lpt_factored(arr.item_size, speed, arr.capacity), {"seconds": time.perf_counter() - started}
    a, load = np.full(arr.n, -1), np.zeros(arr.m)
    for i in np.argsort(-arr.item_size, kind="stable"):
        after = load + arr.size[i]
        ok = arr.eligible[i] & (after <= arr.capacity + 1e-9)
        b = int(np.argmin(np.where(ok if ok.any() else arr.eligible[i], after / speed, np.inf)))
        a[i], load[b] = b, after[b]
    return a, {"seconds": time.perf_counter() - started}


def greedy_rebalance(arr: AssignmentArrays, current: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """From ``current``: repeatedly move the task of the most-loaded bin whose best move lowers the objective
    most; stop when no task of that bin can improve it. Compiled on the factored form without affinity or
    capacities (:func:`qiopt.problems._balance.rebalance_factored`: the same moves, at millions of tasks)."""
    started = time.perf_counter()
    if arr.factored and not arr.capped and arr.affinity.nnz == 0 and arr.speed is not None:
        from qiopt.problems._balance import rebalance_factored

        a, moves = rebalance_factored(arr.item_size, arr.speed, arr.target, current, arr._move_cost)
        return a, {"seconds": time.perf_counter() - started, "moves": moves}
    a = np.array(current, dtype=np.int64)
    L, M = arr.loads(a), arr.neighbour_sums(a)
    speed = arr.speed if arr.speed is not None else np.ones(arr.m)
    moves = 0
    while True:
        rows = np.flatnonzero(a == int(np.argmax(L / speed)))
        delta = arr.move_deltas(a, L, M, rows)
        if not len(rows) or delta.min() >= -1e-12:
            break
        k, b = np.unravel_index(np.argmin(delta), delta.shape)
        arr.place(a, L, M, int(rows[k]), int(b))
        moves += 1
    return a, {"seconds": time.perf_counter() - started, "moves": moves}
