"""The structured model as a penalised QUBO, with penalties that are sound by construction.

:func:`to_bqm` writes objective + ``P·`` penalties: ``(Σ_g x − 1)²`` per one-hot group and, per linear
constraint, the exact-grid slack encodings of :mod:`qiopt.constraints` (zero on feasible states with their
best slack, at least ``P`` on any violation). Squared terms are expanded into couplings here, and only here.

Soundness (:func:`sound_weight`). Let ``F*`` be the best feasible objective, ``U ≥ F*`` any upper bound (the
objective of a known feasible answer, else the largest objective of any one-hot state) and ``L`` a lower bound
of the objective over *all* binary states (``offset + Σ min(0, c_v) + Σ min(0, Q_uv)``, squared terms with a
positive weight counted as 0). With ``P > U − L``, every state that violates anything has energy
``≥ L + P > U ≥ F*``, while the best feasible state has energy ``F*``: every ground state is feasible and
optimal. The bound covers changes
of any number of variables (leaving one task out to make room for several cheap ones included), which a
single-flip bound does not.

Example:
    >>> import scipy.sparse as sp
    >>> from qiopt.constrained import ConstrainedModel
    >>> cm = ConstrainedModel(2, linear=[3.0, 1.0], groups=[[0, 1]], constraints=sp.csr_matrix([[0, 1.0]]),
    ...                       upper=[0.0])
    >>> import dimod
    >>> bqm = to_bqm(cm)
    >>> best = dimod.ExactSolver().sample(bqm).first.sample
    >>> int(best[0]), int(best[1])
    (1, 0)
"""

from __future__ import annotations

import dimod
import numpy as np
import scipy.sparse as sp

from qiopt.constrained.model import ConstrainedModel
from qiopt.constraints import ExactlyOne, LinearEquality, LinearInequality, square

__all__ = ["BYTES_PER_INTERACTION", "objective_bqm", "sound_weight", "to_bqm"]

BYTES_PER_INTERACTION = 48
"""What one coupling costs in a dimod BQM (both adjacency entries and the build), for the memory check."""


def objective_bqm(cm: ConstrainedModel, max_bytes: float = 2**31) -> dimod.BinaryQuadraticModel:
    """The objective as a BINARY BQM over ``cm.labels`` (squared terms expanded).

    Raises ``ValueError`` naming the memory needed when the expansion would exceed ``max_bytes`` (raise it
    to go on)."""
    per_row = np.diff(cm.B.indptr).astype(np.float64)
    needed = BYTES_PER_INTERACTION * (cm.quadratic.nnz / 2 + (per_row * (per_row - 1) / 2).sum())
    _check_size(needed, max_bytes)
    labels = cm.labels
    q = cm.quadratic.tocoo()
    upper = q.row < q.col
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
        cm.linear, (q.row[upper], q.col[upper], q.data[upper]), cm.offset, dimod.BINARY, variable_order=labels)
    for s in range(cm.num_squares):
        row = cm.B.getrow(s)
        terms = {labels[v]: a for v, a in zip(row.indices, row.data, strict=True)}
        if terms:
            bqm.update(square(terms, -cm.targets[s], cm.weights[s]))
        else:
            bqm.offset += cm.weights[s] * cm.targets[s] ** 2
    return bqm


def sound_weight(cm: ConstrainedModel, upper: float | None = None) -> float:
    """A penalty weight ``P = 1.05 (U − L)`` (see module; 1 when ``U ≤ L``). ``upper``: the objective of a known
    feasible answer; else ``U`` is the largest objective of any one-hot state. ``L`` counts squared terms with
    a positive weight as 0 (they are squares), which is far tighter than their expanded couplings.

    >>> round(sound_weight(ConstrainedModel(2, linear=[2.0, -1.0], groups=[[0, 1]])), 9)
    3.15
    """
    q = sp.triu(cm.quadratic, k=1).data
    t_hi = np.asarray(cm.B.maximum(0).sum(axis=1)).ravel()  # range of each squared term's sum B x
    t_lo = np.asarray(cm.B.minimum(0).sum(axis=1)).ravel()
    dev2 = np.maximum((t_hi - cm.targets) ** 2, (t_lo - cm.targets) ** 2)
    squares_hi = (np.maximum(cm.weights, 0) * dev2).sum()
    squares_lo = (np.minimum(cm.weights, 0) * dev2).sum()
    low = cm.offset + np.minimum(cm.linear, 0).sum() + np.minimum(q, 0).sum() + squares_lo
    grouped = np.maximum.reduceat(cm.linear[cm.group_vars], cm.group_ptr[:-1]).sum() if cm.num_groups else 0.0
    high = (cm.offset + grouped + np.maximum(cm.linear[cm.free], 0).sum() + np.maximum(q, 0).sum() + squares_hi)
    span = (high if upper is None else min(float(upper), high)) - low
    return float(1.05 * span) if span > 0 else 1.0


def to_bqm(cm: ConstrainedModel, weight: float | None = None, upper: float | None = None,
           max_bytes: float = 2**31) -> dimod.BinaryQuadraticModel:
    """The penalised QUBO of ``cm`` (labels ``cm.labels``; slack variables ``("slack", name, k)``).

    ``weight`` defaults to :func:`sound_weight` with ``upper`` (the objective of a known feasible answer, if
    any). Refuses (``ValueError`` with the bytes needed) a model whose dense form exceeds ``max_bytes``.
    """
    per_row = np.diff(cm.A.indptr).astype(np.float64)
    per_group = np.diff(cm.group_ptr).astype(np.float64)
    needed = BYTES_PER_INTERACTION * ((per_row * (per_row + 8)).sum() / 2 + (per_group**2).sum() / 2)
    _check_size(needed, max_bytes)
    bqm = objective_bqm(cm, max_bytes - needed)
    p = sound_weight(cm, upper) if weight is None else float(weight)
    if not (np.isfinite(p) and p > 0):
        raise ValueError(f"weight must be a positive finite number, got {weight!r}")
    labels = cm.labels
    for g in range(cm.num_groups):
        members = cm.group_vars[cm.group_ptr[g]:cm.group_ptr[g + 1]]
        bqm.update(ExactlyOne([labels[v] for v in members], name=f"group{g}").penalty_bqm(p))
    for r, name in enumerate(cm.constraint_names):
        row = cm.A.getrow(r)
        coeffs = {labels[v]: a for v, a in zip(row.indices, row.data, strict=True)}
        lo, hi = cm.lower[r], cm.upper[r]
        if lo == hi:
            bqm.update(LinearEquality(coeffs, hi, name=name).penalty_bqm(p))
            continue
        if np.isfinite(hi):
            bqm.update(LinearInequality(coeffs, hi, name=f"{name}.le").penalty_bqm(p))
        if np.isfinite(lo):
            bqm.update(LinearInequality({v: -a for v, a in coeffs.items()}, -lo, name=f"{name}.ge").penalty_bqm(p))
    return bqm


def _check_size(needed: float, max_bytes: float) -> None:
    if needed > max_bytes:
        raise ValueError(f"the dense QUBO form would take about {needed / 2**30:.1f} GiB (max_bytes="
                         f"{max_bytes / 2**30:.1f} GiB); solve the structured model with the 'sa' engine, or "
                         "raise max_bytes")
