"""The ``"exact"`` backend: exhaustive enumeration, the test oracle.

Enumerates all ``2**n`` states in Gray-code order (one flip and one field update per state), split into
independent blocks that run on all cores, and keeps the ``num_states`` lowest-energy states. About 2**28 states per
second per core on dense models; refuses models above ``max_variables`` (default 30) with a clear error.

Example:
    >>> import dimod, qiopt
    >>> bqm = dimod.BQM({"a": 1.0, "b": -1.0}, {("a", "b"): -2.0}, 0.0, "SPIN")
    >>> float(qiopt.get_backend("exact").sample(bqm).first.energy)
    -2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dimod

from qiopt.backends.base import Backend, BackendError, RunOutput
from qiopt.model import CompactModel
from qiopt.options import Options, option, positive_int

__all__ = ["ExactBackend", "ExactOptions"]

_HARD_LIMIT = 40  # 2**40 states would take hours


def _max_variables(name: str, value: Any) -> int:
    value = positive_int(name, value)
    if value > _HARD_LIMIT:
        raise ValueError(f"option {name!r} must be at most {_HARD_LIMIT} (2**{_HARD_LIMIT} states take hours); "
                         f"got {value}; use backend 'sa' for larger models")
    return value


@dataclass(frozen=True)
class ExactOptions(Options):
    num_states: int = option(1, "How many lowest-energy states to return (distinct, sorted by energy).",
                             check=positive_int)
    max_variables: int = option(30, "Refuse models with more variables than this (2**n states are visited; "
                                "at most 40).", check=_max_variables)


class ExactBackend(Backend):
    """Exhaustive search over all states; exact, for small models (n ≤ ``max_variables``)."""

    name = "exact"
    options_type = ExactOptions
    requires = ("numba",)
    summary = "exhaustive enumeration (exact, up to ~30 variables); the reference solver"

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        n = model.num_variables
        limit = options.max_variables
        if n > limit:
            raise BackendError(f"exact backend: the model has {n} variables, above max_variables={limit} "
                               f"(2**{n} states); use backend 'sa' for models of this size")
        from qiopt.backends._enumerate import lowest_states

        J = model.dense_couplings()
        k = min(options.num_states, 2**n)
        spins, _ = lowest_states(model.h, J, k)
        return RunOutput(spins, {"num_states_visited": 2**n})
