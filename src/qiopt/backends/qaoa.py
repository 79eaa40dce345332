"""The ``"qaoa"`` backend: QAOA optimised on a local statevector simulator (or Aer's MPS), then sampled.

The loop never rebuilds anything: the cost diagonal is computed once, each angle set costs ``2 * reps``
cache-blocked passes of a numba statevector engine equivalent to the ``qaoa_ansatz`` circuit
(:class:`~qiopt.backends._statevector.DiagonalQAOA`, float32, tested against Aer's statevector). The final
``shots`` are sampled by Aer's ``SamplerV2`` from the optimised circuit, transpiled once (``sampler="aer"``, the
default, and always with ``method="matrix_product_state"``, whose loop uses Aer's ``EstimatorV2``), or drawn
with a seeded RNG from the exact probabilities of the optimised state (``sampler="statevector"``: the same
distribution without re-simulating the circuit; about 2x faster end to end at 20 qubits). Initial angles: ``"fixed"``
(Wurtz & Lykov 2021 for unweighted 3-regular max-cut, else a linear ramp), ``"interp"`` (Zhou et al. 2020,
depth grown 1 → ``reps``) or ``"random"`` with restarts. ``cvar_alpha`` < 1 optimises CVaR (Barkoutsos et
al. 2020); ``warm_start`` (Egger et al. 2021) starts from an SA or relaxed solution with the matching mixer.

Example:
    >>> import networkx as nx, qiopt
    >>> bqm = qiopt.model.maxcut_bqm(nx.cycle_graph(6))
    >>> result = qiopt.get_backend("qaoa", reps=2, seed=1).sample(bqm)
    >>> float(result.first.energy)
    -6.0
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends.base import Backend, BackendError, RunOutput
from qiopt.model import CompactModel
from qiopt.options import Options, one_of, option, optional, positive_float, positive_int, seed_value

__all__ = ["QAOABackend", "QAOAOptions", "check_statevector", "initial_angles"]

OPTIMIZERS = ("COBYLA", "Nelder-Mead", "Powell", "L-BFGS-B", "BFGS", "SLSQP")
# Wurtz & Lykov, PRA 104, 052419 (2021), table I, in qiopt's convention (module _qiskit): γ = γ_C / 2, β = -β_C.
_FIXED_3REG = {1: ((0.616,), (0.393,)), 2: ((0.488, 0.898), (0.555, 0.293)),
               3: ((0.422, 0.798, 0.937), (0.609, 0.459, 0.235))}


def _angles(name: str, value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    values = np.asarray(value, dtype=np.float64).ravel()
    if values.size == 0 or values.size % 2 or not np.isfinite(values).all():
        raise ValueError(f"option {name!r} must be 2*reps finite angles [γ_0.., β_0..], got {value!r}")
    return tuple(values.tolist())


def _alpha(name: str, value: Any) -> float:
    value = positive_float(name, value)
    if value > 1:
        raise ValueError(f"option {name!r} must be in (0, 1], got {value!r}")
    return value


def _epsilon(name: str, value: Any) -> float:
    value = positive_float(name, value)
    if value >= 0.5:
        raise ValueError(f"option {name!r} must be in (0, 0.5), got {value!r}")
    return value


@dataclass(frozen=True)
class QAOAOptions(Options):
    reps: int = option(1, "QAOA depth p (cost + mixer layers).", check=positive_int)
    shots: int = option(1024, "Final samples drawn from the optimised state.", check=positive_int)
    sampler: str = option("aer", "'aer' (Aer's SamplerV2 on the optimised circuit) or 'statevector' (the final "
                          "shots drawn from the exact probabilities of the optimised state, seeded).",
                          check=one_of("statevector", "aer"))
    seed: int | None = option(None, "Random seed (initial angles, sampling, transpiler).", check=seed_value)
    optimizer: str = option("COBYLA", "A scipy.optimize.minimize method: " + ", ".join(OPTIMIZERS) + ".",
                            check=one_of(*OPTIMIZERS))
    maxiter: int = option(100, "Optimiser iterations (per depth for init='interp', per restart for 'random').",
                          check=positive_int)
    tol: float = option(1e-3, "Optimiser tolerance (scipy's tol; COBYLA: the final trust-region radius, in "
                        "radians: 1e-3 moves <H> by ~1e-6 relative near an optimum).", check=positive_float)
    initial_point: tuple[float, ...] | None = option(
        None, "Initial angles [γ_0..γ_{p-1}, β_0..β_{p-1}]; overrides init.", check=_angles)
    init: str = option("fixed", "'fixed' (literature angles or a linear ramp), 'interp' (grow depth 1 → reps) "
                       "or 'random' (restarts).", check=one_of("fixed", "interp", "random"))
    restarts: int = option(4, "Random starts for init='random' (all first evaluated together).",
                           check=positive_int)
    cvar_alpha: float = option(1.0, "Optimise the mean of the best alpha fraction of outcomes (1: plain <H>).",
                               check=_alpha)
    warm_start: str | None = option(None, "None, 'sa' (a simulated-annealing answer) or 'relaxed' (a local optimum "
                                    "of the continuous relaxation): warm-start state and mixer.",
                                    check=optional(one_of("sa", "relaxed")))
    warm_epsilon: float = option(0.25, "Warm start: clip the start values to [eps, 1 - eps].", check=_epsilon)
    method: str = option("automatic", "'statevector', 'matrix_product_state' or 'automatic' (statevector when "
                         "it fits in memory).", check=one_of("automatic", "statevector", "matrix_product_state"))
    max_qubits: int = option(28, "Refuse models with more variables than this.", check=positive_int)
    time_limit: float | None = option(None, "Seconds for the optimisation; stops with the best angles so far.",
                                      check=optional(positive_float))


class _OutOfTime(Exception):
    pass


class QAOABackend(Backend):
    """QAOA on a numba statevector engine (Aer for MPS and ``sampler="aer"``); models of ≤ ``max_qubits``."""

    name = "qaoa"
    options_type = QAOAOptions
    requires = ("qiskit", "qiskit_aer")
    install_hint = "pip install qiskit qiskit-aer"
    summary = "QAOA, statevector-simulated (numba engine or Qiskit Aer; up to ~28 variables)"

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        from qiopt.backends import _qiskit as qk

        started = time.perf_counter()
        n = model.num_variables
        method = _choose_method(n, options)
        theta = warm_start_angles(model, bqm, options)
        isa = None  # the circuit in Aer's basis gates, transpiled once (MPS loop and/or Aer sampling)
        if method == "statevector":
            engine = qk.DiagonalQAOA(qk.cost_diagonal(model), theta)
            batch = _Objective(lambda x: engine.expectation(x, options.cvar_alpha), options, started)
        else:
            if options.cvar_alpha < 1:
                raise ValueError("option 'cvar_alpha' < 1 needs method='statevector' (exact probabilities)")
            operator = qk.ising_operator(model)
            isa = qk.aer_transpile(qk.qaoa_circuit(operator, options.reps, theta, measure=False), options.seed)
            batch = _Objective(qk.mps_estimator(isa, operator), options, started)
        x = _optimise(batch, model, options)
        sampler = "aer" if method != "statevector" else options.sampler
        p = len(x) // 2
        info = {"optimal_parameters": {"gamma": x[:p].tolist(), "beta": x[p:].tolist()},
                "objective_trace": batch.trace, "num_evaluations": len(batch.trace), "method": method,
                "sampler": sampler, "stopped_by_time_limit": batch.out_of_time}
        if method == "statevector":
            probs = engine.probabilities(x)  # the optimised state, simulated once for the summary and the shots
            info.update(engine.summary(probs))
        if sampler == "aer":
            if isa is None:
                circuit = qk.qaoa_circuit(qk.ising_operator(model), options.reps, theta, measure=False)
                isa = qk.aer_transpile(circuit, options.seed)
            spins, counts = qk.aer_sample(isa, x, options.shots, options.seed, method)
        else:
            spins, counts = engine.sample(probs, options.shots, options.seed)
        return RunOutput(spins, info, counts)


def _choose_method(n: int, options: Any) -> str:
    from qiopt.backends._qiskit import statevector_bytes

    fits = check_statevector("qaoa", n, options.max_qubits, statevector_bytes(n, aer=options.sampler == "aer"),
                             required=options.method == "statevector",
                             hint="use method='matrix_product_state' or backend 'sa'")
    if options.method == "automatic":
        return "statevector" if fits else "matrix_product_state"
    return options.method


def physical_memory() -> int | None:
    """This machine's physical memory in bytes; None where the platform does not say (``os.sysconf`` is
    POSIX-only: on Windows only ``max_qubits`` applies)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_statevector(backend: str, n: int, max_qubits: int, need: int, *, required: bool, hint: str) -> bool:
    """The up-front size check of the statevector backends (``"qaoa"``, ``"ibm"``), before any allocation or
    connection: :class:`BackendError` above ``max_qubits`` (with the GiB a statevector would need), or when
    ``required`` and ``need`` bytes exceed 80 % of the memory. Returns whether ``need`` fits (True if unknown).

    >>> check_statevector("ibm", 40, 28, 2**45, required=True, hint="")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qiopt.backends.base.BackendError: ibm backend: the model has 40 variables, ... needs 32768.0 GiB); ...
    """
    from qiopt.backends._qiskit import statevector_bytes

    if n > max_qubits:
        raise BackendError(f"{backend} backend: the model has {n} variables, above max_qubits={max_qubits} "
                           f"(a statevector needs {statevector_bytes(n) / 2**30:.1f} GiB); use backend 'sa'")
    have = physical_memory()
    fits = have is None or need <= 0.8 * have
    if required and not fits:
        raise BackendError(f"{backend} backend: {n} qubits need {need / 2**30:.1f} GiB for the statevector, this "
                           f"machine has {have / 2**30:.1f} GiB; {hint}")
    return fits


class _Objective:
    """Counts evaluations, records the trace and enforces ``time_limit`` (keeping the best point)."""

    def __init__(self, func: Any, options: Any, started: float) -> None:
        self.func, self.trace = func, []
        self.deadline = None if options.time_limit is None else started + options.time_limit
        self._best: dict[int, tuple[float, np.ndarray]] = {}  # per number of angles (init="interp" grows it)
        self.out_of_time = False

    def __call__(self, x: np.ndarray) -> float:
        if self.deadline is not None and time.perf_counter() > self.deadline and self._best:
            self.out_of_time = True
            raise _OutOfTime
        x = np.array(x, dtype=np.float64)
        value = self.func(x)
        self.trace.append(value)
        if x.size not in self._best or value < self._best[x.size][0]:
            self._best[x.size] = (value, x)
        return value

    def best(self, default: np.ndarray) -> np.ndarray:
        """The best angles evaluated so far with as many angles as ``default`` (``default`` if none were)."""
        found = self._best.get(np.size(default))
        return np.asarray(default, dtype=np.float64) if found is None else found[1]


def initial_angles(model: CompactModel, reps: int) -> np.ndarray:
    """``"fixed"`` angles: Wurtz & Lykov's for unweighted 3-regular max-cut (p ≤ 3), else a linear ramp.

    >>> import networkx as nx
    >>> from qiopt.model import maxcut_bqm
    >>> initial_angles(CompactModel.from_bqm(maxcut_bqm(nx.complete_graph(4))), 1).tolist()
    [0.308, -0.393]
    """
    degrees = np.diff(model.indptr)
    w = model.data
    if (reps in _FIXED_3REG and w.size and np.all(degrees == 3) and np.all(w == w[0]) and w[0] > 0
            and not model.h.any()):
        gammas, betas = _FIXED_3REG[reps]
        return np.array([g / (2 * w[0]) for g in gammas] + [-b for b in betas])
    scale = max(np.abs(model.h).max(initial=0.0), np.abs(w).max(initial=0.0)) or 1.0
    f = (np.arange(reps) + 0.5) / reps
    return np.concatenate([0.75 * f / scale, -0.75 * (1 - f)])


def _interpolate(x: np.ndarray) -> np.ndarray:
    """Zhou et al. (2020) INTERP: optimal depth-p angles → a depth-(p+1) start."""
    p = len(x) // 2
    out = []
    for part in (x[:p], x[p:]):
        padded = np.concatenate([[0.0], part, [0.0]])
        i = np.arange(1, p + 2)
        out.append((i - 1) / p * padded[i - 1] + (p - i + 1) / p * padded[i])
    return np.concatenate(out)


def _minimise(objective: _Objective, x0: np.ndarray, options: Any) -> np.ndarray:
    from scipy.optimize import minimize

    try:
        res = minimize(objective, x0, method=options.optimizer, tol=options.tol, options={"maxiter": options.maxiter})
        return np.asarray(res.x, dtype=np.float64)
    except _OutOfTime:
        return objective.best(x0)


def _optimise(objective: _Objective, model: CompactModel, options: Any) -> np.ndarray:
    if options.initial_point is not None:
        x0 = np.asarray(options.initial_point)
        if x0.size != 2 * options.reps:
            raise ValueError(f"option 'initial_point' needs 2*reps = {2 * options.reps} angles, got {x0.size}")
        return _minimise(objective, x0, options)
    if options.init == "random":
        rng = np.random.default_rng(options.seed)
        scale = initial_angles(model, 1)[0] * 2
        starts = rng.uniform(-1, 1, (options.restarts, 2 * options.reps)) * np.repeat([scale, np.pi / 4], options.reps)
        try:
            values = [objective(x) for x in starts]  # one evaluation each, the best start first
        except _OutOfTime:
            return objective.best(starts[0])
        for k in np.argsort(values):
            _minimise(objective, starts[k], options)
        return objective.best(starts[0])  # the best of all restarts, as evaluated (no re-simulation)
    if options.init == "interp":
        x = _minimise(objective, initial_angles(model, 1), options)
        for _ in range(1, options.reps):
            x = _minimise(objective, _interpolate(x), options)
        return x
    return _minimise(objective, initial_angles(model, options.reps), options)


def warm_start_angles(model: CompactModel, bqm: dimod.BinaryQuadraticModel, options: Any) -> np.ndarray | None:
    """Egger et al. (2021): ``θ_i = 2 asin(sqrt(c_i))`` from an SA answer or a relaxed optimum, clipped to ε."""
    if options.warm_start is None:
        return None
    if options.warm_start == "sa":
        from qiopt.backends.registry import get_backend

        sa = get_backend("sa", num_reads=16, seed=options.seed)
        best = sa._sample_compact(bqm, model, sa.options, time.perf_counter_ns()).first.sample  # model reused
        c = (model.from_vartype(np.array([best[v] for v in model.labels])) + 1) / 2.0
    else:
        from scipy.optimize import minimize

        J = model.couplings

        def energy(x: np.ndarray) -> tuple[float, np.ndarray]:
            s = 2 * x - 1
            field = J @ s
            return float(model.h @ s + 0.5 * s @ field), 2 * (model.h + field)

        rng = np.random.default_rng(options.seed)
        start = 0.5 + 0.01 * rng.standard_normal(model.num_variables)
        c = minimize(energy, start, jac=True, method="L-BFGS-B", bounds=[(0, 1)] * model.num_variables).x
    c = np.clip(c, options.warm_epsilon, 1 - options.warm_epsilon)
    return 2 * np.arcsin(np.sqrt(c))
