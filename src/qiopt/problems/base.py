"""The problem contract: domain data in, a model out, and any sample back to a domain answer.

Every builder (:class:`~qiopt.problems.allocation.TaskAllocation`, load balancing, graph problems) subclasses
:class:`Problem`. ``qiopt.solve(problem)`` builds the model, samples it, and fills ``Result.solution`` with
:meth:`Problem.best_solution` of the sample set: the best decoded and repaired answer.
"""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from qiopt.constrained.model import ConstrainedModel

__all__ = ["Problem", "Solution"]


@dataclass
class Solution:
    """A domain answer.

    Attributes:
        assignment: the decision, in domain terms (e.g. ``{task: agent}``).
        objective: the domain objective of ``assignment`` (lower is better), without penalties.
        violations: ``{constraint name: amount}`` for every violated constraint (empty when feasible).
        energy: the model energy of this answer (of :meth:`Problem.to_bqm`, slack variables set optimally), if
            known.
        repaired: whether :meth:`Problem.repair` changed the decoded assignment.
        details: problem-specific figures (e.g. makespan, imbalance, migrations).
    """

    assignment: Mapping[Any, Any]
    objective: float
    violations: dict[str, float] = field(default_factory=dict)
    energy: float | None = None
    repaired: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations


class Problem(ABC):
    """Base of every problem builder."""

    start_share = 0.2
    """Share of a structured solve's ``time_limit`` that :meth:`structured_starts` may take."""

    @abstractmethod
    def to_bqm(self) -> dimod.BinaryQuadraticModel:
        """The model (objective plus penalties); its variable labels are documented by each builder."""

    def to_constrained(self) -> ConstrainedModel | None:
        """The structured model the allocation engine anneals, or ``None`` when the problem is only solved
        through :meth:`to_bqm` (the default)."""
        return None

    def searchable(self) -> bool:
        """Whether :func:`qiopt.solve` runs :meth:`search` as a stage after the engine (default: no)."""
        return False

    def search(self, solution: Solution, time_limit: float | None = None, seed: int | None = None) -> Solution:
        """A local search from ``solution`` (problems with a :meth:`searchable` stage implement it)."""
        raise NotImplementedError(f"{type(self).__name__} has no search stage")

    def structured_starts(self, time_limit: float | None = None) -> list[tuple[str, Any]]:
        """Named starting states for the engine's reads, ``(name, 0/1 array over to_constrained()'s
        variables)``, found within ``time_limit`` seconds (``None``: no limit); the default is none (random
        starts)."""
        return []

    def structured_prices(self) -> np.ndarray | None:
        """Prices of :meth:`to_constrained`'s linear constraints (one per row, in row order) from the relaxation
        :meth:`structured_starts` solved, or ``None`` (the default): the engine anneals on the objective plus
        the priced constraint sums (see :func:`qiopt.backends.annealing.engine.anneal_constrained`)."""
        return None

    def from_state(self, x: Any) -> Solution:
        """The answer a state of :meth:`to_constrained`'s model stands for (problems with such a model)."""
        raise NotImplementedError(f"{type(self).__name__} has no structured model")

    @abstractmethod
    def decode(self, sample: Mapping[Any, int]) -> Solution:
        """The domain answer a sample stands for, scored, with its violations named."""

    @abstractmethod
    def evaluate(self, assignment: Mapping[Any, Any]) -> Solution:
        """Score any assignment in domain terms (also one produced by another tool)."""

    def repair(self, solution: Solution, time_limit: float | None = None) -> Solution:
        """Make ``solution`` feasible where possible, in at most ``time_limit`` seconds (``None``: the problem's
        own limit). The default returns it unchanged. :meth:`best_solution` passes ``time_limit`` only when it
        was itself given one, so an override taking just ``solution`` keeps working without a budget."""
        return solution

    def reference(self, method: str = "milp", time_limit: float | None = None) -> Solution:
        """A classical reference answer (e.g. ``"milp"``, ``"greedy"``) to judge others by."""
        raise ValueError(f"{type(self).__name__} has no reference method {method!r}")

    def warm_starts(self) -> list[tuple[str, Solution]]:
        """Extra starting answers for :meth:`best_solution` (e.g. a greedy baseline), as ``(name, solution)``."""
        return []

    def best_solution(self, sampleset: dimod.SampleSet, max_candidates: int = 8, seed: int | None = None,
                      time_limit: float | None = None) -> Solution:
        """Decode and repair the ``max_candidates`` lowest-energy distinct samples (and any :meth:`warm_starts`);
        return the best feasible one by objective, else the one with the smallest total violation.

        ``seed`` seeds any randomised improvement a subclass adds (this base method uses none).
        ``time_limit`` (seconds, ``None`` = no cap) caps this whole stage: each :meth:`repair` gets an equal share
        of what is left, and once it is spent no further sample is decoded (the lowest-energy one always is,
        and the warm starts are always included; a value ≤ 0 leaves them no search time).
        ``details["start"]`` names where the answer came from (``"sample k"`` or a warm start's name).
        """
        deadline = None if time_limit is None else time.perf_counter() + max(0.0, float(time_limit))
        rows = list(itertools.islice(sampleset.aggregate().data(["sample", "energy"], sorted_by="energy"),
                                     max(0, max_candidates)))
        if not rows:
            raise ValueError("the sample set is empty: nothing to decode")
        starts = self.warm_starts()
        candidates = []
        for k, datum in enumerate(rows):
            if k and deadline is not None and time.perf_counter() > deadline:
                break
            decoded = self.decode(datum.sample)
            if decoded.energy is None:
                decoded.energy = float(datum.energy)
            candidates.append(self._started(self._repair_by(decoded, deadline, len(rows) - k + len(starts)),
                                            f"sample {k}"))
        candidates += [self._started(self._repair_by(sol, deadline, len(starts) - j), name)
                       for j, (name, sol) in enumerate(starts)]
        return min(candidates, key=lambda s: (not s.feasible, sum(s.violations.values()), s.objective))

    def _repair_by(self, solution: Solution, deadline: float | None, left: int) -> Solution:
        """:meth:`repair` with an equal share of the time left before ``deadline`` among ``left`` candidates."""
        if deadline is None:
            return self.repair(solution)
        return self.repair(solution, time_limit=max(0.0, deadline - time.perf_counter()) / left)

    @staticmethod
    def _started(solution: Solution, start: str) -> Solution:
        solution.details["start"] = start
        return solution
