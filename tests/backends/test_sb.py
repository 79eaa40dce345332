"""The "sb" backend: contract, quality against the exact solver, seeds, warm starts, deadlines and bad input."""

import time

import dimod
import dimod.testing
import networkx as nx
import numpy as np
import pytest

import qiopt
from qiopt.backends.bifurcation.ising import IsingForm
from qiopt.model import CompactModel
from qiopt.testing import random_bqm

FAST = {"num_reads": 8, "num_steps": 200}


@pytest.mark.parametrize("variant", ["ballistic", "discrete"])
@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
@pytest.mark.parametrize("seed", range(5))
def test_finds_exact_optimum(seed, vartype, variant):
    bqm = random_bqm(12 + seed, vartype, seed=seed, density=0.7)
    exact = qiopt.get_backend("exact").sample(bqm).first.energy
    sampleset = qiopt.get_backend("sb", seed=seed, variant=variant, num_reads=16, num_steps=300).sample(bqm)
    assert sampleset.first.energy == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_heated_without_polish_finds_optimum(seed):
    bqm = random_bqm(14, "SPIN", seed=20 + seed, density=0.7)
    exact = qiopt.get_backend("exact").sample(bqm).first.energy
    sampleset = qiopt.get_backend("sb", seed=seed, heated=True, polish=False, num_reads=16,
                                  num_steps=300).sample(bqm)
    assert sampleset.first.energy == pytest.approx(exact, abs=1e-9)


def test_field_only_model_follows_the_field():
    bqm = dimod.BQM({"a": 2.0, "b": -1.0, "c": 0.5}, {}, 0.0, "SPIN")
    sampleset = qiopt.get_backend("sb", polish=False, seed=1, **FAST).sample(bqm)
    assert sampleset.first.sample == {"a": -1, "b": 1, "c": -1}
    assert sampleset.info["auxiliary_spin"] is True


def test_auxiliary_spin_energy_is_the_models():
    bqm = random_bqm(9, "SPIN", seed=3)
    model = CompactModel.from_bqm(bqm)
    form = IsingForm.from_model(model)
    signs = (2 * np.random.default_rng(0).integers(0, 2, (20, form.num_spins)) - 1).astype(np.int8)
    dense = np.zeros((form.num_spins, form.num_spins))
    for i in range(form.num_spins):
        dense[i, form.indices[form.indptr[i]:form.indptr[i + 1]]] = form.data[form.indptr[i]:form.indptr[i + 1]]
    extended = 0.5 * np.einsum("ki,ij,kj->k", signs, dense, signs)
    assert np.allclose(model.energies(form.spins(signs)), extended + model.offset, atol=1e-5)


@pytest.mark.parametrize("options", [{}, {"variant": "discrete", "heated": True, "stop_window": 50}])
def test_same_seed_same_samples_whatever_num_threads(options):
    bqm = random_bqm(40, "SPIN", seed=5, density=0.2)
    runs = [qiopt.get_backend("sb", seed=11, num_reads=130, num_steps=40, polish=False, num_threads=t,
                              **options).sample(bqm) for t in (1, 2, 1)]
    for other in runs[1:]:
        assert np.array_equal(runs[0].record.sample, other.record.sample)
        assert runs[0].info["num_steps_run"] == other.info["num_steps_run"]
    assert len({tuple(r) for r in runs[0].record.sample}) > 1, "agents must differ from each other"


def test_different_seeds_differ_and_seed_none_replays():
    bqm = random_bqm(40, "SPIN", seed=5, density=0.2)
    a = qiopt.get_backend("sb", seed=1, num_steps=30, polish=False).sample(bqm).record.sample
    b = qiopt.get_backend("sb", seed=2, num_steps=30, polish=False).sample(bqm).record.sample
    assert not np.array_equal(a, b)
    first = qiopt.get_backend("sb", num_steps=30).sample(bqm)
    again = qiopt.get_backend("sb", num_steps=30, seed=first.info["options"]["seed"]).sample(bqm)
    assert np.array_equal(first.record.sample, again.record.sample)


def test_default_step_is_stable_where_the_papers_step_diverges():
    dense = dimod.BQM({}, {(i, j): 1.0 for i in range(60) for j in range(i)}, 0.0, "SPIN")  # dense antiferromagnet
    edges = nx.gnm_random_graph(200, 2000, seed=1).edges  # G-set-like: mean degree 20, weights 1
    graph = dimod.BQM({}, {edge: 1.0 for edge in edges}, 0.0, "SPIN")
    for model in (dense, graph):
        good = qiopt.get_backend("sb", seed=0, polish=False, num_reads=16).sample(model)
        fixed = qiopt.get_backend("sb", seed=0, polish=False, num_reads=16, time_step=1.25).sample(model)
        assert good.info["time_step"] < 1.25
        optimum = qiopt.get_backend("sa", seed=0).sample(model).first.energy
        assert np.mean(good.record.energy) - optimum < 0.2 * (np.mean(fixed.record.energy) - optimum)


def test_initial_states_start_the_agents():
    bqm = random_bqm(30, "SPIN", seed=4, density=0.3)
    best = qiopt.get_backend("sa", seed=0).sample(bqm).first.sample
    warm = qiopt.get_backend("sb", initial_states=best, initial_states_generator="tile", initial_amplitude=1.0,
                             polish=False, num_reads=4, num_steps=5, seed=0).sample(bqm)
    cold = qiopt.get_backend("sb", polish=False, num_reads=4, num_steps=5, seed=0).sample(bqm)
    assert warm.first.energy == pytest.approx(bqm.energy(best))  # the start is a checkpoint: never worse
    assert cold.first.energy > warm.first.energy
    one = qiopt.get_backend("sb", initial_states=best, num_reads=3, num_steps=5, seed=0, polish=False).sample(bqm)
    assert one.first.energy == pytest.approx(bqm.energy(best))
    with pytest.raises(ValueError, match="initial_states"):
        qiopt.get_backend("sb", initial_states=best, initial_states_generator="none", num_reads=3).sample(bqm)


def test_initial_states_are_not_mutated():
    bqm = random_bqm(10, "BINARY", seed=1)
    states = np.ones((2, 10), dtype=np.int8)
    qiopt.get_backend("sb", initial_states=states, **FAST).sample(bqm)
    assert (states == 1).all()


def test_early_stop_ends_runs_and_is_reported():
    bqm = random_bqm(50, "SPIN", seed=2, density=0.3)
    full = qiopt.get_backend("sb", seed=3, num_steps=3000, polish=False).sample(bqm)
    early = qiopt.get_backend("sb", seed=3, num_steps=3000, polish=False, stop_window=200).sample(bqm)
    assert early.info["num_steps_run"] < full.info["num_steps_run"] == 3000
    assert early.info["agents_converged"] == 64
    assert early.first.energy <= full.first.energy + 0.05 * abs(full.first.energy)


def test_polish_reaches_local_minimum():
    bqm = random_bqm(50, "SPIN", seed=3, density=0.3)
    sampleset = qiopt.get_backend("sb", num_steps=10, seed=2).sample(bqm)
    for sample, energy in sampleset.data(["sample", "energy"]):
        for v in bqm.variables:
            assert bqm.energy({**sample, v: -sample[v]}) >= energy - 1e-9


def test_time_limit_repeats_runs_and_keeps_best():
    bqm = random_bqm(60, "SPIN", seed=9, density=0.3)
    qiopt.get_backend("sb", **FAST).sample(bqm)  # compiled code loaded
    sampleset = qiopt.get_backend("sb", num_reads=4, num_steps=100, time_limit=0.3, seed=1).sample(bqm)
    assert sampleset.info["num_runs"] > 1 and len(sampleset) == 4
    single = qiopt.get_backend("sb", num_reads=4, num_steps=100, seed=1).sample(bqm)
    assert sampleset.first.energy <= single.first.energy


def test_time_limit_bounds_a_run_longer_than_it():
    bqm = dimod.generators.ran_r(1, 1500, seed=1)
    qiopt.get_backend("sb", **FAST).sample(bqm)  # compiled code loaded
    started = time.perf_counter()
    sampleset = qiopt.get_backend("sb", num_steps=10**6, time_limit=0.3, seed=1).sample(bqm)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.5
    assert sampleset.info["num_runs"] == 1 and sampleset.info["num_steps_run"] < 10**6
    assert len(sampleset) == 64


@pytest.mark.parametrize("options, match", [
    ({"num_reads": 0}, "num_reads"), ({"variant": "quantum"}, "variant"), ({"num_steps": 0}, "num_steps"),
    ({"time_step": -1.0}, "time_step"), ({"c0": 0}, "c0"), ({"check_every": 1.5}, "check_every"),
    ({"stop_window": 0}, "stop_window"), ({"heated": "yes"}, "heated"), ({"heat_coefficient": 0}, "heat_coefficient"),
    ({"initial_amplitude": 1.5}, "initial_amplitude"), ({"time_limit": 0}, "time_limit"), ({"seed": -1}, "seed"),
])
def test_bad_options_named(options, match):
    with pytest.raises(ValueError, match=match):
        qiopt.get_backend("sb", **options)


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(_cuda_available(), reason="CUDA is available here: device='cuda' works")
def test_cuda_without_torch_or_cuda_says_how_to_get_it():
    bqm = random_bqm(6, "SPIN", seed=1)
    with pytest.raises((ImportError, ValueError), match=r"device='cuda'.*pip install"):
        qiopt.get_backend("sb", device="cuda", **FAST).sample(bqm)


@pytest.mark.skipif(not _cuda_available(), reason="needs PyTorch with a CUDA device")
def test_cuda_finds_optimum_and_keeps_deadline():
    bqm = random_bqm(14, "SPIN", seed=2, density=0.7)
    exact = qiopt.get_backend("exact").sample(bqm).first.energy
    for options in ({}, {"variant": "discrete", "heated": True, "stop_window": 100}):
        sampleset = qiopt.get_backend("sb", device="cuda", seed=1, num_reads=16, num_steps=300,
                                      **options).sample(bqm)
        assert sampleset.first.energy == pytest.approx(exact) and sampleset.info["device"] == "cuda"
    started = time.perf_counter()
    qiopt.get_backend("sb", device="cuda", num_steps=10**6, time_limit=0.5).sample(random_bqm(300, "SPIN", 1))
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("options", [{}, {"discrete": True, "gamma": 0.06}])
def test_torch_path_on_cpu_matches_the_dynamics(options):
    pytest.importorskip("torch")
    from qiopt.backends.bifurcation.gpu import TorchSwarm
    from qiopt.backends.bifurcation.kernels import Dynamics

    for seed in range(3):
        bqm = random_bqm(13, "BINARY", seed=seed, density=0.7)
        model = CompactModel.from_bqm(bqm)
        form = IsingForm.from_model(model)
        c0 = form.c0()
        settings = {"discrete": False, "gamma": 0.0} | options
        dynamics = Dynamics(form.time_step(c0), c0, settings["gamma"], settings["discrete"], 10, 0, 300)
        swarm = TorchSwarm(form, dynamics, 16, seed, 0, device="cpu")
        swarm.advance(300, 1)
        swarm.finish(1)
        exact = qiopt.get_backend("exact").sample(bqm).first.energy
        assert model.energies(form.spins(swarm.best_signs())).min() == pytest.approx(exact, abs=1e-9)


def test_torch_path_early_stop_and_warm_start():
    pytest.importorskip("torch")
    from qiopt.backends.bifurcation.gpu import TorchSwarm
    from qiopt.backends.bifurcation.kernels import Dynamics

    bqm = random_bqm(30, "SPIN", seed=4, density=0.3)
    model = CompactModel.from_bqm(bqm)
    form = IsingForm.from_model(model)
    first = qiopt.get_backend("sa", seed=0).sample(bqm).first.sample
    best = np.array([[first[v] for v in model.labels]], dtype=np.int8)
    starts = form.extend(best).astype(np.float32)
    swarm = TorchSwarm(form, Dynamics(0.5, form.c0(), 0.0, False, 10, 5, 5000), 8, 1, 0, starts, device="cpu")
    assert not swarm.advance(5000, 1) and swarm.steps_run() < 5000 and swarm.converged() == 8
    swarm.finish(1)
    assert model.energies(form.spins(swarm.best_signs()))[0] <= model.energies(best)[0] + 1e-9
