"""The structured constrained model: the working form of the allocation engine.

A :class:`ConstrainedModel` keeps the structure a penalised QUBO throws away:

* ``N`` binary variables ``x_v`` and a sparse quadratic objective
  ``offset + Σ_v c_v x_v + Σ_{u<v} Q_uv x_u x_v``;
* **one-hot groups**: each group (an item) takes exactly one of its variables (its candidate bins), like
  dimod's discrete constraints. A variable is in at most one group; variables in no group are *free*;
* **linear constraints** ``lower_r ≤ Σ_v A_rv x_v ≤ upper_r`` with any per-(item, bin) weights (capacities,
  ``≤``, ``=``, ``≥``);
* **squared terms** ``w_s (Σ_v B_sv x_v − b_s)²`` (squared loads), kept factored: never expanded into the
  ``(row size)²`` couplings a QUBO needs.

Memory is O(variables + nonzeros). :meth:`ConstrainedModel.energy` is the objective (squared terms included,
no penalties); a state is feasible when every group has exactly one variable set and every linear constraint
holds. Optional ``bins`` give each grouped variable its bin, so the annealer can *swap* two items' bins.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> cm = ConstrainedModel(4, linear=[1.0, 2.0, 3.0, 1.0], groups=[[0, 1], [2, 3]], bins=[0, 1, 0, 1],
    ...                       constraints=sp.csr_matrix([[2.0, 0, 1.0, 0]]), upper=[2.0])
    >>> x = np.array([1, 0, 0, 1]); float(cm.energy(x)), bool(cm.is_feasible(x))
    (2.0, True)
    >>> bool(cm.is_feasible(np.array([1, 0, 1, 0])))   # both on bin 0: 2 + 1 > 2
    False
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["ConstrainedModel"]

ArrayLike = Any


class ConstrainedModel:
    """One-hot groups, linear constraints and factored squared terms over binary variables (see module).

    Args:
        num_variables: ``N``.
        linear: objective coefficients ``c`` (length ``N``; default zeros).
        quadratic: ``(rows, cols, values)`` of objective couplings ``Q_uv`` (``u ≠ v``; repeats add up).
        offset: constant of the objective.
        groups: the one-hot groups, a list of variable-index lists, or a CSR pair ``(indptr, indices)``.
        bins: bin of every variable (``-1`` for none): enables swap moves between groups.
        constraints: sparse ``A`` (``R × N``) of the linear constraints, with ``lower`` / ``upper`` bounds
            (``-inf`` / ``inf`` for a missing side; default ``upper`` = 0, ``lower`` = ``-inf``).
        squares: sparse ``B`` (``S × N``), with ``targets`` ``b`` (default 0) and ``weights`` ``w`` (default 1).
        labels: a label per variable (default ``0..N-1``), or a callable ``v -> label`` for huge models.
        constraint_names: a name per linear constraint (default ``"c0"``, ``"c1"``, ...).

    Bad input raises ``ValueError``/``TypeError`` naming the argument; nothing given is mutated.
    """

    def __init__(self, num_variables: int, *, linear: ArrayLike | None = None,
                 quadratic: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None, offset: float = 0.0,
                 groups: Sequence[Sequence[int]] | tuple[ArrayLike, ArrayLike] | None = None,
                 bins: ArrayLike | None = None, constraints: Any = None, lower: ArrayLike | None = None,
                 upper: ArrayLike | None = None, squares: Any = None, targets: ArrayLike | None = None,
                 weights: ArrayLike | None = None, labels: Sequence[Hashable] | Callable[[int], Hashable] | None = None,
                 constraint_names: Sequence[str] | None = None) -> None:
        if isinstance(num_variables, bool) or not isinstance(num_variables, int | np.integer) or num_variables < 1:
            raise ValueError(f"num_variables must be a positive integer, got {num_variables!r}")
        n = self.num_variables = int(num_variables)
        self.linear = _vector(linear, n, "linear", 0.0)
        self.offset = _finite(np.float64(offset), "offset").item()
        self.quadratic = _symmetric(quadratic, n)
        """The objective couplings as a symmetric CSR matrix (each pair stored twice, halves summed)."""
        self.group_ptr, self.group_vars = _groups(groups, n)
        self.group_of = np.full(n, -1, dtype=np.int32)
        self.group_of[self.group_vars] = np.repeat(np.arange(self.num_groups, dtype=np.int32),
                                                   np.diff(self.group_ptr))
        """Group of each variable, ``-1`` for free variables."""
        self.bins = None if bins is None else _index_vector(bins, n, "bins")
        self.A = _matrix(constraints, n, "constraints")
        r = self.A.shape[0]
        self.lower = _vector(lower, r, "lower", -np.inf, allow_inf=True)
        self.upper = _vector(upper, r, "upper", 0.0 if lower is None else np.inf, allow_inf=True)
        if (self.lower > self.upper).any():
            k = int(np.flatnonzero(self.lower > self.upper)[0])
            raise ValueError(f"constraint {k}: lower {self.lower[k]:g} > upper {self.upper[k]:g}; swap the bounds")
        empty = np.flatnonzero(np.diff(self.A.indptr) == 0)
        self.constraint_names = _names(constraint_names, r)
        if len(empty):
            raise ValueError(f"constraint {self.constraint_names[empty[0]]!r} has no variables; drop it or give "
                             "it coefficients")
        self.B = _matrix(squares, n, "squares")
        s = self.B.shape[0]
        self.targets = _vector(targets, s, "targets", 0.0)
        self.weights = _vector(weights, s, "weights", 1.0)
        self._labels = labels

    # -- shape -----------------------------------------------------------------------------------------------
    @property
    def num_groups(self) -> int:
        return len(self.group_ptr) - 1

    @property
    def num_constraints(self) -> int:
        return self.A.shape[0]

    @property
    def num_squares(self) -> int:
        return self.B.shape[0]

    @cached_property
    def free(self) -> np.ndarray:
        """Indices of the variables in no group (annealed by single flips)."""
        return np.flatnonzero(self.group_of < 0).astype(np.int32)

    @cached_property
    def labels(self) -> list[Hashable]:
        """The label of every variable (built on first use when a callable was given)."""
        if self._labels is None:
            return list(range(self.num_variables))
        if callable(self._labels):
            return [self._labels(v) for v in range(self.num_variables)]
        if len(self._labels) != self.num_variables:
            raise ValueError(f"labels has {len(self._labels)} entries for {self.num_variables} variables")
        return list(self._labels)

    @property
    def sample_labels(self) -> Sequence[Hashable]:
        """The labels of sample sets: :attr:`labels` when given as a sequence, else ``range(N)`` (a model
        labelled by a callable, e.g. a problem's, is sampled over variable indices: :meth:`label` names them)."""
        return range(self.num_variables) if self._labels is None or callable(self._labels) else self.labels

    def label(self, v: int) -> Hashable:
        """The label of variable ``v`` (without building every label of a callable-labelled model)."""
        if callable(self._labels) and "labels" not in self.__dict__:
            return self._labels(int(v))
        return self.labels[int(v)]

    def nbytes(self) -> int:
        """Bytes held by the model's arrays (labels excluded)."""
        arrays = [self.linear, self.group_ptr, self.group_vars, self.group_of, self.lower, self.upper,
                  self.targets, self.weights, *(m.data for m in (self.quadratic, self.A, self.B)),
                  *(m.indices for m in (self.quadratic, self.A, self.B)),
                  *(m.indptr for m in (self.quadratic, self.A, self.B))]
        return int(sum(a.nbytes for a in arrays) + (0 if self.bins is None else self.bins.nbytes))

    # -- conversions -----------------------------------------------------------------------------------------
    @classmethod
    def from_cqm(cls, cqm: Any) -> ConstrainedModel:
        """The structured form of a dimod CQM of binary variables (see :func:`qiopt.constrained.cqm.from_cqm`)."""
        from qiopt.constrained.cqm import from_cqm

        return from_cqm(cqm)[0]

    def to_cqm(self) -> Any:
        """A dimod ``ConstrainedQuadraticModel`` (see :func:`qiopt.constrained.cqm.to_cqm`)."""
        from qiopt.constrained.cqm import to_cqm

        return to_cqm(self)

    def to_bqm(self, weight: float | None = None, upper: float | None = None, max_bytes: float = 2**31) -> Any:
        """The penalised dimod BQM with sound penalties (see :func:`qiopt.constrained.export.to_bqm`)."""
        from qiopt.constrained.export import to_bqm

        return to_bqm(self, weight, upper, max_bytes)

    # -- states ----------------------------------------------------------------------------------------------
    def state(self, choice: ArrayLike, free_values: ArrayLike | None = None) -> np.ndarray:
        """The 0/1 vector of one chosen variable per group (``choice[g]``) plus the free variables' values.

        >>> ConstrainedModel(3, groups=[[0, 1]]).state([1], [1]).tolist()
        [0, 1, 1]
        """
        choice = np.asarray(choice, dtype=np.int64)
        if choice.shape != (self.num_groups,) or (self.group_of[choice] != np.arange(self.num_groups)).any():
            raise ValueError("choice must give, for every group, one variable of that group")
        x = np.zeros(self.num_variables, dtype=np.int8)
        x[choice] = 1
        if free_values is not None:
            x[self.free] = np.asarray(free_values, dtype=np.int8)
        return x

    def energy(self, x: ArrayLike) -> np.ndarray | float:
        """The objective of one state ``(N,)`` or of each row of ``(k, N)`` (no penalties).

        >>> ConstrainedModel(2, linear=[1, 1], squares=sp.csr_matrix([[1.0, 1.0]]), targets=[1]).energy([1, 1])
        3.0
        """
        X = np.atleast_2d(np.asarray(x, dtype=np.float64))
        e = self.offset + X @ self.linear
        if self.quadratic.nnz:
            e = e + 0.5 * np.einsum("ij,ij->i", X, (self.quadratic @ X.T).T)
        if self.num_squares:
            e += ((self.B @ X.T - self.targets[:, None]) ** 2 * self.weights[:, None]).sum(axis=0)
        return float(e[0]) if np.ndim(x) == 1 else e

    def lhs(self, x: ArrayLike) -> np.ndarray:
        """``A x`` of one state (or ``(k, R)`` for ``k`` states)."""
        X = np.atleast_2d(np.asarray(x, dtype=np.float64))
        out = (self.A @ X.T).T
        return out[0] if np.ndim(x) == 1 else out

    def violations(self, x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(group, constraint)`` violations of one state: ``|Σ_g x − 1|`` per group and the distance of
        ``A x`` to ``[lower, upper]`` per constraint (zeros when feasible)."""
        x = np.asarray(x, dtype=np.float64)
        group = np.abs(np.add.reduceat(x[self.group_vars], self.group_ptr[:-1]) - 1.0) if self.num_groups \
            else np.zeros(0)
        a = self.lhs(x)
        return group, np.maximum(a - self.upper, 0.0) + np.maximum(self.lower - a, 0.0)

    def tolerance(self) -> np.ndarray:
        """Per-constraint slack accepted as satisfied: 1e-9 of the row's scale (float round-off)."""
        if "_tolerance" not in self.__dict__:  # computed once: the rows do not change
            scale = np.maximum(np.abs(self.A).max(axis=1).toarray().ravel() if self.num_constraints else
                               np.zeros(0), 1.0)
            self.__dict__["_tolerance"] = 1e-9 * scale * np.maximum(np.diff(self.A.indptr), 1)
        return self.__dict__["_tolerance"].copy()

    def is_feasible(self, x: ArrayLike) -> bool:
        """Every group has exactly one variable set and every constraint holds (within :meth:`tolerance`)."""
        group, cons = self.violations(x)
        return bool((group == 0).all() and (cons <= self.tolerance()).all())

    def feasible_rows(self, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """For states ``(k, N)``: ``is_feasible`` per row, and ``is_satisfied`` per row and linear constraint."""
        X = np.atleast_2d(np.asarray(X))
        a = self.lhs(X)
        sat = (np.maximum(a - self.upper, 0.0) + np.maximum(self.lower - a, 0.0)) <= self.tolerance()
        ones = np.add.reduceat(X[:, self.group_vars], self.group_ptr[:-1], axis=1, dtype=np.float64) \
            if self.num_groups else np.ones((len(X), 0))
        return sat.all(axis=1) & (ones == 1).all(axis=1), sat


# -- checks ----------------------------------------------------------------------------------------------------

def _finite(values: np.ndarray, name: str, allow_inf: bool = False) -> np.ndarray:
    bad = np.isnan(values) if allow_inf else ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{name} must be finite, found {values[bad].ravel()[0]!r}")
    return values


def _vector(values: ArrayLike | None, n: int, name: str, default: float, allow_inf: bool = False) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    try:
        out = np.array(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real numbers") from None
    if out.shape != (n,):
        raise ValueError(f"{name} must have {n} entries, got {out.size}")
    return _finite(out, name, allow_inf)


def _index_vector(values: ArrayLike, n: int, name: str) -> np.ndarray:
    out = np.array(values).ravel()
    if out.shape != (n,) or not np.issubdtype(out.dtype, np.integer):
        raise ValueError(f"{name} must be {n} integers")
    return out.astype(np.int32)


def _matrix(m: Any, n: int, name: str) -> sp.csr_matrix:
    if m is None:
        return sp.csr_matrix((0, n))
    try:
        out = sp.csr_matrix(m, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a matrix (numpy array or scipy sparse) with {n} columns") from None
    if out.shape[1] != n:
        raise ValueError(f"{name} must have {n} columns (one per variable), got {out.shape[1]}")
    out.sum_duplicates()
    out.eliminate_zeros()
    _finite(out.data, name)
    return out


def _symmetric(quadratic: tuple[ArrayLike, ArrayLike, ArrayLike] | None, n: int) -> sp.csr_matrix:
    if quadratic is None:
        return sp.csr_matrix((n, n))
    try:
        rows, cols, vals = (np.asarray(a).ravel() for a in quadratic)
    except (TypeError, ValueError):
        raise TypeError("quadratic must be a triple (rows, cols, values) of equal-length arrays") from None
    if not (len(rows) == len(cols) == len(vals)):
        raise ValueError("quadratic must be a triple (rows, cols, values) of equal-length arrays")
    vals = _finite(vals.astype(np.float64), "quadratic")
    if len(rows) and (min(rows.min(), cols.min()) < 0 or max(rows.max(), cols.max()) >= n):
        raise ValueError(f"quadratic indices must be in 0..{n - 1}")
    if (rows == cols).any():
        raise ValueError("quadratic couples a variable with itself; x*x == x, so add it to linear instead")
    q = sp.csr_matrix((np.r_[vals, vals], (np.r_[rows, cols], np.r_[cols, rows])), shape=(n, n))
    q.sum_duplicates()
    q.eliminate_zeros()
    q.sort_indices()
    return q


def _groups(groups: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    if groups is None:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    if isinstance(groups, tuple) and len(groups) == 2 and np.ndim(groups[0]) == 1 and np.ndim(groups[1]) == 1:
        ptr, members = np.asarray(groups[0], dtype=np.int64), np.asarray(groups[1], dtype=np.int64)
    else:
        lists = [np.asarray(g, dtype=np.int64).ravel() for g in groups]
        ptr = np.r_[0, np.cumsum([len(g) for g in lists])].astype(np.int64)
        members = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    if len(ptr) < 1 or ptr[0] != 0 or ptr[-1] != len(members) or (np.diff(ptr) < 0).any():
        raise ValueError("groups CSR pair (indptr, indices) is inconsistent")
    if (np.diff(ptr) == 0).any():
        raise ValueError(f"group {int(np.flatnonzero(np.diff(ptr) == 0)[0])} has no variables; every one-hot "
                         "group needs at least one candidate")
    if len(members) and (members.min() < 0 or members.max() >= n):
        raise ValueError(f"group members must be variable indices in 0..{n - 1}")
    if len(members) and np.bincount(members, minlength=n).max() > 1:  # O(n), no sort
        raise ValueError("a variable is in two one-hot groups (or twice in one); groups must be disjoint")
    return ptr, members.astype(np.int32)


def _names(names: Sequence[str] | None, r: int) -> list[str]:
    if names is None:
        return [f"c{k}" for k in range(r)]
    if len(names) != r:
        raise ValueError(f"constraint_names must have {r} entries, got {len(names)}")
    return [str(s) for s in names]
