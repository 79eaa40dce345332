"""The "sa" backend as users call it: quality against the exact solver, seeds, options and bad input."""

import dimod
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.testing import random_bqm


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_default_call_finds_exact_optimum_up_to_15_variables(seed, vartype):
    bqm = random_bqm(8 + seed % 8, vartype, seed=seed, density=0.7)
    exact = qiopt.get_backend("exact").sample(bqm).first.energy
    assert qiopt.get_backend("sa", seed=seed).sample(bqm).first.energy == pytest.approx(exact, abs=1e-9)


def test_frustrated_ring_optimum():
    bqm = dimod.generators.frustrated_loop(nx.cycle_graph(12), 6, seed=3)
    exact = qiopt.get_backend("exact").sample(bqm).first.energy
    assert qiopt.solve(bqm, seed=1).best_energy == pytest.approx(exact)


def test_same_seed_same_samples_whatever_num_threads():
    bqm = random_bqm(40, "SPIN", seed=5, density=0.2)
    runs = [qiopt.get_backend("sa", seed=11, num_reads=10, num_sweeps=100, num_threads=t).sample(bqm)
            for t in (1, 2, 1)]
    for other in runs[1:]:
        assert np.array_equal(runs[0].record.sample, other.record.sample)
    assert len({tuple(r) for r in runs[0].record.sample}) > 1, "reads must differ from each other"


def test_different_seeds_differ():
    bqm = random_bqm(40, "SPIN", seed=5, density=0.2)
    a = qiopt.get_backend("sa", seed=1, num_sweeps=20, polish=False).sample(bqm).record.sample
    b = qiopt.get_backend("sa", seed=2, num_sweeps=20, polish=False).sample(bqm).record.sample
    assert not np.array_equal(a, b)


def test_seed_none_is_recorded_and_replays():
    bqm = random_bqm(30, "BINARY", seed=2)
    first = qiopt.get_backend("sa", num_sweeps=50).sample(bqm)
    seed = first.info["options"]["seed"]
    assert isinstance(seed, int)
    again = qiopt.get_backend("sa", num_sweeps=50, seed=seed).sample(bqm)
    assert np.array_equal(first.record.sample, again.record.sample)


def test_time_limit_runs_more_batches_and_keeps_best():
    bqm = random_bqm(60, "SPIN", seed=9, density=0.3)
    sampleset = qiopt.get_backend("sa", num_reads=4, num_sweeps=50, time_limit=0.3, seed=1).sample(bqm)
    assert sampleset.info["num_batches"] > 1
    assert len(sampleset) == 4
    single = qiopt.get_backend("sa", num_reads=4, num_sweeps=50, seed=1).sample(bqm)
    assert sampleset.first.energy <= single.first.energy


def test_warm_start_from_optimum_with_cold_schedule_stays():
    bqm = random_bqm(12, "BINARY", seed=4)
    best = qiopt.get_backend("exact").sample(bqm).first.sample
    sampleset = qiopt.get_backend("sa", initial_states=best, initial_states_generator="tile",
                                  beta_range=(50.0, 100.0), num_reads=3, num_sweeps=10, seed=0).sample(bqm)
    assert all(dict(zip(sampleset.variables, row, strict=True)) == best for row in sampleset.record.sample)


def test_polish_reaches_local_minimum():
    bqm = random_bqm(50, "SPIN", seed=3, density=0.3)
    sampleset = qiopt.get_backend("sa", num_sweeps=5, polish=True, seed=2).sample(bqm)
    for sample, energy in sampleset.data(["sample", "energy"]):
        for v in bqm.variables:
            flipped = dict(sample)
            flipped[v] = -flipped[v]
            assert bqm.energy(flipped) >= energy - 1e-9


@pytest.mark.parametrize("options", [
    {"beta_schedule_type": "linear"}, {"proposal_acceptance_criteria": "Gibbs"}, {"randomize_order": True},
    {"beta_schedule_type": "custom", "beta_schedule": np.geomspace(0.1, 5, 300).tolist()},
    {"num_sweeps": 500, "num_sweeps_per_beta": 5},
])
def test_variants_find_optimum(options):
    bqm = random_bqm(10, "SPIN", seed=8)
    exact = qiopt.get_backend("exact").sample(bqm).first.energy
    assert qiopt.get_backend("sa", seed=3, **options).sample(bqm).first.energy == pytest.approx(exact)


@pytest.mark.parametrize("options, match", [
    ({"num_reads": 0}, "num_reads"),
    ({"num_sweeps": 2.5}, "num_sweeps"),
    ({"beta_range": (5, 1)}, "beta_range"),
    ({"beta_range": "hot"}, "beta_range"),
    ({"beta_schedule_type": "cubic"}, "beta_schedule_type"),
    ({"seed": -1}, "seed"),
    ({"time_limit": 0}, "time_limit"),
    ({"proposal_acceptance_criteria": "metropolis"}, "proposal_acceptance_criteria"),
    ({"beta_schedule": [float("nan")], "beta_schedule_type": "custom"}, "beta_schedule"),
])
def test_bad_options_named(options, match):
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("sa", **options)


@pytest.mark.parametrize("options, match", [
    ({"beta_schedule_type": "custom"}, "beta_schedule"),
    ({"beta_schedule": [1.0, 2.0]}, "custom"),
    ({"num_sweeps": 10, "num_sweeps_per_beta": 3}, "multiple"),
])
def test_bad_options_at_sample_time_named(options, match):
    bqm = dimod.BQM({"a": 1.0, "b": -1.0}, {("a", "b"): 0.5}, 0.0, "BINARY")
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("sa", **options).sample(bqm)


def test_per_call_override_does_not_change_backend():
    sampler = qiopt.get_backend("sa", num_reads=3)
    assert len(sampler.sample(random_bqm(5, "SPIN", 1), num_reads=5)) == 5
    assert sampler.options.num_reads == 3


@pytest.mark.parametrize("linear", [{0: 1.1e-308}, {0: 1.0, 1: 1.1e-308}, {0: 1e300, 1: -1e-300}])
def test_extreme_bias_scales_give_finite_schedule_and_optimum(linear):
    bqm = dimod.BQM(linear, {}, 0.0, "SPIN")
    sampleset = qiopt.get_backend("sa", num_reads=2, num_sweeps=10, seed=0).sample(bqm)
    assert all(np.isfinite(sampleset.info["beta_range"]))
    assert sampleset.first.energy == pytest.approx(-sum(abs(b) for b in linear.values()), rel=1e-12)


def test_repr_shows_changed_options_including_arrays():
    text = repr(qiopt.get_backend("sa", num_reads=3, initial_states=np.ones((1, 2), dtype=np.int8)))
    assert text.startswith("SimulatedAnnealingBackend(") and "num_reads=3" in text and "initial_states" in text
    assert "seed" not in text


def test_reads_cut_short_by_a_deadline_are_reported_and_warned_when_asked():
    bqm = dimod.generators.ran_r(1, 400, seed=1)
    sampler = qiopt.get_backend("sa", seed=1)
    with pytest.warns(UserWarning, match=r"of the 100000 reads asked fit in time_limit=0.05s"):
        short = sampler.sample(bqm, num_reads=100_000, time_limit=0.05)
    assert short.info["num_reads_returned"] == len(short) < 100_000
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default number of reads: reported, not warned
        default = sampler.sample(bqm, num_sweeps=20_000, time_limit=0.05)
    assert default.info["num_reads_returned"] == len(default) < 64


def test_a_deadline_shorter_than_one_read_stops_the_probe():
    bqm = dimod.generators.ran_r(1, 400, seed=1)
    sampler = qiopt.get_backend("sa", seed=1)
    sampler.sample(bqm, num_sweeps=10, num_reads=2)  # compiled
    result = sampler.sample(bqm, num_sweeps=200_000, time_limit=0.05)  # one read alone takes seconds
    assert result.info["stopped_by_time_limit"] and len(result) >= 1  # (bench_deadlines.py times it)
    assert result.first.energy == pytest.approx(bqm.energy(result.first.sample))
