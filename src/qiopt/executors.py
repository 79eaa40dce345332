"""What qiopt needs to know of an executor: a ``concurrent.futures.Executor`` or a ``distributed.Client``.

Both have ``submit``; a Dask client also needs ``pure=False`` (else two calls with equal arguments share one
result) and counts its workers through the scheduler.

Example:
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(3) as pool:
    ...     is_dask(pool), worker_count(pool), slots(pool), submit_options(pool)
    (False, 3, 3, {})
"""

from __future__ import annotations

from typing import Any

from qiopt.threads import default_threads

__all__ = ["check_executor", "is_dask", "slots", "submit_options", "worker_count"]


def check_executor(executor: Any) -> None:
    """TypeError unless ``executor`` has a ``submit()`` method."""
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit() method (an Executor or a distributed.Client), got "
                        f"{type(executor).__name__}")


def is_dask(executor: Any) -> bool:
    """Whether ``executor`` is a ``distributed.Client`` (checked by module, without importing distributed)."""
    return type(executor).__module__.split(".")[0] == "distributed"


def worker_count(executor: Any) -> int:
    """The workers a task may land on: a Dask cluster's workers now, an executor's ``max_workers``, or this
    process's thread budget for an executor that does not say."""
    if is_dask(executor):
        return max(1, len(executor.scheduler_info()["workers"]))
    return max(1, getattr(executor, "_max_workers", None) or default_threads())


def slots(executor: Any) -> int:
    """Tasks that can run at once: the threads of a Dask cluster's workers, else :func:`worker_count`."""
    if is_dask(executor):
        return max(1, sum(w.get("nthreads", 1) for w in executor.scheduler_info()["workers"].values()))
    return worker_count(executor)


def submit_options(executor: Any) -> dict[str, Any]:
    """Keyword arguments for ``executor.submit``: ``pure=False`` on Dask, so every call runs."""
    return {"pure": False} if is_dask(executor) else {}
