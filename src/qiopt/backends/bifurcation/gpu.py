"""The ``device="cuda"`` path of the ``"sb"`` backend: the same dynamics as the compiled kernels, in PyTorch.

:class:`TorchSwarm` has the interface of :class:`~qiopt.backends.bifurcation.kernels.Swarm` (the sampler's run
loop, deadlines, polish and the best-kept reads are shared) and holds the agents' ``(spins, agents)`` arrays on
the device, every agent in one batch: a step is one mat-vec (dense ``J`` when more than
:data:`DENSE_SHARE` of it is nonzero, CSR otherwise) and a few fused element-wise kernels. Steps are launched
from Python, about ten kernels a step; on a GPU that costs some microseconds a step, noticeable only on small
models (CUDA graphs would remove it). Starts are drawn from a ``torch.Generator`` seeded from ``(seed, first
agent)``: reproducible on one device, but not the same agents as the CPU path. PyTorch is imported only by
:func:`torch_module`, so qiopt never needs it unless ``device="cuda"`` is asked for.

Example (runs wherever PyTorch is installed, on its CPU):
    >>> import dimod
    >>> from qiopt.model import CompactModel
    >>> from qiopt.backends.bifurcation.ising import IsingForm
    >>> from qiopt.backends.bifurcation.kernels import Dynamics
    >>> form = IsingForm.from_model(CompactModel.from_bqm(dimod.BQM({}, {(0, 1): 1.0}, 0, "SPIN")))
    >>> try:
    ...     swarm = TorchSwarm(form, Dynamics(0.5, 0.5, 0.0, False, 10, 0, 100), 4, 1, 0, device="cpu")
    ... except ImportError:
    ...     swarm = None
    >>> swarm is None or (swarm.advance(100, 1), swarm.finish(1), {tuple(r) for r in swarm.best_signs().tolist()}
    ...                   <= {(1, -1), (-1, 1)})[2]
    True
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from qiopt.backends.bifurcation.ising import A0, IsingForm
from qiopt.backends.bifurcation.kernels import START_SPREAD, Dynamics

__all__ = ["DENSE_SHARE", "INSTALL_HINT", "TorchSwarm", "torch_module"]

DENSE_SHARE = 0.1
"""Above this share of nonzero couplings the device keeps ``J`` dense (a dense mat-mul beats CSR there)."""
INSTALL_HINT = "pip install 'qiopt[gpu]' (or pip install torch, with a CUDA build)"


def torch_module(device: str) -> Any:
    """The ``torch`` module, checked to run on ``device``; ImportError or ValueError with what to do if not."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"option device={device!r} needs PyTorch, which is not installed here. Install it with: "
                          f"{INSTALL_HINT}; or use device='cpu'") from None
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("option device='cuda': PyTorch finds no CUDA device here (torch.cuda.is_available() is "
                         f"False); use device='cpu', or install a CUDA build of PyTorch: {INSTALL_HINT}")
    return torch


class TorchSwarm:
    """``agents`` agents of one run on a PyTorch device (see the module docstring); the interface of ``Swarm``."""

    def __init__(self, form: IsingForm, dynamics: Dynamics, agents: int, seed: int, first_agent: int,
                 starts: np.ndarray | None = None, num_threads: int = 1, device: str = "cuda") -> None:
        torch = self.torch = torch_module(device)
        dev = torch.device(device)
        n = form.num_spins
        self.form, self.dynamics, self.step, self.steps = form, dynamics, 0, 0
        crow, col = torch.from_numpy(form.indptr), torch.from_numpy(form.indices)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            self.J = torch.sparse_csr_tensor(crow, col, torch.from_numpy(form.data), size=(n, n),
                                             check_invariants=True).to(dev)
        if len(form.data) > DENSE_SHARE * n * n:
            self.J = self.J.to_dense()
        generator = torch.Generator(device=dev).manual_seed(int(np.random.SeedSequence(
            [int(seed) % 2**63, int(first_agent)]).generate_state(1, np.uint64)[0] % 2**63))
        self.X = (2 * torch.rand(n, agents, generator=generator, device=dev) - 1) * START_SPREAD
        self.Y = (2 * torch.rand(n, agents, generator=generator, device=dev) - 1) * START_SPREAD
        if starts is not None and len(starts):
            given = torch.from_numpy(np.ascontiguousarray(starts[:agents].T, dtype=np.float32)).to(dev)
            self.X[:, :given.shape[1]] = given
            self.Y[:, :given.shape[1]] = 0.0
        self.S = torch.where(self.X >= 0, 1.0, -1.0)
        self.best, self.prev = self.S.clone(), self.S.clone()
        self.best_e = torch.full((agents,), float("inf"), dtype=torch.float64, device=dev)
        self.stable = torch.zeros(agents, dtype=torch.int64, device=dev)
        self.frozen = torch.zeros(agents, dtype=torch.bool, device=dev)
        self.done = False

    def _checkpoint(self, G: Any, window_checks: int) -> None:
        torch, S = self.torch, self.S
        energy = 0.5 * (S.double() * G.double()).sum(0)
        moved = (self.prev != S).any(0)
        better = (energy < self.best_e) & ~self.frozen
        self.best_e = torch.where(better, energy, self.best_e)
        self.best = torch.where(better, S, self.best)
        self.stable = torch.where(self.frozen, self.stable, torch.where(moved, 0, self.stable + 1))
        if window_checks > 0:
            self.frozen |= self.stable >= window_checks
        self.prev.copy_(S)

    def advance(self, steps: int, num_threads: int) -> bool:
        """Run the next ``steps`` steps (fewer if the run ends); returns whether any agent is still active."""
        d, torch = self.dynamics, self.torch
        steps = max(0, min(steps, d.total_steps - self.step))
        heat, drift = 1.0 + d.gamma * d.time_step, d.time_step * A0
        for t in range(self.step, self.step + steps):
            if self.done:
                break
            G = self.J @ self.S if d.discrete or t % d.check_every == 0 else None
            if t % d.check_every == 0:
                self._checkpoint(G, d.window_checks)
                if d.window_checks and bool(self.frozen.all()):  # a device sync, only with early stopping
                    self.done = True
                    break
            if not d.discrete:
                G = self.J @ self.X
            pump = A0 * (1.0 - t / d.total_steps)
            Y = heat * self.Y - d.time_step * (pump * self.X + d.c0 * G)
            X = self.X + drift * Y
            wall = X.abs() > 1.0
            self.X = torch.where(wall, torch.sign(X), X)
            self.Y = torch.where(wall, 0.0, Y)
            self.S = torch.where(self.X >= 0, 1.0, -1.0)
            self.steps += 1
        self.step += steps
        if self.X.is_cuda:
            torch.cuda.synchronize()  # the caller times chunks
        return not self.done

    def finish(self, num_threads: int) -> None:
        """Score the agents' current signs (the run's last checkpoint)."""
        if not self.done:
            self._checkpoint(self.J @ self.S, 0)

    def best_signs(self) -> np.ndarray:
        """Each agent's best sign state seen, ±1 int8 rows ``(agents, spins)`` of the extended model."""
        return np.ascontiguousarray(self.best.T.to("cpu").numpy().astype(np.int8))

    def steps_run(self) -> int:
        return self.steps

    def converged(self) -> int:
        return int(self.frozen.sum())
