"""Every constraint encoding, checked exhaustively on tiny cases: feasible ⇔ zero penalty (at the best slack)."""

import itertools

import numpy as np
import pytest

from qiopt.constraints import AtMostK, ExactlyOne, LinearEquality, LinearInequality, grid

VARS = ["a", "b", "c", "d"]


def _min_penalty(constraint, weight, x):
    bqm = constraint.penalty_bqm(weight)
    slack = constraint.slack_variables
    best = np.inf
    for z in itertools.product((0, 1), repeat=len(slack)):
        sample = {**x, **dict(zip(slack, z, strict=True))}
        best = min(best, bqm.energy({v: sample[v] for v in bqm.variables}) if bqm.num_variables else bqm.offset)
    return best


CASES = [ExactlyOne(VARS), AtMostK(VARS, 1), AtMostK(VARS, 2),
         LinearEquality(dict(zip(VARS, [1, 2, 3, 1], strict=True)), 3),
         LinearInequality(dict(zip(VARS, [2, 3, 4, 1], strict=True)), 5),
         LinearInequality(dict(zip(VARS, [1.5, -0.5, 2.5, 1], strict=True)), 2),
         LinearInequality(dict(zip(VARS, [2, 4, 6, 2], strict=True)), 6), LinearInequality({"a": 1, "b": 1}, 5)]


@pytest.mark.parametrize("constraint", CASES, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("weight", [1.0, 7.5])
def test_feasible_iff_zero_penalty(constraint, weight):
    for bits in itertools.product((0, 1), repeat=len(VARS)):
        x = dict(zip(VARS, bits, strict=True))
        penalty, violated = _min_penalty(constraint, weight, x), constraint.violation(x) > 0
        if violated:
            assert penalty >= weight - 1e-9, (x, penalty)
        else:
            assert abs(penalty) < 1e-9, (x, penalty)


def test_slack_is_log_encoded_and_redundant_constraints_add_nothing():
    assert LinearInequality(dict.fromkeys(VARS, 1), 3).num_slack == 2
    assert LinearInequality({"a": 1, "b": 1}, 5).penalty_bqm(3.0).num_variables == 0
    assert AtMostK(VARS, 1).num_slack == 0


def test_grid_and_errors():
    assert grid([2, 4, 10]) == 2.0 and grid([0.5, 1.25]) == 0.25
    with pytest.raises(ValueError, match="can never hold"):
        LinearInequality({"a": 1}, -1, name="neg")


def test_linear_constraints_share_lhs():
    assert LinearEquality.lhs is LinearInequality.lhs
    sample = {"a": 1, "b": 0, "c": 1}
    assert LinearEquality({"a": 2, "c": 3}, 1).lhs(sample) == LinearInequality({"a": 2, "c": 3}, 9).lhs(sample) == 5


def test_fractional_coefficients_keep_a_small_exact_grid():
    """1/3 with a bound of 0.7 once gave a 1e-6 grid: 20 slack bits and couplings of 4.5e9 × weight."""
    c = LinearInequality({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, 0.7, name="thirds")
    assert c.step == pytest.approx(1 / 30) and c.num_slack == 5
    bqm = c.penalty_bqm(1.0)
    assert max(abs(b) for b in bqm.quadratic.values()) <= 200.0 + 1e-9
    slack = c.slack_variables
    for bits in itertools.product((0, 1), repeat=3):
        x = dict(zip("abc", bits, strict=True))
        best = min(bqm.energy({**x, **dict(zip(slack, s, strict=True))})
                   for s in itertools.product((0, 1), repeat=len(slack)))
        assert (best < 1e-9) == (sum(bits) / 3 <= 0.7 + 1e-12)
        assert best < 1e-9 or best >= 1.0 - 1e-9
