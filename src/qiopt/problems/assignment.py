"""The shared builder of every items → bins problem: model, decoding, scoring, repair and references.

Variables are ``("x", item, bin)`` (1 = ``item`` goes to ``bin``), built only for the pairs the problem allows.
Constraints (named as in :attr:`Solution.violations`): ``assign[item]`` (:class:`~qiopt.constraints.ExactlyOne`
over the item's variables) and ``capacity[bin]`` (:class:`~qiopt.constraints.LinearInequality` on the sizes,
slack variables ``("slack", "capacity[bin]", k)``). ``eligible[item]`` is reported by :meth:`evaluate` for an
assignment to a bin the item may not use.

The structured form (:meth:`AssignmentProblem.to_constrained`) is what the engine anneals: a one-hot group per
item over its model pairs, a capacity row per capped bin (per-(item, bin) sizes), the squared loads as factored
terms, the affinities as couplings. :meth:`AssignmentProblem.to_bqm` is its penalised QUBO export.

Penalty weights (``problem.penalties``, also in ``Solution.details["penalties"]`` of decoded answers): by default
both groups get the sound weight of :func:`qiopt.constrained.export.sound_weight`, with the greedy answer's
objective as the upper bound when it is feasible: every ground state of :meth:`to_bqm` is then feasible and
optimal whenever a feasible assignment exists. ``penalty=`` overrides them with a number (both groups) or a dict
``{"assign": w, "capacity": w}``.

Repair (:meth:`AssignmentProblem.repair`) places unassigned items greedily, then runs best-improvement moves and
swaps on objective + overflow (:meth:`~qiopt.problems._search.AssignmentArrays.search`); ``details["repair"]``
says what it did and whether the answer is feasible.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Hashable, Mapping
from functools import cached_property, partial
from typing import Any

import dimod
import numpy as np
import scipy.sparse as sp

from qiopt.constrained import export
from qiopt.constrained.model import ConstrainedModel
from qiopt.constraints import Constraint, ExactlyOne, LinearInequality, grid
from qiopt.problems import reference as ref
from qiopt.problems._search import AssignmentArrays
from qiopt.problems.base import Problem, Solution

__all__ = ["AssignmentProblem"]

PENALTY_GROUPS = ("assign", "capacity")


class AssignmentProblem(Problem):
    """Items → bins with costs, pairwise affinities, optional squared loads and capacities.

    Subclasses provide the domain data; ``model_pairs`` (default: every eligible pair), an ``(N, 2)`` array of
    ``(item, bin)`` rows sorted by item then bin, chooses which pairs become model variables, while scoring and
    repair may use every eligible pair.
    """

    def __init__(self, items: list[Hashable], bins: list[Hashable], arrays: AssignmentArrays,
                 penalty: float | Mapping[str, float] | None = None, model_pairs: np.ndarray | None = None,
                 offset: float = 0.0) -> None:
        self.items, self.bins, self.arrays, self.offset = list(items), list(bins), arrays, float(offset)
        self._item_index = {t: i for i, t in enumerate(self.items)}
        self._bin_index = {b: k for k, b in enumerate(self.bins)}
        self._pairs = np.argwhere(arrays.eligible) if model_pairs is None else np.asarray(model_pairs)
        self._penalty = _check_penalty(penalty)

    @cached_property
    def labels(self) -> list[Hashable]:
        """Model variables ``("x", item, bin)``, in model order (built on first use)."""
        return [("x", self.items[i], self.bins[b]) for i, b in self._pairs.tolist()]

    # -- model -----------------------------------------------------------------------------------------------
    @cached_property
    def objective_bqm(self) -> dimod.BinaryQuadraticModel:
        """The objective alone as a BINARY model (the structured model's, squared loads expanded); its energy
        equals :meth:`evaluate`'s objective."""
        return export.objective_bqm(self.to_constrained())

    @cached_property
    def constraints(self) -> list[Constraint]:
        """``assign[item]`` for every item, ``capacity[bin]`` for every bin with a finite capacity."""
        per_item: dict[int, list[Hashable]] = {}
        per_bin: dict[int, dict[Hashable, float]] = {}
        for (i, b), label in zip(self._pairs, self.labels, strict=True):
            per_item.setdefault(int(i), []).append(label)
            per_bin.setdefault(int(b), {})[label] = float(self.arrays.size[i, b])
        out: list[Constraint] = [ExactlyOne(per_item.get(i, []), name=f"assign[{t}]")
                                 for i, t in enumerate(self.items)]
        out += [LinearInequality(per_bin.get(k, {}), cap, name=f"capacity[{b}]")
                for k, (b, cap) in enumerate(zip(self.bins, self.arrays.capacity, strict=True))
                if np.isfinite(cap)]
        return out

    @cached_property
    def penalties(self) -> dict[str, float]:
        """The penalty weight of each constraint group actually used in :meth:`to_bqm` (sound by default)."""
        if set(self._penalty) >= set(PENALTY_GROUPS):
            return dict(self._penalty)
        greedy = self._greedy_answer()  # its objective bounds the optimum when it is a feasible model state
        feasible = self._state_of(greedy) is not None and not self.arrays.overflow(greedy).any()
        auto = export.sound_weight(self.to_constrained(),
                                   self.arrays.objective(greedy) + self.offset if feasible else None)
        return {group: float(self._penalty.get(group, auto)) for group in PENALTY_GROUPS}

    def _greedy_answer(self) -> np.ndarray:
        """A quick feasible-if-possible assignment bounding the optimum (subclasses pick theirs)."""
        return ref.greedy_cheapest(self.arrays)[0]

    def _variable_of(self, items: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """Structured-model variable of each ``(item, bin)`` pair, ``-1`` where the pair is not in the model."""
        keys = self._pairs[:, 0] * self.arrays.m + self._pairs[:, 1]
        want = np.asarray(items, dtype=np.int64) * self.arrays.m + np.asarray(bins, dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        return np.where((keys[at] == want) & (np.asarray(bins) >= 0), at, -1)

    def to_constrained(self) -> ConstrainedModel:
        """The structured model (built once and shared: do not modify it); variable ``v`` is the pair
        ``("x", item, bin)`` of :attr:`labels` ``[v]``, its groups are the items in order."""
        return self._constrained

    @cached_property
    def _constrained(self) -> ConstrainedModel:
        arr, (ii, bb) = self.arrays, self._pairs.T
        nv = len(ii)
        ptr = np.r_[0, np.cumsum(np.bincount(ii, minlength=arr.n))]
        if (ptr[1:] == ptr[:-1]).any():
            i = int(np.flatnonzero(ptr[1:] == ptr[:-1])[0])
            raise ValueError(f"{self.item_kind} {self.items[i]!r} has no {self.bin_kind} it may go to")
        upper = sp.triu(arr.affinity, k=1).tocoo()
        counts = ptr[upper.row + 1] - ptr[upper.row]  # each pair on every bin of its first item...
        first = np.repeat(np.arange(len(upper.row)), counts)
        v1 = np.repeat(ptr[upper.row], counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        v2 = self._variable_of(upper.col[first], bb[v1])  # ...where its second item may go too
        both = v2 >= 0
        used = np.bincount(bb, minlength=arr.m) > 0  # a bin no item may use has no constraint to keep
        capped = np.flatnonzero(np.isfinite(arr.capacity) & used)
        slot = np.full(arr.m, -1)
        slot[capped] = np.arange(len(capped))
        on = slot[bb] >= 0
        A = sp.csr_matrix((arr.pair_size(ii[on], bb[on]), (slot[bb[on]], np.flatnonzero(on))),
                          shape=(len(capped), nv))
        squares = {}
        if arr.speed is not None:
            squares = {"squares": sp.csr_matrix((arr.pair_size(ii, bb) / arr.speed[bb], (bb, np.arange(nv))),
                                                shape=(arr.m, nv)), "targets": np.full(arr.m, arr.target)}
        return ConstrainedModel(
            nv, linear=arr.pair_cost(ii, bb), quadratic=(v1[both], v2[both], -upper.data[first[both]]),
            offset=self.offset, groups=(ptr, np.arange(nv)), bins=bb, constraints=A,
            upper=arr.capacity[capped], constraint_names=[f"capacity[{self.bins[k]}]" for k in capped],
            labels=partial(_pair_label, self.items, self.bins, self._pairs), **squares)

    @cached_property
    def _bqm(self) -> dimod.BinaryQuadraticModel:
        bqm = self.objective_bqm.copy()
        for c in self.constraints:
            bqm.update(c.penalty_bqm(self.penalties[c.name.split("[", 1)[0]]))
        return bqm

    def to_bqm(self) -> dimod.BinaryQuadraticModel:
        """Objective + weighted penalties (a fresh copy each call)."""
        return self._bqm.copy()

    lp_limit = 500_000
    """Most item-bin pairs for :meth:`lp_start` (HiGHS takes about 2 s at 128k)."""
    lp_seconds_per_pair = 1e-5
    """Time :meth:`lp_start` needs per pair: with less time it is skipped (HiGHS may overrun its limit)."""

    def lp_start(self, time_limit: float | None = None) -> list[tuple[str, np.ndarray]]:
        """``[("lp", state)]``: the rounded LP relaxation (HiGHS, within ``time_limit``), each item on the bin
        of its largest LP share, when the objective is linear (no affinity, no squared loads) and the model has
        at most :attr:`lp_limit` pairs; else (or when the LP runs out of time) ``[]``. The LP splits at most
        about one item per bin, so the start is close to the optimum but may exceed capacities: a start for
        the engine, which makes it feasible and improves it. HiGHS does not always stop at its time limit
        inside the interior point method, so the LP runs only when ``time_limit`` allows
        :attr:`lp_seconds_per_pair` per pair (measured 5.5–9 µs on generalized assignment, 50k–128k pairs)."""
        arr = self.arrays
        if arr.affinity.nnz or arr.speed is not None or len(self._pairs) > self.lp_limit or \
                (time_limit is not None and time_limit < self.lp_seconds_per_pair * len(self._pairs)):
            return []
        a, info = ref.lp_relaxation(arr, time_limit)
        state = self._state_of(a) if info["bound"] is not None else None
        return [] if state is None else [("lp", state)]

    def priced_starts(self, time_limit: float | None = None) -> list[tuple[str, np.ndarray]]:
        """:meth:`lagrangian_start`, then :meth:`lp_start` in what is left of ``time_limit``."""
        started = time.perf_counter()
        starts = self.lagrangian_start(time_limit)
        return starts + self.lp_start(None if time_limit is None else time_limit - (time.perf_counter() - started))

    def lagrangian_start(self, time_limit: float | None = None) -> list[tuple[str, np.ndarray]]:
        """``[("lagrangian", state)]``: the best regret answer of a Lagrangian relaxation of the capacities
        (:func:`qiopt.problems._lagrange.lagrangian`, feasible, typically within 1–2 % of the optimum in
        milliseconds), when the objective is linear (no affinity, no squared loads) and the arrays are dense;
        else, or when no step found a feasible answer, ``[]``."""
        arr = self.arrays
        if arr.factored or arr.affinity.nnz or arr.speed is not None:
            return []
        a, info = self._relax(time_limit)
        self._bin_prices = info["prices"]
        state = self._state_of(a) if np.isfinite(info["objective"]) else None
        return [] if state is None else [("lagrangian", state)]

    _bin_prices: np.ndarray | None = None  # the last relaxation's price of each bin's capacity

    def structured_prices(self) -> np.ndarray | None:
        """The capacities' prices of the Lagrangian relaxation that :meth:`lagrangian_start` solved last (near
        the LP duals: measured equal to 3 digits on generalized assignment), one per capacity row of
        :meth:`to_constrained`; ``None`` before it ran or when it does not apply."""
        if self._bin_prices is None:
            return None
        arr = self.arrays
        used = np.bincount(self._pairs[:, 1], minlength=arr.m) > 0
        return np.asarray(self._bin_prices, dtype=np.float64)[np.isfinite(arr.capacity) & used]

    def _relax(self, time_limit: float | None) -> tuple[np.ndarray, dict[str, Any]]:
        """:func:`~qiopt.problems._lagrange.lagrangian` on the arrays, from zero prices (a subclass may start
        it from prices it knows)."""
        from qiopt.problems._lagrange import lagrangian

        arr = self.arrays
        return lagrangian(arr.cost, arr.size, arr.capacity, time_limit)

    # -- answers ---------------------------------------------------------------------------------------------
    def _state_of(self, a: np.ndarray) -> np.ndarray | None:
        """The structured-model state of assignment ``a``, or ``None`` when one of its pairs is not modelled."""
        v = self._variable_of(np.arange(self.arrays.n), a)
        if (v < 0).any():
            return None
        x = np.zeros(len(self._pairs), dtype=np.int8)
        x[v] = 1
        return x

    def from_state(self, x: np.ndarray) -> Solution:
        """The answer a structured-model state stands for (one variable per item), scored, with its energy."""
        chosen = self._pairs[np.asarray(x) == 1]
        a = np.full(self.arrays.n, -1)
        a[chosen[:, 0]] = chosen[:, 1]
        return self._with_energy(self._solution(a), a)

    def energy(self, solution: Solution) -> float:
        """The :meth:`to_bqm` energy of ``solution``'s assignment with its slack set optimally: the objective
        plus ``penalties["assign"]`` per unassigned item and ``penalties["capacity"] · (overflow / step)²`` per
        bin, where ``step`` is the bin's grid (:func:`qiopt.constraints.grid` of its sizes and capacity)."""
        return self._energy(self._as_array(solution))

    def _energy(self, a: np.ndarray) -> float:
        arr = self.arrays
        over = arr.overflow(a)
        if not over.any() and (a >= 0).all():
            return float(arr.objective(a) + self.offset)  # feasible: no penalty (and no need to know them)
        w = {g: self.penalties.get(g, 0.0) for g in PENALTY_GROUPS}
        ii, bb = self._pairs.T
        steps = np.array([grid([*np.unique(arr.pair_size(ii[bb == k], bb[bb == k])), arr.capacity[k]])
                          if over[k] else 1.0 for k in range(arr.m)])
        return float(arr.objective(a) + self.offset + w["assign"] * (a < 0).sum()
                     + w["capacity"] * ((over / steps) ** 2).sum())

    def _with_energy(self, solution: Solution, a: np.ndarray) -> Solution:
        solution.energy = self._energy(a)
        return solution

    def decode(self, sample: Mapping[Any, int]) -> Solution:
        """The assignment a sample stands for; an item picked for several bins goes to the cheapest of them,
        one picked for none to ``None``. Violations are measured on the raw sample."""
        try:
            x = np.array([sample[v] for v in self.labels], dtype=np.int8)
        except KeyError as exc:
            raise ValueError(f"sample has no value for model variable {exc.args[0]!r}") from None
        chosen = self._pairs[x == 1]
        a = np.full(self.arrays.n, -1)
        order = np.argsort(-self.arrays.cost0[chosen[:, 0], chosen[:, 1]], kind="stable")
        a[chosen[order, 0]] = chosen[order, 1]
        full = {**dict(sample), **{v: 0 for c in self.constraints for v in c.slack_variables if v not in sample}}
        violations = {c.name: v for c in self.constraints if (v := c.violation(full)) > 1e-9}
        sol = self._with_energy(self._solution(a, violations), a)
        sol.details["penalties"] = dict(self.penalties)
        return sol

    def evaluate(self, assignment: Mapping[Any, Any]) -> Solution:
        """Score ``{item: bin}`` (``None`` or a missing item = unassigned). Unknown ids raise ``ValueError``."""
        a = np.full(self.arrays.n, -1)
        for item, b in assignment.items():
            if item not in self._item_index:
                raise ValueError(f"assignment names unknown {self.item_kind} {item!r}; known: "
                                 f"{_preview(self.items)}")
            if b is not None and b not in self._bin_index:
                raise ValueError(f"assignment sends {self.item_kind} {item!r} to unknown {self.bin_kind} {b!r}; "
                                 f"known: {_preview(self.bins)}")
            a[self._item_index[item]] = -1 if b is None else self._bin_index[b]
        return self._solution(a)

    def _solution(self, a: np.ndarray, violations: dict[str, float] | None = None) -> Solution:
        arr = self.arrays
        placed = a >= 0
        ok = placed.copy()
        ok[placed] = arr.pair_eligible(np.flatnonzero(placed), a[placed])
        scored = np.where(ok, a, -1)
        if violations is None:
            violations = {f"assign[{self.items[i]}]": 1.0 for i in np.flatnonzero(~placed)}
            violations |= {f"eligible[{self.items[i]}]": 1.0 for i in np.flatnonzero(placed & ~ok)}
            violations |= {f"capacity[{self.bins[k]}]": float(v) for k, v in enumerate(arr.overflow(scored))
                           if v > 1e-9}
        assignment = {t: (self.bins[a[i]] if a[i] >= 0 else None) for i, t in enumerate(self.items)}
        return Solution(assignment, arr.objective(scored) + self.offset, violations,
                        details=self._details(scored))

    def _details(self, a: np.ndarray) -> dict[str, Any]:
        """Problem-specific figures of a scored assignment (subclasses extend)."""
        return {"loads": dict(zip(self.bins, self.arrays.loads(a).tolist(), strict=True))}

    def _as_array(self, solution: Solution) -> np.ndarray:
        return np.array([self._bin_index.get(solution.assignment.get(t), -1) for t in self.items])

    def repair(self, solution: Solution, time_limit: float | None = None) -> Solution:
        """Greedy placement of unassigned items, then moves and swaps until no step improves, for at most
        :attr:`repair_time` seconds, or ``time_limit`` when smaller (see module)."""
        seconds = self.repair_time if time_limit is None else min(self.repair_time, max(0.0, float(time_limit)))
        before = self._as_array(solution)
        after, stats = self.arrays.search(before, deadline=time.perf_counter() + seconds)
        out = self._with_energy(self._solution(after), after)
        out.repaired = bool((after != before).any())
        out.details["penalties"] = solution.details.get("penalties", {})
        out.details["repair"] = {**stats, "objective_before": solution.objective,
                                 "violations_before": dict(solution.violations),
                                 "status": "feasible" if out.feasible else
                                 "could not make feasible: " + ", ".join(sorted(out.violations))}
        return out

    def best_solution(self, sampleset: dimod.SampleSet, max_candidates: int = 8, seed: int | None = None,
                      time_limit: float | None = None) -> Solution:
        """The base class's best candidate, then :attr:`kicks` rounds of perturbed local search on it
        (``details["polish"]`` reports them); at most :attr:`polish_time` seconds, seeded with ``seed``
        (default :attr:`seed`). Large problems decode fewer samples (``2000 // items``, at least 1).

        ``time_limit`` (seconds) caps decoding, repairs and polish together: the candidates' repairs share at
        most half of it (each still at most :attr:`repair_time`), the polish gets what is left (at most
        :attr:`polish_time`). ``None`` (default) uses :attr:`repair_time` and :attr:`polish_time` alone. A capped
        answer may depend on timing, as may one whose polish hits :attr:`polish_time`."""
        started = time.perf_counter()
        budget = None if time_limit is None else max(0.0, float(time_limit))
        best = super().best_solution(sampleset, max(1, min(max_candidates, 2000 // self.arrays.n)),
                                     time_limit=None if budget is None else budget / 2)
        polish = None if budget is None else \
            min(self.polish_time, max(0.0, started + budget - time.perf_counter()))
        best = self.search(best, polish, seed)
        best.details["polish"] = best.details.pop("search")
        return best

    def search(self, solution: Solution, time_limit: float | None = None, seed: int | None = None) -> Solution:
        """Iterated local search from ``solution`` over *every* eligible pair: best-improvement moves and
        swaps, then :attr:`kicks` rounds of 2-4 random reassignments and search again (the ``search`` stage of
        :func:`qiopt.solve` on problems small enough, and the polish of :meth:`best_solution`). At most
        ``time_limit`` seconds, seeded with ``seed`` (default :attr:`seed`). Without a time limit the kicks
        stop after a fixed amount of work (:attr:`search_work`), so the answer depends on the seed only
        (:attr:`polish_time` remains a safety cap). ``details["search"]`` reports the kicks tried and those
        that improved.

        >>> p = AssignmentProblem(["i", "j"], ["a", "b"], AssignmentArrays(
        ...     np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones(2), np.array([1.0, 1.0]), sp.csr_matrix((2, 2))))
        >>> p.search(p.evaluate({"i": "b", "j": "a"})).objective
        2.0
        """
        seconds = self.polish_time if time_limit is None else max(0.0, float(time_limit))
        pairs = max(1, self.arrays.n * self.arrays.m)
        kicks = min(self.kicks, max(1, self.search_work // pairs)) if time_limit is None else self.kicks
        before = self._as_array(solution)
        after, stats = self.arrays.perturbed_search(before, kicks, seed=self.seed if seed is None else seed,
                                                    time_limit=seconds)
        best = solution
        if self.arrays.score(after) < self.arrays.score(before):
            best = self._with_energy(self._solution(after), after)
            best.repaired = solution.repaired
            best.details = {**solution.details, **best.details}
        best.details["search"] = {"kicks": stats["kicks"], "improved": stats["kicks_improved"]}
        return best

    def searchable(self) -> bool:
        """Whether :meth:`search` runs as a stage after the engine: :attr:`kicks` > 0 and at most
        :attr:`search_limit` item-bin pairs (each step scores every pair)."""
        return self.kicks > 0 and self.arrays.n * self.arrays.m <= self.search_limit

    search_limit = 40_000
    """Most item-bin pairs for which :func:`qiopt.solve` adds the :meth:`search` stage after the engine."""

    seed = 0
    """Default seed of the polish in :meth:`best_solution` (set it, or pass ``seed=``, to vary the search)."""
    kicks = 800
    """Perturbation rounds of :meth:`search` (0 turns that stage off)."""
    search_work = 2_000_000
    """Item-bin pairs × kicks of an untimed :meth:`search`: it stops after ``search_work // pairs`` kicks (at most
    :attr:`kicks`; 500 on 200 × 20, about 2.4 s here), a fixed amount of work, so an untimed answer is the same
    wherever it runs (a 3 s time cap let 200 × 20 do 625 of 800 kicks here, and fewer on a busy worker)."""
    polish_time = 10.0
    """Seconds at most for :meth:`search` without a time limit: a safety cap, which :attr:`search_work` keeps
    it well within (when the cap is hit, the answer depends on timing)."""
    repair_time = 0.5
    """Seconds at most for the local search of one :meth:`repair` (a poor sample is not repaired to the end;
    the polish continues from the best candidate)."""

    # -- references ------------------------------------------------------------------------------------------
    item_kind = "item"
    bin_kind = "bin"

    def reference_methods(self) -> dict[str, Callable[[float | None], tuple[np.ndarray, dict[str, Any]]]]:
        """``{name: f(time_limit) -> (assignment array, info)}``; subclasses list theirs."""
        return {}

    def reference(self, method: str = "milp", time_limit: float | None = None) -> Solution:
        """Run a classical method; its info (status, bound, gap, seconds) is in ``details["reference"]``."""
        methods = self.reference_methods()
        if method not in methods:
            raise ValueError(f"{type(self).__name__} has no reference method {method!r}; "
                             f"choose one of {sorted(methods)}")
        a, info = methods[method](time_limit)
        sol = self._solution(a)
        sol.details["reference"] = {"method": method, **info}
        return sol


def _pair_label(items: list[Hashable], bins: list[Hashable], pairs: np.ndarray, v: int) -> tuple[Any, ...]:
    """The label ``("x", item, bin)`` of model variable ``v`` (a module function: models pickle, to workers)."""
    return ("x", items[pairs[v, 0]], bins[pairs[v, 1]])


def _preview(ids: list[Hashable], limit: int = 8) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return f"[{shown}{', …' if len(ids) > limit else ''}]"


def _check_penalty(penalty: float | Mapping[str, float] | None) -> dict[str, float]:
    if penalty is None:
        return {}
    given = dict(penalty) if isinstance(penalty, Mapping) else dict.fromkeys(PENALTY_GROUPS, penalty)
    for group, w in given.items():
        if group not in PENALTY_GROUPS:
            raise ValueError(f"penalty group {group!r} is unknown; use {list(PENALTY_GROUPS)}")
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not 0 < float(w) < float("inf"):
            raise ValueError(f"penalty[{group!r}] must be a positive finite number, got {w!r}")
    return {g: float(w) for g, w in given.items()}
