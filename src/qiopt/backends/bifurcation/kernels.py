"""Compiled simulated-bifurcation kernels of the ``"sb"`` backend (numba, compiled lazily and cached on disk).

Agents run in lockstep, like the reads of ``"sa"``: a block of up to ``MAX_BLOCK`` agents keeps positions ``X``,
momenta ``Y`` and signs ``S`` as float32 arrays laid out ``(spins, agents)``, so the CSR mat-vec ``J X`` reads
each coupling once for the whole block and every per-agent operation is a loop over the contiguous agent axis
that LLVM vectorises. One step is symplectic Euler with inelastic walls (Goto et al. 2021)::

    y <- (1 + gamma dt) y + dt (-(a0 - a(t)) x - c0 J x)     # ballistic; discrete uses J sign(x)
    x <- x + dt a0 y;  where |x| > 1: x <- sign(x), y <- 0

with ``a(t)`` ramped linearly from 0 to ``a0`` over the run and ``gamma > 0`` for heated SB (Kanao & Goto
2022). Every ``check_every`` steps (and at the end) each agent's sign state is scored, ``E = s.Js / 2`` summed
in float64, and the agent's best sign state so far is kept. An agent whose signs did not change over
``window_checks`` checkpoints in a row stops updating its best (it has converged); a block stops when all of
its agents have. Agents never interact and each draws its start only from ``(seed, agent index)``; no
``fastmath`` (its FMA contraction could differ between the vector body and the remainder loop), so an agent's
trajectory is the same whatever the blocking or the thread count. The kernels only produce sign states: the
sampler recomputes every energy in float64 from the model.

Example:
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> from qiopt.backends.bifurcation.ising import IsingForm
    >>> form = IsingForm.from_model(CompactModel.from_bqm(dimod.BQM({}, {(0, 1): -1.0, (1, 2): -1.0}, 0, "SPIN")))
    >>> swarm = Swarm(form, Dynamics(0.5, 0.5, 0.0, False, 10, 0, 200), agents=4, seed=3, first_agent=0)
    >>> swarm.advance(200, num_threads=1)
    True
    >>> swarm.finish(num_threads=1)
    >>> sorted({tuple(row) for row in swarm.best_signs().tolist()}) in ([(-1, -1, -1)], [(1, 1, 1)],
    ...                                                                  [(-1, -1, -1), (1, 1, 1)])
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from qiopt.backends._random import JIT, stream_state, uniform, xorshift64
from qiopt.backends.annealing.kernels import MAX_BLOCK, blocks
from qiopt.backends.bifurcation.ising import A0, IsingForm
from qiopt.threads import run_tasks

__all__ = ["MAX_BLOCK", "START_SPREAD", "Dynamics", "Swarm", "load"]

START_SPREAD = 0.1
"""Random agents start with positions and momenta uniform in ``[-START_SPREAD, START_SPREAD]``."""

_F0, _F1 = np.float32(0.0), np.float32(1.0)


@nb.njit(**JIT)
def _start(X: np.ndarray, Y: np.ndarray, seed: np.uint64, first_agent: int, spread: np.float32) -> None:
    """Uniform positions and momenta in ``[-spread, spread]``, agent ``r`` from stream ``first_agent + r``."""
    for r in range(X.shape[1]):
        state = stream_state(seed, np.uint64(first_agent + r))
        for i in range(X.shape[0]):
            state = xorshift64(state)
            X[i, r] = spread * (np.float32(2.0) * uniform(state) - _F1)
            state = xorshift64(state)
            Y[i, r] = spread * (np.float32(2.0) * uniform(state) - _F1)


@nb.njit(**JIT)
def _matvec(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, V: np.ndarray, out: np.ndarray) -> None:
    """``out = J V`` for every agent (column) at once."""
    width = V.shape[1]
    for i in range(V.shape[0]):
        for r in range(width):
            out[i, r] = _F0
        for k in range(indptr[i], indptr[i + 1]):
            j, w = indices[k], data[k]
            for r in range(width):
                out[i, r] += w * V[j, r]


@nb.njit(**JIT)
def _checkpoint(S: np.ndarray, G: np.ndarray, best: np.ndarray, best_e: np.ndarray, prev: np.ndarray,
                stable: np.ndarray, frozen: np.ndarray, window_checks: int) -> int:
    """Score the signs ``S`` (``G = J S``), keep improvements, count unchanged checkpoints; returns the agents
    still active."""
    n, width = S.shape
    energy = np.zeros(width, np.float64)
    moved = np.zeros(width, np.float32)
    for i in range(n):
        for r in range(width):
            energy[r] += 0.5 * np.float64(S[i, r]) * np.float64(G[i, r])
            moved[r] += abs(S[i, r] - prev[i, r])
            prev[i, r] = S[i, r]
    better = np.zeros(width, np.bool_)
    active = 0
    for r in range(width):
        if frozen[r]:
            continue
        better[r] = energy[r] < best_e[r]
        if better[r]:
            best_e[r] = energy[r]
        stable[r] = stable[r] + 1 if moved[r] == _F0 else 0
        if window_checks > 0 and stable[r] >= window_checks:
            frozen[r] = True
        else:
            active += 1
    for i in range(n):
        for r in range(width):
            best[i, r] = S[i, r] if better[r] else best[i, r]
    return active


@nb.njit(**JIT)
def _advance(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, X: np.ndarray, Y: np.ndarray,
             S: np.ndarray, G: np.ndarray, best: np.ndarray, best_e: np.ndarray, prev: np.ndarray,
             stable: np.ndarray, frozen: np.ndarray, t0: int, steps: int, total: int, dt: float, c0: float,
             gamma: float, discrete: bool, check_every: int, window_checks: int) -> int:
    """Steps ``t0 .. t0 + steps - 1`` of a run of ``total`` steps; returns the steps run (fewer once every
    agent has converged)."""
    n, width = X.shape
    dt32, c32 = np.float32(dt), np.float32(c0)
    heat = np.float32(1.0 + gamma * dt)
    drift = np.float32(dt * A0)
    for t in range(t0, t0 + steps):
        if discrete or t % check_every == 0:
            _matvec(indptr, indices, data, S, G)
        if t % check_every == 0 and _checkpoint(S, G, best, best_e, prev, stable, frozen, window_checks) == 0:
            return t - t0
        if not discrete:
            _matvec(indptr, indices, data, X, G)
        pump = np.float32(A0 * (1.0 - t / total))  # a0 - a(t), a(t) ramped linearly from 0 to a0
        for i in range(n):
            for r in range(width):
                y = heat * Y[i, r] - dt32 * (pump * X[i, r] + c32 * G[i, r])
                x = X[i, r] + drift * y
                wall = abs(x) > _F1
                x = (_F1 if x > _F0 else -_F1) if wall else x
                Y[i, r] = _F0 if wall else y
                X[i, r] = x
                S[i, r] = _F1 if x >= _F0 else -_F1
    return steps


@nb.njit(**JIT)
def _finish(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, S: np.ndarray, G: np.ndarray,
            best: np.ndarray, best_e: np.ndarray, prev: np.ndarray, stable: np.ndarray,
            frozen: np.ndarray) -> None:
    """The final checkpoint: score the last signs."""
    _matvec(indptr, indices, data, S, G)
    _checkpoint(S, G, best, best_e, prev, stable, frozen, 0)


@dataclass(frozen=True)
class Dynamics:
    """One run's integration settings (``gamma = 0``: not heated; ``window_checks = 0``: no early stop)."""

    time_step: float
    c0: float
    gamma: float
    discrete: bool
    check_every: int
    window_checks: int
    total_steps: int


class _Block:
    """The state of one lockstep block of agents (arrays ``(spins, width)``)."""

    def __init__(self, n: int, width: int) -> None:
        self.X = np.empty((n, width), np.float32)
        self.Y = np.empty((n, width), np.float32)
        self.G = np.empty((n, width), np.float32)
        self.best = np.empty((n, width), np.float32)
        self.best_e = np.full(width, np.inf)
        self.stable = np.zeros(width, np.int64)
        self.frozen = np.zeros(width, np.bool_)
        self.steps = 0

    @property
    def active(self) -> bool:
        return not self.frozen.all()

    def signs(self) -> None:
        self.S = np.where(self.X >= 0, np.float32(1), np.float32(-1))
        self.prev = self.S.copy()
        self.best[:] = self.S


class Swarm:
    """``agents`` agents of one run, in blocks run on threads; advanced in chunks so a caller can check the clock.

    Agent ``k`` starts from stream ``(seed, first_agent + k)`` unless ``starts`` (float rows ``(m, spins)``,
    ``m <= agents``) gives its positions (momenta zero).
    """

    def __init__(self, form: IsingForm, dynamics: Dynamics, agents: int, seed: int, first_agent: int,
                 starts: np.ndarray | None = None, num_threads: int = 1) -> None:
        self.form, self.dynamics, self.step = form, dynamics, 0
        self.bounds = blocks(agents, num_threads)
        self.blocks = [_Block(form.num_spins, hi - lo) for lo, hi in self.bounds]
        seed64 = np.uint64(int(seed) % 2**64)
        for (lo, hi), block in zip(self.bounds, self.blocks, strict=True):
            _start(block.X, block.Y, seed64, int(first_agent + lo), np.float32(START_SPREAD))
            if starts is not None and lo < len(starts):
                given = starts[lo:hi]
                block.X[:, :len(given)] = given.T
                block.Y[:, :len(given)] = 0.0
            block.signs()

    def _each(self, work: object, num_threads: int) -> None:
        tasks = [(b, b + 1) for b, block in enumerate(self.blocks) if block.active]
        if tasks:
            run_tasks(tasks, lambda b, _: work(self.blocks[b]), num_threads)

    def advance(self, steps: int, num_threads: int) -> bool:
        """Run the next ``steps`` steps (fewer if the run ends); returns whether any agent is still active."""
        d, f = self.dynamics, self.form
        steps = max(0, min(steps, d.total_steps - self.step))

        def work(b: _Block) -> None:
            b.steps += _advance(f.indptr, f.indices, f.data, b.X, b.Y, b.S, b.G, b.best, b.best_e, b.prev,
                                b.stable, b.frozen, self.step, steps, d.total_steps, d.time_step, d.c0, d.gamma,
                                d.discrete, d.check_every, d.window_checks)

        if steps:
            self._each(work, num_threads)
        self.step += steps
        return any(block.active for block in self.blocks)

    def finish(self, num_threads: int) -> None:
        """Score every active agent's current signs (the run's last checkpoint)."""
        f = self.form
        self._each(lambda b: _finish(f.indptr, f.indices, f.data, b.S, b.G, b.best, b.best_e, b.prev, b.stable,
                                     b.frozen), num_threads)

    def best_signs(self) -> np.ndarray:
        """Each agent's best sign state seen, ±1 int8 rows ``(agents, spins)`` of the extended model."""
        return np.ascontiguousarray(np.concatenate([b.best.T for b in self.blocks]).astype(np.int8))

    def steps_run(self) -> int:
        """Steps integrated (the most of any block: a block stops once all its agents have converged)."""
        return max(block.steps for block in self.blocks)

    def converged(self) -> int:
        """Agents stopped early because their signs had settled."""
        return int(sum(block.frozen.sum() for block in self.blocks))


def load() -> None:
    """Load (or compile) every kernel a run calls, on a one-spin model: a caller timing a deadline does this
    first, so the load (about half a second in a fresh process) is not mistaken for the cost of steps."""
    import dimod

    from qiopt.backends.annealing.kernels import steepest_descent
    from qiopt.model import CompactModel

    model = CompactModel.from_bqm(dimod.BQM({0: 1.0}, {}, 0.0, "SPIN"))
    swarm = Swarm(IsingForm.from_model(model), Dynamics(0.5, 0.5, 0.0, False, 1, 1, 2), 1, 0, 0)
    swarm.advance(1, num_threads=1)
    swarm.finish(num_threads=1)
    steepest_descent(model, np.ones((1, 1), np.int8))
