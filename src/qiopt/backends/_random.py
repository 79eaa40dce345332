"""Random streams shared by every compiled backend (numba): one xorshift64 stream per read.

A read's stream is seeded only from ``(seed, read index)`` (:func:`stream_state`), so a read gives the same
result whatever the batching or the thread count. :func:`uniform` draws from ``(0, 1]`` in float32 and
:func:`exp_neg` is a branch-free float32 ``exp`` for acceptance tests, so loops that call them vectorise.

Example:
    >>> import numpy as np
    >>> a = stream_state(np.uint64(7), np.uint64(0))
    >>> a == stream_state(np.uint64(7), np.uint64(0)), a == stream_state(np.uint64(7), np.uint64(1))
    (True, False)
    >>> 0.0 < uniform(a) <= 1.0
    True
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["JIT", "U24", "exp_neg", "splitmix64", "stream_state", "uniform", "xorshift64"]

JIT = {"nogil": True, "cache": True, "boundscheck": False}
"""numba options of every compiled kernel: no GIL (threads run reads in parallel), cached on disk."""
U24 = np.float32(2.0**-24)
_F1 = np.float32(1.0)


@nb.njit(inline="always", **JIT)
def splitmix64(x: np.uint64) -> np.uint64:
    """SplitMix64 output function (seed scrambling)."""
    z = np.uint64(x + np.uint64(0x9E3779B97F4A7C15))
    z = np.uint64((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9))
    z = np.uint64((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB))
    return np.uint64(z ^ (z >> np.uint64(31)))


@nb.njit(inline="always", **JIT)
def xorshift64(x: np.uint64) -> np.uint64:
    """Next state of Marsaglia's xorshift64 (13, 7, 17); period 2**64 - 1."""
    x = np.uint64(x ^ (x << np.uint64(13)))
    x = np.uint64(x ^ (x >> np.uint64(7)))
    return np.uint64(x ^ (x << np.uint64(17)))


@nb.njit(inline="always", **JIT)
def stream_state(seed: np.uint64, index: np.uint64) -> np.uint64:
    """Nonzero xorshift64 state derived only from ``(seed, index)``."""
    x = splitmix64(splitmix64(seed) ^ index)
    return x if x != 0 else np.uint64(0x9E3779B97F4A7C15)


@nb.njit(inline="always", **JIT)
def uniform(x: np.uint64) -> np.float32:
    """A float32 in ``(0, 1]`` from the top 24 bits of a generator state (advance the state first)."""
    return np.float32((x >> np.uint64(40)) + np.uint64(1)) * U24


@nb.njit(inline="always", fastmath=True, **JIT)
def exp_neg(x: np.float32) -> np.float32:
    """``exp(x)`` for float32 ``x <= 0`` (flushes to ~1e-38 below -87): 2**k by exponent bits, 2**f by a
    degree-5 polynomial (relative error < 1e-5). Branch-free, so loops calling it vectorise."""
    t = max(x * np.float32(1.4426950408889634), np.float32(-126.0))
    k = np.floor(t)
    f = t - k
    p = _F1 + f * (np.float32(0.6931472) + f * (np.float32(0.2402265) + f * (
        np.float32(0.05550411) + f * (np.float32(0.009618129) + f * np.float32(0.001333355)))))
    return p * np.int32((np.int32(k) + np.int32(127)) << np.int32(23)).view(np.float32)
