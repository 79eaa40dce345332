"""Reads shared by the BQM backends: their common options, warm starts, start states and keeping the best.

Every sampling backend (``sa``, ``tabu``, ``sb``, ``pt``, ``sqa``) declares its options as a subclass of
:class:`ReadOptions`, so ``num_reads``, ``seed``, ``initial_states``, ``initial_states_generator``,
``time_limit`` and ``num_threads`` mean the same everywhere and are declared once.

Example:
    >>> import dimod, numpy as np
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BQM({"a": 1.0, "b": -1.0}, {}, 0.0, "BINARY"))
    >>> warm = initial_spins(cm, [{"a": 0, "b": 1}])
    >>> warm.tolist()
    [[-1, 1]]
    >>> options = ReadOptions(seed=3, initial_states_generator="tile", initial_states=[{"a": 0, "b": 1}])
    >>> start_states(cm, options, warm, batch=0, reads=3).tolist()
    [[-1, 1], [-1, 1], [-1, 1]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.model import CompactModel
from qiopt.options import Options, one_of, option, optional, positive_float, positive_int, seed_value

__all__ = ["ReadOptions", "initial_spins", "keep_lowest", "samples_in_order", "start_states"]


@dataclass(frozen=True)
class ReadOptions(Options):
    """The options every sampling backend shares (a backend may redeclare one to document its own default)."""

    num_reads: int | None = option(None, "Independent reads; samples returned (the best ones with time_limit). "
                                   "Default: the backend's.", check=optional(positive_int))
    seed: int | None = option(None, "Random seed; the seed drawn when None is reported in info['options'].",
                              check=seed_value)
    initial_states: Any = option(None, "Warm start: samples (array, SampleSet, dicts) in the model's vartype.",
                                 check=None)
    initial_states_generator: str = option(
        "random", "Fills reads beyond initial_states: 'random', 'tile' (repeat them) or 'none' (error).",
        check=one_of("random", "tile", "none"))
    time_limit: float | None = option(None, "Seconds: run reads until then (the whole call ends by it); keep "
                                      "the best.", check=optional(positive_float))
    num_threads: int | None = option(None, "Threads for reads (default: what the process's thread budget has "
                                     "free, see qiopt.threads); results do not depend on it.",
                                     check=optional(positive_int))


def samples_in_order(initial_states: Any, labels: Any) -> np.ndarray | None:
    """Warm-start samples (anything dimod reads) as rows in the order of ``labels``; ``None`` when empty. A
    plain ``(k, N)`` numpy array is taken as already in that order."""
    if isinstance(initial_states, np.ndarray) and initial_states.ndim == 2:
        given, array = initial_states.shape[1], initial_states
    else:
        try:
            array, names = dimod.as_samples(initial_states)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"option 'initial_states' could not be read as samples: {exc}") from None
        given = len(names) if set(names) == set(labels) else -1
        if given == len(labels):
            position = {v: i for i, v in enumerate(names)}
            array = array[:, [position[v] for v in labels]]
    if given != len(labels):
        raise ValueError("option 'initial_states' must give a value for every variable of the model and no "
                         f"other; the model has {len(labels)} variables")
    return array if array.shape[0] else None


def initial_spins(model: CompactModel, initial_states: Any) -> np.ndarray | None:
    """Warm-start samples as ±1 int8 rows in the model's index order, or None."""
    if initial_states is None:
        return None
    array = samples_in_order(initial_states, model.labels)
    if array is None:
        return None
    allowed = {-1, 1} if model.vartype is dimod.SPIN else {0, 1}
    if not set(np.unique(array).tolist()) <= allowed:
        raise ValueError(f"option 'initial_states' values must be in {sorted(allowed)} for a "
                         f"{model.vartype.name} model")
    return model.from_vartype(array)


def start_states(model: CompactModel, options: Any, warm: np.ndarray | None, batch: int, reads: int
                  ) -> np.ndarray:
    n = model.num_variables
    rng = np.random.default_rng([options.seed, batch])
    states = (2 * rng.integers(0, 2, size=(reads, n), dtype=np.int8) - 1).astype(np.int8)
    if warm is None:
        if options.initial_states_generator == "none" and options.initial_states is None:
            raise ValueError("initial_states_generator='none' needs initial_states for every read")
        return states
    given = min(len(warm), reads)
    states[:given] = warm[:given]
    if given < reads:
        if options.initial_states_generator == "none":
            raise ValueError(f"initial_states has {len(warm)} rows for num_reads={reads} and "
                             "initial_states_generator='none'; give more rows or use 'random' or 'tile'")
        if options.initial_states_generator == "tile":
            states[given:] = np.resize(warm, (reads - given, n))
    return np.ascontiguousarray(states)


def keep_lowest(model: CompactModel, a: np.ndarray | None, b: np.ndarray, k: int) -> np.ndarray:
    both = b if a is None else np.concatenate([a, b])
    return both[np.argsort(model.energies(both), kind="stable")[:k]]
