"""The "sqa" backend: contract, quality against the exact solver, the Trotter kernel, seeds, deadlines, bad input."""

import time

import dimod
import dimod.testing
import numpy as np
import pytest

import qiopt
from qiopt.backends.quantum_annealing import kernels, schedule
from qiopt.model import CompactModel
from qiopt.testing import planted_wishart, random_bqm

FAST = {"num_reads": 4, "num_sweeps": 100, "trotter": 8}


def test_planted_wishart_ground_state():
    bqm, _, energy = planted_wishart(32, 0.75, seed=32)
    sampleset = qiopt.get_backend("sqa", seed=2, num_reads=8, num_sweeps=300, polish=False).sample(bqm)
    assert sampleset.first.energy == pytest.approx(energy, abs=1e-9)


def test_interslice_coupling_matches_the_trotter_mapping():
    # K = J⊥ / (P T) with J⊥ = -(P T / 2) ln tanh(Γ / (P T)) (Martoňák, Santoro & Tosatti)
    beta, gamma, trotter = 2.0, 0.7, 8
    pt = trotter / beta
    j_perp = -(pt / 2) * np.log(np.tanh(gamma / pt))
    assert schedule.interslice_coupling(beta, gamma, trotter) == pytest.approx(j_perp / pt)
    assert np.all(np.diff(schedule.interslice_coupling(beta, np.geomspace(3, 1e-3, 20), trotter)) > 0)


def _ring_energy(paths, trotter):
    """Slice ring order from the even-first layout, and the ring term Σ_k s^k s^{k+1} of every read."""
    order = np.empty(trotter, dtype=int)
    order[0::2], order[1::2] = np.arange(trotter // 2), trotter // 2 + np.arange(trotter // 2)
    ring = paths.spins[:, :, order]
    return ring, np.einsum("rik,rik->r", ring, np.roll(ring, -1, axis=2))


def test_strong_field_decouples_slices_and_weak_field_locks_them():
    bqm = random_bqm(30, "SPIN", seed=3, density=0.3)
    cm = CompactModel.from_bqm(bqm)
    starts = np.ones((2, 30), dtype=np.int8)
    hot = kernels.Paths.start(cm, starts, trotter=8, seed=1, first_read=0)
    kernels.anneal(cm, hot, beta=0.8, gammas=np.full(50, 100.0), first_sweep=0, world_line=False)
    _, bonds = _ring_energy(hot, 8)
    assert np.all(np.abs(bonds) < 0.5 * 30 * 8), "with K ~ 0 the slices must decorrelate"
    cold = kernels.Paths.start(cm, starts, trotter=8, seed=1, first_read=0)
    kernels.anneal(cm, cold, beta=0.8, gammas=np.full(50, 1e-9), first_sweep=0, world_line=False)
    ring, bonds = _ring_energy(cold, 8)
    assert np.all(bonds == 30 * 8) and np.all(ring == 1), "with K large the slices must not move alone"


def test_world_line_moves_move_locked_slices():
    cm = CompactModel.from_bqm(dimod.BQM({i: 1.0 for i in range(10)}, {}, 0.0, "SPIN"))
    paths = kernels.Paths.start(cm, np.ones((1, 10), dtype=np.int8), trotter=4, seed=0, first_read=0)
    kernels.anneal(cm, paths, beta=20.0, gammas=np.full(5, 1e-9), first_sweep=0, world_line=True)
    assert paths.world_accepted[0] >= 10 and np.all(paths.spins == -1)


def test_fields_and_energies_stay_exact_and_chunks_change_nothing():
    bqm = random_bqm(40, "SPIN", seed=6, density=0.3)
    cm = CompactModel.from_bqm(bqm)
    starts = (2 * np.random.default_rng(0).integers(0, 2, (3, 40)) - 1).astype(np.int8)
    gammas = np.linspace(2.0, 0.01, 150)
    whole = kernels.Paths.start(cm, starts, 6, seed=4, first_read=5)
    kernels.anneal(cm, whole, 5.0, gammas, 0, True, num_threads=2)
    parts = kernels.Paths.start(cm, starts, 6, seed=4, first_read=5)
    for lo, hi in ((0, 1), (1, 40), (40, 41), (41, 150)):
        kernels.anneal(cm, parts, 5.0, gammas[lo:hi], lo, True)
    for a, b in zip(vars(whole).values(), vars(parts).values(), strict=True):
        assert np.array_equal(a, b)
    slices = whole.slices()
    exact = cm.energies(slices.reshape(-1, 40)).reshape(3, 6) - cm.offset
    assert whole.energies == pytest.approx(exact, abs=1e-4)
    fields = cm.h[None, :, None] + np.einsum("ij,rjp->rip", cm.dense_couplings(), whole.spins)
    assert whole.fields == pytest.approx(fields, abs=1e-4)
    assert np.all(cm.energies(whole.best) - cm.offset == pytest.approx(whole.best_energy, abs=1e-4))


def test_same_seed_same_samples_whatever_num_threads():
    bqm = random_bqm(40, "SPIN", seed=5, density=0.2)
    runs = [qiopt.get_backend("sqa", seed=11, num_reads=6, num_sweeps=60, num_threads=t, polish=False).sample(bqm)
            for t in (1, 2, 1)]
    for other in runs[1:]:
        assert np.array_equal(runs[0].record.sample, other.record.sample)
    assert len({tuple(r) for r in runs[0].record.sample}) > 1, "reads must differ from each other"
    other_seed = qiopt.get_backend("sqa", seed=12, num_reads=6, num_sweeps=60, polish=False).sample(bqm)
    assert not np.array_equal(runs[0].record.sample, other_seed.record.sample)


def test_initial_state_is_kept_when_nothing_better_is_seen():
    bqm = random_bqm(14, "BINARY", seed=4)
    best = dimod.ExactSolver().sample(bqm).first.sample
    sampleset = qiopt.get_backend("sqa", initial_states=best, initial_states_generator="tile", num_reads=3,
                                  num_sweeps=5, gamma=50.0, beta=0.01, polish=False, seed=0).sample(bqm)
    assert all(dict(zip(sampleset.variables, row, strict=True)) == best for row in sampleset.record.sample)


def test_initial_states_start_every_slice():
    bqm = dimod.BQM({i: 1.0 for i in range(8)}, {}, 0.0, "SPIN")
    up = {i: 1 for i in range(8)}
    sampleset = qiopt.get_backend("sqa", initial_states=up, initial_states_generator="tile", num_reads=2,
                                  num_sweeps=1, gamma=1e-6, beta=1e-6, global_moves=False, output="final",
                                  polish=False, seed=0).sample(bqm)
    assert np.all(sampleset.record.sample == 1), "locked slices at a tiny β keep their start"


def test_output_final_and_polish_reported():
    bqm = random_bqm(40, "SPIN", seed=3, density=0.3)
    sampleset = qiopt.get_backend("sqa", num_reads=3, num_sweeps=5, output="final", polish=True, seed=2).sample(bqm)
    info = sampleset.info
    assert info["output"] == "final" and info["polish"] is True and info["num_reads_annealed"] == 3
    assert info["stopped_by_time_limit"] is False and info["num_sweeps_last_batch"] == 5
    for sample, energy in sampleset.data(["sample", "energy"]):
        for v in bqm.variables:
            flipped = dict(sample)
            flipped[v] = -flipped[v]
            assert bqm.energy(flipped) >= energy - 1e-9


def test_defaults_scale_with_the_model():
    bqm = random_bqm(30, "SPIN", seed=8, density=0.3)
    a = qiopt.get_backend("sqa", **FAST, seed=1).sample(bqm)
    bqm.scale(10.0)
    b = qiopt.get_backend("sqa", **FAST, seed=1).sample(bqm)
    assert b.info["beta"] == pytest.approx(a.info["beta"] / 10) and b.info["field_scale"] == pytest.approx(
        10 * a.info["field_scale"])
    assert b.info["interslice_coupling"] == pytest.approx(a.info["interslice_coupling"])
    assert np.array_equal(a.record.sample, b.record.sample)


@pytest.mark.parametrize("options", [{"schedule": "geometric"}, {"global_moves": False}, {"trotter": 2},
                                     {"gamma": 3.0, "gamma_final": 0.01, "beta": 10.0}])
def test_variants_find_optimum(options):
    bqm = random_bqm(10, "SPIN", seed=8)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    sampleset = qiopt.get_backend("sqa", seed=3, num_reads=4, num_sweeps=200, **options).sample(bqm)
    assert sampleset.first.energy == pytest.approx(exact)


def test_time_limit_bounds_the_call_and_runs_more_batches():
    small = random_bqm(40, "SPIN", seed=9, density=0.3)
    qiopt.get_backend("sqa", **FAST).sample(small)  # compiled before timing
    sampleset = qiopt.get_backend("sqa", num_reads=4, num_sweeps=30, trotter=8, time_limit=0.3, seed=1).sample(small)
    assert sampleset.info["num_batches"] > 1 and len(sampleset) == 4
    big = dimod.generators.ran_r(1, 1500, seed=1)  # one read of 10**6 sweeps would take many minutes
    started = time.perf_counter()
    cut = qiopt.get_backend("sqa", num_reads=2, num_sweeps=10**6, time_limit=0.3, seed=1).sample(big)
    assert time.perf_counter() - started < 1.5
    assert cut.info["stopped_by_time_limit"] and 0 < cut.info["num_sweeps_last_batch"] < 10**6
    assert len(cut) == min(2, cut.info["num_reads_annealed"])


@pytest.mark.parametrize("options, match", [
    ({"num_reads": 0}, "num_reads"), ({"num_sweeps": 2.5}, "num_sweeps"), ({"trotter": 3}, "trotter"),
    ({"trotter": 0}, "trotter"), ({"beta": -1.0}, "beta"), ({"gamma": 0}, "gamma"),
    ({"gamma_final": float("inf")}, "gamma_final"), ({"schedule": "cubic"}, "schedule"),
    ({"global_moves": "yes"}, "global_moves"), ({"output": "last"}, "output"), ({"polish": 1.5}, "polish"),
    ({"time_limit": 0}, "time_limit"), ({"seed": -1}, "seed"), ({"tortter": 4}, "trotter"),
])
def test_bad_options_named(options, match):
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("sqa", **options)


@pytest.mark.parametrize("options, match", [
    ({"gamma": 1.0, "gamma_final": 2.0}, "gamma_final"),
])
def test_bad_options_at_sample_time_named(options, match):
    bqm = dimod.BQM({"a": 1.0, "b": -1.0}, {("a", "b"): 0.5}, 0.0, "BINARY")
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("sqa", **FAST, **options).sample(bqm)


def test_model_without_biases():
    bqm = dimod.BQM({"a": 0.0, "b": 0.0}, {}, 1.5, "SPIN")
    sampleset = qiopt.get_backend("sqa", **FAST, seed=0).sample(bqm)
    assert np.all(sampleset.record.energy == 1.5) and sampleset.info["field_scale"] == 1.0
