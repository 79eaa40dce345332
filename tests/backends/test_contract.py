"""Every registered, usable backend keeps the dimod sampler contract and qiopt's own (qiopt.testing)."""

import unittest

import dimod
import dimod.testing
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FAST_OPTIONS

import qiopt
from qiopt.testing import assert_backend_contract

_INFO = qiopt.available_backends()
USABLE = [name if info.usable else pytest.param(name, marks=pytest.mark.skip(
    reason=f"backend {name!r} is not usable here: {info.install_hint or info.summary}"))
    for name, info in _INFO.items()]  # an unusable backend is a reported skip, never silently dropped
QUICK = [name for name in ("sa", "exact") if _INFO[name].usable]


def make(name):
    return qiopt.get_backend(name, **FAST_OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", USABLE)
def test_qiopt_contract(name):
    assert_backend_contract(make(name), num_variables=4 if name in ("qaoa", "ibm") else 6)


@pytest.mark.parametrize("name", USABLE)
def test_options_round_trip_through_properties(name):
    sampler = make(name)
    again = qiopt.get_backend(name, **sampler.properties["options"])
    assert again.options == sampler.options


for _name in QUICK:
    @dimod.testing.load_sampler_bqm_tests(lambda n=_name: make(n))
    class _DimodKit(unittest.TestCase):
        pass

    _DimodKit.__name__ = f"TestDimodKit_{_name}"
    globals()[_DimodKit.__name__] = _DimodKit
del _DimodKit


labels = st.one_of(st.integers(-5, 5), st.text(max_size=2), st.tuples(st.integers(0, 2), st.integers(0, 2)))
biases = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def bqms(draw):
    names = draw(st.lists(labels, min_size=1, max_size=7, unique=True))
    vartype = draw(st.sampled_from([dimod.SPIN, dimod.BINARY]))
    bqm = dimod.BinaryQuadraticModel(vartype)
    for v in names:
        bqm.add_linear(v, draw(biases))
    for i, u in enumerate(names):
        for v in names[i + 1:]:
            if draw(st.booleans()):
                bqm.add_quadratic(u, v, draw(biases))
    bqm.offset = draw(biases)
    return bqm


@pytest.mark.parametrize("name", QUICK)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bqm=bqms())
def test_reported_energies_are_model_energies(name, bqm):
    sampleset = make(name).sample(bqm)
    np.testing.assert_allclose(sampleset.record.energy, bqm.energies(sampleset), rtol=0, atol=1e-9)
    assert sampleset.vartype is bqm.vartype
