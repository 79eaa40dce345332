"""Constraints as objects: each one knows its violation and generates its own penalty model.

A constraint over BINARY variables gives :meth:`Constraint.penalty_bqm` (``weight ×`` a non-negative quadratic
that is zero exactly on the feasible assignments, once its slack variables take their best values) and
:meth:`Constraint.violation` (how far a sample is from feasible, in the constraint's own units). Builders keep
a list of constraints and generate their model from it, so the constraint layer can later produce factored
forms too.

Exactness. Coefficients and bounds are put on a common grid ``step`` (their greatest common divisor: exact
for fractions with denominators up to 10,000, so ``1/3`` with a bound of ``0.7`` gives a step of ``1/30`` and 5
slack bits; other values are rounded to 6 decimals); the penalty is ``weight · ((lhs + slack − bound) / step)²``
with the slack encoded in binary (log encoding, last coefficient clipped so it never exceeds the largest useful
slack). Hence
``min over slack of penalty == 0  ⇔  violation == 0``, and an infeasible assignment costs at least ``weight``.

Weights: the builders weigh every constraint with :func:`qiopt.constrained.export.sound_weight`, a bound on
the objective's whole span, so that every ground state of the exported model is feasible and optimal (a weight
from single-flip changes is not enough: leaving one task out can make room for several cheap ones).

Example:
    >>> from qiopt.constraints import ExactlyOne, LinearInequality
    >>> one = ExactlyOne(["a", "b", "c"], name="pick")
    >>> one.violation({"a": 1, "b": 1, "c": 0}), float(one.penalty_bqm(2.0).energy({"a": 1, "b": 0, "c": 0}))
    (1.0, 0.0)
    >>> cap = LinearInequality({"a": 2, "b": 3}, 4, name="cap")
    >>> cap.violation({"a": 1, "b": 1}), cap.num_slack
    (1.0, 3)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Mapping
from fractions import Fraction

import dimod
import numpy as np

__all__ = ["AtMostK", "Constraint", "ExactlyOne", "LinearEquality", "LinearInequality", "grid", "square"]

_DECIMALS = 6
_MAX_DENOMINATOR = 10_000  # fractions recognised in coefficients and bounds (1/3, 7/12, ...)
_MAX_COMMON_DENOMINATOR = 10**9  # beyond this the decimal grid is used


def grid(values: Iterable[float]) -> float:
    """The largest ``step`` of which every value is an integer multiple: exact for fractions with small
    denominators (``1/3`` and ``0.7`` give ``1/30``, not ``1e-6``), else on values rounded to 6 decimals.

    >>> grid([2, 4, 10]), grid([0.5, 1.25]), round(grid([1 / 3, 0.7]), 9)
    (2.0, 0.25, 0.033333333)
    """
    values = [float(v) for v in values]
    fractions, den = [], 1
    for v in values:  # stops at the first value that is no small fraction (random floats: at once)
        f = Fraction(v).limit_denominator(_MAX_DENOMINATOR)
        den = math.lcm(den, f.denominator)
        if abs(float(f) - v) > 1e-12 * max(1.0, abs(v)) or den > _MAX_COMMON_DENOMINATOR:
            break
        fractions.append(f)
    if fractions and len(fractions) == len(values):
        g = math.gcd(*(f.numerator * (den // f.denominator) for f in fractions))
        return g / den if g else 1.0
    scale = 10**_DECIMALS
    ints = [round(float(v) * scale) for v in values]
    g = math.gcd(*ints) if ints else 0
    return g / scale if g else 1.0


class Constraint(ABC):
    """A constraint over BINARY variables with a name used in :attr:`Solution.violations`."""

    name: str

    @abstractmethod
    def violation(self, sample: Mapping[Hashable, int]) -> float:
        """How far ``sample`` is from satisfying the constraint (0 when satisfied)."""

    @abstractmethod
    def penalty_bqm(self, weight: float) -> dimod.BinaryQuadraticModel:
        """``weight ×`` a penalty that is 0 on feasible assignments (best slack) and ≥ ``weight`` otherwise."""

    @property
    def slack_variables(self) -> list[Hashable]:
        """Auxiliary variables this constraint adds to the model (labelled ``("slack", name, k)``)."""
        return []


class _Linear(Constraint):
    """A constraint on the linear form ``Σ coeffs[v]·x_v`` (shared by equalities and inequalities)."""

    coeffs: dict[Hashable, float]

    def lhs(self, sample: Mapping[Hashable, int]) -> float:
        """The left side ``Σ coeffs[v]·sample[v]``."""
        return sum(a * sample[v] for v, a in self.coeffs.items())


class LinearEquality(_Linear):
    """``Σ coeffs[v]·x_v == rhs``; penalty ``weight · ((Σ a x − rhs)/step)²``, no slack.

    >>> float(LinearEquality({"a": 1, "b": 1}, 1, name="one").penalty_bqm(1.0).energy({"a": 1, "b": 1}))
    1.0
    """

    def __init__(self, coeffs: Mapping[Hashable, float], rhs: float, name: str = "equality") -> None:
        self.coeffs = {v: float(a) for v, a in coeffs.items() if a != 0}
        self.rhs = float(rhs)
        self.name = name
        self.step = grid([*self.coeffs.values(), self.rhs])

    def violation(self, sample: Mapping[Hashable, int]) -> float:
        return abs(self.lhs(sample) - self.rhs)

    def penalty_bqm(self, weight: float) -> dimod.BinaryQuadraticModel:
        return square(self.coeffs, -self.rhs, weight / self.step**2)


class ExactlyOne(LinearEquality):
    """Exactly one of ``variables`` is 1 (one-hot): ``weight · (Σ x − 1)²``."""

    def __init__(self, variables: Iterable[Hashable], name: str = "exactly_one") -> None:
        super().__init__(dict.fromkeys(variables, 1.0), 1.0, name)


class LinearInequality(_Linear):
    """``Σ coeffs[v]·x_v ≤ bound``, made an equality with a bounded binary slack.

    The slack ``s = step · Σ_k c_k z_k`` (labels ``("slack", name, k)``) has coefficients ``1, 2, 4, …`` with the
    last one clipped so that ``s`` covers exactly ``0 … bound − min lhs``. A constraint that can never be violated
    (``max lhs ≤ bound``) adds nothing to the model.
    """

    def __init__(self, coeffs: Mapping[Hashable, float], bound: float, name: str = "inequality") -> None:
        self.coeffs = {v: float(a) for v, a in coeffs.items() if a != 0}
        self.bound = float(bound)
        self.name = name
        self.step = grid([*self.coeffs.values(), self.bound])
        low = sum(min(a, 0.0) for a in self.coeffs.values())
        if low > self.bound:
            raise ValueError(f"constraint {name!r} can never hold: its smallest left side {low:g} exceeds "
                             f"the bound {self.bound:g}")
        self.redundant = sum(max(a, 0.0) for a in self.coeffs.values()) <= self.bound
        self._slack = [] if self.redundant else _log_encoding(round((self.bound - low) / self.step))

    @property
    def num_slack(self) -> int:
        return len(self._slack)

    @property
    def slack_variables(self) -> list[Hashable]:
        return [("slack", self.name, k) for k in range(self.num_slack)]

    def violation(self, sample: Mapping[Hashable, int]) -> float:
        return max(0.0, self.lhs(sample) - self.bound)

    def penalty_bqm(self, weight: float) -> dimod.BinaryQuadraticModel:
        if self.redundant:
            return dimod.BinaryQuadraticModel(dimod.BINARY)
        terms = dict(self.coeffs)
        terms.update({z: c * self.step for z, c in zip(self.slack_variables, self._slack, strict=True)})
        return square(terms, -self.bound, weight / self.step**2)


class AtMostK(LinearInequality):
    """At most ``k`` of ``variables`` are 1. For ``k == 1`` the penalty is ``weight · Σ_{i<j} x_i x_j`` (no slack).

    >>> float(AtMostK(["a", "b", "c"], 1).penalty_bqm(3.0).energy({"a": 1, "b": 1, "c": 1}))
    9.0
    """

    def __init__(self, variables: Iterable[Hashable], k: int, name: str = "at_most_k") -> None:
        super().__init__(dict.fromkeys(variables, 1.0), k, name)
        self.k = int(k)

    @property
    def num_slack(self) -> int:
        return 0 if self.k == 1 else super().num_slack

    def penalty_bqm(self, weight: float) -> dimod.BinaryQuadraticModel:
        if self.k != 1 or self.redundant:
            return super().penalty_bqm(weight)
        vs = list(self.coeffs)
        return dimod.BinaryQuadraticModel(
            {}, {(u, v): weight for i, u in enumerate(vs) for v in vs[i + 1:]}, 0.0, dimod.BINARY)


def _log_encoding(upper: int) -> list[int]:
    """Coefficients ``1, 2, 4, …, rest`` whose subset sums are exactly ``0 … upper``.

    >>> _log_encoding(10), _log_encoding(0)
    ([1, 2, 4, 3], [])
    """
    coeffs: list[int] = []
    while sum(coeffs) < upper:
        coeffs.append(min(2 ** len(coeffs), upper - sum(coeffs)))
    return coeffs


def square(terms: Mapping[Hashable, float], constant: float, scale: float) -> dimod.BinaryQuadraticModel:
    """``scale · (Σ terms[v]·x_v + constant)²`` over BINARY variables (``x² = x``), built with numpy."""
    vs = list(terms)
    a = np.fromiter(terms.values(), dtype=np.float64, count=len(vs))
    i, j = np.triu_indices(len(vs), 1)
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        scale * (a**2 + 2 * constant * a), (i, j, 2 * scale * a[i] * a[j]), scale * constant**2,
        dimod.BINARY, variable_order=vs)
