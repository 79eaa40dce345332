"""Lower bounds on a model's optimum, and the variables roof duality fixes.

A heuristic answer with a bound says how good it is: ``certified gap = (answer − bound) / |answer|``, and no
answer can be better than the bound. Two methods:

* **roof duality** (BQMs), by dwave-preprocessing's :func:`~dwave.preprocessing.lower_bounds.roof_duality`:
  a max-flow computation (the bound equals the LP relaxation of the standard linearisation, Hammer et al.
  1984) that also names variables whose value is the same in every optimum (strong persistency).
  :func:`fix_variables` uses them to shrink a BQM before sampling (``solve(..., preprocess="roof_duality")``).
* **LP relaxation** (a :class:`~qiopt.constrained.ConstrainedModel`: problems, dimod CQMs, quadratic programs),
  by HiGHS's interior point method with crossover (:func:`scipy.optimize.linprog`): ``x ∈ [0, 1]``, every
  one-hot group ``Σ x = 1``, every linear constraint; a product ``Q x_u x_v`` becomes ``Q y`` with McCormick's
  rows (``y ≥ x_u + x_v − 1`` when ``Q > 0``; ``y ≤ x_u`` and ``y ≤ x_v`` when ``Q < 0``); a squared term
  ``w (B x − b)²`` becomes ``w z`` with ``z`` above tangents of the parabola (``w > 0``) or below its chord over
  the row's range (``w < 0``). Each replaces the objective by something no larger on every feasible binary
  state, so the LP optimum bounds the model's. :func:`lp_start` rounds the LP's answer to a start for the engine.

Both subtract :data:`SAFETY` × (1 + \\|bound\\|) so a solver's round-off cannot lift a bound above the optimum.

Example:
    >>> import dimod
    >>> bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -1.0}, {("a", "b"): 2.0}, 0.0, "SPIN")
    >>> b = lower_bound(bqm)
    >>> round(b.value, 6), b.method
    (-4.0, 'roof_duality')
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from qiopt.constrained.model import ConstrainedModel

__all__ = ["LP_SECONDS_PER_ENTRY", "LP_START_LIMIT", "SAFETY", "TANGENTS", "Bound", "certified_gap", "fix_variables",
           "lower_bound", "lp_bound", "lp_start", "roof_duality_bound"]

SAFETY = 1e-7
"""Relative margin taken off every computed bound (HiGHS's feasibility tolerances are 1e-7)."""

TANGENTS = np.concatenate([-np.geomspace(1.0, 1e-4, 13), [0.0], np.geomspace(1e-4, 4.0, 16)])
"""Offsets, relative to the row's scale, of the tangent points of a squared term around its target."""

LP_START_LIMIT = 500_000
"""Largest model (variables + constraint and coupling nonzeros) :func:`qiopt.solve` starts from its LP."""

LP_SECONDS_PER_ENTRY = 1e-5
"""Time the LP start needs per entry of that size: with less of the time limit it is skipped (HiGHS's interior
point method may overrun its limit; measured 5.5–9 µs per pair on generalized assignment)."""

_INSTALL = "pip install dwave-preprocessing  (a dependency of qiopt; reinstall qiopt to get it)"


@dataclass(frozen=True)
class Bound:
    """A lower bound on a model's optimum (the minimised objective or energy).

    Attributes:
        value: the bound; ``inf`` when the method proved that no feasible answer exists; ``None`` when it
            found none (out of time).
        method: ``"roof_duality"`` or ``"lp_relaxation"``.
        status: ``"optimal"`` (the method finished), ``"infeasible"`` or ``"time limit"``.
        seconds: time spent.
        fixed: for roof duality, ``{variable: value}`` taken by every optimum.
    """

    value: float | None
    method: str
    status: str
    seconds: float
    fixed: dict[Any, int] | None = None


def lower_bound(model: Any, *, time_limit: float | None = None) -> Bound:
    """A lower bound on the optimum of ``model``: roof duality for a BQM (or anything
    :func:`qiopt.model.as_bqm` takes), the LP relaxation for a ConstrainedModel, a dimod CQM, a quadratic
    program or a problem with a structured model (on the problem's objective). ``time_limit`` caps the LP."""
    from qiopt.problems.base import Problem

    if isinstance(model, Problem):
        structured = model.to_constrained()
        return lp_bound(structured, time_limit) if structured is not None else roof_duality_bound(model.to_bqm())
    if isinstance(model, ConstrainedModel):
        return lp_bound(model, time_limit)
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        from qiopt.constrained.cqm import from_cqm

        return lp_bound(from_cqm(model)[0], time_limit)
    from qiopt.constrained.program import from_program, is_program

    if is_program(model):
        return lp_bound(from_program(model)[0], time_limit)
    from qiopt.model import as_bqm

    return roof_duality_bound(as_bqm(model))


def certified_gap(value: float | None, bound: float | None) -> float | None:
    """``(value − bound) / |value|``, at least 0; ``None`` without both, for an infinite bound, or when
    ``|value|`` is too close to zero for a ratio (below ``1e-9 · (1 + |bound|)``). A difference within twice
    the bound's :data:`SAFETY` margin is 0: the answer is optimal to the solver's tolerance.

    >>> certified_gap(-95.0, -100.0), certified_gap(None, 1.0), certified_gap(0.0, 0.0)
    (0.05263157894736842, None, 0.0)
    """
    if value is None or bound is None or not np.isfinite(bound):
        return None
    if value - bound <= 2.0 * SAFETY * (1.0 + abs(bound)):
        return 0.0
    if abs(value) < 1e-9 * (1.0 + abs(bound)):
        return None
    return float((value - bound) / abs(value))


def _roof_duality(bqm: dimod.BinaryQuadraticModel) -> tuple[float, dict[Any, int]]:
    try:
        from dwave.preprocessing import roof_duality
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError(f"roof duality needs dwave-preprocessing: {_INSTALL}") from exc
    # dwave-preprocessing 0.6 keys its fixed values by position when the labels are integers out of order
    # (variables [0, 3, 1] give {1: x} for variable 3): run it on labels 0..n-1 in order and map them back
    indexed, labels = bqm.relabel_variables_as_integers(inplace=False)
    value, fixed = roof_duality(indexed, strict=True)
    return float(value), {labels.get(v, v): int(x) for v, x in fixed.items()}  # (labels omits v -> v)


def roof_duality_bound(bqm: dimod.BinaryQuadraticModel) -> Bound:
    """Roof duality's bound on ``bqm``'s ground-state energy and the variables it fixes (strong persistency)."""
    started = time.perf_counter()
    value, fixed = _roof_duality(bqm) if bqm.num_variables else (float(bqm.offset), {})
    return Bound(value - SAFETY * (1.0 + abs(value)), "roof_duality", "optimal", time.perf_counter() - started,
                 fixed)


def fix_variables(bqm: dimod.BinaryQuadraticModel) -> tuple[dimod.BinaryQuadraticModel, dict[Any, int], Bound]:
    """``(reduced, fixed, bound)``: ``bqm`` with roof duality's fixed variables substituted (a copy; every
    optimum of ``reduced`` extended by ``fixed`` is an optimum of ``bqm``), the fixed values and the bound.

    >>> bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -2.0}, {("a", "b"): 0.5}, 0.0, "BINARY")
    >>> reduced, fixed, _ = fix_variables(bqm)
    >>> reduced.num_variables, fixed
    (0, {'b': 1, 'a': 0})
    """
    bound = roof_duality_bound(bqm)
    reduced = bqm.copy()
    if bound.fixed:
        reduced.fix_variables(bound.fixed)
    return reduced, dict(bound.fixed or {}), bound


def lp_bound(cm: ConstrainedModel, time_limit: float | None = None) -> Bound:
    """The LP relaxation bound of ``cm`` (see the module docstring), by HiGHS within ``time_limit`` seconds.

    >>> cm = ConstrainedModel(3, linear=[1.0, 2.0, -1.0], quadratic=([0], [2], [3.0]), groups=[[0, 1]])
    >>> round(lp_bound(cm).value, 6)    # x0 = 1, x2 = 1 costs 1 - 1 + 3 = 3; x1, x2: 2 - 1 = 1
    1.0
    """
    return _relaxation(cm, time_limit)[0]


def lp_start(cm: ConstrainedModel, time_limit: float | None = None) -> tuple[np.ndarray | None, Bound]:
    """``(state, bound)``: the LP relaxation rounded to a state (in each group the variable of the largest
    share, a free variable set when above ½; a start for the engine, which may break a constraint) and its
    bound; ``state`` is ``None`` when the LP found no optimum.

    >>> cm = ConstrainedModel(4, linear=[1.0, 3.0, 2.0, 0.5], groups=[[0, 1], [2, 3]])
    >>> state, bound = lp_start(cm)
    >>> state.tolist(), round(bound.value, 6)
    ([1, 0, 0, 1], 1.5)
    """
    bound, x = _relaxation(cm, time_limit)
    if x is None:
        return None, bound
    state = (x > 0.5).astype(np.int8)
    if cm.num_groups:
        state[cm.group_vars] = 0
        shares = x[cm.group_vars]
        best = np.maximum.reduceat(shares, cm.group_ptr[:-1])  # the largest share per group, first one on ties
        first = np.flatnonzero(shares >= np.repeat(best, np.diff(cm.group_ptr)))
        owner = np.repeat(np.arange(cm.num_groups), np.diff(cm.group_ptr))[first]
        keep = np.r_[True, owner[1:] != owner[:-1]]
        state[cm.group_vars[first[keep]]] = 1
    return state, bound


def _relaxation(cm: ConstrainedModel, time_limit: float | None) -> tuple[Bound, np.ndarray | None]:
    """The LP of :func:`lp_bound`, solved: its bound and the optimal ``x`` (``None`` without an optimum)."""
    from scipy.optimize import linprog  # HiGHS; imported on use

    started = time.perf_counter()
    n = cm.num_variables
    q = sp.triu(cm.quadratic, k=1).tocoo()  # each pair once, with its full coefficient
    q = sp.coo_matrix((2.0 * q.data, (q.row, q.col)), shape=q.shape) if q.nnz else q
    keep = q.data != 0
    u, v, Q = q.row[keep], q.col[keep], q.data[keep]
    ny, ns = len(Q), cm.num_squares
    nvar = n + ny + ns
    ub: list[sp.coo_matrix] = []
    ub_rhs: list[np.ndarray] = []

    def rows(data: list[np.ndarray], r: list[np.ndarray], c: list[np.ndarray], count: int, rhs: np.ndarray) -> None:
        ub.append(sp.coo_matrix((np.concatenate(data), (np.concatenate(r), np.concatenate(c))), shape=(count, nvar)))
        ub_rhs.append(rhs)

    pos, neg = np.flatnonzero(Q > 0), np.flatnonzero(Q < 0)
    k = np.arange(len(pos))  # x_u + x_v - y <= 1
    rows([np.ones(2 * len(pos)), -np.ones(len(pos))], [k, k, k], [u[pos], v[pos], n + pos], len(pos),
         np.ones(len(pos)))
    k = np.arange(len(neg))
    for ends in (u, v):  # y - x <= 0
        rows([np.ones(len(neg)), -np.ones(len(neg))], [k, k], [n + neg, ends[neg]], len(neg), np.zeros(len(neg)))
    A = sp.hstack([cm.A, sp.csr_matrix((cm.num_constraints, ny + ns))]).tocsr()
    up, down = np.isfinite(cm.upper) & (cm.lower != cm.upper), np.isfinite(cm.lower) & (cm.lower != cm.upper)
    ub += [A[up].tocoo(), -A[down].tocoo()]
    ub_rhs += [cm.upper[up], -cm.lower[down]]
    if ns:
        _square_rows(cm, n + ny, rows)
    eq = cm.lower == cm.upper
    groups = sp.csr_matrix((np.ones(len(cm.group_vars)), cm.group_vars, cm.group_ptr), shape=(cm.num_groups, n))
    A_eq = sp.hstack([sp.vstack([groups, cm.A[eq]]), sp.csr_matrix((cm.num_groups + eq.sum(), ny + ns))]).tocsr()
    A_ub = sp.vstack(ub).tocsr()
    cost = np.concatenate([cm.linear, Q, cm.weights])
    bounds = np.c_[np.r_[np.zeros(n + ny), np.full(ns, -np.inf)], np.r_[np.ones(n + ny), np.full(ns, np.inf)]]
    options = {} if time_limit is None else {"time_limit": max(float(time_limit), 1e-3)}
    res = linprog(cost, A_ub=A_ub if A_ub.shape[0] else None, b_ub=np.concatenate(ub_rhs) if A_ub.shape[0] else None,
                  A_eq=A_eq if A_eq.shape[0] else None, b_eq=np.r_[np.ones(cm.num_groups), cm.upper[eq]]
                  if A_eq.shape[0] else None, bounds=bounds, method="highs-ipm", options=options)
    seconds = time.perf_counter() - started
    if res.status == 2:
        return Bound(float("inf"), "lp_relaxation", "infeasible", seconds), None
    if res.status != 0:
        return Bound(None, "lp_relaxation", "time limit" if res.status == 1 else str(res.message), seconds), None
    value = float(res.fun) + cm.offset
    return Bound(value - SAFETY * (1.0 + abs(value)), "lp_relaxation", "optimal", seconds), res.x[:n]


def _square_rows(cm: ConstrainedModel, z0: int, rows: Any) -> None:
    """``z_s`` under ``w_s (B_s x − b_s)²``: above tangents where ``w_s > 0``, below the chord over the row's
    range ``[Σ min(B, 0), Σ max(B, 0)]`` where ``w_s < 0`` (both hold for every state in range)."""
    B = cm.B.tocsr()
    lo = np.asarray(B.minimum(0).sum(axis=1)).ravel()
    hi = np.asarray(B.maximum(0).sum(axis=1)).ravel()
    b = cm.targets
    scale = np.where(np.abs(b) > 0, np.abs(b), np.maximum(np.abs(lo), np.abs(hi)))
    for s in range(cm.num_squares):
        row = B.getrow(s)
        if cm.weights[s] > 0:  # slope·(Bx) − z ≤ slope·t − (t − b)², slope = 2(t − b)
            points = np.unique(np.clip(b[s] + scale[s] * TANGENTS, lo[s], hi[s]))
            slopes = 2.0 * (points - b[s])
            k = np.repeat(np.arange(len(points)), row.nnz)
            rows([np.outer(slopes, row.data).ravel(), -np.ones(len(points))], [k, np.arange(len(points))],
                 [np.tile(row.indices, len(points)), np.full(len(points), z0 + s)], len(points),
                 slopes * points - (points - b[s]) ** 2)
        elif cm.weights[s] < 0:  # z − chord(Bx) ≤ 0 with chord through (lo, f(lo)) and (hi, f(hi))
            f_lo, f_hi = (lo[s] - b[s]) ** 2, (hi[s] - b[s]) ** 2
            slope = (f_hi - f_lo) / (hi[s] - lo[s]) if hi[s] > lo[s] else 0.0
            rows([np.array([1.0]), -slope * row.data], [np.zeros(1), np.zeros(row.nnz)],
                 [np.array([z0 + s]), row.indices], 1, np.array([f_lo - slope * lo[s]]))
