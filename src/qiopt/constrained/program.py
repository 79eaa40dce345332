"""qiskit-optimization's ``QuadraticProgram`` in the structured form.

:func:`from_program` reads a program of binary variables with linear constraints straight into a
:class:`~qiopt.constrained.ConstrainedModel` (not through a penalised QUBO): the variables keep the program's
names, ``Σ x = 1`` equalities with unit coefficients become one-hot groups (as :func:`~qiopt.constrained.cqm.
from_cqm` does), every other linear constraint a row. A maximisation is solved as the minimisation of
``−objective``: energies are of that form, and ``info["objective_sense"]`` says so. Integer or continuous
variables and quadratic constraints are refused with an error naming them.

The program is read through its public attributes only, so nothing of qiskit-optimization is imported here:
:func:`qiopt.solve` recognises a program by its type's module (:func:`is_program`).

Example:
    >>> from qiskit_optimization import QuadraticProgram
    >>> qp = QuadraticProgram()
    >>> for name in "abc": _ = qp.binary_var(name)
    >>> qp.minimize(linear={"a": 1, "b": 2, "c": 3}, quadratic={("a", "c"): -5})
    >>> _ = qp.linear_constraint({"a": 1, "b": 1}, "==", 1)
    >>> import qiopt; qiopt.solve(qp, seed=1).best_sample
    {'a': 1, 'b': 0, 'c': 1}
"""

from __future__ import annotations

from typing import Any

import dimod

from qiopt.constrained.cqm import from_cqm
from qiopt.constrained.model import ConstrainedModel

__all__ = ["from_program", "is_program"]

_SENSES = {"EQ": "==", "LE": "<=", "GE": ">="}


def is_program(model: Any) -> bool:
    """Whether ``model`` is a qiskit-optimization ``QuadraticProgram`` (checked without importing it)."""
    return any(cls.__name__ == "QuadraticProgram" and cls.__module__.startswith("qiskit_optimization")
               for cls in type(model).__mro__)


def from_program(qp: Any) -> tuple[ConstrainedModel, dict[str, Any]]:
    """The structured model of ``qp`` (labels: the variable names) and notes for ``info``: which constraints
    became one-hot groups, and ``objective_sense`` (``"minimize"`` or ``"maximize"``)."""
    if not is_program(qp):
        raise TypeError(f"expected a qiskit_optimization QuadraticProgram, got {type(qp).__name__}")
    names = [v.name for v in qp.variables]
    if not names:
        raise ValueError("the QuadraticProgram has no variables; add binary variables with qp.binary_var()")
    bad = [f"{v.name!r} ({v.vartype.name})" for v in qp.variables if v.vartype.name != "BINARY"]
    if bad:
        raise ValueError(f"QuadraticProgram variables {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''} are not "
                         "binary; only binary programs are supported (convert integers with qiskit-optimization's "
                         "IntegerToBinary first)")
    if qp.quadratic_constraints:
        raise ValueError(f"QuadraticProgram constraint {qp.quadratic_constraints[0].name!r} is quadratic; only "
                         "linear constraints are supported (move it into the objective as a penalty)")
    sign = -1.0 if qp.objective.sense.name == "MAXIMIZE" else 1.0
    objective = dimod.BinaryQuadraticModel(dimod.BINARY)
    objective.add_variables_from((name, 0.0) for name in names)
    objective.add_linear_from((v, sign * float(b)) for v, b in qp.objective.linear.to_dict(use_name=True).items())
    for (u, v), b in qp.objective.quadratic.to_dict(use_name=True).items():
        if u == v:  # x² = x for a binary
            objective.add_linear(u, sign * float(b))
        else:
            objective.add_quadratic(u, v, sign * float(b))
    objective.offset = sign * float(qp.objective.constant)
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(objective)
    for constraint in qp.linear_constraints:
        terms = [(v, float(b)) for v, b in constraint.linear.to_dict(use_name=True).items() if b != 0]
        if not terms:
            raise ValueError(f"QuadraticProgram constraint {constraint.name!r} has no variables; drop it")
        cqm.add_constraint_from_iterable(terms, _SENSES[constraint.sense.name], rhs=float(constraint.rhs),
                                         label=constraint.name)
    cm, notes = from_cqm(cqm)  # variables in the program's order (the objective lists them all first)
    return cm, {**notes, "objective_sense": "maximize" if sign < 0 else "minimize"}
