"""The ``qiopt`` command line: solve a problem file, list the backends, run the demo.

Commands::

    qiopt solve FILE [--format lp|qubo|gset|bqm|cqm|json] [--kind allocation|load-balancing|qubo]
                     [--backend NAME] [--config FILE] [--time-limit S] [--seed N] [--reference METHOD]
                     [--no-bound] [--bound-time-limit S] [--output FILE|-]
    qiopt serve --agents FILE [--state FILE] [--host H] [--port P] ...
    qiopt backends
    qiopt demo [--backend NAME] [--seed N]
    qiopt --version

``FILE`` is anything :func:`qiopt.read` reads: an LP file of a binary program, a qbsolv ``.qubo`` file, a Gset
graph, dimod's ``.bqm`` / ``.cqm`` / JSON files, or qiopt's problem JSON (see :mod:`qiopt.files.problem`: the
kind is detected from the top-level fields when ``--kind`` is not given). The summary shows the answer, its
lower bound and certified gap (:attr:`qiopt.Result.lower_bound`, skipped with ``--no-bound``); ``--output``
writes the answer as JSON: for a problem its assignment, for a model the sample in the model's labels (for an
LP file, the variable values).

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
from qiopt.files import FORMATS
from qiopt.files.problem import KINDS

__all__ = ["EXIT_BAD_INPUT", "EXIT_INFEASIBLE", "EXIT_OK", "InputError", "load_problem", "main"]

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


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
        "solve", help="solve a model or problem file (LP, .qubo, Gset, dimod, qiopt JSON)",
        description="Solve a model or problem file, print a summary with the answer's lower bound and "
        "optionally write the full result as JSON. Exit code 0: feasible, 1: infeasible, 2: bad input.")
    solve.add_argument("problem", metavar="FILE",
                       help="an LP, .qubo, Gset, dimod .bqm/.cqm/JSON or qiopt problem JSON file")
    solve.add_argument("--format", choices=FORMATS, help="file format (default: from the extension or content)")
    solve.add_argument("--kind", choices=KINDS, help="kind of a qiopt JSON file (default: detected from the "
                       "fields)")
    solve.add_argument("--backend", help="backend name (default: 'sa' or the config's; see 'qiopt backends')")
    solve.add_argument("--config", metavar="FILE", help="TOML config file ([solver] backend, options...)")
    solve.add_argument("--time-limit", type=float, metavar="S", help="seconds for the whole solve")
    solve.add_argument("--seed", type=int, metavar="N", help="random seed (for backends that take one)")
    solve.add_argument("--reference", metavar="METHOD",
                       help="also compute a classical reference, e.g. 'milp'")
    solve.add_argument("--no-bound", action="store_true", help="skip the lower bound (roof duality or LP)")
    solve.add_argument("--bound-time-limit", type=float, default=10.0, metavar="S",
                       help="seconds for the LP bound of a constrained model (default: 10)")
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

    kind, model = load_problem(args.problem, args.kind, args.format)
    config = resolve_config(args.config, backend=args.backend, time_limit=args.time_limit)
    options = seed_option(config.backend, args.seed)
    out = sys.stderr if args.output == "-" else sys.stdout
    print(f"qiopt solve: {args.problem} ({kind}) with backend {config.backend!r}", file=out)
    started = time.perf_counter()
    result = qiopt.solve(model, config=config, reference=args.reference, **options)
    seconds = time.perf_counter() - started
    if not args.no_bound:
        result.compute_bound(time_limit=args.bound_time_limit)
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
    return EXIT_OK if payload["feasible"] else EXIT_INFEASIBLE


# --- input --------------------------------------------------------------------------------------------------

def load_problem(path: str | Path, kind: str | None = None, format: str | None = None) -> tuple[str, Any]:
    """Read ``path`` with :func:`qiopt.read` and return ``(kind, problem or model)``: the kind is the problem
    kind of a qiopt JSON file (``allocation``, ``load-balancing``, ``qubo``), else the file's format (``lp``,
    ``qubo``, ``gset``, ``bqm``, ``cqm``, ``json`` for dimod's). Raises :class:`InputError` naming the file
    and the field or line at fault."""
    from qiopt.files import identify, read
    from qiopt.problems import LoadBalancing, TaskAllocation

    try:
        fmt = identify(path, format)
        model = read(path, format=fmt, kind=kind)
    except (ValueError, TypeError) as exc:
        raise InputError(str(exc)) from None
    if fmt != "json":
        return fmt, model
    if isinstance(model, TaskAllocation | LoadBalancing):
        return ("allocation" if isinstance(model, TaskAllocation) else "load-balancing"), model
    return kind or "qubo", model  # a plain model: qiopt's QUBO / Ising JSON or dimod's serialised BQM


# --- output -------------------------------------------------------------------------------------------------

def result_payload(result: Any, *, kind: str, source: str, seconds: float) -> dict[str, Any]:
    """The JSON-ready record of a solve: answer, objective, violations, energy, timing, backend, options."""
    solution = result.solution
    payload: dict[str, Any] = {
        "problem": str(source), "kind": kind, "backend": result.backend,
        "options": result.info.get("options", {}), "energy": result.best_energy,
        "assignment": result.best_sample if solution is None else solution.assignment,
        "objective": result.best_energy if solution is None else solution.objective,
        "feasible": result.feasible,
        "violations": {} if solution is None else solution.violations,
        "details": {} if solution is None else solution.details,
        "timing": {"total_s": seconds, **result.timing}, "failures": result.info.get("failures", []),
    }
    if "bound" in result.info:
        payload["lower_bound"], payload["certified_gap"] = result.lower_bound, result.certified_gap
        payload["bound"] = result.info.get("bound", {})
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
