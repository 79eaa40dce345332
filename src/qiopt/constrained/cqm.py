"""dimod's constrained quadratic model in and out of the structured form.

:func:`from_cqm` reads a :class:`dimod.ConstrainedQuadraticModel` of binary variables: discrete constraints,
and any equality ``Σ x_i == 1`` with unit coefficients over binaries (LP files and other tools write one-hot
constraints that way), become one-hot groups (disjoint; a constraint overlapping an earlier group stays a
linear constraint); every other linear constraint becomes a row of ``A``. Quadratic constraints, and integer
or real variables, are refused with an error naming them. :func:`to_cqm` writes a model back (squared terms
expanded; groups as discrete constraints).

Example:
    >>> import dimod
    >>> x = [dimod.Binary(i) for i in range(3)]
    >>> cqm = dimod.ConstrainedQuadraticModel()
    >>> cqm.set_objective(x[0] + 2 * x[1] - x[0] * x[2])
    >>> _ = cqm.add_constraint(x[0] + x[1] == 1, label="pick")
    >>> _ = cqm.add_constraint(x[1] + 2 * x[2] <= 2, label="room")
    >>> cm, notes = from_cqm(cqm)
    >>> cm.num_groups, cm.constraint_names, notes["one_hot_groups"]
    (1, ['room'], ['pick'])
"""

from __future__ import annotations

from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp
from dimod.sym import Sense

from qiopt.constrained.model import ConstrainedModel

__all__ = ["from_cqm", "to_cqm"]


def from_cqm(cqm: dimod.ConstrainedQuadraticModel) -> tuple[ConstrainedModel, dict[str, Any]]:
    """The structured model of ``cqm`` (labels kept), and notes on what became what (for ``info``)."""
    if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
        raise TypeError(f"cqm must be a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}")
    labels = list(cqm.variables)
    if not labels:
        raise ValueError("the CQM has no variables; give it an objective or constraints over binary variables")
    for v in labels:
        if cqm.vartype(v) is not dimod.BINARY:
            raise ValueError(f"CQM variable {v!r} is {cqm.vartype(v).name}; only BINARY variables are supported "
                             "(SPIN: substitute s = 2x - 1; integers: encode them in binaries)")
    index = {v: k for k, v in enumerate(labels)}
    n = len(labels)
    objective = cqm.objective
    linear = np.zeros(n)
    for v, b in objective.iter_linear():
        linear[index[v]] += b
    quad = [(index[u], index[v], b) for u, v, b in objective.iter_quadratic()]
    qr, qc, qv = (np.array(a, dtype=float) for a in zip(*quad, strict=True)) if quad else (np.zeros(0),) * 3
    groups, group_names, in_group = [], [], np.zeros(n, dtype=bool)
    rows, cols, vals, lower, upper, names = [], [], [], [], [], []
    for label, constraint in cqm.constraints.items():
        lhs = constraint.lhs
        if lhs.num_variables == 0:
            raise ValueError(f"CQM constraint {label!r} has no variables; drop it")
        if lhs.num_interactions:
            raise ValueError(f"CQM constraint {label!r} is quadratic; only linear constraints are supported yet "
                             "(move it into the objective as a penalty, or linearise it)")
        terms = {index[v]: b for v, b in lhs.iter_linear() if b != 0}
        rhs = float(constraint.rhs) - float(lhs.offset)
        sense = constraint.sense
        members = np.fromiter(terms, dtype=np.int64, count=len(terms))
        one_hot = sense is Sense.Eq and rhs == 1.0 and all(b == 1.0 for b in terms.values())
        if one_hot and len(members) and not in_group[members].any():  # discrete constraints are of this form
            groups.append(members)
            group_names.append(label)
            in_group[members] = True
            continue
        rows += [len(names)] * len(terms)
        cols += list(terms)
        vals += list(terms.values())
        lower.append(rhs if sense is not Sense.Le else -np.inf)
        upper.append(rhs if sense is not Sense.Ge else np.inf)
        names.append(label)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(names), n))
    cm = ConstrainedModel(n, linear=linear, quadratic=(qr.astype(np.int64), qc.astype(np.int64), qv),
                          offset=float(objective.offset), groups=groups or None, constraints=A, lower=lower,
                          upper=upper, labels=labels, constraint_names=names)
    return cm, {"one_hot_groups": group_names, "linear_constraints": len(names)}


def to_cqm(cm: ConstrainedModel) -> dimod.ConstrainedQuadraticModel:
    """A dimod CQM with the same objective (squared terms expanded), groups as discrete constraints and the
    linear constraints (``lower == upper`` as an equality; two-sided rows as two constraints).

    >>> cqm = to_cqm(ConstrainedModel(2, linear=[1.0, 2.0], groups=[[0, 1]]))
    >>> len(cqm.variables), list(cqm.discrete)
    (2, ['group0'])
    """
    from qiopt.constrained.export import objective_bqm

    labels = cm.labels
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective_bqm(cm))
    for g in range(cm.num_groups):
        members = cm.group_vars[cm.group_ptr[g]:cm.group_ptr[g + 1]]
        cqm.add_discrete([labels[v] for v in members], label=f"group{g}")
    for r, name in enumerate(cm.constraint_names):
        row = cm.A.getrow(r)
        terms = [(labels[v], float(a)) for v, a in zip(row.indices, row.data, strict=True)]
        lo, hi = float(cm.lower[r]), float(cm.upper[r])
        if lo == hi:
            cqm.add_constraint_from_iterable(terms, "==", rhs=hi, label=name)
            continue
        if np.isfinite(hi):
            cqm.add_constraint_from_iterable(terms, "<=", rhs=hi, label=name if not np.isfinite(lo) else f"{name}.le")
        if np.isfinite(lo):
            cqm.add_constraint_from_iterable(terms, ">=", rhs=lo, label=name if not np.isfinite(hi) else f"{name}.ge")
    return cqm
