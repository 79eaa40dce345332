"""Gset max-cut graphs (Helmberg & Rendl's ``rudy`` output).

::

    <n> <m>
    i j w           (m lines: an undirected edge, nodes 1..n, weight w)

:func:`parse` returns the max-cut model as a SPIN BQM over the file's node numbers ``1 .. n`` whose energy is
``−cut`` (``½ Σ w_ij s_i s_j − ½ Σ w``: the cut of a sample is ``−energy``). Every line is checked (range,
self-loops, repeated edges, the edge count of the header); an error names its line number.

Example:
    >>> bqm = parse("3 2\\n1 2 1\\n2 3 1\\n")
    >>> float(bqm.energy({1: 1, 2: -1, 3: 1}))     # both edges cut
    -2.0
    >>> import networkx as nx
    >>> print(format_gset(nx.path_graph(3)), end="")
    3 2
    1 2 1
    2 3 1
"""

from __future__ import annotations

from typing import Any

import dimod

from qiopt.files._fields import exact, real, whole

__all__ = ["format_gset", "parse"]


def parse(text: str, name: str = "<gset>") -> dimod.BinaryQuadraticModel:
    """The max-cut BQM (energy ``−cut``) of a Gset text (``name`` appears in error messages)."""
    lines = [(k, line.split()) for k, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines or len(lines[0][1]) != 2:
        raise ValueError(f"{name}, line {lines[0][0] if lines else 1}: expected the header '<nodes> <edges>'")
    n, m = (whole(f, name, lines[0][0]) for f in lines[0][1])
    if len(lines) - 1 != m:
        raise ValueError(f"{name}: the header announces {m} edges; the file has {len(lines) - 1} edge lines")
    bqm = dimod.BinaryQuadraticModel(dimod.SPIN)
    bqm.add_variables_from((v, 0.0) for v in range(1, n + 1))
    total = 0.0
    for number, fields in lines[1:]:
        if len(fields) != 3:
            raise ValueError(f"{name}, line {number}: expected 'i j weight', got {' '.join(fields)!r}")
        i, j = (whole(f, name, number) for f in fields[:2])
        w = real(fields[2], name, number, "weight")
        if not (1 <= i <= n and 1 <= j <= n):
            raise ValueError(f"{name}, line {number}: node {i if not 1 <= i <= n else j} is outside 1..{n}")
        if i == j:
            raise ValueError(f"{name}, line {number}: self-loop on node {i}")
        if (i, j) in bqm.quadratic:
            raise ValueError(f"{name}, line {number}: edge ({i}, {j}) repeats")
        bqm.add_quadratic(i, j, w / 2)
        total += w
    bqm.offset = -total / 2
    return bqm


def format_gset(graph: Any, weight: str = "weight") -> str:
    """A networkx graph in Gset text: nodes numbered ``1 .. n`` in the graph's node order, edges without
    ``weight`` weighing 1."""
    import networkx as nx

    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.is_multigraph():
        raise TypeError(f"Gset holds an undirected simple networkx Graph, got {type(graph).__name__}")
    number = {v: k for k, v in enumerate(graph.nodes, start=1)}
    edges = [(number[u], number[v], d.get(weight, 1)) for u, v, d in graph.edges(data=True) if u != v]
    lines = [f"{graph.number_of_nodes()} {len(edges)}"]
    lines += [f"{min(i, j)} {max(i, j)} {exact(w)}" for i, j, w in edges]
    return "\n".join(lines) + "\n"
