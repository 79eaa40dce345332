"""LP files (CPLEX LP format) of binary programs, through dimod's reader and writer (:mod:`dimod.lp`).

:func:`parse` gives a dimod ``ConstrainedQuadraticModel``; only binary variables are accepted (integer and
real variables are named in the error), and a file without a ``Minimize`` / ``Maximize`` section is refused
(dimod's reader would return an empty model). dimod's reader does not say where a syntax error is; when it
fails, the first line with an evident slip (two operators in a row, an operator before a comparison or at the
end of a constraint) is named.

:func:`format_lp` writes a CQM; labels that are not LP names (tuples, spaces, a leading digit) are rewritten
(``("x", "t1", "a2")`` → ``x_t1_a2``), and the mapping is returned so answers can be read back; constraint
labels are rewritten the same way (``capacity[a2]`` → ``capacity_a2_``).

Example:
    >>> cqm = parse(b"Minimize\\n obj: x + 2 y\\nSubject To\\n pick: x + y = 1\\nBinary\\n x y\\nEnd\\n")
    >>> sorted(cqm.variables), list(cqm.constraints)
    (['x', 'y'], ['pick'])
"""

from __future__ import annotations

import io
import re
from collections.abc import Hashable
from typing import Any

import dimod
import dimod.lp

__all__ = ["format_lp", "parse"]

_SECTION = re.compile(r"^\s*(minimi[sz]e|maximi[sz]e|minimum|maximum|min|max)\s*$", re.IGNORECASE | re.MULTILINE)
_SLIP = re.compile(r"[+\-*]\s*[+*]|[+\-*]\s*(<=|>=|=<|=>|=|<|>)|(<=|>=|=<|=>|<|>|=)\s*$|[+\-*]\s*$")
_LABEL = re.compile(r"[^A-Za-z0-9_.!\"#$%&(),;?@{}~'‘’]")


def parse(data: bytes, name: str = "<lp>") -> dimod.ConstrainedQuadraticModel:
    """The CQM of an LP file's bytes; ``ValueError`` naming the file (and line or variables) at fault."""
    text = data.decode("utf-8", errors="replace")
    if not _SECTION.search(text):
        raise ValueError(f"{name}: no 'Minimize' or 'Maximize' section: not an LP file")
    try:
        cqm = dimod.lp.load(io.BytesIO(data))
    except ValueError as exc:
        raise ValueError(f"{name}: not a valid LP file ({exc}){_suspect(text)}") from None
    bad = [f"{v} ({cqm.vartype(v).name.lower()})" for v in cqm.variables if cqm.vartype(v) is not dimod.BINARY]
    if bad:
        raise ValueError(f"{name}: variables {', '.join(bad[:8])}{' ...' if len(bad) > 8 else ''} are not binary; "
                         "qiopt solves binary programs only (declare them under 'Binary', or encode integers in "
                         "binaries)")
    if not cqm.variables:
        raise ValueError(f"{name}: the LP file declares no variables")
    return cqm


def format_lp(cqm: dimod.ConstrainedQuadraticModel) -> tuple[str, dict[Hashable, str]]:
    """``(text, names)``: the CQM as an LP file, and ``{label: LP name}`` for every label that was rewritten."""
    names = _renamed(cqm.variables)
    out = cqm.relabel_variables(names, inplace=False) if names else cqm
    constraints = _renamed(cqm.constraints)
    if constraints:
        out = out if names else cqm.relabel_variables({}, inplace=False)  # a copy: the caller's CQM is kept
        out.relabel_constraints(constraints)
    buffer = io.StringIO()
    dimod.lp.dump(out, buffer)
    return buffer.getvalue(), names


def _renamed(labels: Any) -> dict[Hashable, str]:
    """``{label: LP name}`` for the labels that are not LP names, each made unique."""
    names: dict[Hashable, str] = {}
    taken = {v for v in labels if _valid(v)}
    for v in labels:
        if not _valid(v):
            base = _LABEL.sub("_", "_".join(map(str, v)) if isinstance(v, tuple) else str(v)) or "v"
            base = "v" + base if base[0] in dimod.lp.LABEL_INVALID_FIRST_CHARS else base
            candidate, k = base, 1
            while candidate in taken:
                candidate, k = f"{base}_{k}", k + 1
            taken.add(candidate)
            names[v] = candidate
    return names


def _valid(label: Hashable) -> bool:
    return isinstance(label, str) and bool(label) and label[0] not in dimod.lp.LABEL_INVALID_FIRST_CHARS and \
        all(c in dimod.lp.LABEL_VALID_CHARS for c in label)


def _suspect(text: str) -> str:
    """``"; near line N: ..."`` for the first line with an evident slip, else ``""``."""
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.split("\\", 1)[0].split(":", 1)[-1]  # drop a comment and a constraint's name
        if body.strip() and _SLIP.search(body):
            return f"; near line {number}: {line.strip()!r}"
    return ""
