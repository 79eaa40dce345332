"""The inverse-temperature (β) ladder of the ``"pt"`` backend: its default size and its warm-up adaptation.

The ladder starts geometric between the hot and cold ends of
:func:`qiopt.backends.annealing.schedule.default_beta_range`. Replica exchange between ``β`` and ``β' = β(1+x)``
is accepted when their energy histograms overlap, i.e. when ``x`` is about ``1/sqrt(C)`` with ``C`` the heat
capacity, which grows like ``n``; a geometric ladder then needs ``ln(cold/hot) * sqrt(c n)`` replicas. With
``c = 1/4`` (spin glasses at the temperatures that matter) that is :func:`default_replicas`.

During a warm-up, :func:`adapt` reshapes the ladder from what the replicas did:

* the cold end is moved in (never out) to the β where a replica accepts :data:`FROZEN_FLIPS` single flips per
  sweep: colder replicas no longer move and only relay states. The default cold end assumes the model's
  smallest bias matters; on models with continuous biases (e.g. Wishart couplings down to 1e-5) it is
  thousands of times colder than useful;
* the interior βs are spread so that every neighbour pair has the same swap acceptance: for Gaussian energy
  histograms the acceptance is ``erfc(Δβ σ / 2)``, so ``erfcinv(acceptance)`` measures each gap in units of the
  local energy width; the new βs split the cumulative distance evenly (piecewise linear in ``ln β``), and the
  step is damped by half so that noisy statistics cannot make the ladder oscillate.

Example:
    >>> import numpy as np
    >>> betas = np.geomspace(0.1, 10.0, 5)
    >>> new = adapt(betas, np.array([0.9, 0.9, 0.1, 0.1]), np.array([50.0, 20.0, 5.0, 1.0, 0.0]), trim_cold=False)
    >>> bool(new[0] == 0.1 and new[-1] == 10.0 and (np.diff(new) > 0).all()), bool(new[2] > betas[2])
    (True, True)
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcinv

__all__ = ["FROZEN_FLIPS", "MAX_REPLICAS", "MIN_REPLICAS", "adapt", "default_replicas"]

MIN_REPLICAS, MAX_REPLICAS = 8, 1024
_DEFAULT_CAP = 32  # the default never exceeds this: on Wishart n=128, 48 replicas solved less per second than 32
_LANES = 8  # the default is a multiple of this: the sweep's vector loop over replicas has no remainder
FROZEN_FLIPS = 0.05
"""Accepted single flips per sweep below which a replica counts as frozen."""
_ACCEPT_CLIP = (1e-3, 0.99)  # swap acceptances are clipped here before erfcinv (0 and 1 have no finite distance)


def default_replicas(n: int, beta_range: tuple[float, float]) -> int:
    """Replicas per copy for ``n`` variables and ``beta_range``: ``ln(cold/hot) * sqrt(n) / 2``, rounded up to a
    multiple of 8, between :data:`MIN_REPLICAS` and 32 (the ladder then adapts to the model during the warm-up).

    >>> default_replicas(128, (0.16, 8.0)), default_replicas(10, (1.0, 2.0)), default_replicas(10**6, (0.1, 10))
    (24, 8, 32)
    """
    hot, cold = beta_range
    spread = np.log(max(cold / hot, 1.0))
    wanted = _LANES * np.ceil(spread * np.sqrt(n) / 2.0 / _LANES)
    return int(np.clip(wanted, MIN_REPLICAS, _DEFAULT_CAP))


def adapt(betas: np.ndarray, accept: np.ndarray, flips: np.ndarray, trim_cold: bool) -> np.ndarray:
    """A new ladder (same size, same hot end) from the swap acceptance of each neighbour pair (``accept``,
    ``R - 1`` values) and the accepted flips per sweep at each position (``flips``, ``R`` values); see the
    module docstring. ``trim_cold=False`` keeps the cold end (a ``beta_range`` the user gave).

    >>> new = adapt(np.geomspace(1.0, 1000.0, 4), np.full(3, 0.5), np.array([30.0, 3.0, 0.0, 0.0]), True)
    >>> bool(new[0] == 1.0 and 10.0 < new[-1] < 100.0)
    True
    """
    x = np.log(np.asarray(betas, dtype=np.float64))
    cold = x[-1]
    flips = np.asarray(flips, dtype=np.float64)
    if len(x) < 3 or x[-1] <= x[0]:
        return np.exp(x)
    if trim_cold and flips[-1] < FROZEN_FLIPS and flips[0] >= FROZEN_FLIPS:
        t = int(np.argmax(flips < FROZEN_FLIPS))  # the first frozen position (> 0)
        hi, lo = np.log(flips[t - 1]), np.log(max(flips[t], 1e-6))  # log(flips) crosses the threshold between
        share = (hi - np.log(FROZEN_FLIPS)) / max(hi - lo, 1e-12)
        cold = x[t - 1] + min(max(share, 0.0), 1.0) * (x[t] - x[t - 1])
    distance = np.concatenate([[0.0], np.cumsum(erfcinv(np.clip(accept, *_ACCEPT_CLIP)))])
    target = np.interp(np.linspace(0.0, np.interp(cold, x, distance), len(x)), distance, x)
    scaled = x[0] + (x - x[0]) * (cold - x[0]) / (x[-1] - x[0])  # the old ladder in the new range
    new = 0.5 * (target + scaled)
    out = np.exp(new)
    out[0], out[-1] = betas[0], (betas[-1] if cold == x[-1] else np.exp(cold))  # exact ends
    return out
