"""The process-wide thread budget: concurrent solves share the cores instead of each taking all of them.

A solve that is not told how many threads to use (``num_threads=None``) takes a :func:`lease` of what is
free: the default budget (``QIOPT_NUM_THREADS`` when set, else the cores this process may run on) minus the
threads other solves in this process hold right now, at least one. A solve given ``num_threads`` uses that many
and counts against the budget while it runs. The kernels' answers do not depend on the thread count (each read
has its own random stream), so a seeded solve gives the same answer alone or next to others.

Example:
    >>> with lease(None) as mine:          # alone: the whole budget
    ...     with lease(None) as theirs:    # next to it: what is left, at least one
    ...         mine == default_threads(), theirs == max(1, default_threads() - mine)
    (True, True)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

__all__ = ["VARIABLE", "default_threads", "lease", "run_tasks"]

VARIABLE = "QIOPT_NUM_THREADS"
"""The environment variable that sets the thread budget of this process."""

_lock = threading.Lock()
_held = 0


def default_threads() -> int:
    """The budget: ``QIOPT_NUM_THREADS`` (a positive integer) or the cores this process may run on."""
    text = os.environ.get(VARIABLE, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{VARIABLE} must be a positive integer number of threads, got {text!r}")
        return int(text)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def lease(asked: int | None) -> Iterator[int]:
    """Threads for one call: ``asked`` when given, else what the budget has free (at least 1), held until
    the ``with`` block ends."""
    global _held
    with _lock:
        threads = int(asked) if asked else max(1, default_threads() - _held)
        _held += threads
    try:
        yield threads
    finally:
        with _lock:
            _held -= threads


_POOL_SIZE = 256  # threads the shared pool may grow to; started lazily, idle ones are kept for the next call
_pool: ThreadPoolExecutor | None = None


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="qiopt")
        return _pool


def run_tasks(tasks: list[tuple[int, int]], work: Callable[[int, int], None], num_threads: int) -> None:
    """Run ``work(lo, hi)`` for every task on ``num_threads`` threads (compiled kernels release the GIL).

    The threads come from one pool shared by the process, kept between calls (starting fresh threads cost
    about 5 ms per allocation request of the streaming benchmark): ``num_threads`` of them take the tasks in
    turn. ``work`` must not call :func:`run_tasks` itself.

    >>> done = []
    >>> run_tasks([(0, 2), (2, 4), (4, 5)], lambda lo, hi: done.extend(range(lo, hi)), 2)
    >>> sorted(done)
    [0, 1, 2, 3, 4]
    """
    if num_threads == 1 or len(tasks) == 1:
        for lo, hi in tasks:
            work(lo, hi)
        return
    queue, taking = iter(tasks), threading.Lock()

    def drain() -> None:
        while True:
            with taking:
                task = next(queue, None)
            if task is None:
                return
            work(*task)

    futures = [_shared_pool().submit(drain) for _ in range(min(num_threads, len(tasks)))]
    wait(futures)  # every task ends before this returns, also when one failed
    for future in futures:
        future.result()
