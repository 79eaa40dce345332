"""The ``qiopt`` command line: solve a problem file, list the backends, run the demo.

Commands::

    qiopt solve PROBLEM.json [--kind allocation|load-balancing|qubo] [--backend NAME] [--config FILE]
                             [--time-limit S] [--seed N] [--reference METHOD] [--output FILE|-]
    qiopt backends
    qiopt demo [--backend NAME] [--seed N]
    qiopt --version

Problem files are JSON. The kind is detected from the top-level fields when ``--kind`` is not given:
``agents`` → allocation, ``workers`` → load-balancing, ``qubo`` or ``h``/``J`` → qubo. A plain model is either
``{"qubo": [[u, v, bias], ...], "offset": 0.0}`` (``u == v`` is a linear bias) or
``{"h": {"a": 1.0} or [1.0, ...], "J": [[u, v, bias], ...], "offset": 0.0}``; labels are read as strings.

Exit codes: 0 solved (and feasible), 1 solved but infeasible, 2 bad input or a backend that cannot run (the
message names the field or option at fault; no traceback).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qiopt import __version__
from qiopt.model import check_bias

__all__ = ["EXIT_BAD_INPUT", "EXIT_INFEASIBLE", "EXIT_OK", "InputError", "load_problem", "main", "qubo_model"]

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2
KINDS = ("allocation", "load-balancing", "qubo")
_DETECT = (("agents", "allocation"), ("workers", "load-balancing"), ("qubo", "qubo"), ("h", "qubo"),
           ("J", "qubo"))


class InputError(ValueError):
    """The input cannot be used; the message names the file and field at fault."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: argparse already printed what to say
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    from qiopt.backends.base import BackendError
    from qiopt.secrets import redact

    try:
        return int(args.run(args))
    except (InputError, ValueError, TypeError, KeyError, OSError, ImportError, BackendError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"qiopt: error: {redact(message)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qiopt", description="Quantum-inspired optimization: solve allocation, load-balancing and QUBO "
        "problems with interchangeable backends.",
        epilog="Run 'qiopt COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"qiopt {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    solve = commands.add_parser(
        "solve", help="solve a problem JSON file",
        description="Solve a problem JSON file, print a summary and optionally write the full result as "
        "JSON. Exit code 0: feasible, 1: infeasible, 2: bad input.")
    solve.add_argument("problem", metavar="PROBLEM.json",
                       help="problem file (allocation, load-balancing or qubo)")
    solve.add_argument("--kind", choices=KINDS, help="problem kind (default: detected from the fields)")
    solve.add_argument("--backend", help="backend name (default: 'sa' or the config's; see 'qiopt backends')")
    solve.add_argument("--config", metavar="FILE", help="TOML config file ([solver] backend, options...)")
    solve.add_argument("--time-limit", type=float, metavar="S", help="seconds for the whole solve")
    solve.add_argument("--seed", type=int, metavar="N", help="random seed (for backends that take one)")
    solve.add_argument("--reference", metavar="METHOD",
                       help="also compute a classical reference, e.g. 'milp'")
    solve.add_argument("--output", "-o", metavar="FILE",
                       help="write the result as JSON to FILE ('-': stdout, the summary then goes to stderr)")
    solve.set_defaults(run=_cmd_solve)

    backends = commands.add_parser("backends", help="list the backends and whether they are usable here",
                                   description="List every registered backend, whether it can run here and, "
                                   "if not, how to install what it needs.")
    backends.set_defaults(run=_cmd_backends)

    demo = commands.add_parser("demo", help="run the Quick start demo (travel planning, no credentials)",
                               description="Plan the embedded travel-planning scenario with the default "
                               "backend and compare it with the MILP reference.")
    demo.add_argument("--backend", help="backend name (default: 'sa')")
    demo.add_argument("--seed", type=int, default=7, metavar="N", help="random seed (default: 7)")
    demo.set_defaults(run=_cmd_demo)

    serve = commands.add_parser(
        "serve", help="run the gateway service over an Allocator (extra 'serve')",
        description="Serve one qiopt.Allocator over HTTP (POST/DELETE /requests, DELETE/POST /agents, GET "
        "/state, /health, /metrics). Binds 127.0.0.1 unless --host says otherwise; with QIOPT_SERVE_TOKEN set, "
        "every call needs 'Authorization: Bearer <token>'.")
    serve.add_argument("--agents", metavar="FILE", help="JSON list of agent records (or {\"agents\": [...]}); "
                       "not needed when --state names an existing file")
    serve.add_argument("--state", metavar="FILE", help="restore the allocator from FILE if it exists, and save it "
                       "there after every change")
    serve.add_argument("--config", metavar="FILE", help="TOML config file for the batch solves ([solver] backend, "
                       "options...)")
    serve.add_argument("--time-budget", type=float, metavar="S", help="seconds per batch solve")
    serve.add_argument("--seed", type=int, metavar="N", help="random seed (batch k uses one derived from it)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.set_defaults(run=_cmd_serve)
    return parser


# --- commands -----------------------------------------------------------------------------------------------

def _cmd_backends(args: argparse.Namespace) -> int:
    from qiopt import available_backends

    infos = available_backends().values()
    width = max(len(info.name) for info in infos)
    for info in infos:
        state = "usable " if info.usable else "missing"
        print(f"{info.name:<{width}}  {state}  {info.summary}")
        if not info.usable and info.install_hint:
            print(f"{'':<{width}}           install: {info.install_hint}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from qiopt.demo import run_demo

    result = run_demo(backend=args.backend, seed=args.seed)
    return EXIT_OK if result.solution.feasible else EXIT_INFEASIBLE


def _cmd_serve(args: argparse.Namespace) -> int:
    from qiopt.services import Allocator
    from qiopt.services.gateway import serve

    if args.state and Path(args.state).exists():
        allocator = Allocator.load(args.state)
    elif args.agents:
        data = json.loads(Path(args.agents).read_text(encoding="utf-8"))
        agents = data["agents"] if isinstance(data, dict) and "agents" in data else data
        allocator = Allocator(agents, seed=args.seed, time_budget=args.time_budget, config=args.config)
    else:
        raise InputError("qiopt serve needs --agents FILE (or --state FILE naming a saved allocator)")
    print(f"qiopt serve: {len(allocator.agents)} agents, {len(allocator.assignment)} live requests, on "
          f"http://{args.host}:{args.port}", file=sys.stderr)
    serve(allocator, host=args.host, port=args.port, state_path=args.state)
    return EXIT_OK


def _cmd_solve(args: argparse.Namespace) -> int:
    import qiopt
    from qiopt.config import resolve_config
    from qiopt.demo import format_result, seed_option

    kind, model = load_problem(args.problem, args.kind)
    config = resolve_config(args.config, backend=args.backend, time_limit=args.time_limit)
    options = seed_option(config.backend, args.seed)
    out = sys.stderr if args.output == "-" else sys.stdout
    print(f"qiopt solve: {args.problem} ({kind}) with backend {config.backend!r}", file=out)
    started = time.perf_counter()
    result = qiopt.solve(model, config=config, reference=args.reference, **options)
    seconds = time.perf_counter() - started
    if result.solution is not None:
        lines = model.format_plan(result.solution).splitlines()
    else:
        ones = sorted(str(v) for v, x in result.best_sample.items() if x == 1)
        shown = ", ".join(ones[:20]) + (", ..." if len(ones) > 20 else "")
        lines = [f"{len(result.best_sample)} variables; set to 1: {shown or '(none)'}"]
    print("", *lines, "", *format_result(result, seconds), sep="\n", file=out)
    payload = result_payload(result, kind=kind, source=args.problem, seconds=seconds)
    if args.output == "-":
        json.dump(payload, sys.stdout, indent=2)
        print()
    elif args.output:
        Path(args.output).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"result written to {args.output}", file=out)
    feasible = result.solution is None or result.solution.feasible
    return EXIT_OK if feasible else EXIT_INFEASIBLE


# --- input --------------------------------------------------------------------------------------------------

def load_problem(path: str | Path, kind: str | None = None) -> tuple[str, Any]:
    """Read ``path`` and build what ``qiopt.solve`` takes: ``(kind, problem or model)``.

    Raises :class:`InputError` naming the file and the field at fault.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: the top level must be a JSON object, got {type(data).__name__}")
    if kind is None:
        kind = next((k for field, k in _DETECT if field in data), None)
        if kind is None:
            raise InputError(f"{p}: cannot tell the problem kind: expected a top-level field 'agents' "
                             "(allocation), 'workers' (load-balancing) or 'qubo' / 'h' and 'J' (qubo); "
                             "or give --kind")
    try:
        return kind, _build(kind, data)
    except KeyError as exc:
        raise InputError(f"{p}: missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{p}: {exc}") from None


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


# --- output -------------------------------------------------------------------------------------------------

def result_payload(result: Any, *, kind: str, source: str, seconds: float) -> dict[str, Any]:
    """The JSON-ready record of a solve: answer, objective, violations, energy, timing, backend, options."""
    solution = result.solution
    payload: dict[str, Any] = {
        "problem": str(source), "kind": kind, "backend": result.backend,
        "options": result.info.get("options", {}), "energy": result.best_energy,
        "assignment": result.best_sample if solution is None else solution.assignment,
        "objective": result.best_energy if solution is None else solution.objective,
        "feasible": solution is None or solution.feasible,
        "violations": {} if solution is None else solution.violations,
        "details": {} if solution is None else solution.details,
        "timing": {"total_s": seconds, **result.timing}, "failures": result.info.get("failures", []),
    }
    if result.reference is not None:
        ref = result.reference
        payload["reference"] = {"objective": ref.objective, "feasible": ref.feasible,
                                "assignment": ref.assignment, "gap": result.gap}
    return _jsonable(payload)


def _jsonable(value: Any) -> Any:
    """Plain JSON data: numpy scalars and arrays, tuples and non-string keys converted."""
    if isinstance(value, Mapping):
        return {k if isinstance(k, str) else str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
