"""What every sampling backend of the family (sa, tabu, sb, pt, sqa, the auto portfolio and decompose) must do
alike: dimod's test kit, the exact optimum of small models (SPIN and BINARY, several seeds, no polish where it
can be turned off), a seed drawn when none is given that replays the run, and bad warm starts named. Each
backend's own file tests the rest."""

import unittest

import dimod
import dimod.testing
import numpy as np
import pytest
from tests.conftest import FAST_OPTIONS

import qiopt
from qiopt.testing import random_bqm

FAMILY = ("sa", "tabu", "sb", "pt", "sqa", "auto", "decompose")

#: Options with which each backend must find the optimum of the small models below, every seed.
OPTIMUM = {
    "sa": {"num_reads": 8, "num_sweeps": 500, "polish": False},
    "tabu": {},
    "sb": {"variant": "discrete"},
    "pt": {"num_reads": 2, "num_sweeps": 300, "polish": False},
    "sqa": {"num_reads": 4, "num_sweeps": 200, "polish": False},
    "auto": {"members": ["sa", "tabu"], "time_limit": 0.3},
    "decompose": {"num_rounds": 4},
}

for _name in FAMILY:
    @dimod.testing.load_sampler_bqm_tests(lambda n=_name: qiopt.get_backend(n, **FAST_OPTIONS[n]))
    class _DimodKit(unittest.TestCase):
        pass

    _DimodKit.__name__ = f"TestDimodKit_{_name}"
    globals()[_DimodKit.__name__] = _DimodKit
del _DimodKit


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_finds_the_exact_optimum_of_small_models(name, seed, vartype):
    bqm = random_bqm(12 + seed % 5, vartype, seed=seed, density=0.7)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    sampleset = qiopt.get_backend(name, seed=seed, **OPTIMUM[name]).sample(bqm)
    assert sampleset.first.energy == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("name", [n for n in FAMILY if n != "auto"])  # auto's members run on threads: timing
def test_a_drawn_seed_is_recorded_and_replays(name):
    bqm = random_bqm(30, "BINARY", seed=2, density=0.3)
    first = qiopt.get_backend(name, **FAST_OPTIONS[name]).sample(bqm)
    again = qiopt.get_backend(name, **FAST_OPTIONS[name], seed=first.info["options"]["seed"]).sample(bqm)
    np.testing.assert_array_equal(first.record.sample, again.record.sample)


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("options", [
    {"initial_states": {"x": 1}}, {"initial_states": {"a": 2, "b": 0}},
    {"initial_states": {"a": 1, "b": 0}, "initial_states_generator": "none"},
])
def test_bad_warm_starts_are_named(name, options):
    bqm = dimod.BQM({"a": 1.0, "b": -1.0}, {("a", "b"): 0.5}, 0.0, "BINARY")
    with pytest.raises(ValueError, match="initial_states"):
        qiopt.get_backend(name, **FAST_OPTIONS[name], **options).sample(bqm)
