"""The allocation engine: exact optima on small instances, feasible reads, seeds, stages, warm starts."""

import itertools

import numpy as np
import pytest

import qiopt
from qiopt.backends.annealing.engine import anneal_constrained, move_shares
from qiopt.problems import GraphPartitioning, LoadBalancing, TaskAllocation


def brute_force(p):
    best = None
    for combo in itertools.product(p.bins, repeat=len(p.items)):
        sol = p.evaluate(dict(zip(p.items, combo, strict=True)))
        if sol.feasible and (best is None or sol.objective < best):
            best = sol.objective
    return best


@pytest.mark.parametrize("seed", range(14))
def test_anneal_alone_finds_the_exact_optimum_on_small_instances(seed):
    p = TaskAllocation.random(7, 3, tightness=0.85, seed=seed)  # with affinities (a quadratic objective)
    optimum = brute_force(p)
    run = anneal_constrained(p.to_constrained(), num_reads=4, num_sweeps=400, seed=seed, polish=False)
    if optimum is None:  # seeds 1 and 13: no feasible answer exists, and none is claimed
        assert not run.feasible.any()
        return
    assert run.feasible.all()
    assert run.objective.min() == pytest.approx(optimum)


@pytest.mark.parametrize("seed", range(3))
def test_load_balancing_squared_loads_match_brute_force(seed):
    p = LoadBalancing.random(7, 3, skew=0.7, seed=seed)
    optimum = brute_force(p)
    result = qiopt.solve(p, seed=seed, num_reads=4, num_sweeps=400, polish=False)
    assert result.solution.objective == pytest.approx(optimum)
    assert result.solution.details["source"] == "greedy rebalance start + sa anneal"
    assert result.info["starts"] == ["greedy rebalance"] and result.info["options"]["initial_states"] is None
    scratch = LoadBalancing(p.worker_data, [{"id": r["id"], "load": r["load"]} for r in p.task_data])
    assert qiopt.solve(scratch, seed=seed, num_sweeps=400).solution.details["source"].startswith("lpt start")
    random_starts = qiopt.solve(p, seed=seed, num_reads=4, num_sweeps=400, polish=False, starts=False)
    assert "starts" not in random_starts.info and random_starts.solution.details["source"] == "sa anneal"
    assert random_starts.solution.objective == pytest.approx(optimum)


@pytest.mark.parametrize(("tasks", "agents"), [(50, 10), (200, 20)])
def test_anneal_alone_returns_feasible_reads(tasks, agents):
    p = TaskAllocation.random(tasks, agents, tightness=0.9, seed=1)
    run = anneal_constrained(p.to_constrained(), num_reads=8, num_sweeps=300, seed=1, polish=False)
    assert run.feasible.mean() >= 0.9
    assert run.info["stages"]["anneal"]["feasible_reads"] == run.feasible.sum()
    assert "polish" not in run.info["stages"]


def test_same_seed_same_answer_on_any_thread_count():
    cm = TaskAllocation.random(60, 6, seed=2).to_constrained()
    runs = [anneal_constrained(cm, num_reads=3, num_sweeps=100, seed=9, num_threads=t) for t in (1, 2, 3)]
    for run in runs[1:]:
        assert (run.states == runs[0].states).all()
    other = anneal_constrained(cm, num_reads=3, num_sweeps=100, seed=10)
    assert not (other.states == runs[0].states).all()


def test_energies_reported_equal_the_model_energies():
    p = TaskAllocation.random(40, 5, seed=3)
    cm = p.to_constrained()
    sampleset = qiopt.get_backend("sa", seed=1, num_reads=5, num_sweeps=50).sample_constrained(cm)
    states = sampleset.record.sample
    assert np.allclose(sampleset.record.energy, cm.energy(states))
    feasible, satisfied = cm.feasible_rows(states)
    assert (sampleset.record.is_feasible == feasible).all() and (sampleset.record.is_satisfied == satisfied).all()
    order = np.lexsort((sampleset.record.energy, ~sampleset.record.is_feasible))
    assert (order == np.arange(len(order))).all()  # best feasible first


def test_solution_reports_its_stages_and_honest_energy():
    p = TaskAllocation.random(80, 8, seed=4)
    result = qiopt.solve(p, seed=4, reference="milp")
    sol = result.solution
    assert sol.feasible and sol.details["source"].startswith("sa anneal")
    assert result.best_energy == pytest.approx(sol.energy) and sol.energy == pytest.approx(sol.objective)
    assert {"anneal_ns", "polish_ns", "decode_ns"} <= set(result.timing)
    assert result.info["stages"]["polish"]["rounds"] >= 1
    assert result.reference.feasible and 0.0 <= result.gap <= 0.02
    assert p.evaluate(sol.assignment).objective == pytest.approx(sol.objective)


def test_polish_can_be_turned_off_and_only_improves():
    cm = TaskAllocation.random(150, 10, seed=5).to_constrained()
    plain = anneal_constrained(cm, num_reads=2, num_sweeps=20, seed=1, polish=False)
    polished = anneal_constrained(cm, num_reads=2, num_sweeps=20, seed=1, polish=True)
    assert (polished.objective[plain.feasible] <= plain.objective[plain.feasible] + 1e-9).all()
    assert polished.info["stages"]["polish"]["moves"] > 0


def test_warm_start_is_used_and_checked():
    p = TaskAllocation.random(30, 4, seed=6)
    cm = p.to_constrained()
    warm = anneal_constrained(cm, num_reads=1, num_sweeps=300, seed=1).states
    cold_start = qiopt.get_backend("sa", seed=2, num_reads=1, num_sweeps=1, beta_range=(50.0, 50.0), polish=False)
    again = cold_start.sample_constrained(cm, initial_states=(warm, list(cm.sample_labels)))
    assert again.record.energy[0] == pytest.approx(cm.energy(warm[0]))
    bad = warm.copy()
    bad[0, :] = 0
    with pytest.raises(ValueError, match="one-hot group"):
        cold_start.sample_constrained(cm, initial_states=bad)


def test_partitioning_goes_through_the_engine():
    import networkx as nx

    result = qiopt.solve(GraphPartitioning(nx.barbell_graph(5, 0), 2), seed=1)
    assert result.solution.feasible and result.solution.objective == 1.0
    assert result.info["engine"] == "moves"


def test_other_backends_get_the_sound_qubo():
    p = TaskAllocation.random(4, 2, tightness=0.8, seed=7)
    result = qiopt.solve(p, backend="exact")
    assert result.solution.feasible and result.solution.objective == pytest.approx(brute_force(p))
    assert result.solution.details["source"].startswith("exact sample")


def test_concurrent_solves_share_the_thread_budget_and_keep_their_answers(monkeypatch):
    import threading

    from qiopt import threads as budget

    monkeypatch.setenv(budget.VARIABLE, "4")
    problems = [TaskAllocation.random(40, 5, seed=s) for s in range(4)]
    alone = [qiopt.solve(p, seed=s, num_sweeps=200) for s, p in enumerate(problems)]
    assert all(r.info["num_threads"] == 4 for r in alone)  # alone, a solve takes the whole budget
    together: list = [None] * 4
    workers = [threading.Thread(target=lambda k=k: together.__setitem__(
        k, qiopt.solve(problems[k], seed=k, num_sweeps=200))) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert [r.solution.assignment for r in together] == [r.solution.assignment for r in alone]
    monkeypatch.setenv(budget.VARIABLE, "zero")
    with pytest.raises(ValueError, match="QIOPT_NUM_THREADS"):
        qiopt.solve(problems[0], seed=0, num_sweeps=10)


def _tight_gap(m, n, seed):
    """A type-C generalized assignment instance (capacities 80 % of the mean demand per agent)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(5, 26, size=(m, n)).astype(float)
    c = rng.integers(10, 51, size=(m, n)).astype(float)
    return TaskAllocation.from_arrays(c.T, a.T, np.floor(0.8 * a.sum(axis=1) / m))


def test_shift_chains_keep_one_hot_exact_sums_exact_and_replay_on_any_thread_count():
    from qiopt.backends._random import stream_state
    from qiopt.backends.annealing import moves
    from qiopt.backends.annealing.engine import kernel_model

    p = _tight_gap(5, 40, seed=3)
    cm = p.to_constrained()
    chains = {"swap_probability": 0.0, "chain_probability": 1.0, "polish": False}  # every group move a chain
    runs = [anneal_constrained(cm, num_reads=3, num_sweeps=300, seed=4, num_threads=t, **chains) for t in (1, 2, 3)]
    for run in runs[1:]:
        assert (run.states == runs[0].states).all()
    states = runs[0].states
    assert (np.add.reduceat(states[:, cm.group_vars], cm.group_ptr[:-1], axis=1) == 1).all()
    assert np.allclose(runs[0].objective, cm.energy(states))
    assert runs[0].feasible.all()  # chains alone cross the tight capacities to feasible states
    plain = anneal_constrained(cm, num_reads=3, num_sweeps=300, seed=4, swap_probability=0.0, chain_probability=0.0,
                               polish=False)
    assert not (plain.states == states).all()  # the chain branch is what ran
    # the kernel's maintained row sums stay exact under chains (30 sweeps: before the periodic recomputation)
    km = kernel_model(cm)
    choice = cm.group_vars[cm.group_ptr[:-1]].astype(np.int64)
    x = np.zeros(cm.num_variables, dtype=np.int8)
    lhs, tsum = np.zeros(cm.num_constraints), np.zeros(cm.num_squares)
    moves.init_read(km, choice, x, lhs, tsum)
    rng = np.array([stream_state(np.uint64(1), np.uint64(0))], dtype=np.uint64)
    best_obj = np.full(1, np.inf)
    moves.anneal_read(km, np.full(30, 0.05), 1, choice, x, lhs, tsum, rng, 0, np.ones(cm.num_constraints), 0.1,
                      1.01, 0.0, 1.0, choice.copy(), x.copy(), best_obj)
    assert np.allclose(lhs, cm.A @ x) and (x[choice] == 1).all() and x.sum() == cm.num_groups
    moved = moves.descend_read(km, choice, x, lhs, tsum, rng, 0, 0, 4, 5)  # chains in the polish too
    assert moved > 0 and np.allclose(lhs, cm.A @ x) and (x[choice] == 1).all() and x.sum() == cm.num_groups


def test_chain_probability_is_an_option_and_reported():
    cm = _tight_gap(4, 30, seed=5).to_constrained()
    sampler = qiopt.get_backend("sa", seed=1, num_reads=2, num_sweeps=50, chain_probability=0.25)
    sampleset = sampler.sample_constrained(cm)
    assert sampleset.info["options"]["chain_probability"] == 0.25
    assert np.allclose(sampleset.record.energy, cm.energy(sampleset.record.sample))
    with pytest.raises(ValueError, match="chain_probability"):
        qiopt.get_backend("sa", chain_probability=1.5)


def test_the_move_shares_default_by_the_model_and_are_recorded():
    gap = _tight_gap(4, 30, seed=5).to_constrained()  # agent-dependent demands: chains on
    flat = TaskAllocation.random(30, 4, tightness=0.9, seed=2).to_constrained()  # one demand per task: off
    assert move_shares(gap) == (0.25, 0.5) and move_shares(flat) == (0.5, 0.0)
    sampler = qiopt.get_backend("sa", seed=1, num_reads=2, num_sweeps=50)
    for cm, (swap, chain) in ((gap, (0.25, 0.5)), (flat, (0.5, 0.0))):
        options = sampler.sample_constrained(cm).info["options"]
        assert (options["swap_probability"], options["chain_probability"]) == (swap, chain)
    same = anneal_constrained(flat, num_reads=2, num_sweeps=100, seed=3)
    explicit = anneal_constrained(flat, num_reads=2, num_sweeps=100, seed=3, swap_probability=0.5,
                                  chain_probability=0.0)
    np.testing.assert_array_equal(same.states, explicit.states)


def test_kernel_model_sorts_group_members_by_bin_only_when_they_are_not():
    import scipy.sparse as sp

    from qiopt.backends.annealing.engine import kernel_model
    from qiopt.constrained import ConstrainedModel

    def model(groups):  # two items on bins 0..2; variable v sits on bin v % 3
        return ConstrainedModel(6, linear=[1.0, 2.0, 3.0, 3.0, 1.0, 2.0], groups=groups, bins=[0, 1, 2, 0, 1, 2],
                                constraints=sp.csr_matrix(np.ones((1, 6))), upper=[2.0])

    listed, reversed_ = kernel_model(model([[0, 1, 2], [3, 4, 5]])), kernel_model(model([[2, 1, 0], [5, 4, 3]]))
    gvar, gbin = 16, 17  # members of each group and their bins, as the kernels read them
    np.testing.assert_array_equal(listed[gvar], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(reversed_[gvar], listed[gvar])
    np.testing.assert_array_equal(reversed_[gbin], [0, 1, 2, 0, 1, 2])
    for groups in ([[0, 1, 2], [3, 4, 5]], [[2, 1, 0], [5, 4, 3]]):  # the same optimum either way
        run = anneal_constrained(model(groups), num_reads=2, num_sweeps=50, seed=1)
        assert run.objective.min() == 2.0 and run.feasible.all()


def test_a_short_deadline_goes_on_with_one_read_per_thread():
    cm = TaskAllocation.random(600, 30, tightness=0.9, seed=4).to_constrained()
    run = anneal_constrained(cm, num_reads=8, time_limit=0.01, num_threads=2, seed=1)
    anneal = run.info["stages"]["anneal"]
    assert anneal["reads"] == 8 and anneal["reads_to_the_end"] == 2  # far fewer than 50 sweeps of 8 reads fit
    assert len(run.states) == 8 and run.satisfied.shape == (8, cm.num_constraints)
    feasible, satisfied = cm.feasible_rows(run.states)
    np.testing.assert_array_equal(run.feasible, feasible)
    np.testing.assert_array_equal(run.satisfied, satisfied)
    np.testing.assert_allclose(run.objective, cm.energy(run.states))
    untimed = anneal_constrained(cm, num_reads=8, num_sweeps=20, num_threads=2, seed=1)
    assert untimed.info["stages"]["anneal"]["reads_to_the_end"] == 8  # without a deadline every read goes on


def test_out_of_time_with_feasible_reads_skips_the_settle_sweeps():
    cm = TaskAllocation.random(600, 30, tightness=0.9, seed=4).to_constrained()
    found = anneal_constrained(cm, num_reads=1, num_sweeps=50, seed=0)
    assert found.feasible[0]
    start = found.states[0]
    cold = anneal_constrained(cm, num_reads=4, time_limit=1e-4, num_threads=2, seed=1)  # random starts
    warm = anneal_constrained(cm, num_reads=4, time_limit=1e-4, num_threads=2, seed=1, initial_states=start[None])
    assert cold.info["stages"]["anneal"]["sweeps"] == 4  # the probe, then two cold sweeps to settle the reads
    assert warm.info["stages"]["anneal"]["sweeps"] == 2  # the probe only: every read holds its feasible start
    assert warm.feasible.all() and warm.objective.min() <= cm.energy(start) + 1e-9
