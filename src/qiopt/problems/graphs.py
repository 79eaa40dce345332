"""Graph problems from networkx: weighted max-cut, balanced k-way partitioning and affinity clustering.

All three are items → bins problems on the graph's nodes (:class:`~qiopt.problems.assignment.AssignmentProblem`),
so they share decoding, scoring and repair. Edges without ``weight`` count 1. Every builder checks its graph as
:func:`qiopt.model.maxcut_bqm` does: an undirected simple ``networkx.Graph`` (convert others with
``nx.Graph(g.to_undirected())``) with real, finite weights and at least one node.

* :class:`MaxCut`: :func:`qiopt.model.maxcut_bqm` in BINARY form over ``("x", node)`` (1 = side 1), no
  constraints; objective and energy ``−cut``.
* :class:`GraphPartitioning`: ``k`` parts of at most ``ceil(n / k)`` nodes; objective = weight of cut edges.
* :class:`AffinityClustering`: ``k`` groups of at most ``max_size`` nodes (default ``ceil(n / k)``); objective
  ``−`` total weight inside groups (agents that interact most end up together).

Example:
    >>> import networkx as nx, qiopt
    >>> qiopt.solve(MaxCut(nx.cycle_graph(4)), backend="exact").solution.details["cut"]
    4.0
    >>> p = GraphPartitioning(nx.barbell_graph(3, 0), 2)
    >>> qiopt.solve(p, backend="exact").solution.objective
    1.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import dimod
import networkx as nx
import numpy as np

from qiopt.constraints import Constraint
from qiopt.model import maxcut_bqm
from qiopt.problems._data import number
from qiopt.problems._search import AssignmentArrays
from qiopt.problems.assignment import AssignmentProblem
from qiopt.problems.base import Solution

__all__ = ["AffinityClustering", "GraphPartitioning", "MaxCut"]


def _check_graph(graph: Any, weight: str) -> dimod.BinaryQuadraticModel:
    """Validate ``graph`` exactly as :func:`qiopt.model.maxcut_bqm` does (an undirected simple ``nx.Graph`` with
    finite real weights) and return that Ising model; an empty graph is refused first."""
    if isinstance(graph, nx.Graph) and graph.number_of_nodes() == 0:
        raise ValueError("graph has no nodes; give a graph with at least one node")
    return maxcut_bqm(graph, weight)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an int ≥ 2 (the number of groups), got {type(k).__name__} {k!r}")
    if k < 2:
        raise ValueError(f"k must be an int ≥ 2 (the number of groups), got {k!r}; pass k=2 or more")
    return int(k)


def _arrays(graph: nx.Graph, k: int, size: float, weight: str, sign: float) -> AssignmentArrays:
    """The arrays of an already validated graph: ``k`` bins of capacity ``size``, affinity ``sign × weights``."""
    n = graph.number_of_nodes()
    if k * size < n:
        raise ValueError(f"max_size {size:g} × k {k} < {n} nodes; raise max_size or k")
    W = nx.to_scipy_sparse_array(graph, weight=weight, format="csr", dtype=float)
    W.setdiag(0)
    W.eliminate_zeros()
    return AssignmentArrays(np.zeros((n, k)), np.ones(n), np.full(k, float(size)), sign * W)


class AffinityClustering(AssignmentProblem):
    """Nodes into ``k`` groups of at most ``max_size``, maximising the edge weight inside groups."""

    item_kind, bin_kind = "node", "group"

    def __init__(self, graph: nx.Graph, k: int, max_size: int | None = None, weight: str = "weight",
                 penalty: float | dict[str, float] | None = None) -> None:
        _check_graph(graph, weight)
        k = _check_k(k)
        size = math.ceil(graph.number_of_nodes() / k) if max_size is None else number(max_size, "max_size",
                                                                                        positive=True)
        super().__init__(list(graph.nodes), list(range(k)), _arrays(graph, k, size, weight, 1.0), penalty)

    def _details(self, a: np.ndarray) -> dict[str, Any]:
        groups = [[t for t, b in zip(self.items, a, strict=True) if b == k] for k in range(self.arrays.m)]
        return {**super()._details(a), "groups": groups}


class GraphPartitioning(AffinityClustering):
    """Balanced ``k``-way partitioning minimising the weight of cut edges (parts of at most ``ceil(n/k)``)."""

    def __init__(self, graph: nx.Graph, k: int, weight: str = "weight",
                 penalty: float | dict[str, float] | None = None) -> None:
        super().__init__(graph, k, None, weight, penalty)
        self.offset = float(self.arrays.affinity.sum() / 2)


class MaxCut(AssignmentProblem):
    """Weighted max-cut, built on :func:`qiopt.model.maxcut_bqm` (same graph checks).

    The model is that Ising model in BINARY form over ``("x", node)`` (1 = side 1, i.e. spin +1), scaled so its
    energy is ``−cut``: no one-hot encoding, no constraints, no penalties. :attr:`labels`, :attr:`constraints`,
    :attr:`penalties` and :attr:`objective_bqm` describe exactly that model. Scoring and repair use the shared
    two-bin arrays (bins ``0`` and ``1``, the sides).
    """

    item_kind, bin_kind = "node", "side"

    def __init__(self, graph: nx.Graph, weight: str = "weight") -> None:
        spin = _check_graph(graph, weight)
        arrays = _arrays(graph, 2, math.inf, weight, -1.0)
        super().__init__(list(graph.nodes), [0, 1], arrays)
        total = float(sum(spin.quadratic.values()))
        self.offset = -total   # objective = weight inside sides − total = −cut
        self.labels = [("x", t) for t in self.items]
        """Model variables ``("x", node)``, in model order."""
        spin.relabel_variables({t: ("x", t) for t in self.items})
        self._maxcut = spin.change_vartype(dimod.BINARY, inplace=False)
        self._maxcut.scale(0.5)   # Σ w s_u s_v = total − 2·cut  →  ½(…) − ½·total = −cut
        self._maxcut.offset -= total / 2

    @cached_property
    def objective_bqm(self) -> dimod.BinaryQuadraticModel:
        """``maxcut_bqm(graph)`` as BINARY over ``("x", node)``, energy ``−cut`` (the whole model)."""
        return self._maxcut

    @cached_property
    def constraints(self) -> list[Constraint]:
        """None: every sample is a feasible cut."""
        return []

    @cached_property
    def penalties(self) -> dict[str, float]:
        """None (there are no constraints)."""
        return {}

    def to_constrained(self) -> None:
        """None: a max-cut is a plain BQM, solved by the BQM kernels."""
        return None

    def decode(self, sample: Mapping[Any, int]) -> Solution:
        """Side of each node (``sample[("x", node)]``)."""
        try:
            sides = np.array([int(sample[v]) for v in self.labels])
        except KeyError as exc:
            raise ValueError(f"sample has no value for model variable {exc.args[0]!r}") from None
        sol = self._solution(sides)
        sol.details["penalties"] = {}
        return sol

    def _details(self, a: np.ndarray) -> dict[str, Any]:
        return {"cut": -float(self.offset + self.arrays.objective(a))}
