import itertools

import dimod
import numpy as np
import pytest

import qiopt
from qiopt.backends.base import BackendError
from qiopt.testing import random_bqm


def brute_force(bqm):
    labels = list(bqm.variables)
    values = [-1, 1] if bqm.vartype is dimod.SPIN else [0, 1]
    states = np.array(list(itertools.product(values, repeat=len(labels))))
    return np.sort(bqm.energies((states, labels)))


@pytest.mark.parametrize("n", [1, 2, 5, 9, 14])
@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_lowest_states_match_brute_force(n, vartype):
    bqm = random_bqm(n, vartype, seed=n)
    k = min(5, 2**n)
    sampleset = qiopt.get_backend("exact", num_states=k).sample(bqm)
    np.testing.assert_allclose(np.sort(sampleset.record.energy), brute_force(bqm)[:k], atol=1e-9)
    assert len({tuple(r) for r in sampleset.record.sample}) == k


def test_refuses_large_models_clearly():
    bqm = dimod.BQM({i: 1.0 for i in range(12)}, {}, 0.0, "SPIN")
    with pytest.raises(BackendError, match="max_variables=10"):
        qiopt.get_backend("exact", max_variables=10).sample(bqm)


def test_num_states_larger_than_space():
    sampleset = qiopt.get_backend("exact", num_states=10).sample(dimod.BQM({"a": 1.0}, {}, 0, "SPIN"))
    assert len(sampleset) == 2
