"""``qiopt.solve_many``: many models or problems solved at once, on local processes, any executor, or Dask.

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

import numpy as np

from qiopt.threads import default_threads

__all__ = ["solve_many"]


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
        seeds = [None if base is None else _derived(base, k) for k in range(len(items))]
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
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit() method (an Executor or a distributed.Client), got "
                        f"{type(executor).__name__}")
    return _gather(executor, items, seeds, options, "worker" if _is_dask(executor) else None)


def _gather(executor: Any, items: list[Any], seeds: Sequence[int | None], options: dict[str, Any],
            threads: int | str | None) -> list[Any]:
    extra = {"pure": False} if _is_dask(executor) else {}  # Dask: every call runs, even with equal arguments
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


def _derived(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([int(seed), k]).generate_state(1, np.uint64)[0] >> 1)


def _is_dask(executor: Any) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed"


def _local_dask() -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("executor='dask' needs the 'distributed' extra: python3 -m pip install "
                          "'qiopt[distributed]'") from None
    cluster = LocalCluster(n_workers=default_threads(), threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster
