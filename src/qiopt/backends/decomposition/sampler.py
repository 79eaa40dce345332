"""The ``"decompose"`` backend: large-neighbourhood decomposition in the manner of qbsolv and dwave-hybrid.

One anneal of the whole model starts it; then, round after round, sub-problems are cut out around the variables
whose flips cost least (their *energy impact*), each a connected region grown breadth-first, annealed again with
everything outside it clamped, and written back where it lowers the whole model's energy. Every round's
sub-problems are disjoint and solved side by side: on this machine's threads, or on the workers of an executor
(a ``concurrent.futures.Executor`` or a ``distributed.Client``, passed as ``executor=`` here or to
:func:`qiopt.solve`), which receive only their sub-problem, never the whole model.

Use it for large sparse models with local structure, where one anneal of everything cannot reach the cold end
well in the time there is: on a 200,000-spin toroidal spin glass it ends 0.7 % lower in energy than one long
``sa`` anneal at equal time on two cores; on a random graph of that size (no local structure) ``sa`` is 0.8 %
better (BENCHMARKS.md, "Decomposition"). The answer never gets worse than the start: a sub-problem's answer is
merged only when its exact energy change in the whole model is negative.

Example:
    >>> import networkx as nx, qiopt
    >>> graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(12, 12, periodic=True))
    >>> result = qiopt.solve(graph, backend="decompose", seed=1, subproblem_size=40)
    >>> result.best_energy
    -288.0
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends._reads import ReadOptions
from qiopt.backends.base import Backend, RunOutput
from qiopt.executors import check_executor
from qiopt.model import CompactModel
from qiopt.options import option, optional, positive_float, positive_int, share
from qiopt.threads import lease

__all__ = ["DecompositionBackend", "DecompositionOptions", "solve_subproblem", "subproblem_betas", "workers"]

_executor: contextvars.ContextVar[Any] = contextvars.ContextVar("qiopt_decomposition_executor", default=None)


@contextlib.contextmanager
def workers(executor: Any) -> Iterator[None]:
    """Within the block, ``"decompose"`` solves its sub-problems on ``executor`` (how
    ``qiopt.solve(..., backend="decompose", executor=...)`` hands it over).

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import networkx as nx, qiopt
    >>> grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(12, 12, periodic=True))
    >>> with ThreadPoolExecutor(2) as pool, workers(pool):
    ...     result = qiopt.solve(grid, backend="decompose", seed=1, subproblem_size=40)
    >>> result.best_energy, result.info["decomposition"]["where"]
    (-288.0, 'ThreadPoolExecutor')
    """
    token = _executor.set(executor)
    try:
        yield
    finally:
        _executor.reset(token)


@dataclass(frozen=True)
class DecompositionOptions(ReadOptions):
    num_reads: int | None = option(
        None, "Reads of the start anneal (sa on the whole model); the lowest is decomposed and returned first, "
        "the others after it. Default 2.", check=optional(positive_int))
    start_sweeps: int | None = option(
        None, "Sweeps of the start anneal. Default 200; with time_limit, as many as fill start_share of it (a "
        "probe of a few sweeps measures their cost). With initial_states the start is those states, descended, "
        "and no anneal runs.", check=optional(positive_int))
    start_share: float = option(
        0.2, "Share of time_limit the start anneal may take; raise it on models without local structure "
        "(random graphs), where one long anneal beats sub-problems.", check=share)
    subproblem_size: int = option(
        500, "Variables per sub-problem: a region grown breadth-first (more seeds where a component of the model "
        "is smaller).", check=positive_int)
    subproblems_per_round: int | None = option(
        None, "Disjoint sub-problems solved side by side per round. Default 8 here, max(8, 2 × the executor's "
        "threads) on an executor; untimed results depend on it, never on the thread count.",
        check=optional(positive_int))
    subproblem_sweeps: int = option(250, "Sweeps of each sub-problem's anneal.", check=positive_int)
    subproblem_reads: int = option(16, "Reads of each sub-problem's anneal; the current values are kept when "
                                   "none is better.", check=positive_int)
    reheat: float = option(
        1 / 3, "Hot end of the sub-problems' anneals as a share of the start anneal's temperature range "
        "(its hot β divided by this); lower keeps more of the current state.", check=positive_float)
    num_rounds: int | None = option(
        None, "Most rounds. Default without time_limit: enough for every variable to be in about ten "
        "sub-problems, ending early once as many rounds as one such cover merged nothing; with time_limit: "
        "until the deadline.",
        check=optional(positive_int))


class DecompositionBackend(Backend):
    """Large-neighbourhood decomposition: clamped sub-problems around low-impact variables, annealed side by
    side (here or on ``executor``'s workers) and merged where they help."""

    name = "decompose"
    options_type = DecompositionOptions
    requires = ("numba",)
    summary = "decomposition (qbsolv / dwave-hybrid style): clamped sub-problems annealed on threads or workers"

    def __init__(self, executor: Any = None, **options: Any) -> None:
        super().__init__(**options)
        if executor is not None:
            check_executor(executor)
        self.executor = executor

    def _resolve(self, options: Any) -> Any:
        return options.replace(num_reads=options.num_reads or 2)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        from qiopt.backends.decomposition.rounds import decompose

        executor = self.executor if self.executor is not None else _executor.get()
        with lease(options.num_threads) as threads:
            return decompose(model, options, threads, executor)


def solve_subproblem(h: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                     current: np.ndarray, betas: np.ndarray, reads: int, seed: int) -> np.ndarray:
    """Anneal one clamped sub-problem (spin-domain CSR arrays, as :func:`~.regions.extract` makes them) from
    ``current``: ``reads`` anneals and the current values, each descended to a local minimum; returns the lowest
    (int8 ±1). Runs where the executor puts it, on one thread.

    >>> import numpy as np
    >>> h, ptr, idx, val = np.array([1.0, -1.0]), np.array([0, 1, 2]), np.array([1, 0], np.int32), np.ones(2)
    >>> solve_subproblem(h, ptr, idx, val, np.ones(2, np.int8), np.array([1.0, 5.0]), 2, seed=0).tolist()
    [-1, 1]
    """
    from qiopt.backends.annealing import kernels

    cm = CompactModel(labels=range(h.shape[0]), vartype=dimod.SPIN, h=h, indptr=indptr, indices=indices, data=data,
                      offset=0.0)
    states = np.repeat(current[None, :], reads + 1, axis=0)  # row 0: the current values
    kernels.anneal(cm, betas, 1, states[1:], seed=seed)
    kernels.steepest_descent(cm, states, num_threads=1)
    return states[int(np.argmin(cm.energies(states)))]


def subproblem_betas(model: CompactModel, options: Any) -> np.ndarray:
    """The sub-problems' schedule: ``subproblem_sweeps`` geometric βs from ``1 / reheat`` times the model's hot
    β to its cold β (:func:`qiopt.backends.annealing.schedule.default_beta_range`)."""
    from qiopt.backends.annealing import schedule

    hot, cold = schedule.default_beta_range(model)
    hot = hot / options.reheat
    return schedule.beta_schedule((hot, max(cold, hot)), options.subproblem_sweeps, "geometric")
