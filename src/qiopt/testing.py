"""A test kit for backends, qiopt's and third parties' alike (in the spirit of ``dimod.testing``).

Example:
    >>> import qiopt
    >>> from qiopt.testing import assert_backend_contract
    >>> assert_backend_contract(qiopt.get_backend("exact"))
"""

from __future__ import annotations

import dimod
import dimod.testing
import numpy as np

from qiopt.backends.base import Backend

__all__ = ["TIMING_KEYS", "assert_backend_contract", "random_bqm"]

TIMING_KEYS = ("preprocessing_ns", "sampling_ns", "postprocessing_ns")


def random_bqm(num_variables: int, vartype: dimod.typing.VartypeLike, seed: int, density: float = 0.6,
               labels: list | None = None) -> dimod.BinaryQuadraticModel:
    """A random model with normal biases (reproducible from ``seed``), optionally relabelled."""
    rng = np.random.default_rng(seed)
    bqm = dimod.BinaryQuadraticModel(vartype)
    names = labels if labels is not None else list(range(num_variables))
    for v in names:
        bqm.add_linear(v, float(rng.normal()))
    for i in range(num_variables):
        for j in range(i + 1, num_variables):
            if rng.random() < density:
                bqm.add_quadratic(names[i], names[j], float(rng.normal()))
    bqm.offset = float(rng.normal())
    return bqm


def assert_backend_contract(sampler: Backend, num_variables: int = 6) -> None:
    """Raise AssertionError unless ``sampler`` keeps the qiopt backend contract on small models.

    Checks dimod's sampler API, that ``parameters`` are exactly the declared options, that every reported energy
    equals the model's energy of its sample (SPIN and BINARY, odd labels), that the model is not mutated, and
    that ``info`` holds ``timing`` (the dwave-samplers keys) and the resolved ``options``.
    """
    dimod.testing.assert_sampler_api(sampler)
    if set(sampler.parameters) != set(sampler.options_type.names()):
        raise AssertionError("parameters must be exactly the declared options")
    labels = ["a", (0, 1), 2.5, "d", frozenset({1}), 7][:num_variables]
    for k, vartype in enumerate((dimod.SPIN, dimod.BINARY)):
        bqm = random_bqm(len(labels), vartype, seed=k, labels=labels)
        before = bqm.copy()
        sampleset = sampler.sample(bqm)
        if bqm != before:
            raise AssertionError("the sampler mutated the model")
        dimod.testing.assert_sampleset_energies(sampleset, bqm, precision=9)
        if sampleset.vartype is not bqm.vartype or set(sampleset.variables) != set(bqm.variables):
            raise AssertionError("sample set vartype/variables differ from the model's")
        timing = sampleset.info.get("timing", {})
        if not all(isinstance(timing.get(key), int) and timing[key] >= 0 for key in TIMING_KEYS):
            raise AssertionError(f"info['timing'] must hold non-negative ints for {TIMING_KEYS}, got {timing}")
        if set(sampleset.info.get("options", {})) != set(sampler.options_type.names()):
            raise AssertionError("info['options'] must hold every resolved option")
