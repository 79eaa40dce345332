"""Parameters of simulated quantum annealing: the model's field scale, the default β and Γ, the Γ schedule and
the Suzuki-Trotter interslice coupling.

The quantum system is the transverse-field Ising model ``H(Γ) = E(s) - Γ Σ_i σ^x_i`` at inverse temperature
``β``. Its Suzuki-Trotter decomposition into ``P`` slices (Trotter number) is the classical weight

    ``exp( -(β/P) Σ_k E(s^k) + K Σ_k Σ_i s_i^k s_i^{k+1} )``,  ``K = -½ ln tanh(β Γ / P)``,

over ``P`` copies ``s^1 … s^P`` of the spins on a ring (``s^{P+1} = s^1``). In the convention of Martoňák,
Santoro & Tosatti (PRB 66, 2002), the slices have energy ``Σ_k E(s^k) - J⊥ Σ_{k,i} s_i^k s_i^{k+1}`` at temperature
``P T`` with ``J⊥ = -(P T / 2) ln tanh(Γ / (P T))``, the same weight (``K = J⊥ / (P T)``); :func:`interslice_coupling`
returns ``K`` (reported with ``J⊥`` by the backend). Annealing lowers ``Γ`` at fixed ``β``: ``K`` grows from
near 0 (slices independent, each a classical system at temperature ``P T``) until the slices lock into one state.

Defaults scale with the model's **field scale** ``λ`` (:func:`field_scale`): the mean ``|local field|`` of the
spins at single-flip local minima, the energy a spin is held by in a low state. Multiplying every bias by ``c``
multiplies ``λ``, ``Γ`` and ``T`` by ``c``, so the same defaults give the same run:

* ``β = P · BETA_PER_SLICE / λ``: every slice runs at ``(β/P) λ =`` :data:`BETA_PER_SLICE`, cold enough that a
  slice alone sits near a low state. Measured (300-1000 sweeps, P = 16): Gset G22 is best at 1.5-3 and
  planted Wishart at 3-4.5 on this scale; on the rms field of random states instead, their best values were
  4x apart (G22 <= 1.5, Wishart >= 6), which is why the scale is taken at local minima;
* ``Γ`` from ``GAMMA_START · λ`` (Santoro et al.: ``Γ0 = 3`` for couplings ``±1`` of degree 4, about ``1.5 λ``)
  down to ``GAMMA_END · Γ0``, where ``K ≈ ½ ln(P / (β Γ)) ≈ 1.5``: a slice flip against both aligned neighbours
  is accepted with probability ``e^{-4K} ≈ 2·10⁻³``, so the slices are bound into one state (measured: ending at
  ``10⁻³ Γ0`` instead spent the last sweeps locked, with no gain on G22 and fewer Wishart ground states).

Example:
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({}, {(0, 1): 2.0}, 0.0, "SPIN"))
    >>> field_scale(cm)
    2.0
    >>> gamma_schedule(1.0, 0.1, 3, "geometric").round(3).tolist()
    [1.0, 0.316, 0.1]
    >>> round(float(interslice_coupling(beta=8.0, gamma=1.0, trotter=8)), 4)
    0.1362
"""

from __future__ import annotations

import numpy as np

from qiopt.model import CompactModel

__all__ = ["BETA_PER_SLICE", "GAMMA_END", "GAMMA_START", "SCHEDULES", "default_parameters", "field_scale",
           "gamma_schedule", "interslice_coupling"]

SCHEDULES = ("linear", "geometric")
BETA_PER_SLICE = 3.0
"""Default ``(β / P) · λ``: the inverse temperature of each slice, in units of the field scale."""
GAMMA_START = 1.5
"""Default starting transverse field, in units of the field scale."""
GAMMA_END = 1e-2
"""Default final transverse field, as a share of the starting one."""
_NULL_SCALE = 1.0  # a model without biases: any scale gives the same (uniform) sampling
_PROBES, _PROBE_SEED = 2, 0x5CA1E  # local minima that set the field scale, and their fixed seed


def field_scale(cm: CompactModel) -> float:
    """The mean ``|h_i + Σ_j J_ij s_j|`` over the spins of :data:`_PROBES` single-flip local minima (steepest
    descent from random states drawn from a fixed seed, so it depends on the model only): the typical field a
    spin is held by in a low state, the energy scale the slices must resolve. Falls back on the rms field over
    random states, ``sqrt(mean_i (h_i² + Σ_j J_ij²))``, when that mean is zero, and 1.0 when every bias is.

    >>> import dimod
    >>> field_scale(CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: 3.0, 1: 4.0}, {}, 0.0, "SPIN")))
    3.5
    """
    from qiopt.backends.annealing.kernels import steepest_descent

    biggest = max(float(np.abs(cm.h).max(initial=0.0)), float(np.abs(cm.data).max(initial=0.0)))
    if biggest == 0.0:
        return _NULL_SCALE
    rng = np.random.default_rng(_PROBE_SEED)
    states = (2 * rng.integers(0, 2, size=(_PROBES, cm.num_variables), dtype=np.int8) - 1).astype(np.int8)
    steepest_descent(cm, states)
    typical = float(np.abs(cm.h + (cm.couplings @ states.T.astype(np.float64)).T).mean())
    if typical > 0.0:
        return typical
    squares = float(np.sum((cm.h / biggest) ** 2) + np.sum((cm.data / biggest) ** 2))
    return biggest * float(np.sqrt(squares / cm.num_variables))


def default_parameters(scale: float, trotter: int) -> tuple[float, float]:
    """``(β, Γ start)`` for a model of field scale ``scale`` with ``trotter`` slices (module docstring); the
    default final field is ``GAMMA_END`` times the start.

    >>> default_parameters(1.0, 8)
    (24.0, 1.5)
    """
    return trotter * BETA_PER_SLICE / scale, GAMMA_START * scale


def gamma_schedule(start: float, end: float, num_sweeps: int, kind: str) -> np.ndarray:
    """``num_sweeps`` transverse fields from ``start`` to ``end`` (float64): ``"linear"`` (Santoro et al.) or
    ``"geometric"`` (constant ratio). A single sweep runs at ``end``.

    >>> gamma_schedule(2.0, 1.0, 3, "linear").tolist()
    [2.0, 1.5, 1.0]
    """
    if kind not in SCHEDULES:
        raise ValueError(f"option 'schedule' must be one of {SCHEDULES}, got {kind!r}")
    if not (0 < end <= start < np.inf):
        raise ValueError(f"the transverse field must go down from gamma={start!r} to gamma_final={end!r} > 0")
    if num_sweeps == 1:
        return np.array([float(end)])
    gammas = np.linspace(start, end, num_sweeps) if kind == "linear" else np.geomspace(start, end, num_sweeps)
    gammas[[0, -1]] = start, end
    return gammas


def interslice_coupling(beta: float, gamma: np.ndarray | float, trotter: int) -> np.ndarray:
    """The dimensionless Trotter coupling ``K = -½ ln tanh(β Γ / P)`` (``K → 0`` for large ``β Γ / P``; finite
    for any ``Γ > 0``: ``tanh(x) = x`` to double precision for small ``x``).

    >>> k = interslice_coupling(1.0, np.array([20.0, 1.0, 1e-3]), 1)
    >>> bool(k[0] < 1e-17), k[1:].round(4).tolist()
    (True, [0.1362, 3.4539])
    """
    x = beta * np.asarray(gamma, dtype=np.float64) / trotter
    return -0.5 * np.log(np.tanh(x))
