import dimod
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from qiopt.model import CompactModel, as_bqm, from_ising, from_matrix, from_qubo, maxcut_bqm
from qiopt.testing import random_bqm


def test_qubo_dict():
    bqm = as_bqm({("a", "a"): -1, ("a", "b"): 2, ("b", "a"): 1})
    assert bqm.vartype is dimod.BINARY
    assert bqm.get_quadratic("a", "b") == 3
    assert bqm.energy({"a": 1, "b": 1}) == 2


def test_ising_pair_and_sequence_h():
    bqm = as_bqm(([1.0, -1.0], {(0, 1): 0.5}))
    assert bqm.vartype is dimod.SPIN
    assert bqm.energy({0: -1, 1: 1}) == -2.5


def test_matrix_dense_and_sparse_agree():
    Q = np.array([[1.0, 2.0, 0.0], [1.0, -3.0, 0.5], [0.0, 0.0, 2.0]])
    dense, sparse = as_bqm(Q), as_bqm(sp.csr_matrix(Q))
    assert dense == sparse
    x = np.array([1, 1, 0])
    assert dense.energy(x) == pytest.approx(x @ Q @ x)


def test_graph_is_maxcut():
    g = nx.Graph()
    g.add_edge("u", "v", weight=2.0)
    g.add_edge("v", "w")
    bqm = as_bqm(g)
    cut = {"u": 1, "v": -1, "w": 1}
    assert (3.0 - bqm.energy(cut)) / 2 == 3.0


def test_bqm_is_copied_not_mutated():
    original = dimod.BQM({"a": 1.0}, {}, 0.0, "SPIN")
    out = as_bqm(original)
    out.add_linear("a", 5)
    assert original.get_linear("a") == 1.0


@pytest.mark.parametrize("bad", [
    {(0, 0): float("nan")},
    {(0, 1): float("inf")},
    np.array([[np.nan]]),
])
def test_non_finite_rejected(bad):
    with pytest.raises(ValueError, match="finite"):
        as_bqm(bad)


@pytest.mark.parametrize("bad, error", [
    ({(0, 0): "x"}, TypeError),
    ({(0, 0): True}, TypeError),
    ({(0, 0): np.complex128(1 + 2j)}, TypeError),
    ({0: 1.0}, ValueError),
    ({}, ValueError),
    (np.zeros((2, 3)), ValueError),
    (np.array([["a"]]), TypeError),
    ("model", TypeError),
    (dimod.BQM("SPIN"), ValueError),
    (nx.DiGraph([(0, 1)]), TypeError),
])
def test_bad_input_errors(bad, error):
    with pytest.raises(error):
        as_bqm(bad)


def test_ising_self_coupling_rejected():
    with pytest.raises(ValueError, match="itself"):
        from_ising({}, {(0, 0): 1.0})


def test_empty_message_names_the_problem():
    with pytest.raises(ValueError, match="empty"):
        from_qubo({})


def test_helpers_exported():
    assert from_matrix(np.eye(2)).num_variables == 2
    assert maxcut_bqm(nx.path_graph(3)).num_interactions == 2


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 7), seed=st.integers(0, 10_000), spin=st.booleans())
def test_compact_energies_equal_model(n, seed, spin):
    bqm = random_bqm(n, "SPIN" if spin else "BINARY", seed)
    cm = CompactModel.from_bqm(bqm)
    rng = np.random.default_rng(seed)
    spins = (2 * rng.integers(0, 2, size=(5, n)) - 1).astype(np.int8)
    samples = cm.to_vartype(spins)
    assert np.array_equal(cm.from_vartype(samples), spins)
    np.testing.assert_allclose(cm.energies(spins), bqm.energies((samples, cm.labels)), atol=1e-9)


def test_compact_csr_is_symmetric():
    cm = CompactModel.from_bqm(random_bqm(6, "BINARY", 3))
    n = cm.num_variables
    m = sp.csr_matrix((cm.data, cm.indices, cm.indptr), shape=(n, n)).toarray()
    assert np.allclose(m, m.T) and np.all(np.diag(m) == 0)
