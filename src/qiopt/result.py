"""What a solve returns: the sample set, the best answer, who answered and how long it took.

Example:
    >>> import qiopt
    >>> result = qiopt.solve({(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0}, backend="exact")
    >>> result.best_energy, result.backend
    (-1.0, 'exact')
    >>> round(result.lower_bound, 6), result.certified_gap    # roof duality proves -1 optimal
    (-1.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

__all__ = ["Result"]


@dataclass
class Result:
    """The outcome of :func:`qiopt.solve`.

    Attributes:
        sampleset: every sample the backend returned, with exact model energies (``dimod.SampleSet``).
        backend: the name of the backend that answered (after any fallback).
        info: the backend's info (resolved ``options``, ``timing``...) plus ``failures``: one entry per backend
            of the fallback chain that failed before this one, ``{"backend", "type", "message"}``.
        model: the model that was solved: the BQM, or the :class:`~qiopt.constrained.ConstrainedModel` on the
            structured path (a copy or a derived form; the caller's object is untouched).
        solution: for a problem, the decoded (and repaired) best answer; ``None`` for a plain model.
        reference: for a problem solved with ``reference=...``, the reference method's answer.

    :attr:`lower_bound` and :attr:`certified_gap` say how far from the best possible the answer can be.
    """

    sampleset: dimod.SampleSet
    backend: str
    info: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    solution: Any = None
    reference: Any = None
    _bound: Any = field(default=None, repr=False, compare=False)

    @property
    def bound(self) -> Any:
        """The :class:`~qiopt.bounds.Bound` on :attr:`model`'s optimum: :meth:`compute_bound` without a time
        limit, on first use."""
        return self.compute_bound()

    def compute_bound(self, time_limit: float | None = None) -> Any:
        """Compute (once; later calls return it) the :class:`~qiopt.bounds.Bound` on :attr:`model`'s optimum:
        roof duality for a BQM, the LP relaxation (HiGHS, within ``time_limit`` seconds) for a constrained
        model. Its method, status and time go to ``info["bound"]``. Never part of the solve's time limit."""
        if self._bound is None:
            from qiopt.bounds import lower_bound

            self._bound = lower_bound(self.model, time_limit=time_limit)
        self.info["bound"] = {"method": self._bound.method, "status": self._bound.status,
                              "seconds": self._bound.seconds}
        return self._bound

    @property
    def feasible(self) -> bool:
        """Whether the answer returned is feasible: a problem's :attr:`solution`, the best sample of a
        constrained model; a BQM has no constraints (always ``True``)."""
        if self.solution is not None:
            return bool(self.solution.feasible)
        record = self.sampleset.record
        return bool(record.is_feasible.any()) if "is_feasible" in record.dtype.names else True

    @property
    def lower_bound(self) -> float | None:
        """A proven lower bound on the best answer there is: on the energy of a BQM, on the objective of a
        constrained model or a problem (the minimised form: for a maximised program, of ``−objective``).
        ``inf``: no feasible answer exists; ``None``: no bound was found (the LP ran out of time)."""
        return self.bound.value

    @property
    def certified_gap(self) -> float | None:
        """``(answer − lower_bound) / |answer|`` for the answer returned (a problem's objective, the best
        feasible energy of a constrained model, the best energy of a BQM): no answer is better than this
        fraction below it. ``None`` without a feasible answer or a bound (see
        :func:`qiopt.bounds.certified_gap`)."""
        from qiopt.bounds import certified_gap

        return certified_gap(self._answer_value(), self.lower_bound)

    def _answer_value(self) -> float | None:
        if not self.feasible:
            return None
        return float(self.solution.objective) if self.solution is not None else float(self._best_row().energy)

    @property
    def best_sample(self) -> dict[Any, int]:
        """The best sample, ``{variable: value}``: the lowest-energy one, or for a constrained model the
        lowest-energy feasible one (when any is)."""
        return dict(zip(self.sampleset.variables, self._best_row().sample.tolist(), strict=True))

    @property
    def best_energy(self) -> float:
        """The energy of the answer returned: :attr:`solution`'s model energy for a problem (of its exported
        QUBO, slack set optimally), else that of :attr:`best_sample`."""
        if self.solution is not None and self.solution.energy is not None:
            return float(self.solution.energy)
        return float(self._best_row().energy)

    def _best_row(self) -> Any:
        record = self.sampleset.record
        if "is_feasible" in record.dtype.names and record.is_feasible.any():
            rows = np.flatnonzero(record.is_feasible)
            return record[rows[np.argmin(record.energy[rows])]]
        return record[np.argmin(record.energy)]

    @property
    def timing(self) -> dict[str, int]:
        """``preprocessing_ns``, ``sampling_ns``, ``postprocessing_ns`` of the backend that answered."""
        return dict(self.info.get("timing", {}))

    @property
    def gap(self) -> float | None:
        """Relative gap of :attr:`solution` to :attr:`reference`, ``(ours − ref) / |ref|``; ``None`` unless both
        are feasible, and ``None`` when ``|ref|`` is too close to zero for a ratio to mean anything (below
        ``1e-9 · (1 + |ours|)``; equal objectives still give 0)."""
        if self.solution is None or self.reference is None:
            return None
        if not (self.solution.feasible and self.reference.feasible):
            return None
        ours, ref = self.solution.objective, self.reference.objective
        if ours == ref:
            return 0.0
        if abs(ref) < 1e-9 * (1.0 + abs(ours)):
            return None
        return (ours - ref) / abs(ref)

    def __repr__(self) -> str:
        extra = "" if self.solution is None else f", feasible={self.solution.feasible}"
        return (f"Result(backend={self.backend!r}, best_energy={self.best_energy:.6g}, "
                f"num_samples={len(self.sampleset)}{extra})")
