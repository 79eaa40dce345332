"""``qiopt.solve``: one call from a model or a problem to a :class:`~qiopt.result.Result`.

Example:
    >>> import networkx as nx, qiopt
    >>> result = qiopt.solve(nx.cycle_graph(4), seed=3)    # max-cut of a 4-cycle with the default "sa"
    >>> result.best_energy
    -4.0
"""

from __future__ import annotations

import os
import time
from typing import Any

import dimod

from qiopt.backends.base import BackendError
from qiopt.backends.registry import backend_class, get_backend
from qiopt.config import SolverConfig, resolve_config
from qiopt.model import CompactModel, _validate, as_bqm
from qiopt.problems.base import Problem
from qiopt.progress import enabled as progress_enabled
from qiopt.result import Result
from qiopt.secrets import redact

__all__ = ["solve"]


def solve(model: Any, *, backend: str | None = None,
          config: str | os.PathLike[str] | SolverConfig | dict[str, Any] | None = None,
          fallback: list[str] | tuple[str, ...] | None = None, time_limit: float | None = None,
          reference: str | None = None, progress: bool | None = None, **options: Any) -> Result:
    """Solve ``model`` with the configured backend and return a :class:`~qiopt.result.Result`.

    Args:
        model: a :class:`~qiopt.problems.base.Problem`, or anything :func:`qiopt.model.as_bqm` accepts.
        backend: a registered backend name (default ``"sa"``; see :func:`qiopt.available_backends`).
        config: a TOML file path, a :class:`~qiopt.config.SolverConfig` or a mapping (see :mod:`qiopt.config`).
        fallback: backends tried in order when one fails; the failures are recorded in ``Result.info``.
        time_limit: seconds for the whole solve. Backends of the chain that have a ``time_limit`` option get what
            remains of it; for a problem, the backends share the first half and decoding, repair and the
            problem's local search get the rest (a reference, if asked for, gets its own ``time_limit``).
        reference: for a problem, a classical reference method (e.g. ``"milp"``, ``"greedy"``) to compare with;
            the answer goes to ``Result.reference`` and the relative gap to ``Result.gap``.
        progress: show a progress bar for long solves (True), never (False), or only on a terminal (None).
        **options: options of the chosen backend, overriding the config.

    Explicit arguments win over ``QIOPT_*`` environment variables, which win over the config file.
    """
    cfg = resolve_config(config, backend=backend, fallback=fallback, time_limit=time_limit, options=options)
    started = time.perf_counter()
    problem = model if isinstance(model, Problem) else None
    if reference is not None and problem is None:
        raise ValueError("reference needs a qiopt Problem (a plain model has no domain objective)")
    bqm = _validate(problem.to_bqm()) if problem is not None else as_bqm(model)
    compact = CompactModel.from_bqm(bqm)
    with progress_enabled(progress):
        chain_limit = cfg.time_limit if problem is None or cfg.time_limit is None else cfg.time_limit / 2
        sampleset, name, failures = _run_chain(cfg, bqm, compact, started, chain_limit)
    info = dict(sampleset.info)
    info["failures"] = failures
    result = Result(sampleset=sampleset, backend=name, info=info, model=bqm)
    if problem is not None:
        # the problem's own search is seeded by the backend's (recorded) seed, so a seeded solve replays exactly
        remaining = None if cfg.time_limit is None else cfg.time_limit - (time.perf_counter() - started)
        result.solution = problem.best_solution(sampleset, seed=info.get("options", {}).get("seed"),
                                                time_limit=remaining)
        if reference is not None:
            result.reference = problem.reference(reference, time_limit=cfg.time_limit)
    return result


def _run_chain(cfg: SolverConfig, bqm: dimod.BinaryQuadraticModel, compact: CompactModel, started: float,
               time_limit: float | None) -> tuple[dimod.SampleSet, str, list[dict[str, str]]]:
    """Try each backend of the chain in turn; record failures (secrets removed) and move on."""
    chain = cfg.chain
    prepared = {name: backend_class(name).options_type.from_kwargs(cfg.options_for(name)) for name in chain}
    failures: list[dict[str, str]] = []
    for position, name in enumerate(chain):
        last = position == len(chain) - 1
        options = prepared[name]
        if time_limit is not None:
            remaining = time_limit - (time.perf_counter() - started)
            if remaining <= 0 and not last:
                failures.append({"backend": name, "type": "TimeoutError", "message": "no time left in time_limit"})
                continue
            if "time_limit" in options.names():
                own = options.time_limit
                options = options.replace(time_limit=max(min(own or remaining, remaining), 1e-3))
        try:
            sampler = get_backend(name, **cfg.options_for(name))
            return sampler._sample_compact(bqm, compact, options, time.perf_counter_ns()), name, failures
        except (ValueError, TypeError):
            raise  # bad input or options: the user must fix them, another backend would hide the mistake
        except Exception as exc:
            if len(chain) == 1:
                raise
            failures.append({"backend": name, "type": type(exc).__name__, "message": redact(exc)})
    summary = "; ".join(f"{f['backend']}: {f['type']}: {f['message']}" for f in failures)
    raise BackendError(f"every backend of the chain failed: {summary}")
