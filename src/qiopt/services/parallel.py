"""``qiopt.solve_many``: many models or problems solved at once, on local processes, any executor, or Dask; and
``qiopt.solve(..., executor=...)``: one model spread over them (:func:`spread`).

Each item is one :func:`qiopt.solve` call, run where the executor puts it; the results come back in input
order. Seeds make the answers the same wherever they run: ``seeds=[...]`` gives item ``k`` its own, and a plain
``seed=`` option gives item ``k`` a seed derived from ``(seed, k)``. The thread count of each call is set from
where it runs, so the tasks share the cores instead of each taking all of them:

* ``executor=None``: a pool of ``min(items, cores)`` local processes (``spawn``: fresh interpreters, so nothing
  of the caller's threads is copied), each solving with ``cores // workers`` threads;
* a :class:`concurrent.futures.Executor` you own (it is not shut down): the calls take the ``num_threads`` you
  pass, as in :func:`qiopt.solve`;
* a ``distributed.Client``, or ``"dask"`` (a ``LocalCluster`` of one single-threaded worker process per core,
  started and closed here; extra ``distributed``): each call uses as many threads as its Dask worker has.

Results are pickled back: the sample set, the decoded solution and the model solved all travel.

:func:`spread` is the other way round: one solve, its work spread over an executor's workers. The ``"auto"``
portfolio sends each of its members to a worker (the plan made for as many threads as there are workers); any
other backend runs one independent solve per worker with seeds derived from ``(seed, k)`` (its reads spread).
The ``"decompose"`` backend runs here instead and sends its sub-problems to the workers
(:mod:`qiopt.backends.decomposition`). The best answer comes back (feasible first, then the lowest objective or
energy), with ``info["spread"]`` saying what every task found and ``info["answered_by"]`` which task won.
With ``time_limit`` the tasks end by it; tasks not back by then are cancelled (the first to finish is always
waited for, so the call answers).

Example:
    >>> import networkx as nx, qiopt
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> graphs = [nx.cycle_graph(4), nx.cycle_graph(6)]
    >>> with ThreadPoolExecutor(2) as pool:
    ...     results = qiopt.solve_many(graphs, seed=3, executor=pool)
    >>> [r.best_energy for r in results]
    [-4.0, -6.0]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from qiopt.executors import check_executor, is_dask, submit_options, worker_count
from qiopt.options import derived_seed
from qiopt.threads import default_threads

__all__ = ["solve_many", "spread"]


def solve_many(models: Sequence[Any], *, seeds: Sequence[int | None] | None = None, executor: Any = None,
               **options: Any) -> list[Any]:
    """Solve every item of ``models`` with :func:`qiopt.solve` (``options`` are its keyword arguments) and
    return the :class:`~qiopt.result.Result` of each, in input order; see the module for ``seeds`` and
    ``executor``. An item's error is raised here, naming its position."""
    items = list(models)
    if seeds is not None and len(seeds) != len(items):
        raise ValueError(f"seeds must have one entry per model ({len(items)}), got {len(seeds)}")
    base = options.pop("seed", None)
    if seeds is None:
        seeds = [None if base is None else derived_seed(base, k) for k in range(len(items))]
    if not items:
        return []
    if executor is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(len(items), default_threads())
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            return _gather(pool, items, seeds, options, max(1, default_threads() // workers))
    if isinstance(executor, str):
        if executor != "dask":
            raise ValueError(f"executor must be None, an Executor, a distributed.Client or 'dask', got {executor!r}")
        client, cluster = _local_dask()
        try:
            return _gather(client, items, seeds, options, "worker")
        finally:
            client.close()
            cluster.close()
    check_executor(executor)
    return _gather(executor, items, seeds, options, "worker" if is_dask(executor) else None)


def _gather(executor: Any, items: list[Any], seeds: Sequence[int | None], options: dict[str, Any],
            threads: int | str | None) -> list[Any]:
    extra = submit_options(executor)
    futures = [executor.submit(_solve_one, item, seed, options, threads, **extra)
               for item, seed in zip(items, seeds, strict=True)]
    results = []
    for k, future in enumerate(futures):
        try:
            results.append(future.result())
        except (ValueError, TypeError) as exc:  # bad input: say which item
            raise type(exc)(f"solve_many: model {k}: {exc}") from exc
    return results


def _solve_one(model: Any, seed: int | None, options: dict[str, Any], threads: int | str | None) -> Any:
    """One :func:`qiopt.solve` where the executor runs it; ``threads`` is a count, ``"worker"`` (this Dask
    worker's thread count) or ``None`` (as the caller said)."""
    import qiopt
    from qiopt.backends.registry import backend_class
    from qiopt.config import resolve_config

    call = dict(options)
    if seed is not None:
        call["seed"] = seed
    if threads == "worker":
        from distributed import get_worker

        threads = get_worker().state.nthreads
    if threads is not None and "num_threads" not in call:
        backend = resolve_config(call.get("config"), backend=call.get("backend"), env=os.environ).backend
        if "num_threads" in backend_class(backend).options_type.names():
            call["num_threads"] = int(threads)
    return qiopt.solve(model, **call)


_POLL_S = 0.002  # how often the spread's futures are checked
_SPREAD_SHARE = 0.9  # of time_limit the spread tasks get; the rest pays for sending the model and the results


def spread(model: Any, executor: Any, *, _started: float | None = None, **call: Any) -> Any:
    """One :func:`qiopt.solve` (``call`` holds its keyword arguments) spread over ``executor``'s workers; see
    the module. ``executor`` is as for :func:`solve_many` (``None`` is not allowed: say where to run).

    >>> import networkx as nx, qiopt
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     result = qiopt.solve(nx.cycle_graph(8), seed=1, executor=pool)
    >>> result.best_energy, [task["seed"] for task in result.info["spread"]] == [
    ...     derived_seed(1, 0), derived_seed(1, 1)]
    (-8.0, True)
    """
    import time

    started = time.perf_counter() if _started is None else _started  # a local cluster's start-up counts
    if isinstance(executor, str):
        if executor != "dask":
            raise ValueError(f"executor must be an Executor, a distributed.Client or 'dask', got {executor!r}")
        client, cluster = _local_dask()
        try:
            return spread(model, client, _started=started, **call)
        finally:
            client.close()
            cluster.close()
    check_executor(executor)
    from qiopt.config import resolve_config

    backend = resolve_config(call.get("config"), backend=call.get("backend"), env=os.environ).backend
    if backend == "decompose":
        from qiopt.backends.decomposition.sampler import workers as decomposition_workers
        from qiopt.solve import solve

        if call.get("time_limit") is not None:  # a local cluster's start-up counts
            call = call | {"time_limit": max(1e-3, float(call["time_limit"]) - (time.perf_counter() - started))}
        with decomposition_workers(executor):  # one solve here; its sub-problems go to the workers
            return solve(model, **call)
    dask = is_dask(executor)
    workers = worker_count(executor)
    limit = call.get("time_limit")
    tasks = _tasks(model, call, backend, max(1, workers))
    if limit is not None:
        budget = _SPREAD_SHARE * float(limit) - (time.perf_counter() - started)
        tasks = [{**task, "time_limit": max(budget, 1e-3)} for task in tasks]
    extra = submit_options(executor)
    seeds = [task.pop("seed") for task in tasks]
    futures = [executor.submit(_solve_one, model, seed, task, "worker" if dask else None, **extra)
               for seed, task in zip(seeds, tasks, strict=True)]
    deadline = None if limit is None else started + float(limit)
    results, report = _collect(futures, [(task.get("backend"), seed) for task, seed in zip(tasks, seeds,
                                                                                        strict=True)], deadline)
    task, best = min(results.items(), key=lambda item: _rank(item[1]))  # ties: the first task
    best.info["spread"] = report
    best.info["answered_by"] = task
    return best


def _tasks(model: Any, call: dict[str, Any], backend: str, workers: int) -> list[dict[str, Any]]:
    """One solve call per task (its seed under ``"seed"``): the portfolio's members (``backend`` is the
    configured one), or one per worker."""
    import inspect

    from qiopt.backends.registry import backend_class
    from qiopt.solve import solve

    base = call.get("seed")
    rest = {k: v for k, v in call.items() if k != "seed"}
    if backend == "auto" and not _structured(model):
        from qiopt.backends.portfolio import features, plan
        from qiopt.model import CompactModel, as_bqm

        given = rest.pop("members", None)
        given = (given,) if isinstance(given, str) else given
        members = [(name, {}) for name in given] if given else [(name, own) for name, own in plan(
            features(CompactModel.from_bqm(as_bqm(model))), call.get("time_limit"), workers)]
        arguments = set(inspect.signature(solve).parameters)  # solve's own, the rest are backend options
        calls = [{k: v for k, v in rest.items() if k in arguments or k in backend_class(name).options_type.names()}
                 | own | {"backend": name} for name, own in members]
    else:
        calls = [dict(rest) for _ in range(workers)]
    return [task | {"seed": None if base is None else derived_seed(base, k)} for k, task in enumerate(calls)]


def _structured(model: Any) -> bool:
    import dimod

    from qiopt.constrained.model import ConstrainedModel
    from qiopt.constrained.program import is_program
    from qiopt.problems.base import Problem

    return isinstance(model, Problem | ConstrainedModel | dimod.ConstrainedQuadraticModel) or is_program(model)


def _collect(futures: list[Any], tasks: list[tuple[str | None, int | None]], deadline: float | None
             ) -> tuple[dict[int, Any], list[dict[str, Any]]]:
    """The results back by ``deadline`` (or the first to come back after it), and a report line per task
    (``tasks``: its backend and seed). Futures are polled, so this works for any executor's futures."""
    import time

    report = [{"task": k, "backend": backend, "seed": seed} for k, (backend, seed) in enumerate(tasks)]
    results: dict[int, Any] = {}
    pending, first_error = set(range(len(futures))), None
    while pending:
        for k in sorted(pending):
            if not futures[k].done():
                continue
            pending.discard(k)
            try:
                result = futures[k].result()
            except Exception as exc:
                first_error = first_error or exc
                report[k]["status"] = f"failed: {type(exc).__name__}: {exc}"
                continue
            results[k] = result
            report[k] |= {"status": "done", "backend": result.backend, "best_energy": result.best_energy,
                          "feasible": result.feasible}
            if result.solution is not None:
                report[k]["objective"] = result.solution.objective
        if pending and results and deadline is not None and time.perf_counter() > deadline:
            for k in pending:
                futures[k].cancel()
                report[k]["status"] = "not back by the time limit (cancelled)"
            break
        if pending:
            time.sleep(_POLL_S)
    if not results:
        raise first_error
    return dict(sorted(results.items())), report


def _rank(result: Any) -> tuple[bool, float]:
    """Feasible answers first, then the lowest objective (a problem's) or energy."""
    value = result.solution.objective if result.solution is not None else result.best_energy
    return (not result.feasible, float(value))


def _local_dask() -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("executor='dask' needs the 'distributed' extra: python3 -m pip install "
                          "'qiopt[distributed]'") from None
    cluster = LocalCluster(n_workers=default_threads(), threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster
