"""Inverse-temperature (β) range and schedule of the ``"sa"`` backend.

The default range is computed on the compact model in O(nnz):

* hot β: a typical flip from a random state is accepted with probability 1/2. The local field of spin ``i``
  over random neighbour spins has root-mean-square ``sqrt(h_i**2 + sum_j J_ij**2)``; with ``rms`` its maximum
  over ``i``, ``hot = ln 2 / (2 * rms)``. dwave-samplers uses the worst case ``max_i (|h_i| + sum_j |J_ij|)``
  instead, which on dense models is 2-8x hotter and spends the first part of the anneal in a random state: at
  equal sweeps this rule gives equal or better median results (benchmarks/bench_sa.py; e.g. Gset G22, 1000
  sweeps, median cut 13335 instead of 13320).
* cold β (dwave-samplers' rule): the smallest gap a spin can see, approximated by ``2 * min`` over nonzero
  ``|h_i|`` and ``|J_ij|``, is accepted with total probability 1% over the ``m`` spins with this gap:
  ``cold = ln(m / 0.01) / gap``. Biases below :data:`NEGLIGIBLE` times the largest one (float round-off in a
  user's QUBO, e.g. 1e-13 next to biases of 1) are left out of that minimum: they cannot change which states
  are low beyond round-off, and one of them would otherwise set a cold end a billion times colder.

Example:
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({}, {(0, 1): 1.0, (1, 2): 1.0}, 0.0, "SPIN"))
    >>> hot, cold = default_beta_range(cm)
    >>> round(hot, 4), round(cold, 4)
    (0.2451, 2.8519)
    >>> beta_schedule((hot, cold), 3, "geometric").round(4).tolist()
    [0.2451, 0.836, 2.8519]
"""

from __future__ import annotations

import numpy as np

from qiopt.model import CompactModel

__all__ = ["NEGLIGIBLE", "SCHEDULE_TYPES", "beta_schedule", "default_beta_range"]

SCHEDULE_TYPES = ("geometric", "linear")
_HOT_ACCEPT = 0.5  # acceptance of a typical uphill flip (from a random state) at the hot end
_COLD_EXCITE = 0.01  # total acceptance of the smallest uphill flips at the cold end
_NULL_RANGE = (0.1, 1.0)  # every bias is zero: any β gives the same (uniform) sampling
NEGLIGIBLE = 1e-9
"""Biases below this share of the model's largest bias do not set the cold end."""
_MAX_BETA = 1e30  # β cap: biases near the float limits (e.g. 1e-308) must not give an infinite β


def default_beta_range(cm: CompactModel) -> tuple[float, float]:
    """``(hot, cold)`` inverse temperatures for ``cm`` by the rule in the module docstring.

    A model whose biases are all zero gets ``(0.1, 1.0)`` (every state has the same energy).

    >>> import dimod
    >>> cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: 2.0}, {}, 0.0, "SPIN"))
    >>> default_beta_range(cm) == (np.log(2) / 4, np.log(100) / 4)
    True
    """
    n = cm.num_variables
    abs_j = np.abs(cm.data)
    rows = cm.rows
    scale = max(float(np.abs(cm.h).max(initial=0.0)), float(abs_j.max(initial=0.0)))  # squares must not overflow
    if scale == 0.0:
        return _NULL_RANGE
    rms_field = scale * float(np.sqrt((cm.h / scale) ** 2
                                      + np.bincount(rows, weights=(abs_j / scale) ** 2, minlength=n)).max())
    hot = _capped_ratio(np.log(1.0 / _HOT_ACCEPT), 2.0 * rms_field)
    # smallest non-negligible |bias| seen by each spin (inf where a spin has none); the largest bias is one
    floor = NEGLIGIBLE * scale
    min_bias = np.where(np.abs(cm.h) > floor, np.abs(cm.h), np.inf)
    kept = abs_j > floor
    np.minimum.at(min_bias, rows[kept], abs_j[kept])
    gap = float(min_bias.min())
    count = int(np.count_nonzero(min_bias == gap))
    cold = _capped_ratio(np.log(count / _COLD_EXCITE), 2.0 * gap)
    return hot, max(cold, hot)


def _capped_ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` (both > 0), at most ``_MAX_BETA`` and without overflow."""
    return float(numerator / denominator) if denominator * _MAX_BETA > numerator else _MAX_BETA


def beta_schedule(beta_range: tuple[float, float], num_betas: int, schedule_type: str) -> np.ndarray:
    """``num_betas`` inverse temperatures from ``beta_range[0]`` to ``beta_range[1]`` (float64).

    ``schedule_type`` is ``"geometric"`` (constant ratio; needs both ends > 0) or ``"linear"``. A single β is
    the cold end (a quench at the final temperature).

    >>> beta_schedule((1.0, 3.0), 3, "linear").tolist()
    [1.0, 2.0, 3.0]
    """
    if schedule_type not in SCHEDULE_TYPES:
        raise ValueError(f"beta_schedule_type must be one of {SCHEDULE_TYPES}, got {schedule_type!r}")
    if num_betas < 0:
        raise ValueError(f"number of betas must be >= 0, got {num_betas}")
    hot, cold = (float(b) for b in beta_range)
    if not (np.isfinite(hot) and np.isfinite(cold) and hot >= 0 and cold >= 0):
        raise ValueError(f"beta_range must hold two finite values >= 0, got {beta_range!r}")
    if num_betas == 1:
        return np.array([cold])
    if schedule_type == "linear":
        return np.linspace(hot, cold, num_betas)
    if hot == 0 or cold == 0:
        raise ValueError(f"beta_range {beta_range!r} must be > 0 at both ends for a geometric schedule")
    betas = np.geomspace(hot, cold, num_betas)
    if num_betas:
        betas[[0, -1]] = hot, cold  # exact endpoints
    return betas
