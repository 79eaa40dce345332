"""Lower bounds: roof duality on BQMs and the LP relaxation of constrained models never exceed the optimum
(brute force on small models), certified gaps, and roof-duality preprocessing."""

import itertools

import dimod
import numpy as np
import pytest
import scipy.sparse as sp
from tests.test_constrained import random_model

import qiopt
from qiopt.bounds import certified_gap, fix_variables, lower_bound, lp_bound, roof_duality_bound
from qiopt.constrained import ConstrainedModel
from qiopt.problems import TaskAllocation
from qiopt.problems.reference import lp_relaxation


def brute_force_optimum(cm: ConstrainedModel) -> float:
    states = np.array(list(itertools.product((0, 1), repeat=cm.num_variables)))
    feasible, _ = cm.feasible_rows(states)
    return float(cm.energy(states[feasible]).min()) if feasible.any() else np.inf


def random_bqm(seed: int, n: int = 9, vartype: str = "BINARY") -> dimod.BinaryQuadraticModel:
    rng = np.random.default_rng(seed)
    return dimod.BinaryQuadraticModel({v: rng.normal() for v in range(n)},
                                      {(u, v): rng.normal() for u in range(n) for v in range(u + 1, n)
                                       if rng.random() < 0.4}, float(rng.normal()), vartype)


@pytest.mark.parametrize("seed", range(12))
def test_lp_bound_never_exceeds_the_feasible_optimum(seed):
    cm = random_model(seed)
    if seed % 2:  # a concave squared term too: bounded by its chord
        cm = ConstrainedModel(cm.num_variables, linear=cm.linear, quadratic=(*cm.quadratic.nonzero(),
                              0.5 * cm.quadratic.data), offset=cm.offset, groups=(cm.group_ptr, cm.group_vars),
                              constraints=cm.A, lower=cm.lower, upper=cm.upper, squares=cm.B, targets=cm.targets,
                              weights=[-0.7, 1.5])
    optimum = brute_force_optimum(cm)
    bound = lp_bound(cm)
    assert bound.method == "lp_relaxation"
    if np.isinf(optimum):
        assert bound.value == np.inf or bound.value is not None
    else:
        assert bound.status == "optimal" and bound.value <= optimum + 1e-9


def test_lp_bound_is_tight_on_an_integral_lp():
    cm = ConstrainedModel(4, linear=[1.0, 3.0, 2.0, 0.5], groups=[[0, 1], [2, 3]])
    assert lp_bound(cm).value == pytest.approx(1.5, abs=1e-6)


def test_lp_bound_proves_infeasibility():
    cm = ConstrainedModel(2, linear=[1.0, 1.0], groups=[[0, 1]], constraints=sp.csr_matrix([[1.0, 1.0]]),
                          lower=[2.0], upper=[2.0])
    bound = lp_bound(cm)
    assert bound.status == "infeasible" and bound.value == np.inf


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
@pytest.mark.parametrize("seed", range(8))
def test_roof_duality_bound_and_fixed_values(seed, vartype):
    bqm = random_bqm(seed, vartype=vartype)
    exact = qiopt.solve(bqm, backend="exact").sampleset
    ground = exact.first.energy
    bound = roof_duality_bound(bqm)
    assert bound.value <= ground + 1e-9
    # strong persistency: every ground state takes the fixed values
    optima = [s for s, e in exact.data(["sample", "energy"]) if e <= ground + 1e-9]
    assert all(s[v] == x for s in optima for v, x in bound.fixed.items())
    reduced, fixed, _ = fix_variables(bqm)
    assert reduced.num_variables == bqm.num_variables - len(fixed)
    assert bqm.num_variables == 9  # the caller's model is untouched


@pytest.mark.parametrize("seed", range(6))
def test_preprocessed_solve_finds_the_optimum_over_every_variable(seed):
    bqm = random_bqm(seed, n=12)
    ground = qiopt.solve(bqm, backend="exact").best_energy
    result = qiopt.solve(bqm, preprocess="roof_duality", seed=seed, num_reads=16, num_sweeps=200)
    assert set(result.best_sample) == set(bqm.variables)
    assert result.best_energy == pytest.approx(ground)
    assert bqm.energy(result.best_sample) == pytest.approx(result.best_energy)
    assert result.info["preprocess"]["method"] == "roof_duality"
    assert "roof_duality_ns" in result.timing
    assert result.lower_bound <= ground + 1e-9 and result.certified_gap is not None


def test_preprocess_fixing_everything_answers_without_a_backend():
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, "b": -2.0}, {("a", "b"): 0.5}, 0.0, "BINARY")
    result = qiopt.solve(bqm, preprocess="roof_duality")
    assert result.backend == "roof_duality" and result.best_sample == {"a": 0, "b": 1}
    assert result.best_energy == -2.0 and result.certified_gap == 0.0


def test_preprocess_bad_input():
    with pytest.raises(ValueError, match="preprocess must be"):
        qiopt.solve({(0, 1): 1.0}, preprocess="spectral")
    problem = gap_instance(0, n=6, m=2)
    with pytest.raises(ValueError, match="fixes variables of a BQM"):
        qiopt.solve(problem, preprocess="roof_duality")


def gap_instance(seed: int, n: int = 30, m: int = 5) -> TaskAllocation:
    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 25, size=(n, m)).astype(float)
    cost = rng.integers(10, 50, size=(n, m)).astype(float)
    return TaskAllocation.from_arrays(cost, demand, capacity=0.8 * demand.sum(axis=0) / m)


def test_problem_bound_is_below_the_milp_optimum_and_matches_the_arrays_lp():
    p = gap_instance(1)
    result = qiopt.solve(p, seed=1, time_limit=1)
    optimum = p.reference("milp").objective
    assert result.lower_bound <= optimum + 1e-6
    assert result.lower_bound == pytest.approx(lp_relaxation(p.arrays)[1]["bound"] + p.offset, rel=1e-6)
    assert result.certified_gap >= (result.solution.objective - optimum) / abs(result.solution.objective) - 1e-9
    assert result.info["bound"]["method"] == "lp_relaxation"
    assert lower_bound(p).value == pytest.approx(result.lower_bound)


def test_bounds_of_cqm_input_and_infeasible_answers():
    x = [dimod.Binary(i) for i in range(3)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(x[0] + 2 * x[1] + 3 * x[2] - 4 * x[0] * x[2])
    cqm.add_constraint(x[0] + x[1] + x[2] == 1, label="one")
    result = qiopt.solve(cqm, seed=2)
    assert result.lower_bound <= 1.0 + 1e-9 and result.best_energy == 1.0
    assert lower_bound(cqm).value == pytest.approx(result.lower_bound)


def test_certified_gap_edge_cases():
    assert certified_gap(10.0, 8.0) == pytest.approx(0.2)
    assert certified_gap(-8.0, -10.0) == pytest.approx(0.25)
    assert certified_gap(5.0, 5.0 - 1e-7) == 0.0  # within the safety margin: optimal
    assert certified_gap(1e-12, -1.0) is None  # no ratio against (almost) zero
    assert certified_gap(3.0, np.inf) is None and certified_gap(None, 1.0) is None and certified_gap(1.0, None) is None


def test_cqm_solve_starts_from_its_lp_relaxation_and_keeps_its_bound():
    cqm = gap_instance(3, n=40, m=5).to_constrained().to_cqm()
    result = qiopt.solve(cqm, seed=4, time_limit=2)
    assert result.info["starts"] == ["lp"] and result.timing["starts_ns"] > 0
    assert result.feasible and result.lower_bound == pytest.approx(lower_bound(cqm).value)
    assert result.lower_bound <= result.best_energy
    cold = qiopt.solve(cqm, seed=4, time_limit=2, starts=False)
    assert "starts" not in cold.info
