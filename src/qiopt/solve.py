"""``qiopt.solve``: one call from a model or a problem to a :class:`~qiopt.result.Result`.

Two paths, chosen per backend of the chain:

* **structured**: a problem with a structured model (:meth:`~qiopt.problems.base.Problem.to_constrained`:
  task allocation, load balancing, partitioning), a dimod CQM or a
  :class:`~qiopt.constrained.ConstrainedModel`, on a backend that anneals such models (``"sa"``). The engine's
  stages (anneal, polish) run inside the backend; a problem's answer is decoded from the best feasible read.
  A ``repair`` stage runs only when no read is feasible; a ``search`` stage (the problem's iterated local
  search over every pair, :meth:`~qiopt.problems.assignment.AssignmentProblem.search`) follows on problems
  small enough (``searchable()``), with a quarter of the time limit.
* **QUBO**: anything else, and every other backend (``exact``, ``qaoa``, ``ibm``, plugins): the model's BQM
  (a problem's :meth:`~qiopt.problems.base.Problem.to_bqm`, with sound penalties) is sampled, and a problem
  decodes, repairs and polishes the samples (:meth:`~qiopt.problems.base.Problem.best_solution`).

``Solution.details["source"]`` says where the answer came from; ``Result.timing`` has every stage's time.

Example:
    >>> import networkx as nx, qiopt
    >>> result = qiopt.solve(nx.cycle_graph(4), seed=3)    # max-cut of a 4-cycle with the default "sa"
    >>> result.best_energy
    -4.0
"""

from __future__ import annotations

import os
import time
from functools import cached_property
from typing import Any

import dimod
import numpy as np

from qiopt.backends.base import BackendError
from qiopt.backends.registry import backend_class, get_backend
from qiopt.config import SolverConfig, resolve_config
from qiopt.constrained.model import ConstrainedModel
from qiopt.constrained.program import from_program, is_program
from qiopt.model import CompactModel, _validate, as_bqm
from qiopt.problems._data import number
from qiopt.problems.base import Problem
from qiopt.progress import enabled as progress_enabled
from qiopt.result import Result
from qiopt.secrets import redact

__all__ = ["solve"]

_DECODE_SHARE = 0.05  # of a structured solve's time_limit kept for decoding the answer
_SEARCH_SHARE = 0.25  # of a structured solve's time_limit given to the problem's search stage, where it runs
_START_SHARE = 0.2  # of a structured solve's time_limit a model's LP start may take (a problem has its start_share)


def solve(model: Any, *, backend: str | None = None,
          config: str | os.PathLike[str] | SolverConfig | dict[str, Any] | None = None,
          fallback: list[str] | tuple[str, ...] | None = None, time_limit: float | None = None,
          reference: str | None = None, reference_time_limit: float | None = None, progress: bool | None = None,
          starts: bool = True, search: bool = True, preprocess: str | None = None, executor: Any = None,
          **options: Any) -> Result:
    """Solve ``model`` with the configured backend and return a :class:`~qiopt.result.Result`.

    Args:
        model: a :class:`~qiopt.problems.base.Problem`, a dimod ``ConstrainedQuadraticModel``, a
            :class:`~qiopt.constrained.ConstrainedModel`, or anything :func:`qiopt.model.as_bqm` accepts.
        backend: a registered backend name (default ``"sa"``; see :func:`qiopt.available_backends`).
        config: a TOML file path, a :class:`~qiopt.config.SolverConfig` or a mapping (see :mod:`qiopt.config`).
        fallback: backends tried in order when one fails; the failures are recorded in ``Result.info``.
        time_limit: seconds for the whole solve, decoding and post-processing included. Backends of the chain
            that have a ``time_limit`` option get what remains of it. On the QUBO path a problem's backends
            share the first half and decoding, repair and the local search get the rest. A reference, if asked
            for, is not part of it: it gets its own ``time_limit`` and its time is reported apart.
        reference: for a problem, a classical reference method (e.g. ``"milp"``, ``"greedy"``) to compare with;
            the answer goes to ``Result.reference`` and the relative gap to ``Result.gap``.
        reference_time_limit: seconds for the reference alone (default: ``time_limit``); never part of
            ``time_limit``, and its time is ``info["reference_seconds"]``.
        progress: show a progress bar for long solves (True), never (False), or only on a terminal (None).
        starts: on the structured path, start the engine's reads from the problem's own starts (its
            :meth:`~qiopt.problems.base.Problem.structured_starts`: an LP relaxation for task allocation, greedy
            rebalancing or LPT for load balancing), or for a CQM, ConstrainedModel or program from its rounded
            LP relaxation (:func:`qiopt.bounds.lp_start`, whose bound becomes ``Result.lower_bound``);
            ``False``: random starts (for ablations).
        search: on the structured path, run the problem's ``search`` stage where it has one; ``False``: skip it.
        preprocess: ``"roof_duality"``: for a BQM, fix the variables whose value is the same in every optimum
            (:func:`qiopt.bounds.fix_variables`) and sample only the rest; the samples are returned over every
            variable, ``info["preprocess"]`` counts what was fixed, and the bound is kept as
            :attr:`~qiopt.result.Result.lower_bound`. When everything is fixed no backend runs
            (``Result.backend == "roof_duality"``). ``None`` (default): no preprocessing.
        executor: spread this solve over an executor's workers (a ``concurrent.futures.Executor``, a
            ``distributed.Client`` or ``"dask"``): the ``"auto"`` portfolio's members run on workers of their
            own, ``"decompose"`` sends its sub-problems to the workers, any other backend runs one seeded solve
            per worker; the best answer comes back with ``info["spread"]`` (see
            :func:`qiopt.services.parallel.spread`). ``None`` (default): here.
        **options: options of the chosen backend, overriding the config.

    Explicit arguments win over ``QIOPT_*`` environment variables, which win over the config file.
    """
    if executor is not None:
        from qiopt.services.parallel import spread

        return spread(model, executor, backend=backend, config=config, fallback=fallback, time_limit=time_limit,
                      reference=reference, reference_time_limit=reference_time_limit, progress=progress,
                      starts=starts, search=search, preprocess=preprocess, **options)
    cfg = resolve_config(config, backend=backend, fallback=fallback, time_limit=time_limit, options=options)
    started = time.perf_counter()
    problem = model if isinstance(model, Problem) else None
    if reference is not None and problem is None:
        raise ValueError("reference needs a qiopt Problem (a plain model has no domain objective)")
    if reference_time_limit is not None:  # checked before anything runs
        reference_time_limit = number(reference_time_limit, "reference_time_limit", positive=True)
    if preprocess not in (None, "roof_duality"):
        raise ValueError(f"preprocess must be None or 'roof_duality', got {preprocess!r}")
    share = _START_SHARE if problem is None else problem.start_share
    models = _Models(model, problem, starts, None if cfg.time_limit is None else share * cfg.time_limit)
    if preprocess is not None and models.structured is not None:
        raise ValueError("preprocess='roof_duality' fixes variables of a BQM; problems and constrained models go to "
                         "the structured engine: solve them without preprocess")
    bound = None
    with progress_enabled(progress):
        if preprocess is None:
            sampleset, name, failures, structured = _run_chain(cfg, models, started, search, options)
        else:
            sampleset, name, failures, bound = _fixed_chain(cfg, models, started, options)
            structured = False
    info = dict(sampleset.info)
    info["failures"] = failures
    result = Result(sampleset=sampleset, backend=name, info=info,
                    model=models.structured if structured else models.bqm)
    result._bound = bound if bound is not None else models.bound
    if problem is not None:
        remaining = None if cfg.time_limit is None else cfg.time_limit - (time.perf_counter() - started)
        t0 = time.perf_counter_ns()
        if structured:
            result.solution = _structured_answer(problem, sampleset, name, remaining, info["timing"],
                                                 info.get("options", {}).get("seed"), search)
        else:
            # the problem's own search is seeded by the backend's (recorded) seed, so a seeded solve replays
            result.solution = problem.best_solution(sampleset, seed=info.get("options", {}).get("seed"),
                                                    time_limit=remaining)
            result.solution.details.setdefault("source", f"{name} sample + repair and local search")
            info["timing"]["problem_search_ns"] = time.perf_counter_ns() - t0
        if reference is not None:
            t1 = time.perf_counter()
            limit = cfg.time_limit if reference_time_limit is None else reference_time_limit
            result.reference = problem.reference(reference, time_limit=limit)
            info["reference_seconds"] = time.perf_counter() - t1
    return result


class _Models:
    """The forms of one input, each built only when a backend needs it (the BQM of a million-task problem
    is never built for the engine)."""

    def __init__(self, model: Any, problem: Problem | None, starts: bool, start_limit: float | None) -> None:
        self.model, self.problem = model, problem
        self.notes: dict[str, Any] = {}
        self.starts: list[tuple[str, Any]] = []
        self.start_ns = 0
        self.bound: Any = None  # the LP bound, when the LP start computed it
        self.prices: np.ndarray | None = None  # the constraints' prices, when the starts' relaxation found them
        built = time.perf_counter()
        if problem is not None:
            self.structured: ConstrainedModel | None = problem.to_constrained()
            if self.structured is not None and starts:
                t0 = time.perf_counter_ns()
                left = None if start_limit is None else max(0.0, start_limit - (time.perf_counter() - built))
                self.starts = problem.structured_starts(time_limit=left)  # building the model counts
                self.prices = problem.structured_prices()
                self.start_ns = time.perf_counter_ns() - t0
        elif isinstance(model, dimod.ConstrainedQuadraticModel):
            from qiopt.constrained.cqm import from_cqm

            self.structured, self.notes = from_cqm(model)
        elif isinstance(model, ConstrainedModel):
            self.structured = model
        elif is_program(model):  # qiskit-optimization's QuadraticProgram, read without importing it
            self.structured, self.notes = from_program(model)
        else:
            self.structured = None
            self.__dict__["bqm"] = as_bqm(model)  # validate plain models up front
        if problem is None and self.structured is not None and starts:
            self._lp_start(None if start_limit is None else start_limit - (time.perf_counter() - built))

    def _lp_start(self, time_limit: float | None) -> None:
        """A model's own start (a CQM, a program): its LP relaxation rounded, when small enough and in time
        (:data:`qiopt.bounds.LP_START_LIMIT`, :data:`qiopt.bounds.LP_SECONDS_PER_ENTRY`); the LP's bound is
        kept for :attr:`~qiopt.result.Result.lower_bound`."""
        from qiopt.bounds import LP_SECONDS_PER_ENTRY, LP_START_LIMIT, TANGENTS, lp_start

        cm = self.structured
        size = cm.num_variables + cm.A.nnz + cm.quadratic.nnz + len(TANGENTS) * cm.B.nnz
        if size > LP_START_LIMIT or (time_limit is not None and time_limit < LP_SECONDS_PER_ENTRY * size):
            return
        t0 = time.perf_counter_ns()
        state, self.bound = lp_start(cm, time_limit)
        self.starts = [] if state is None else [("lp", state)]
        self.start_ns = time.perf_counter_ns() - t0

    @cached_property
    def bqm(self) -> dimod.BinaryQuadraticModel:
        if self.problem is not None:
            return _validate(self.problem.to_bqm())
        if self.structured is not None:
            return _validate(self.structured.to_bqm())
        return as_bqm(self.model)

    @cached_property
    def compact(self) -> CompactModel:
        return CompactModel.from_bqm(self.bqm)


def _run_chain(cfg: SolverConfig, models: _Models, started: float, search: bool, calls: dict[str, Any]
               ) -> tuple[dimod.SampleSet, str, list[dict[str, str]], bool]:
    """Try each backend of the chain in turn; record failures (secrets removed) and move on. Returns the
    sample set, the backend that answered, the failures and whether it ran on the structured model.

    Options are validated for every backend before any runs (a bad option is the caller's to fix); the
    call's own options (``calls``) also reach each fallback that has them, so a seeded chain replays. Once
    running, any failure of a backend, whatever its type, moves on to the next; a chain of one re-raises it."""
    chain = cfg.chain
    # the primary has every call option already (an unknown one is an error); a fallback takes those it has
    kwargs = {name: cfg.options_for(name) if name == chain[0] else cfg.options_for(name)
              | {k: v for k, v in calls.items() if k in backend_class(name).options_type.names()} for name in chain}
    prepared = {name: backend_class(name).options_type.from_kwargs(kwargs[name]) for name in chain}
    failures: list[dict[str, str]] = []
    last_error: Exception | None = None
    for position, name in enumerate(chain):
        last = position == len(chain) - 1
        options = prepared[name]
        structured = models.structured is not None and backend_class(name).structured
        if not structured:
            models.compact  # noqa: B018  (built once, here, so that its time counts against time_limit)
        if cfg.time_limit is not None:
            share = 1.0 - _DECODE_SHARE if structured or models.problem is None else 0.5
            if structured and search and models.problem is not None and models.problem.searchable():
                share -= _SEARCH_SHARE
            remaining = cfg.time_limit * share - (time.perf_counter() - started)
            if remaining <= 0 and not last:
                failures.append({"backend": name, "type": "TimeoutError", "message": "no time left in time_limit"})
                continue
            if "time_limit" in options.names():
                own = options.time_limit
                options = options.replace(time_limit=max(min(own or remaining, remaining), 1e-3))
        try:
            sampler = get_backend(name, **kwargs[name])
            t0 = time.perf_counter_ns()
            if structured:
                warm = models.starts if options.initial_states is None else []
                starts = np.stack([state for _, state in warm]) if warm else None
                sampleset = sampler._sample_structured(models.structured, options, t0, starts, models.prices)
                sampleset.info.update(models.notes)
                if warm:
                    sampleset.info["starts"] = [start for start, _ in warm]
                if models.start_ns:  # the starts' time counts also when they found none (an LP out of time)
                    sampleset.info["timing"]["starts_ns"] = models.start_ns
            else:
                sampleset = sampler._sample_compact(models.bqm, models.compact, options, t0)
            return sampleset, name, failures, structured
        except Exception as exc:
            if len(chain) == 1:
                raise
            failures.append({"backend": name, "type": type(exc).__name__, "message": redact(exc)})
            last_error = exc
    summary = "; ".join(f"{f['backend']}: {f['type']}: {f['message']}" for f in failures)
    raise BackendError(f"every backend of the chain failed: {summary}") from last_error


def _fixed_chain(cfg: SolverConfig, models: _Models, started: float, calls: dict[str, Any]
                 ) -> tuple[dimod.SampleSet, str, list[dict[str, str]], Any]:
    """``preprocess="roof_duality"``: fix what roof duality can, run the chain on the rest, and extend every
    sample with the fixed values (energies of the whole model). Returns the chain's answer and the bound."""
    from qiopt.bounds import fix_variables

    t0 = time.perf_counter_ns()
    bqm = models.bqm
    reduced, fixed, bound = fix_variables(bqm)
    fixed_ns = time.perf_counter_ns() - t0
    labels = list(bqm.variables)
    if reduced.num_variables:
        part, name, failures, _ = _run_chain(cfg, _Models(reduced, None, False, None), started, False, calls)
        record, column = part.record, {v: k for k, v in enumerate(part.variables)}
        values = np.empty((len(record), len(labels)), dtype=np.int8)
        for j, v in enumerate(labels):
            values[:, j] = fixed[v] if v in fixed else record.sample[:, column[v]]
        vectors = {f: record[f] for f in record.dtype.names if f not in ("sample", "energy")}
        info = dict(part.info)
    else:  # every variable fixed: the optimum is known, no backend runs
        values = np.array([[fixed[v] for v in labels]], dtype=np.int8)
        name, failures, vectors, info = "roof_duality", [], {}, {"timing": {}}
    info["timing"] = {**info.get("timing", {}), "roof_duality_ns": fixed_ns}
    info["preprocess"] = {"method": "roof_duality", "fixed": len(fixed), "num_variables": len(labels)}
    return dimod.SampleSet.from_samples_bqm((values, labels), bqm, info=info, **vectors), name, failures, bound


def _structured_answer(problem: Problem, sampleset: dimod.SampleSet, backend: str, remaining: float | None,
                       timing: dict[str, int], seed: int | None, search: bool) -> Any:
    """The problem's answer from the engine's best read (rows come best feasible first); a timed ``repair``
    stage only when no read is feasible, and the problem's ``search`` stage where it has one."""
    started = time.perf_counter()
    t0 = time.perf_counter_ns()
    record = sampleset.record
    row = record[0]
    solution = problem.from_state(np.asarray(row.sample))
    polished = bool(row.polished) if "polished" in record.dtype.names else False
    starts = sampleset.info.get("starts")
    solution.details["source"] = (f"{' / '.join(starts)} start + " if starts else "") + f"{backend} anneal" \
        + (" + polish" if polished else "")
    timing["decode_ns"] = time.perf_counter_ns() - t0
    if not solution.feasible:
        t1 = time.perf_counter_ns()
        repaired = problem.repair(solution, time_limit=None if remaining is None else max(0.0, remaining))
        repaired.details["source"] = solution.details["source"] + " + repair"
        solution = repaired
        timing["repair_ns"] = time.perf_counter_ns() - t1
    if search and problem.searchable():
        t2 = time.perf_counter_ns()
        left = None if remaining is None else 0.85 * max(0.0, remaining - (time.perf_counter() - started))
        searched = problem.search(solution, time_limit=left, seed=seed)
        if searched is not solution:
            searched.details["source"] = solution.details["source"] + " + search"
        solution = searched
        timing["search_ns"] = time.perf_counter_ns() - t2
    return solution
