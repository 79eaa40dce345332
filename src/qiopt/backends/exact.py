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
import numpy as np

from qiopt.backends.base import Backend, BackendError, RunOutput
from qiopt.model import CompactModel
from qiopt.options import Options, option, positive_int

__all__ = ["ExactBackend", "ExactOptions"]

_HARD_LIMIT = 40  # 2**40 states would take hours whatever max_variables says


@dataclass(frozen=True)
class ExactOptions(Options):
    num_states: int = option(1, "How many lowest-energy states to return (distinct, sorted by energy).",
                             check=positive_int)
    max_variables: int = option(30, "Refuse models with more variables than this (2**n states are visited).",
                                check=positive_int)


class ExactBackend(Backend):
    """Exhaustive search over all states; exact, for small models (n ≤ ``max_variables``)."""

    name = "exact"
    options_type = ExactOptions
    requires = ("numba",)
    summary = "exhaustive enumeration (exact, up to ~30 variables); the reference solver"

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        n = model.num_variables
        limit = min(options.max_variables, _HARD_LIMIT)
        if n > limit:
            raise BackendError(f"exact backend: the model has {n} variables, above max_variables={limit} "
                               f"(2**{n} states); use backend 'sa' for models of this size")
        from qiopt.backends._enumerate import lowest_states

        J = np.zeros((n, n))
        for i in range(n):
            lo, hi = model.indptr[i], model.indptr[i + 1]
            J[i, model.indices[lo:hi]] = model.data[lo:hi]
        k = min(options.num_states, 2**n)
        spins, _ = lowest_states(model.h, J, k)
        return RunOutput(spins, {"num_states_visited": 2**n})
