"""qiopt.threads.run_tasks: every task runs once, at most num_threads at a time, and a failure is raised only
after every task has ended."""

import threading
import time

import pytest

from qiopt.threads import run_tasks


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_every_task_runs_once_on_at_most_the_threads_asked(threads):
    lock, running, peak, seen = threading.Lock(), [0], [0], []

    def work(lo, hi):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.005)
        with lock:
            running[0] -= 1
            seen.extend(range(lo, hi))

    run_tasks([(k, k + 1) for k in range(12)], work, threads)
    assert sorted(seen) == list(range(12)) and 1 <= peak[0] <= threads


def test_a_failing_task_is_raised_after_the_others_end():
    ended = []

    def work(lo, hi):
        if lo == 0:
            raise RuntimeError("task 0 failed")
        time.sleep(0.02)
        ended.append(lo)

    with pytest.raises(RuntimeError, match="task 0"):
        run_tasks([(k, k + 1) for k in range(4)], work, 2)
    assert sorted(ended) == [1, 2, 3]  # none still running when the error came back


def test_concurrent_callers_share_the_pool():
    results = {}

    def caller(name):
        out = []
        run_tasks([(k, k + 1) for k in range(20)], lambda lo, hi: out.append(lo), 2)
        results[name] = sorted(out)

    callers = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert results == {k: list(range(20)) for k in range(4)}
