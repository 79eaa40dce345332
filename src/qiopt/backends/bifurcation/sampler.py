"""The ``"sb"`` backend: simulated bifurcation (Goto, Tatsumura & Dixon 2019; Goto et al. 2021).

Many agents (one per read) integrate classical Kerr-oscillator-like dynamics in lockstep: positions ``x`` start
near zero, the pump ``a(t)`` ramps from 0 to ``a0`` and each position bifurcates to a wall at ``+1`` or ``-1``;
the signs are the sample. ``variant="ballistic"`` (bSB) couples the positions, ``"discrete"`` (dSB) their signs;
``heated=True`` adds the heating term of Kanao & Goto (2022). The step and the coupling constant are set from the
model's scale (:mod:`qiopt.backends.bifurcation.ising`), linear biases through an auxiliary spin, so every
energy is the model's. Each agent keeps the best sign state seen at its checkpoints, ``polish`` takes it to a
local minimum, and with ``time_limit`` runs of fresh agents repeat until the deadline (the best ``num_reads``
are kept); a run longer than the time left is shortened (fewer steps over the same ramp) so the call ends in time.

Example:
    >>> import dimod, qiopt
    >>> bqm = dimod.BQM({"a": 0.5}, {("a", "b"): 1.0, ("b", "c"): 1.0}, 0.0, "SPIN")
    >>> sampleset = qiopt.get_backend("sb", num_reads=8, num_steps=200, seed=1).sample(bqm)
    >>> float(sampleset.first.energy)
    -2.5
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import dimod
import numpy as np

from qiopt.backends._reads import ReadOptions, initial_spins, keep_lowest, start_states
from qiopt.backends.base import Backend, RunOutput
from qiopt.model import CompactModel
from qiopt.options import one_of, option, optional, positive_float, positive_int, share
from qiopt.progress import reporter
from qiopt.threads import lease

__all__ = ["SimulatedBifurcationBackend", "SimulatedBifurcationOptions"]

_READS = 64
_MARGIN = 0.85  # share of the time left that a time-limited run or chunk is sized to fill
_MIN_SHARE = 0.2  # with time_limit, a last run shorter than this share of num_steps is not started
_WRAP_STEPS = 3  # a run's wrap-up (last checkpoint, scoring) costs about this many steps; kept free of steps
_PROBE_STEPS = 4  # steps timed at the start of a time-limited run (after one untimed step)


@dataclass(frozen=True)
class SimulatedBifurcationOptions(ReadOptions):
    num_reads: int | None = option(
        None, "Agents per run (each gives one sample); with time_limit, runs of this many repeat and the best are "
        "kept. Default 64.", check=optional(positive_int))
    variant: str = option("ballistic", "'ballistic' (bSB: the force uses positions) or 'discrete' (dSB: their "
                          "signs).", check=one_of("ballistic", "discrete"))
    num_steps: int = option(1000, "Integration steps per run (the pump ramps from 0 to a0 over them).",
                            check=positive_int)
    time_step: float | None = option(
        None, "Step dt; default min(1.25, 1.8 / sqrt(1 + c0 * spectral radius of J)), stable on dense models.",
        check=optional(positive_float))
    c0: float | None = option(None, "Coupling constant; default 0.5 / (sqrt(N) * std of J) (Goto et al.).",
                              check=optional(positive_float))
    check_every: int = option(10, "Steps between checkpoints, where each agent's sign state is scored and its "
                              "best kept.", check=positive_int)
    stop_window: int | None = option(
        None, "Early stop: an agent stops once its signs are unchanged over this many steps (at every checkpoint "
        "in it); a run ends when all have. None: run every step.", check=optional(positive_int))
    heated: bool = option(False, "Heated SB (Kanao & Goto 2022): momenta grow by heat_coefficient * dt each "
                          "step, helping agents out of local minima.", check=one_of(True, False))
    heat_coefficient: float = option(0.06, "Heating rate gamma of heated SB.", check=positive_float)
    polish: bool = option(True, "Steepest descent to a local minimum from each agent's best state.",
                          check=one_of(True, False))
    initial_amplitude: float = option(
        0.5, "initial_states start agents at positions initial_amplitude * s (momenta 0), in (0, 1]; 1 starts on "
        "the walls. A bias, not a constraint: the dynamics may move away.", check=share)
    device: str = option("cpu", "'cpu' (compiled kernels) or 'cuda' (PyTorch on a GPU; pip install "
                         "'qiopt[gpu]'). The same dynamics; seeded runs differ between the two.",
                         check=one_of("cpu", "cuda"))


class SimulatedBifurcationBackend(Backend):
    """Simulated bifurcation: ballistic or discrete, optionally heated; many agents in lockstep on all cores."""

    name = "sb"
    options_type = SimulatedBifurcationOptions
    requires = ("numba",)
    summary = "simulated bifurcation (ballistic/discrete, heated), many agents in lockstep; strong on dense models"

    def _resolve(self, options: Any) -> Any:
        return options.replace(num_reads=options.num_reads or _READS)

    def _run(self, model: CompactModel, options: Any, bqm: dimod.BinaryQuadraticModel) -> RunOutput:
        from qiopt.backends.bifurcation import kernels
        from qiopt.backends.bifurcation.ising import IsingForm

        deadline = None if options.time_limit is None else time.perf_counter() + options.time_limit
        swarm_type = _swarm_type(options.device)
        if deadline is not None:
            kernels.load()
        form = IsingForm.from_model(model)
        c0 = options.c0 or form.c0()
        dynamics = _dynamics(options, c0, options.time_step or form.time_step(c0))
        with lease(options.num_threads) as threads:
            info = _runs(model, form, dynamics, options, threads, deadline, swarm_type)
        spins = info.pop("spins")
        info |= {"variant": options.variant, "c0": c0, "time_step": dynamics.time_step,
                 "spectral_radius": form.spectral_radius, "auxiliary_spin": form.auxiliary,
                 "heated": options.heated, "polish": options.polish, "num_threads": threads,
                 "device": options.device}
        return RunOutput(spins, info)


def _dynamics(options: Any, c0: float, dt: float) -> Any:
    from qiopt.backends.bifurcation.kernels import Dynamics

    window = 0 if options.stop_window is None else math.ceil(options.stop_window / options.check_every)
    return Dynamics(dt, c0, options.heat_coefficient if options.heated else 0.0, options.variant == "discrete",
                    options.check_every, window, options.num_steps)


def _swarm_type(device: str) -> Any:
    """The agents' implementation for ``device``: the compiled ``Swarm``, or ``TorchSwarm`` (checked usable)."""
    if device == "cpu":
        from qiopt.backends.bifurcation.kernels import Swarm

        return Swarm
    from qiopt.backends.bifurcation.gpu import TorchSwarm, torch_module

    torch_module(device)
    return partial(TorchSwarm, device=device)


def _runs(model: CompactModel, form: Any, dynamics: Any, options: Any, threads: int, deadline: float | None,
          swarm_type: Any) -> dict[str, Any]:
    """Runs of ``num_reads`` fresh agents: one, or until the deadline with the best ``num_reads`` kept."""
    warm = initial_spins(model, options.initial_states)
    best, runs, agents, steps, converged, polished, cut, per_step = None, 0, 0, 0, 0, 0, False, None
    planned = []
    with reporter("sb", total=options.time_limit, unit="s") as bar:
        while True:
            started = time.perf_counter()
            total = options.num_steps
            if per_step is not None:  # a later time-limited run: as many steps as fit, if enough do
                total = min(total, int(_MARGIN * (deadline - started) / per_step))
                if total < _MIN_SHARE * options.num_steps:
                    break
            starts = _starts(model, form, options, warm, runs)
            swarm = swarm_type(form, replace(dynamics, total_steps=total), options.num_reads, options.seed, agents,
                          starts, threads)
            cut = _integrate(swarm, deadline, threads)
            swarm.finish(threads)
            states = form.spins(swarm.best_signs())
            if options.polish:
                polished += _polish(model, states, deadline, threads)
            best = states if deadline is None else keep_lowest(model, best, states, options.num_reads)
            runs, agents, steps = runs + 1, agents + options.num_reads, steps + swarm.steps_run()
            converged += swarm.converged()
            planned.append(swarm.dynamics.total_steps)
            now = time.perf_counter()
            bar.update(now - started if bar.total is None else min(now - started, bar.total - bar.n))
            bar.set_postfix_str(f"{runs} runs")
            if deadline is None or cut:
                break
            per_step = (now - started) / max(swarm.step, 1)
    return {"spins": best, "num_runs": runs, "num_agents": agents, "num_steps_run": steps,
            "num_steps_planned": planned, "agents_converged": converged, "num_polished": polished,
            "stopped_by_time_limit": cut}


def _starts(model: CompactModel, form: Any, options: Any, warm: np.ndarray | None, run: int) -> np.ndarray | None:
    """Warm-started agents' positions ``initial_amplitude * s`` (rows of the extended model), or None."""
    states = start_states(model, options, warm, run, options.num_reads)  # also checks the generator option
    if warm is None:
        return None
    given = options.num_reads if options.initial_states_generator == "tile" else min(len(warm), options.num_reads)
    return options.initial_amplitude * form.extend(states[:given]).astype(np.float32)


def _polish(model: CompactModel, states: np.ndarray, deadline: float | None, threads: int) -> int:
    """Steepest descent of the rows of ``states`` in place; with a deadline, in batches sized from the measured
    rate (one row per thread first) until it passes, the rest left as they are. Returns the rows polished."""
    from qiopt.backends.annealing.kernels import steepest_descent

    if deadline is None:
        steepest_descent(model, states, num_threads=threads)
        return len(states)
    done, batch = 0, threads
    while done < len(states) and time.perf_counter() < deadline:
        started = time.perf_counter()
        rows = states[done:done + batch]  # a view: polished in place
        steepest_descent(model, rows, num_threads=threads)
        done += len(rows)
        rate = len(rows) / max(time.perf_counter() - started, 1e-9)
        batch = max(threads, int(_MARGIN * (deadline - time.perf_counter()) * rate))
    return done


def _integrate(swarm: Any, deadline: float | None, threads: int) -> bool:
    """Advance a run to its end, in chunks sized to the deadline when there is one; returns whether the deadline
    cut it. The first chunks (one untimed step, then a few timed) measure the rate; a run that would not end in
    time is shortened then, while the pump is still near zero."""
    if deadline is None:
        swarm.advance(swarm.dynamics.total_steps, threads)
        return False
    if not swarm.advance(1, threads):  # one step first: compiled code is loaded before anything is timed
        return False
    chunk, probing = _PROBE_STEPS, True
    while swarm.step < swarm.dynamics.total_steps:
        started = time.perf_counter()
        done = swarm.step
        if not swarm.advance(chunk, threads):
            return False
        now = time.perf_counter()
        per_step = (now - started) / max(swarm.step - done, 1)
        left = deadline - now - _WRAP_STEPS * per_step  # the last checkpoint and the scoring of the run
        if left <= 0:
            return swarm.step < swarm.dynamics.total_steps
        fit = int(_MARGIN * left / per_step)
        if probing and swarm.step + fit < swarm.dynamics.total_steps:
            swarm.dynamics = replace(swarm.dynamics, total_steps=swarm.step + max(fit, 1))
        probing = False
        chunk = max(1, fit)
    return False
