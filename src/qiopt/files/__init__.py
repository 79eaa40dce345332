"""Models in and out of files: ``qiopt.read`` and ``qiopt.write``.

========== ============================================= ==================================================
format     file                                          read gives / write takes
========== ============================================= ==================================================
``lp``     ``.lp``: CPLEX LP of a binary program         a dimod CQM / a CQM, ConstrainedModel, problem, BQM
``qubo``   ``.qubo``: qbsolv's QUBO text                 a BINARY BQM over ``0..n-1`` / any BQM
``gset``   ``.gset`` (or ``G22.txt``): a max-cut graph    a SPIN BQM with energy ``−cut`` / a networkx Graph
``bqm``    ``.bqm``: dimod's binary BQM file             a BQM / a BQM
``cqm``    ``.cqm``: dimod's binary CQM file             a CQM / a CQM, ConstrainedModel or problem
``json``   ``.json``: dimod's serialised BQM, or qiopt's a BQM or a problem (``TaskAllocation``,
           problem JSON (see :mod:`qiopt.files.problem`)  ``LoadBalancing``) / a BQM or a problem
========== ============================================= ==================================================

The format comes from ``format=``, else the extension, else the content (dimod's file headers, a ``p qubo``
line, a Gset ``n m`` header, an LP ``Minimize`` section, a JSON object). A malformed file raises
``ValueError`` naming the file and, for the text formats, the line; nothing is returned from it.
:func:`write` returns ``{label: written name}`` for the labels a format cannot hold as they are (LP names,
``.qubo``'s integers), so answers can be mapped back. A SPIN model goes to the binary formats (``lp``,
``qubo``, ``cqm``) in its BINARY form (``x = (s + 1) / 2``).

Example:
    >>> import io, dimod, qiopt
    >>> bqm = dimod.BinaryQuadraticModel({"a": -1.0, "b": -1.0}, {("a", "b"): 2.0}, 0.0, "BINARY")
    >>> stream = io.StringIO()
    >>> qiopt.write(bqm, stream, format="qubo")
    {'a': 0, 'b': 1}
    >>> _ = stream.seek(0)
    >>> qiopt.solve(qiopt.read(stream, format="qubo"), backend="exact").best_energy
    -1.0
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import IO, Any

import dimod

__all__ = ["FORMATS", "identify", "read", "write"]

FORMATS = ("lp", "qubo", "gset", "bqm", "cqm", "json")
_EXTENSIONS = {".lp": "lp", ".qubo": "qubo", ".gset": "gset", ".bqm": "bqm", ".cqm": "cqm", ".json": "json"}

Source = str | os.PathLike[str] | IO[str] | IO[bytes]


def read(source: Source, *, format: str | None = None, kind: str | None = None) -> Any:
    """The model (or problem) in ``source``, a path or an open file (text or binary).

    Args:
        source: the file.
        format: one of :data:`FORMATS` (default: from the extension, else the content).
        kind: for qiopt's problem JSON, ``"allocation"``, ``"load-balancing"`` or ``"qubo"`` (default: from the
            fields).
    """
    data, name = _bytes(source)
    fmt = _format(format, name, data)
    if fmt in ("bqm", "cqm"):
        cls = dimod.BinaryQuadraticModel if fmt == "bqm" else dimod.ConstrainedQuadraticModel
        try:
            return cls.from_file(io.BytesIO(data))
        except Exception as exc:  # dimod raises several types for a damaged file
            raise ValueError(f"{name}: not a dimod {fmt.upper()} file ({type(exc).__name__}: {exc})") from None
    if fmt == "lp":
        from qiopt.files.lp import parse

        return parse(data, name)
    text = _text(data, name)
    if fmt == "qubo":
        from qiopt.files.qubo import parse as parse_qubo

        return parse_qubo(text, name)
    if fmt == "gset":
        from qiopt.files.gset import parse as parse_gset

        return parse_gset(text, name)
    return _json(text, name, kind)


def identify(source: Source, format: str | None = None) -> str:
    """The format :func:`read` would use for ``source`` (one of :data:`FORMATS`)."""
    data, name = _bytes(source)
    return _format(format, name, data)


def write(model: Any, target: str | os.PathLike[str] | IO[str] | IO[bytes], *, format: str | None = None
          ) -> dict[Any, Any]:
    """Write ``model`` to ``target`` (a path or an open file) in ``format`` (default: from the extension).
    Returns ``{label: written name}`` for every label the format made over (empty when none)."""
    name = str(target) if isinstance(target, str | os.PathLike) else str(getattr(target, "name", "<file>"))
    fmt = _check_format(format) if format is not None else _EXTENSIONS.get(Path(name).suffix.lower())
    if fmt is None:
        raise ValueError(f"{name}: cannot tell the format from the extension {Path(name).suffix!r}; give "
                         f"format= one of {', '.join(FORMATS)}")
    names: dict[Any, Any] = {}
    if fmt == "lp":
        from qiopt.files.lp import format_lp

        content, names = format_lp(_cqm(model))
    elif fmt == "qubo":
        from qiopt.files.qubo import format_qubo

        bqm = _bqm(model)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in bqm.variables):
            names = {v: k for k, v in enumerate(bqm.variables)}
            bqm = bqm.relabel_variables(names, inplace=False)
        content = format_qubo(bqm)
    elif fmt == "gset":
        from qiopt.files.gset import format_gset

        content = format_gset(model)
    elif fmt in ("bqm", "cqm"):
        content = (_bqm(model) if fmt == "bqm" else _cqm(model)).to_file().read()
    else:
        content = json.dumps(_jsonable(model), indent=1) + "\n"
    _put(target, content)
    return names


# -- formats ---------------------------------------------------------------------------------------------------

def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    return format


def _format(format: str | None, name: str, data: bytes) -> str:
    if format is not None:
        return _check_format(format)
    suffix = Path(name).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    sniffed = _sniff(data)
    if sniffed is None:
        raise ValueError(f"{name}: cannot tell the format (extension {suffix or '(none)'!r}, content not "
                         f"recognised); give format= one of {', '.join(FORMATS)}")
    return sniffed


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"DIMODBQM"):
        return "bqm"
    if data.startswith(b"DIMODCQM"):
        return "cqm"
    head = data[:65536].decode("utf-8", errors="replace")
    lines = [line.split() for line in head.splitlines() if line.strip()]
    if not lines:
        return None
    if head.lstrip().startswith("{"):
        return "json"
    if any(fields[:2] == ["p", "qubo"] for fields in lines[:1000]):
        return "qubo"
    from qiopt.files.lp import _SECTION

    if _SECTION.search(head):
        return "lp"
    if len(lines[0]) == 2 and all(f.isdigit() for f in lines[0]):
        return "gset"
    return None


# -- conversions -----------------------------------------------------------------------------------------------

def _cqm(model: Any) -> dimod.ConstrainedQuadraticModel:
    from qiopt.constrained.model import ConstrainedModel
    from qiopt.problems.base import Problem

    if isinstance(model, dimod.ConstrainedQuadraticModel):
        return model
    if isinstance(model, Problem) and model.to_constrained() is not None:
        model = model.to_constrained()
    if isinstance(model, ConstrainedModel):
        return model.to_cqm()
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(_bqm(model).change_vartype(dimod.BINARY, inplace=False))  # LP and qiopt's CQMs are binary
    return cqm


def _bqm(model: Any) -> dimod.BinaryQuadraticModel:
    from qiopt.model import as_bqm
    from qiopt.problems.base import Problem

    return model.to_bqm() if isinstance(model, Problem) else as_bqm(model)


def _jsonable(model: Any) -> Any:
    from qiopt.problems._data import JsonData

    if isinstance(model, JsonData):
        return model.to_dict()
    return _bqm(model).to_serializable()


def _json(text: str, name: str, kind: str | None) -> Any:
    from qiopt.files.problem import parse

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if isinstance(data, dict) and data.get("type") == "BinaryQuadraticModel" and "version" in data:
        try:
            return dimod.BinaryQuadraticModel.from_serializable(data)
        except Exception as exc:  # a damaged dimod document
            raise ValueError(f"{name}: not a valid dimod BQM document ({type(exc).__name__}: {exc})") from None
    return parse(data, kind, name)[1]


# -- streams ---------------------------------------------------------------------------------------------------

def _bytes(source: Source) -> tuple[bytes, str]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except FileNotFoundError:
            raise ValueError(f"{path}: file not found") from None
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the file ({exc})") from None
    if not hasattr(source, "read"):
        raise TypeError(f"source must be a path or an open file, got {type(source).__name__}")
    content = source.read()
    name = str(getattr(source, "name", "<file>"))
    return (content.encode("utf-8") if isinstance(content, str) else bytes(content)), name


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not a UTF-8 text file ({exc})") from None


def _put(target: Any, content: str | bytes) -> None:
    if isinstance(target, str | os.PathLike):
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(target, mode, **({} if isinstance(content, bytes) else {"encoding": "utf-8"})) as stream:
            stream.write(content)
        return
    if isinstance(content, bytes) and isinstance(target, io.TextIOBase):
        raise TypeError("this format is binary: open the file in binary mode ('wb') or give a path")
    target.write(content.encode("utf-8") if isinstance(content, str) and isinstance(target, io.RawIOBase |
                 io.BufferedIOBase) else content)
