"""The ``"sqa"`` backend: simulated quantum annealing by path-integral Monte Carlo.

The transverse-field Ising model ``E(s) - Γ Σ σ^x`` at fixed inverse temperature ``β`` is mapped by the
Suzuki-Trotter decomposition onto ``trotter`` coupled classical slices (:mod:`.schedule`); the transverse field
is lowered from ``gamma`` to ``gamma_final`` over ``num_sweeps`` sweeps (Santoro, Martoňák, Tosatti & Car,
Science 295, 2002), with single-slice moves and optional world-line moves (:mod:`.kernels`). Each read returns
the lowest-energy slice it saw (or its lowest final slice), optionally polished by steepest descent. Defaults
scale with the model, so no tuning is needed to start.

Example:
    >>> import dimod, qiopt
    >>> bqm = dimod.BQM({}, {("a", "b"): 1.0, ("b", "c"): 1.0}, 0.0, "SPIN")
    >>> sampleset = qiopt.get_backend("sqa", num_reads=2, num_sweeps=100, seed=1).sample(bqm)
    >>> float(sampleset.first.energy), sampleset.info["trotter"]
    (-2.0, 16)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np

from qiopt.backends._reads import ReadOptions, initial_spins, keep_lowest, start_states
from qiopt.backends.base import Backend, RunOutput
from qiopt.model import CompactModel
from qiopt.options import one_of, option, optional, positive_float, positive_int
from qiopt.progress import reporter
from qiopt.threads import lease

__all__ = ["SimulatedQuantumAnnealingBackend", "SimulatedQuantumAnnealingOptions"]

_READS, _SWEEPS, _TROTTER = 16, 1000, 16
_BATCH_MARGIN = 0.85  # share of the time left a time-limited batch is sized to fill
_CHUNK_MARGIN = 0.9  # share of the time left a chunk of sweeps is sized to fill
_CHUNKS = 16  # chunks of an untimed batch (progress reports only: chunking never changes a result)
_BATCH_BYTES = 2**29  # the largest spins + fields of a batch (float32 (reads, n, P) each)


def _trotter(name: str, value: Any) -> int:
    value = positive_int(name, value)
    if value < 2 or value % 2:
        raise ValueError(f"option {name!r} must be an even integer >= 2 (slices are updated in two colours), "
                         f"got {value!r}")
    return value


@dataclass(frozen=True)
class SimulatedQuantumAnnealingOptions(ReadOptions):
    num_reads: int | None = option(
        None, f"Independent anneals (reads); samples returned (the best ones with time_limit). Default {_READS}.",
        check=optional(positive_int))
    num_sweeps: int | None = option(
        None, f"Sweeps per read; one sweep updates every spin in every slice once. Default {_SWEEPS}.",
        check=optional(positive_int))
    trotter: int = option(_TROTTER, "Trotter slices P (even); more is closer to the quantum system and costs "
                          "proportionally more per sweep.", check=_trotter)
    beta: float | None = option(
        None, "Inverse temperature β of the quantum system (each slice runs at β/P). Default: 3·P/λ, λ the "
        "model's field scale (mean |local field| at local minima; info['field_scale']).",
        check=optional(positive_float))
    gamma: float | None = option(None, "Starting transverse field Γ. Default 1.5·λ.", check=optional(positive_float))
    gamma_final: float | None = option(
        None, "Final transverse field (<= gamma). Default 0.01·gamma, where the slices are bound together.",
        check=optional(positive_float))
    schedule: str = option("linear", "Γ from gamma to gamma_final: 'linear' or 'geometric'.",
                           check=one_of("linear", "geometric"))
    global_moves: bool = option(True, "Also propose world-line moves: flip a spin in every slice at once.",
                                check=one_of(True, False))
    output: str = option("best", "Per read: 'best' (lowest-energy slice seen after any sweep) or 'final' "
                         "(lowest slice at the end).", check=one_of("best", "final"))
    polish: bool = option(True, "Steepest descent to a local minimum after annealing.", check=one_of(True, False))


class SimulatedQuantumAnnealingBackend(Backend):
    """Simulated quantum annealing: path-integral Monte Carlo of the transverse-field Ising model."""

    name = "sqa"
    options_type = SimulatedQuantumAnnealingOptions
    requires = ("numba",)
    summary = "simulated quantum annealing (path-integral Monte Carlo, Suzuki-Trotter slices), compiled"

    def _resolve(self, options: Any) -> Any:
        return options.replace(num_reads=options.num_reads or _READS, num_sweeps=options.num_sweeps or _SWEEPS)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        from qiopt.backends.quantum_annealing import schedule

        deadline = None if options.time_limit is None else time.perf_counter() + options.time_limit
        scale = schedule.field_scale(model)
        beta, gamma, gamma_final = _parameters(scale, options, schedule)
        gammas = schedule.gamma_schedule(gamma, gamma_final, options.num_sweeps, options.schedule)
        with lease(options.num_threads) as threads:  # the process's thread budget, shared with other solves
            spins, info = _Run(model, options, beta, gammas, threads, deadline).execute()
        coupling = schedule.interslice_coupling(beta, np.array([gamma, gamma_final]), options.trotter)
        temperature = options.trotter / beta
        info = {"trotter": options.trotter, "beta": beta, "gamma_range": [gamma, gamma_final],
                "schedule": options.schedule, "field_scale": scale,
                "interslice_coupling": coupling.tolist(),  # K = J⊥ / (P T), start and end
                "interslice_coupling_energy": (temperature * coupling).tolist(),  # J⊥, start and end
                **info, "num_threads": threads}
        return RunOutput(spins, info)


def _parameters(scale: float, options: Any, schedule: Any) -> tuple[float, float, float]:
    beta, gamma = schedule.default_parameters(scale, options.trotter)
    beta, gamma = options.beta or beta, options.gamma or gamma
    gamma_final = options.gamma_final or schedule.GAMMA_END * gamma
    if gamma_final > gamma:
        raise ValueError(f"option 'gamma_final' ({gamma_final}) must not exceed 'gamma' ({gamma}): the "
                         "transverse field goes down")
    return float(beta), float(gamma), float(gamma_final)


class _Run:
    """One call: batches of reads until done (or, with a deadline, until the time is used), best kept."""

    def __init__(self, model: CompactModel, options: Any, beta: float, gammas: np.ndarray, threads: int,
                 deadline: float | None) -> None:
        self.model, self.options, self.beta, self.gammas, self.threads = model, options, beta, gammas, threads
        self.deadline = deadline

    def execute(self) -> tuple[np.ndarray, dict[str, Any]]:
        from qiopt.backends.annealing.kernels import steepest_descent
        from qiopt.backends.quantum_annealing.kernels import Paths

        model, options = self.model, self.options
        warm = initial_spins(model, options.initial_states)
        memory_cap = max(1, _BATCH_BYTES // (8 * model.num_variables * options.trotter))
        largest = min(memory_cap, max(options.num_reads, 4 * self.threads))
        # time-limited: a probe batch (one read per thread) measures the cost of a read; later batches fill
        # the time left, and the best num_reads are kept
        reads = options.num_reads if self.deadline is None else min(options.num_reads, self.threads)
        reads = min(reads, memory_cap)
        best, batch, done, cut, accepted, improved = None, 0, 0, False, 0, 0
        total = options.time_limit if self.deadline is not None else None
        with reporter("sqa", total=total, unit="s") as bar:
            while reads > 0:
                started = time.perf_counter()
                paths = Paths.start(model, start_states(model, options, warm, batch, reads), options.trotter,
                                    options.seed, first_read=done)
                swept = self._anneal(paths)
                cut = swept < len(self.gammas)
                states = self._outcome(paths)
                if options.polish:
                    before = model.energies(states)
                    steepest_descent(model, states, num_threads=self.threads)
                    improved += int(np.count_nonzero(model.energies(states) < before))
                last = (reads, swept)
                accepted += int(paths.world_accepted.sum())
                best = keep_lowest(model, best, states, options.num_reads)
                batch, done = batch + 1, done + reads
                now = time.perf_counter()
                bar.update(now - started if bar.total is None else min(now - started, bar.total - bar.n))
                bar.set_postfix_str(f"{done} reads")
                if cut:
                    break
                if self.deadline is None:  # more than one batch only when memory caps a batch
                    reads = min(memory_cap, options.num_reads - done)
                else:
                    reads = min(largest, int(_BATCH_MARGIN * (self.deadline - now) * reads
                                             / max(now - started, 1e-9)))
        info = {"num_batches": batch, "num_reads_annealed": done, "num_sweeps_last_batch": last[1],
                "stopped_by_time_limit": cut, "global_moves_accepted": accepted, "output": options.output,
                "polish": options.polish, "polish_improved_reads": improved}
        return best, info

    def _anneal(self, paths: Any) -> int:
        """Run the schedule on ``paths`` in chunks, checking the clock between them; returns the sweeps run
        (fewer than the schedule's when the deadline stopped it). Chunks start at one sweep and at most double,
        sized to end by the deadline at the rate just measured."""
        from qiopt.backends.quantum_annealing.kernels import anneal

        total = len(self.gammas)
        pos, step = 0, 1 if self.deadline is not None else max(1, -(-total // _CHUNKS))
        while pos < total:
            started = time.perf_counter()
            part = self.gammas[pos:pos + step]
            anneal(self.model, paths, self.beta, part, pos, self.options.global_moves, self.threads)
            pos += len(part)
            if self.deadline is None:
                continue
            now = time.perf_counter()
            left = self.deadline - now
            if left <= 0:
                break
            per_sweep = (now - started) / len(part)
            step = max(1, min(2 * step, int(_CHUNK_MARGIN * left / max(per_sweep, 1e-12))))
        return pos

    def _outcome(self, paths: Any) -> np.ndarray:
        """Each read's answer (int8 rows): its lowest final slice, or the best seen if that is lower (exact
        float64 energies decide)."""
        model = self.model
        slices = paths.slices()
        reads, trotter, n = slices.shape
        energies = model.energies(slices.reshape(-1, n)).reshape(reads, trotter)
        final = slices[np.arange(reads), np.argmin(energies, axis=1)]
        if self.options.output == "final":
            return np.ascontiguousarray(final)
        seen = paths.best
        take = model.energies(seen) < energies.min(axis=1)
        return np.ascontiguousarray(np.where(take[:, None], seen, final))
