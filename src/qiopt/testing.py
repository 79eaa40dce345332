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

__all__ = ["TIMING_KEYS", "assert_backend_contract", "planted_wishart", "random_bqm"]

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


def planted_wishart(num_variables: int, alpha: float, seed: int) -> tuple[dimod.BinaryQuadraticModel, dict, float]:
    """A Wishart planted-ensemble Ising model (Hamze, Raymond, Pattison, Biswas & Katzgraber, PRE 101, 2020) with
    its known ground state: ``(bqm, ground_state, ground_energy)``.

    ``M = ceil(alpha * N)`` Gaussian columns ``w`` are projected orthogonal to a random planted state ``t``;
    ``E(s) = (1/N) sum_mu (w_mu . s)**2`` without its diagonal (constant) part is ``0`` minus that constant at
    ``t`` and ``-t`` and at least as much everywhere, so the ground energy is exact. Smaller ``alpha`` is harder
    (``alpha < 1`` gives a glassy landscape; the couplings are dense, ``N(N-1)/2``).

    >>> bqm, ground, energy = planted_wishart(8, 0.5, seed=1)
    >>> import dimod
    >>> bool(abs(bqm.energy(ground) - energy) < 1e-9)
    True
    >>> bool(dimod.ExactSolver().sample(bqm).first.energy >= energy - 1e-9)
    True
    """
    if not (isinstance(num_variables, int) and num_variables >= 2):
        raise ValueError(f"num_variables must be an integer >= 2, got {num_variables!r}")
    if not (isinstance(alpha, int | float) and alpha > 0):
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    rng = np.random.default_rng(seed)
    n = num_variables
    t = rng.choice(np.array([-1.0, 1.0]), size=n)
    w = rng.normal(size=(n, int(np.ceil(alpha * n))))
    w -= np.outer(t, t @ w) / n  # every column orthogonal to t
    coupling = (w @ w.T) / n
    constant = float(np.trace(coupling))
    iu, ju = np.triu_indices(n, 1)
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(np.zeros(n), (iu, ju, 2.0 * coupling[iu, ju]), 0.0,
                                                        dimod.SPIN)
    ground = {i: int(t[i]) for i in range(n)}
    return bqm, ground, -constant  # E(t) = 0 - the diagonal part left out


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
