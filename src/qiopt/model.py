"""The model: every input becomes a :class:`dimod.BinaryQuadraticModel`, every kernel reads one compact form.

:func:`as_bqm` accepts the shapes users hold (a BQM, a QUBO dict, Ising ``(h, J)``, a numpy or scipy sparse
matrix, a networkx graph for max-cut), validates it and returns a BQM that is never the caller's object.
:class:`CompactModel` is the array form every kernel shares: contiguous indices ``0..n-1``, spin-domain linear
biases and a symmetric CSR coupling matrix, built once per solve.

Example:
    >>> from qiopt.model import as_bqm, CompactModel
    >>> bqm = as_bqm({("a", "a"): -1.0, ("a", "b"): 2.0})
    >>> cm = CompactModel.from_bqm(bqm)
    >>> cm.num_variables, cm.labels
    (2, ['a', 'b'])
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

__all__ = ["CompactModel", "as_bqm", "check_bias", "from_ising", "from_matrix", "from_qubo", "maxcut_bqm"]


def check_bias(value: Any, where: str) -> float:
    """Return ``value`` as a finite float, or raise (TypeError / ValueError) naming ``where``.

    >>> check_bias(2, "h['a']")
    2.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.integer | np.floating):
        raise TypeError(f"{where}: bias must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{where}: bias must be finite, got {out!r}; replace NaN/inf with a large finite value")
    return out


def _validate(bqm: dimod.BinaryQuadraticModel, *, allow_empty: bool = False) -> dimod.BinaryQuadraticModel:
    if bqm.num_variables == 0 and not allow_empty:
        raise ValueError("model is empty: it has no variables; give at least one bias")
    ldata, (_, _, qdata), offset = bqm.to_numpy_vectors()
    for name, arr in (("linear", ldata), ("quadratic", qdata)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"model has a non-finite {name} bias ({arr[bad][0]!r}); all biases must be finite")
    if not np.isfinite(offset):
        raise ValueError(f"model offset must be finite, got {offset!r}")
    return bqm


def from_qubo(Q: Mapping[tuple[Any, Any], Any], offset: float = 0.0) -> dimod.BinaryQuadraticModel:
    """Build a BINARY model from a QUBO dict ``{(u, v): bias}``; ``(u, u)`` keys are linear biases.

    >>> float(from_qubo({(0, 0): -1, (0, 1): 2}).energy({0: 1, 1: 0}))
    -1.0
    """
    if not isinstance(Q, Mapping):
        raise TypeError(f"Q must be a dict {{(u, v): bias}}, got {type(Q).__name__}")
    bqm = dimod.BinaryQuadraticModel(vartype=dimod.BINARY)
    for key, bias in Q.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"QUBO key {key!r} must be a pair (u, v)")
        u, v = key
        b = check_bias(bias, f"Q[{key!r}]")
        if u == v:
            bqm.add_linear(u, b)
        else:
            bqm.add_quadratic(u, v, b)
    bqm.offset = check_bias(offset, "offset")
    return _validate(bqm)


def from_ising(h: Mapping[Any, Any] | Any, J: Mapping[tuple[Any, Any], Any], offset: float = 0.0
               ) -> dimod.BinaryQuadraticModel:
    """Build a SPIN model from Ising biases ``h`` (dict or sequence) and couplings ``J {(u, v): bias}``.

    >>> float(from_ising({"a": 1.0}, {("a", "b"): -1.0}).energy({"a": -1, "b": -1}))
    -2.0
    """
    if not isinstance(h, Mapping):
        if isinstance(h, str) or not hasattr(h, "__len__"):
            raise TypeError(f"h must be a dict {{v: bias}} or a sequence of biases, got {type(h).__name__}")
        h = dict(enumerate(h))
    if not isinstance(J, Mapping):
        raise TypeError(f"J must be a dict {{(u, v): bias}}, got {type(J).__name__}")
    bqm = dimod.BinaryQuadraticModel(vartype=dimod.SPIN)
    for v, bias in h.items():
        bqm.add_linear(v, check_bias(bias, f"h[{v!r}]"))
    for key, bias in J.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"J key {key!r} must be a pair (u, v)")
        u, v = key
        if u == v:
            raise ValueError(f"J[{key!r}] couples a spin to itself; s*s == 1, so add it to the offset instead")
        bqm.add_quadratic(u, v, check_bias(bias, f"J[{key!r}]"))
    bqm.offset = check_bias(offset, "offset")
    return _validate(bqm)


def from_matrix(Q: Any, vartype: dimod.typing.VartypeLike = "BINARY", offset: float = 0.0
                ) -> dimod.BinaryQuadraticModel:
    """Build a model from a square numpy array or scipy sparse matrix.

    The diagonal holds linear biases; ``Q[i, j]`` and ``Q[j, i]`` are summed into the coupling of ``i`` and ``j``
    (so an upper-triangular or a symmetric matrix both work as written). Variables are ``0..n-1``.

    >>> import numpy as np
    >>> float(from_matrix(np.array([[-1.0, 2.0], [0.0, -1.0]])).energy([1, 1]))
    0.0
    """
    vt = dimod.as_vartype(vartype)
    if sp.issparse(Q):
        M = sp.coo_matrix(Q)
        shape = M.shape
        rows, cols, vals = M.row, M.col, M.data
    else:
        arr = np.asarray(Q)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_:
            raise TypeError(f"matrix must hold real numbers, got dtype {arr.dtype}")
        if np.iscomplexobj(arr):
            raise TypeError("matrix must be real, got complex values")
        shape = arr.shape
        if arr.ndim != 2:
            raise ValueError(f"matrix must be 2-D and square, got shape {shape}")
        rows, cols = np.nonzero(arr)
        vals = arr[rows, cols]
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"matrix must be square, got shape {shape}")
    if np.iscomplexobj(vals):
        raise TypeError("matrix must be real, got complex values")
    vals = np.asarray(vals, dtype=np.float64)
    if not np.isfinite(vals).all():
        raise ValueError("matrix has NaN or infinite entries; all entries must be finite")
    n = shape[0]
    diag = rows == cols
    linear = np.zeros(n)
    np.add.at(linear, rows[diag], vals[diag])
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
        linear, (rows[~diag], cols[~diag], vals[~diag]), check_bias(offset, "offset"), vt)
    return _validate(bqm)


def maxcut_bqm(graph: Any, weight: str = "weight") -> dimod.BinaryQuadraticModel:
    """Weighted max-cut of a networkx graph as an Ising model: minimise ``sum w_uv s_u s_v``.

    The cut of a sample is ``(sum(w) - energy) / 2``. Edges without ``weight`` count 1.

    >>> import networkx as nx
    >>> float(maxcut_bqm(nx.cycle_graph(4)).energy({0: 1, 1: -1, 2: 1, 3: -1}))
    -4.0
    """
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx Graph, got {type(graph).__name__}")
    if graph.is_directed() or graph.is_multigraph():
        raise TypeError("graph must be an undirected simple nx.Graph; convert with nx.Graph(g.to_undirected())")
    bqm = dimod.BinaryQuadraticModel(vartype=dimod.SPIN)
    bqm.add_variables_from((v, 0.0) for v in graph.nodes)
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue  # a self-loop is never cut
        bqm.add_quadratic(u, v, check_bias(data.get(weight, 1.0), f"edge ({u!r}, {v!r}) {weight}"))
    return _validate(bqm)


def as_bqm(model: Any) -> dimod.BinaryQuadraticModel:
    """Return a validated copy of ``model`` as a :class:`dimod.BinaryQuadraticModel`.

    Accepted: a BQM; a QUBO dict ``{(u, v): bias}``; a pair ``(h, J)`` of Ising biases; a square numpy array or
    scipy sparse matrix (QUBO); a networkx graph (weighted max-cut). The caller's object is never mutated.

    >>> as_bqm({(0, 1): 1.0}).vartype is dimod.BINARY
    True
    """
    import networkx as nx

    if isinstance(model, dimod.BinaryQuadraticModel):
        return _validate(model.copy())
    if isinstance(model, dimod.QuadraticModel | dimod.ConstrainedQuadraticModel):
        raise TypeError(f"{type(model).__name__} is not a BQM; pass a ConstrainedQuadraticModel to qiopt.solve "
                        "(the engine solves it) or export it with qiopt.constrained.ConstrainedModel.from_cqm"
                        "(cqm).to_bqm()")
    if isinstance(model, nx.Graph):
        return maxcut_bqm(model)
    if isinstance(model, Mapping):
        return from_qubo(model)
    if isinstance(model, tuple) and len(model) == 2:
        return from_ising(*model)
    if sp.issparse(model) or isinstance(model, np.ndarray):
        return from_matrix(model)
    raise TypeError(
        f"cannot make a model from {type(model).__name__}; pass a dimod.BinaryQuadraticModel, a QUBO dict "
        "{(u, v): bias}, an Ising pair (h, J), a square numpy/scipy matrix, a networkx graph, or a qiopt Problem")


@dataclass(frozen=True, eq=False)
class CompactModel:
    """Array form of a BQM shared by every kernel, in the SPIN domain.

    ``E(s) = offset + sum_i h[i] s[i] + sum_{i<j} J_ij s[i] s[j]`` with ``s in {-1, +1}``. The coupling matrix is
    stored symmetric in CSR (``indptr``, ``indices``, ``data``): row ``i`` lists every neighbour of ``i``, so each
    coupling appears twice. ``labels[k]`` is the BQM label of index ``k``; ``vartype`` is the source model's.
    Binary samples map to spins by ``s = 2x - 1``.

    Future factored terms (one-hot groups, squared loads) will sit beside the CSR part, not inside it.
    """

    labels: list[Any]
    vartype: dimod.Vartype
    h: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    offset: float

    @classmethod
    def from_bqm(cls, bqm: dimod.BinaryQuadraticModel) -> CompactModel:
        """Build the compact form once; labels keep the BQM's variable order."""
        labels = list(bqm.variables)
        spin = bqm if bqm.vartype is dimod.SPIN else bqm.change_vartype(dimod.SPIN, inplace=False)
        h, (irow, icol, qdata), offset = spin.to_numpy_vectors(variable_order=labels)
        n = len(labels)
        rows = np.concatenate([irow, icol])
        cols = np.concatenate([icol, irow])
        vals = np.concatenate([qdata, qdata]).astype(np.float64)
        csr = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
        csr.sum_duplicates()
        csr.sort_indices()
        return cls(labels=labels, vartype=bqm.vartype, h=np.ascontiguousarray(h, dtype=np.float64),
                   indptr=csr.indptr.astype(np.int64), indices=csr.indices.astype(np.int32),
                   data=np.ascontiguousarray(csr.data, dtype=np.float64), offset=float(offset))

    @property
    def num_variables(self) -> int:
        return len(self.labels)

    @cached_property
    def rows(self) -> np.ndarray:
        """Row index of each stored coupling (``rows[k]`` pairs with ``indices[k]``, ``data[k]``)."""
        return np.repeat(np.arange(self.num_variables, dtype=np.int32), np.diff(self.indptr))

    @cached_property
    def couplings(self) -> sp.csr_matrix:
        """The symmetric coupling matrix as a scipy CSR matrix (shares the arrays)."""
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.num_variables,) * 2)

    def dense_couplings(self) -> np.ndarray:
        """The symmetric coupling matrix as a dense ``(n, n)`` float64 array (for small models)."""
        return self.couplings.toarray()

    def energies(self, spins: np.ndarray) -> np.ndarray:
        """Spin-domain energies of a ``(num_samples, n)`` array of ±1 values (float64, exact in the model)."""
        s = np.asarray(spins, dtype=np.float64)
        return self.offset + s @ self.h + 0.5 * np.einsum("ij,ij->i", s, (self.couplings @ s.T).T)

    def to_vartype(self, spins: np.ndarray) -> np.ndarray:
        """Map a ±1 array to the source model's vartype (``{0, 1}`` for BINARY), as int8."""
        spins = np.asarray(spins, dtype=np.int8)
        return spins if self.vartype is dimod.SPIN else ((spins + 1) // 2).astype(np.int8)

    def from_vartype(self, values: np.ndarray) -> np.ndarray:
        """Map samples in the source vartype to ±1 int8 (inverse of :meth:`to_vartype`)."""
        values = np.asarray(values, dtype=np.int8)
        return values if self.vartype is dimod.SPIN else (2 * values - 1).astype(np.int8)
