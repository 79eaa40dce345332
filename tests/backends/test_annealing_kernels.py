"""Tests of the compiled annealing kernels and the β schedule (backends.annealing.kernels and .schedule)."""

from __future__ import annotations

import itertools

import dimod
import numpy as np
import pytest

from qiopt.backends.annealing.kernels import MAX_BLOCK, anneal, steepest_descent
from qiopt.backends.annealing.schedule import beta_schedule, default_beta_range
from qiopt.model import CompactModel


def random_model(n: int, seed: int, density: float = 0.6, vartype: str = "SPIN") -> CompactModel:
    rng = np.random.default_rng(seed)
    h = rng.normal(size=n).round(2)
    pairs = [(i, j) for i, j in itertools.combinations(range(n), 2) if rng.random() < density]
    J = {p: round(float(rng.normal()), 2) for p in pairs}
    return CompactModel.from_bqm(dimod.BinaryQuadraticModel(dict(enumerate(h)), J, 0.5, vartype))


def brute_force_min(cm: CompactModel) -> float:
    n = cm.num_variables
    spins = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    return float(cm.energies(spins).min())


def random_states(cm: CompactModel, reads: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (2 * rng.integers(0, 2, size=(reads, cm.num_variables)) - 1).astype(np.int8)


def betas_for(cm: CompactModel, num: int = 200) -> np.ndarray:
    return beta_schedule(default_beta_range(cm), num, "geometric")


@pytest.mark.parametrize("gibbs", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_anneal_finds_exact_optimum(gibbs: bool, seed: int) -> None:
    cm = random_model(8 + seed, seed)
    states = random_states(cm, 16, seed)
    anneal(cm, betas_for(cm), 1, states, seed=seed, gibbs=gibbs)
    assert set(np.unique(states).tolist()) <= {-1, 1}
    assert cm.energies(states).min() == pytest.approx(brute_force_min(cm), abs=1e-9)


def test_randomize_order_finds_optimum_and_is_deterministic() -> None:
    cm = random_model(12, 11, vartype="BINARY")
    a, b = random_states(cm, 8), random_states(cm, 8)
    anneal(cm, betas_for(cm), 2, a, seed=3, randomize_order=True)
    anneal(cm, betas_for(cm), 2, b, seed=3, randomize_order=True, num_threads=2)
    np.testing.assert_array_equal(a, b)
    assert cm.energies(a).min() == pytest.approx(brute_force_min(cm), abs=1e-9)


@pytest.mark.parametrize("gibbs", [False, True])
def test_determinism_across_threads_and_batching(gibbs: bool) -> None:
    cm = random_model(40, 5, density=0.2)
    betas = beta_schedule((0.05, 0.5), 30, "linear")  # hot: the states keep changing to the end
    reads = MAX_BLOCK + 13  # several blocks of unequal width
    start = random_states(cm, reads, 1)
    runs = []
    for threads in (1, 2, 3):
        states = start.copy()
        anneal(cm, betas, 1, states, seed=42, gibbs=gibbs, num_threads=threads)
        runs.append(states)
    batched = start.copy()
    for lo, hi in ((0, 7), (7, 50), (50, reads)):
        part = np.ascontiguousarray(batched[lo:hi])
        anneal(cm, betas, 1, part, seed=42, first_read=lo, gibbs=gibbs)
        batched[lo:hi] = part
    for other in [*runs[1:], batched]:
        np.testing.assert_array_equal(runs[0], other)
    assert len({row.tobytes() for row in runs[0]}) > reads // 2  # different reads differ
    again = start.copy()
    anneal(cm, betas, 1, again, seed=43, gibbs=gibbs)
    assert not np.array_equal(again, runs[0])


def test_steepest_descent_reaches_local_minimum() -> None:
    cm = random_model(30, 9, density=0.3)
    states = random_states(cm, 20, 4)
    before = cm.energies(states)
    steepest_descent(cm, states, num_threads=2)
    after = cm.energies(states)
    assert (after <= before + 1e-12).all()
    for row in states:
        flipped = np.repeat(row[None], cm.num_variables, axis=0)
        np.fill_diagonal(flipped, -row)
        assert (cm.energies(flipped) >= cm.energies(row[None])[0] - 1e-9).all()


def test_single_variable_and_uncoupled_models() -> None:
    one = CompactModel.from_bqm(dimod.BinaryQuadraticModel({"a": 1.5}, {}, 0.0, "SPIN"))
    states = np.ones((3, 1), dtype=np.int8)
    anneal(one, betas_for(one, 20), 1, states, seed=0)
    assert (states == -1).all()
    free = CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: 1.0, 1: -2.0, 2: 0.5}, {}, 0.0, "SPIN"))
    states = random_states(free, 5)
    anneal(free, betas_for(free, 50), 1, states, seed=1)
    assert (states == [-1, 1, -1]).all()
    states = random_states(free, 5)
    steepest_descent(free, states)
    assert (states == [-1, 1, -1]).all()


def test_all_zero_biases() -> None:
    cm = CompactModel.from_bqm(dimod.BinaryQuadraticModel({0: 0.0, 1: 0.0}, {(0, 1): 0.0}, 1.0, "SPIN"))
    hot, cold = default_beta_range(cm)
    assert 0 < hot < cold
    states = random_states(cm, 4)
    anneal(cm, beta_schedule((hot, cold), 10, "geometric"), 1, states, seed=0)
    steepest_descent(cm, states)
    assert set(np.unique(states).tolist()) <= {-1, 1}


def test_empty_work_and_bad_states() -> None:
    cm = random_model(5, 0)
    anneal(cm, betas_for(cm), 1, np.empty((0, 5), dtype=np.int8), seed=0)
    states = random_states(cm, 2)
    before = states.copy()
    anneal(cm, np.array([]), 1, states, seed=0)
    np.testing.assert_array_equal(states, before)
    with pytest.raises(ValueError, match="int8"):
        anneal(cm, betas_for(cm), 1, states.astype(np.int64), seed=0)
    with pytest.raises(ValueError, match="num_threads"):
        steepest_descent(cm, states, num_threads=0)


@pytest.mark.parametrize("kind", ["geometric", "linear"])
def test_beta_schedule_monotone_with_exact_endpoints(kind: str) -> None:
    betas = beta_schedule((0.01, 7.0), 57, kind)
    assert betas.dtype == np.float64 and betas.shape == (57,)
    assert betas[0] == 0.01 and betas[-1] == 7.0
    assert (np.diff(betas) > 0).all()
    assert beta_schedule((0.01, 7.0), 1, kind).tolist() == [7.0]


def test_beta_schedule_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="'cubic'"):
        beta_schedule((0.1, 1.0), 10, "cubic")
    with pytest.raises(ValueError, match="geometric"):
        beta_schedule((0.0, 1.0), 10, "geometric")
    assert beta_schedule((0.0, 1.0), 3, "linear").tolist() == [0.0, 0.5, 1.0]


def test_default_beta_range_rule() -> None:
    for seed in range(3):
        hot, cold = default_beta_range(random_model(10, seed, vartype="BINARY"))
        assert 0 < hot < cold
    # ring of 4 unit couplings: rms field sqrt(2) -> hot = ln 2 / (2 sqrt 2); gap 1 on 4 spins -> cold = ln(400) / 2
    ring_bqm = dimod.BinaryQuadraticModel({}, {(i, (i + 1) % 4): 1.0 for i in range(4)}, 0.0, "SPIN")
    ring = CompactModel.from_bqm(ring_bqm)
    assert default_beta_range(ring) == pytest.approx((np.log(2) / (2 * np.sqrt(2)), np.log(400) / 2))


def test_round_off_bias_does_not_set_the_cold_end() -> None:
    import networkx as nx

    import qiopt

    graph = nx.random_regular_graph(3, 200, seed=1)
    clean = dimod.BinaryQuadraticModel({}, {(u, v): 1.0 for u, v in graph.edges}, 0.0, "SPIN")
    noisy = clean.copy()
    noisy.add_linear(0, 1e-13)  # float round-off in a user's QUBO
    assert default_beta_range(CompactModel.from_bqm(noisy)) == default_beta_range(CompactModel.from_bqm(clean))
    sampler = qiopt.get_backend("sa", num_reads=16, num_sweeps=1000, seed=3)
    clean_median = np.median(sampler.sample(clean).record.energy)
    assert np.median(sampler.sample(noisy).record.energy) <= clean_median * 0.98  # was 3 % worse: -232 vs -240


@pytest.mark.parametrize("gibbs", [False, True])
def test_fixed_beta_samples_the_boltzmann_distribution(gibbs: bool) -> None:
    """At a constant β the kernels are a Markov chain whose stationary law is Boltzmann's: the states of many
    independent reads must pass a χ² test against the exact probabilities (4 spins, 16 states)."""
    bqm = dimod.BinaryQuadraticModel({0: 0.4, 1: -0.3, 2: 0.1, 3: 0.0},
                                     {(0, 1): -0.5, (1, 2): 0.7, (2, 3): -0.2, (0, 3): 0.3}, 0.0, "SPIN")
    cm, beta, reads = CompactModel.from_bqm(bqm), 1.0, 20_000
    states = random_states(cm, reads, seed=4)
    anneal(cm, np.full(60, beta), 1, states, seed=11, gibbs=gibbs)
    space = np.array(list(itertools.product([-1, 1], repeat=4)), dtype=np.int8)
    energy = np.array([bqm.energy(dict(zip(cm.labels, s.tolist(), strict=True))) for s in space])
    expected = reads * np.exp(-beta * (energy - energy.min())) / np.exp(-beta * (energy - energy.min())).sum()
    index = {tuple(s): k for k, s in enumerate(space.tolist())}
    observed = np.bincount([index[tuple(s)] for s in states.tolist()], minlength=16)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 37.7  # the 0.1 % critical value, 15 degrees of freedom (measured 11-12; sampling at β = 1.5: 2,263)


def _argmin_descent(cm: CompactModel, state: np.ndarray) -> np.ndarray:
    """Reference: steepest single-flip descent by a full ``np.argmin`` scan per flip (ties: lowest index)."""
    s = state.astype(np.float64)
    J = np.zeros((cm.num_variables, cm.num_variables))
    J[cm.rows, cm.indices] = cm.data
    while True:
        gain = -2.0 * s * (cm.h + J @ s)
        i = int(np.argmin(gain))
        if gain[i] >= -1e-12:
            return s.astype(np.int8)
        s[i] = -s[i]


@pytest.mark.parametrize("seed", range(6))
def test_descent_makes_the_steepest_moves(seed: int) -> None:
    bqm = dimod.generators.ran_r(1, 25, seed=seed)  # ±1 couplings: many ties, which go to the lowest index
    cm = CompactModel.from_bqm(bqm)
    states = random_states(cm, 4, seed=seed)
    expected = np.array([_argmin_descent(cm, row) for row in states])
    steepest_descent(cm, states)
    np.testing.assert_array_equal(states, expected)
