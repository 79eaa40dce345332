"""The backend contract: every qiopt backend is a :class:`dimod.Sampler`.

A backend declares its options once (a :class:`~qiopt.options.Options` dataclass), stores them in ``__init__``
(scikit-learn style) and implements :meth:`Backend._run` on the compact model. The base class supplies
``parameters`` and ``properties`` derived from the options, per-call overrides, input checks, energies recomputed
from the model, and ``info["timing"]`` with the dwave-samplers keys.

Example:
    >>> import dimod, qiopt
    >>> sampler = qiopt.get_backend("exact")
    >>> sampleset = sampler.sample(dimod.BQM({"a": -1.0}, {}, 0.0, "BINARY"))
    >>> result = sampleset.first
    >>> {v: int(x) for v, x in result.sample.items()}, float(result.energy)
    ({'a': 1}, -1.0)
"""

from __future__ import annotations

import time
import warnings
from abc import abstractmethod
from typing import Any, ClassVar

import dimod
import numpy as np

from qiopt.model import CompactModel, _validate
from qiopt.options import Options

__all__ = ["Backend", "BackendError", "RunOutput"]


class BackendError(RuntimeError):
    """A backend could not produce an answer (service unreachable, job failed, problem too large...)."""


class RunOutput:
    """What :meth:`Backend._run` returns: ±1 states ``(num_samples, n)`` int8, optional counts, extra info."""

    __slots__ = ("info", "num_occurrences", "spins")

    def __init__(self, spins: np.ndarray, info: dict[str, Any] | None = None,
                 num_occurrences: np.ndarray | None = None) -> None:
        self.spins = np.asarray(spins, dtype=np.int8)
        self.info = info or {}
        self.num_occurrences = num_occurrences


class Backend(dimod.Sampler):
    """Base of every backend. Subclasses set ``name``, ``options_type`` and implement :meth:`_run`.

    ``requires`` lists the importable modules the backend needs; ``install_hint`` tells how to get them.
    Subclass modules must not import heavy dependencies at import time, so listing backends stays cheap.
    """

    name: ClassVar[str]
    options_type: ClassVar[type[Options]]
    requires: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str | None] = None
    summary: ClassVar[str] = ""
    structured: ClassVar[bool] = False
    """Whether the backend anneals structured constrained models itself (``_sample_structured``); the others
    get a problem's or a CQM's penalised QUBO."""

    def __init__(self, **options: Any) -> None:
        self.options = self.options_type.from_kwargs(options)

    def __repr__(self) -> str:
        defaults = self.options_type.docs()
        changed = {k: v for k, v in vars(self.options).items() if v is not defaults[k][0]
                   and not (isinstance(v, str | int | float | tuple) and v == defaults[k][0])}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"

    @property
    def parameters(self) -> dict[str, list]:
        """Every option can be overridden per call of :meth:`sample` (dimod's convention: name → [])."""
        return {name: [] for name in self.options_type.names()}

    @property
    def properties(self) -> dict[str, Any]:
        return {"name": self.name, "options": self.options.to_dict()}

    def sample(self, bqm: dimod.BinaryQuadraticModel, **overrides: Any) -> dimod.SampleSet:
        """Sample from ``bqm``; keyword arguments override this backend's options for this call only.

        An empty model gives an empty sample set (dimod's contract; :func:`qiopt.solve` refuses empty models).
        """
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(f"bqm must be a dimod.BinaryQuadraticModel, got {type(bqm).__name__}; "
                            "use qiopt.solve() or qiopt.model.as_bqm() for other model shapes")
        options = self.options.replace(**overrides)
        t0 = time.perf_counter_ns()
        _validate(bqm, allow_empty=True)
        compact = CompactModel.from_bqm(bqm) if bqm.num_variables else None
        return self._sample_compact(bqm, compact, options, t0)

    def _sample_compact(self, bqm: dimod.BinaryQuadraticModel, compact: CompactModel | None,
                        options: Options, t0: int) -> dimod.SampleSet:
        """Run on an already-built compact form (the solve path shares one across a fallback chain)."""
        if compact is None:
            info = {"timing": _timing(t0, time.perf_counter_ns(), time.perf_counter_ns()),
                    "options": options.to_dict(), "backend": self.name}
            return dimod.SampleSet.from_samples([], bqm.vartype, energy=[], info=info)
        if "seed" in options.names() and options.seed is None:  # record the seed drawn, so any run can be replayed
            options = options.replace(seed=int(np.random.SeedSequence().entropy % 2**63))
        asked = getattr(options, "num_reads", None)  # the caller's own number, before defaults are filled
        options = self._resolve(options)
        t1 = time.perf_counter_ns()
        out = self._run(compact, options, bqm)
        t2 = time.perf_counter_ns()
        samples = compact.to_vartype(out.spins)
        energies = bqm.energies((samples, compact.labels))
        vectors = {} if out.num_occurrences is None else {"num_occurrences": out.num_occurrences}
        info = {"options": options.to_dict(), "backend": self.name, **out.info}
        wanted = getattr(options, "num_reads", None)
        if wanted is not None and len(samples) < wanted:  # a deadline cut the reads short: say so
            info["num_reads_returned"] = len(samples)
            if asked is not None:
                warnings.warn(f"{self.name}: {len(samples)} of the {asked} reads asked fit in time_limit="
                              f"{getattr(options, 'time_limit', None)}s; raise time_limit or ask for fewer",
                              UserWarning, stacklevel=3)
        # the model's variable order: sorting the labels costs 0.24 s at 200,000 variables (7 ms unsorted)
        sampleset = dimod.SampleSet.from_samples((samples, compact.labels), bqm.vartype, energies,
                                                 info=info, sort_labels=False, **vectors)
        sampleset.info["timing"] = _timing(t0, t1, t2)
        return sampleset

    def _resolve(self, options: Options) -> Options:
        """Fill options whose default depends on the model kind (``None`` defaults); recorded in ``info``."""
        return options

    @abstractmethod
    def _run(self, model: CompactModel, options: Options, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        """Produce ±1 states for ``model`` (non-empty). Energies are computed by the base class."""


def _timing(t0: int, t1: int, t2: int) -> dict[str, int]:
    t3 = time.perf_counter_ns()
    return {"preprocessing_ns": t1 - t0, "sampling_ns": t2 - t1, "postprocessing_ns": t3 - t2}
