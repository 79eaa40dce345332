"""What a solve returns: the sample set, the best answer, who answered and how long it took.

Example:
    >>> import qiopt
    >>> result = qiopt.solve({(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0}, backend="exact")
    >>> result.best_energy, result.backend
    (-1.0, 'exact')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dimod

__all__ = ["Result"]


@dataclass
class Result:
    """The outcome of :func:`qiopt.solve`.

    Attributes:
        sampleset: every sample the backend returned, with exact model energies (``dimod.SampleSet``).
        backend: the name of the backend that answered (after any fallback).
        info: the backend's info (resolved ``options``, ``timing``...) plus ``failures``: one entry per backend
            of the fallback chain that failed before this one, ``{"backend", "type", "message"}``.
        model: the model that was solved (a copy; the caller's object is untouched).
        solution: for a problem, the decoded (and repaired) best answer; ``None`` for a plain model.
        reference: for a problem solved with ``reference=...``, the reference method's answer.
    """

    sampleset: dimod.SampleSet
    backend: str
    info: dict[str, Any] = field(default_factory=dict)
    model: dimod.BinaryQuadraticModel | None = None
    solution: Any = None
    reference: Any = None

    @property
    def best_sample(self) -> dict[Any, int]:
        """The lowest-energy sample, ``{variable: value}``."""
        return dict(self.sampleset.first.sample)

    @property
    def best_energy(self) -> float:
        """The model's energy of :attr:`best_sample`."""
        return float(self.sampleset.first.energy)

    @property
    def timing(self) -> dict[str, int]:
        """``preprocessing_ns``, ``sampling_ns``, ``postprocessing_ns`` of the backend that answered."""
        return dict(self.info.get("timing", {}))

    @property
    def gap(self) -> float | None:
        """Relative gap of :attr:`solution` to :attr:`reference` (``(ours - ref) / max(|ref|, 1e-9)``)."""
        if self.solution is None or self.reference is None:
            return None
        ours, ref = self.solution.objective, self.reference.objective
        return (ours - ref) / max(abs(ref), 1e-9)

    def __repr__(self) -> str:
        extra = "" if self.solution is None else f", feasible={self.solution.feasible}"
        return (f"Result(backend={self.backend!r}, best_energy={self.best_energy:.6g}, "
                f"num_samples={len(self.sampleset)}{extra})")
