"""Graph problems from networkx: weighted max-cut, balanced k-way partitioning and affinity clustering.

All three are items → bins problems on the graph's nodes (:class:`~qiopt.problems.assignment.AssignmentProblem`),
so they share decoding, scoring and repair. Edges without ``weight`` count 1.

* :class:`MaxCut`: variables ``("x", node)`` (1 = side 1), no constraints; objective ``−cut``.
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
from typing import Any

import dimod
import networkx as nx
import numpy as np

from qiopt.problems._search import AssignmentArrays
from qiopt.problems.assignment import AssignmentProblem
from qiopt.problems.base import Solution

__all__ = ["AffinityClustering", "GraphPartitioning", "MaxCut"]


def _arrays(graph: nx.Graph, k: int, max_size: float, weight: str, sign: float) -> AssignmentArrays:
    if not isinstance(graph, nx.Graph) or graph.is_directed():
        raise TypeError(f"graph must be an undirected networkx.Graph, got {type(graph).__name__}")
    if graph.number_of_nodes() == 0:
        raise ValueError("graph has no nodes")
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ValueError(f"k must be an int ≥ 2, got {k!r}")
    if k * max_size < graph.number_of_nodes():
        raise ValueError(f"max_size {max_size} × k {k} < {graph.number_of_nodes()} nodes; raise max_size or k")
    W = nx.to_scipy_sparse_array(graph, weight=weight, format="csr", dtype=float)
    W.setdiag(0)
    W.eliminate_zeros()
    n = graph.number_of_nodes()
    return AssignmentArrays(np.zeros((n, k)), np.ones(n), np.full(k, float(max_size)), sign * W)


class AffinityClustering(AssignmentProblem):
    """Nodes into ``k`` groups of at most ``max_size``, maximising the edge weight inside groups."""

    item_kind, bin_kind = "node", "group"

    def __init__(self, graph: nx.Graph, k: int, max_size: int | None = None, weight: str = "weight",
                 penalty: float | dict[str, float] | None = None) -> None:
        size = math.ceil(graph.number_of_nodes() / k) if max_size is None else max_size
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
    """Weighted max-cut; model variables ``("x", node)`` without one-hot encoding."""

    item_kind, bin_kind = "node", "side"

    def __init__(self, graph: nx.Graph, weight: str = "weight") -> None:
        arrays = _arrays(graph, 2, math.inf, weight, -1.0)
        super().__init__(list(graph.nodes), [0, 1], arrays)
        self.offset = float(arrays.affinity.sum() / 2)   # objective = intra weight − total = −cut
        self.penalties = {}

    def to_bqm(self) -> dimod.BinaryQuadraticModel:
        """``Σ w_uv (2 x_u x_v − x_u − x_v)`` = ``−cut``."""
        bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
        bqm.add_variables_from((("x", t), 0.0) for t in self.items)
        coo = self.arrays.affinity.tocoo()
        for i, j, w in zip(coo.row, coo.col, -coo.data, strict=True):
            if i < j:
                u, v = ("x", self.items[i]), ("x", self.items[j])
                bqm.add_linear_from({u: -w, v: -w})
                bqm.add_quadratic(u, v, 2 * w)
        return bqm

    def decode(self, sample: Any) -> Solution:
        """Side of each node."""
        return self._solution(np.array([int(sample[("x", t)]) for t in self.items]))

    def _details(self, a: np.ndarray) -> dict[str, Any]:
        return {"cut": -float(self.offset + self.arrays.objective(a))}
