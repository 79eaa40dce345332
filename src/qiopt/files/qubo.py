"""qbsolv's ``.qubo`` text format.

::

    c a comment line (anywhere)
    p qubo 0 <maxNodes> <nNodes> <nCouplers>
    i i Q_ii        (nNodes lines: the diagonal)
    i j Q_ij        (nCouplers lines, i < j: the couplers)

Variables are ``0 .. maxNodes − 1``; the model is the BINARY QUBO ``Σ Q_ii x_i + Σ_{i<j} Q_ij x_i x_j``, to be
minimised as qbsolv does (OR-Library's BQP files, written in this format, are *maximisation* problems: negate
the model for them). The format has no offset: :func:`format_qubo` writes one as a comment
``c offset: <value>``, which :func:`parse` reads back (qbsolv ignores it). Every line is checked; an error
names its line number, and nothing is returned from a file that has one.

Example:
    >>> bqm = parse("c tiny\\np qubo 0 2 2 1\\n0 0 -1\\n1 1 -1\\n0 1 2\\n")
    >>> float(bqm.energy({0: 1, 1: 0})), bqm.vartype.name
    (-1.0, 'BINARY')
    >>> print(format_qubo(bqm), end="")
    p qubo 0 2 2 1
    0 0 -1
    1 1 -1
    0 1 2
"""

from __future__ import annotations

import dimod
import numpy as np

from qiopt.files._fields import exact, real, whole

__all__ = ["format_qubo", "parse"]


def parse(text: str, name: str = "<qubo>") -> dimod.BinaryQuadraticModel:
    """The BQM of a ``.qubo`` text (``name`` appears in error messages)."""
    header, entries, offset = None, [], 0.0
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if fields[:2] == ["c", "offset:"] and len(fields) == 3:
            offset = real(fields[2], name, number, "offset")
            continue
        if not fields or fields[0].startswith("c"):
            continue
        if fields[0] == "p":
            if header is not None:
                raise ValueError(f"{name}, line {number}: a second 'p' line")
            if len(fields) != 6 or fields[1] != "qubo":
                raise ValueError(f"{name}, line {number}: expected 'p qubo <topology> <maxNodes> <nNodes> "
                                 f"<nCouplers>', got {line.strip()!r}")
            header = (number, *(whole(f, name, number) for f in fields[3:]))
            continue
        if header is None:
            raise ValueError(f"{name}, line {number}: an entry before the 'p qubo ...' line")
        if len(fields) != 3:
            raise ValueError(f"{name}, line {number}: expected 'i j value', got {line.strip()!r}")
        i, j = (whole(f, name, number) for f in fields[:2])
        value = real(fields[2], name, number)
        if max(i, j) >= header[1]:
            raise ValueError(f"{name}, line {number}: node {max(i, j)} is out of range (maxNodes is {header[1]})")
        entries.append((number, i, j, value))
    if header is None:
        raise ValueError(f"{name}: no 'p qubo 0 <maxNodes> <nNodes> <nCouplers>' line: not a qbsolv .qubo file")
    _, size, n_nodes, n_couplers = header
    diagonal = [e for e in entries if e[1] == e[2]]
    if len(diagonal) != n_nodes or len(entries) - len(diagonal) != n_couplers:
        raise ValueError(f"{name}: the 'p' line (line {header[0]}) announces {n_nodes} diagonal and {n_couplers} "
                         f"coupler entries; the file has {len(diagonal)} and {len(entries) - len(diagonal)}")
    linear = np.zeros(size)
    quadratic: dict[tuple[int, int], float] = {}
    for number, i, j, value in entries:
        if i == j:
            linear[i] += value
        else:
            key = (min(i, j), max(i, j))
            if key in quadratic:
                raise ValueError(f"{name}, line {number}: coupler {key} repeats")
            quadratic[key] = value
    bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
    bqm.add_linear_from(enumerate(linear.tolist()))
    bqm.add_quadratic_from(quadratic)
    bqm.offset = offset
    return bqm


def format_qubo(bqm: dimod.BinaryQuadraticModel) -> str:
    """``bqm`` in ``.qubo`` text; its variables must be the integers ``0 .. n − 1`` (relabel others first:
    ``bqm.relabel_variables_as_integers()``). A SPIN model is written in its BINARY form; a non-zero offset
    goes into a ``c offset:`` comment."""
    labels = list(bqm.variables)
    if any(isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0 for v in labels):
        raise ValueError("a .qubo file numbers its variables 0..n-1; relabel the model first "
                         "(bqm.relabel_variables_as_integers(inplace=False) returns the model and the mapping)")
    b = bqm.change_vartype(dimod.BINARY, inplace=False) if bqm.vartype is dimod.SPIN else bqm
    size = max(labels) + 1 if labels else 0
    lines = [f"c offset: {exact(b.offset)}"] if b.offset else []
    lines += [f"p qubo 0 {size} {b.num_variables} {b.num_interactions}"]
    lines += [f"{v} {v} {exact(bias)}" for v, bias in sorted(b.linear.items())]
    lines += [f"{min(u, v)} {max(u, v)} {exact(bias)}" for (u, v), bias in
              sorted(b.quadratic.items(), key=lambda item: (min(item[0]), max(item[0])))]
    return "\n".join(lines) + "\n"
