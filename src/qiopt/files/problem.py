"""qiopt's own JSON: a problem (task allocation, load balancing) or a plain QUBO / Ising model.

The kind is detected from the top-level fields when not given: ``agents`` → ``"allocation"``, ``workers`` →
``"load-balancing"``, ``qubo`` or ``h``/``J`` → ``"qubo"``. A plain model is
``{"qubo": [[u, v, bias], ...], "offset": 0.0}`` (``u == v`` is a linear bias) or
``{"h": {"a": 1.0} or [1.0, ...], "J": [[u, v, bias], ...], "offset": 0.0}``; labels are read as strings.

Example:
    >>> kind, bqm = parse({"qubo": [["a", "a", -1], ["a", "b", 2]]})
    >>> kind, float(bqm.energy({"a": 1, "b": 0}))
    ('qubo', -1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qiopt.model import check_bias

__all__ = ["KINDS", "parse", "qubo_model"]

KINDS = ("allocation", "load-balancing", "qubo")
_DETECT = (("agents", "allocation"), ("workers", "load-balancing"), ("qubo", "qubo"), ("h", "qubo"),
           ("J", "qubo"))


def parse(data: Any, kind: str | None = None, name: str = "<json>") -> tuple[str, Any]:
    """``(kind, problem or model)`` from decoded JSON ``data``; errors name ``name`` and the field."""
    if not isinstance(data, dict):
        raise ValueError(f"{name}: the top level must be a JSON object, got {type(data).__name__}")
    if kind is None:
        kind = next((k for field, k in _DETECT if field in data), None)
        if kind is None:
            raise ValueError(f"{name}: cannot tell the problem kind: expected a top-level field 'agents' "
                             "(allocation), 'workers' (load-balancing) or 'qubo' / 'h' and 'J' (qubo); "
                             "or give the kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    try:
        return kind, _build(kind, data)
    except KeyError as exc:
        raise ValueError(f"{name}: missing field {exc.args[0]!r}") from None
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _build(kind: str, data: dict[str, Any]) -> Any:
    if kind == "allocation":
        from qiopt.problems import TaskAllocation

        return TaskAllocation.from_dict(data)
    if kind == "load-balancing":
        from qiopt.problems import LoadBalancing

        return LoadBalancing.from_dict(data)
    return qubo_model(data)


def qubo_model(data: Mapping[str, Any]) -> Any:
    """A BQM from the plain QUBO / Ising JSON shapes (see the module docstring); labels become strings."""
    from qiopt.model import from_ising, from_qubo

    allowed = ("qubo", "offset") if "qubo" in data else ("h", "J", "offset")
    for key in data:
        if key not in allowed:
            raise ValueError(f"unknown field {key!r}; a {'QUBO' if 'qubo' in data else 'Ising'} model has "
                             f"fields {', '.join(allowed)}")
    offset = check_bias(data.get("offset", 0.0), "offset")
    if "qubo" in data:
        Q: dict[tuple[str, str], float] = {}
        for u, v, bias in _triples(data["qubo"], "qubo"):
            Q[(u, v)] = Q.get((u, v), 0.0) + bias
        return from_qubo(Q, offset)
    h_raw = data.get("h", {})
    if isinstance(h_raw, list):
        h_raw = dict(enumerate(h_raw))
    if not isinstance(h_raw, dict):
        raise TypeError(f"field 'h' must be an object {{label: bias}} or a list of biases, got "
                        f"{type(h_raw).__name__}")
    h = {_label(v, f"h[{v!r}]"): check_bias(b, f"h[{v!r}]") for v, b in h_raw.items()}
    J: dict[tuple[str, str], float] = {}
    for u, v, bias in _triples(data.get("J", []), "J"):
        J[(u, v)] = J.get((u, v), 0.0) + bias
    return from_ising(h, J, offset)


def _triples(raw: Any, field: str) -> list[tuple[str, str, float]]:
    if not isinstance(raw, list):
        raise TypeError(f"field {field!r} must be a list of [u, v, bias] triples, got {type(raw).__name__}")
    out = []
    for i, item in enumerate(raw):
        if not (isinstance(item, list) and len(item) == 3):
            raise ValueError(f"{field}[{i}] must be a triple [u, v, bias], got {item!r}")
        where = f"{field}[{i}]"
        out.append((_label(item[0], where), _label(item[1], where), check_bias(item[2], where)))
    return out


def _label(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"{where}: a variable label must be a string or an integer, got {value!r}")
    return str(value)
