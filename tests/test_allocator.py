"""qiopt.Allocator: batches placed optimally within the room left, never over capacity, ``None`` only when nothing
fits, agents lost and added, state saved and restored, bad batches rejected whole, one writer and many readers."""

from __future__ import annotations

import copy
import itertools
import threading

import numpy as np
import pytest

import qiopt
from qiopt import Allocator
from qiopt.services.tables import matrices as _matrices


def _agents(m: int, rng: np.random.Generator) -> list[dict]:
    return [{"id": f"a{k}", "capacity": int(rng.integers(3, 7)), "skills": ["s"] if k % 2 else []} for k in range(m)]


def _requests(n: int, m: int, rng: np.random.Generator, start: int = 0) -> list[dict]:
    out = []
    for i in range(start, start + n):
        r = {"id": f"r{i}", "costs": {f"a{k}": int(rng.integers(0, 10)) for k in range(m)}}
        r["demand"] = int(rng.integers(1, 4)) if rng.random() < 0.5 else \
            {f"a{k}": int(rng.integers(1, 4)) for k in range(m) if rng.random() < 0.8} or {"a0": 1}
        if rng.random() < 0.3:
            r["skill"] = "s"
        out.append(r)
    return out


def _size_and_cost(request: dict, agent: dict) -> tuple[float, float] | None:
    """What ``request`` takes of ``agent`` and costs there, or None when it may not go there."""
    if request.get("skill") is not None and request["skill"] not in agent.get("skills", []):
        return None
    demand = request.get("demand", 1)
    size = demand.get(agent["id"]) if isinstance(demand, dict) else demand
    return None if size is None else (float(size), float(request.get("costs", {}).get(agent["id"], 0.0)))


def _best_batch(requests: list[dict], agents: list[dict], room: dict) -> tuple[int, float]:
    """Brute force: most requests placed, then least cost."""
    best = (-1, np.inf)
    for combo in itertools.product([None, *[a["id"] for a in agents]], repeat=len(requests)):
        left, cost, ok = dict(room), 0.0, True
        for r, a in zip(requests, combo, strict=True):
            if a is None:
                continue
            sc = _size_and_cost(r, next(x for x in agents if x["id"] == a))
            if sc is None or sc[0] > left[a] + 1e-9:
                ok = False
                break
            left[a] -= sc[0]
            cost += sc[1]
        placed = sum(a is not None for a in combo)
        if ok and (placed > best[0] or (placed == best[0] and cost < best[1] - 1e-9)):
            best = (placed, cost)
    return best


def _check_invariants(alloc: Allocator, agents: list[dict], live: dict[str, dict]) -> None:
    loads = alloc.loads
    for a in agents:
        if a["id"] in loads:
            assert loads[a["id"]] <= a["capacity"] + 1e-9
    expected = dict.fromkeys(loads, 0.0)
    for rid, agent in alloc.assignment.items():
        expected[agent] += _size_and_cost(live[rid], next(x for x in agents if x["id"] == agent))[0]
    assert loads == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(4))
def test_stream_is_optimal_per_batch_and_never_over_capacity(seed):
    rng = np.random.default_rng(seed)
    agents = _agents(3, rng)
    alloc = Allocator(agents, seed=seed)
    live: dict[str, dict] = {}
    for batch in range(4):
        requests = _requests(4, 3, rng, start=4 * batch)
        given = copy.deepcopy(requests)
        loads = alloc.loads
        room = {a["id"]: a["capacity"] - loads[a["id"]] for a in agents}
        placed = alloc.submit(requests)
        assert requests == given and list(placed) == [r["id"] for r in requests]  # nothing mutated, in order
        count = sum(a is not None for a in placed.values())
        cost = sum(_size_and_cost(r, next(x for x in agents if x["id"] == placed[r["id"]]))[1]
                   for r in requests if placed[r["id"]] is not None)
        assert (count, cost) == pytest.approx(_best_batch(requests, agents, room))
        live |= {r["id"]: r for r in requests}
        _check_invariants(alloc, agents, live)
        after = alloc.loads
        for r in requests:  # None only when no eligible agent has room for it
            if placed[r["id"]] is None:
                for a in agents:
                    sc = _size_and_cost(r, a)
                    assert sc is None or sc[0] > a["capacity"] - after[a["id"]] + 1e-9
        oldest = list(alloc.assignment)[:2]
        alloc.release(oldest)
        assert not set(oldest) & set(alloc.assignment)
    assert alloc.last_info["source"] and alloc.last_result is not None


def test_bad_batches_are_rejected_whole():
    alloc = Allocator([{"id": "a", "capacity": 5}, {"id": "b", "capacity": 5}], seed=1)
    alloc.submit([{"id": "r0", "demand": 1, "costs": {"a": 1}}])
    before = alloc.to_dict()
    ok = {"id": "fine", "demand": 1}
    cases = [
        ([ok, {"id": "r1", "costs": {"zz": 1}}], "request 'r1' costs name unknown agent 'zz'"),
        ([ok, {"id": "r1", "demand": -2}], "request 'r1' demand"),
        ([ok, {"id": "r1", "demand": {"a": float("nan")}}], r"request 'r1' demand\['a'\]"),
        ([ok, {"id": "r1", "demand": {"zz": 1}}], "request 'r1' demand names unknown agent 'zz'"),
        ([ok, {"id": "fine"}], "duplicate id 'fine'"),
        ([ok, {"id": "r0"}], "request 'r0' is already placed"),
        ([ok, {"id": "r1", "colour": "red"}], "colour"),
    ]
    for batch, match in cases:
        with pytest.raises(ValueError, match=match):
            alloc.submit(batch)
        assert alloc.to_dict() == before
    with pytest.raises(TypeError, match="costs must be a mapping"):
        alloc.submit([ok, {"id": "r1", "costs": [1, 2]}])
    with pytest.raises(ValueError, match="'nope' is not placed"):
        alloc.release(["r0", "nope"])
    assert alloc.to_dict() == before and alloc.submit([]) == {}
    with pytest.raises(ValueError, match="unknown agent 'zz'"):
        alloc.remove_agent("zz")
    with pytest.raises(ValueError, match="agent 'a' already exists"):
        alloc.add_agent({"id": "a"})
    with pytest.raises(ValueError, match="agent 'c' capacity"):
        alloc.add_agent({"id": "c", "capacity": -1})
    with pytest.raises(ValueError, match="time_budget"):
        Allocator([{"id": "a"}], time_budget=0)
    assert alloc.to_dict() == before


def test_agent_lost_and_added():
    agents = [{"id": "a", "capacity": 4}, {"id": "b", "capacity": 3}, {"id": "c", "capacity": 2, "skills": ["x"]}]
    alloc = Allocator(agents, seed=2)
    first = alloc.submit([{"id": "r1", "demand": 2, "costs": {"a": 0, "b": 5, "c": 5}},
                          {"id": "r2", "demand": 2, "costs": {"a": 0, "b": 5, "c": 5}},
                          {"id": "r3", "demand": {"b": 3, "c": 1}, "costs": {"b": 1, "c": 0}},
                          {"id": "r4", "demand": 1, "skill": "x", "costs": {"c": 0}}])
    assert first == {"r1": "a", "r2": "a", "r3": "c", "r4": "c"}
    moved = alloc.remove_agent("c")  # r3 fits only b (3 of 3); r4 needs skill x: no agent has it any more
    assert moved == {"r3": "b", "r4": None}
    assert alloc.assignment == {"r1": "a", "r2": "a", "r3": "b"} and alloc.loads == {"a": 4.0, "b": 3.0}
    assert [a["id"] for a in alloc.agents] == ["a", "b"]
    late = alloc.submit([{"id": "r5", "demand": {"c": 1}}, {"id": "r6", "demand": {"a": 2, "c": 1}, "costs": {"c": 0}}])
    assert late == {"r5": None, "r6": None}  # a client may still name the lost agent: it is just not eligible
    assert alloc.to_dict()["removed_agents"] == ["c"] and Allocator.from_dict(alloc.to_dict()).to_dict() == \
        alloc.to_dict()
    alloc.add_agent({"id": "d", "capacity": 2, "skills": ["x"]})
    assert alloc.submit([{"id": "r4", "demand": 1, "skill": "x"}]) == {"r4": "d"}
    assert alloc.loads == {"a": 4.0, "b": 3.0, "d": 1.0}


def test_save_restore_and_seeded_replay(tmp_path):
    rng = np.random.default_rng(5)
    agents = _agents(4, rng)
    batches = [_requests(6, 4, rng, start=6 * k) for k in range(3)]
    one, two = Allocator(agents, seed=9, time_budget=0.5), Allocator(agents, seed=9, time_budget=0.5)
    for alloc in (one, two):
        alloc.submit(batches[0])
        alloc.release(list(alloc.assignment)[:1])
    one.save(tmp_path / "state.json")
    restored = Allocator.load(tmp_path / "state.json")
    assert restored.assignment == one.assignment and restored.loads == one.loads
    assert restored.to_dict() == one.to_dict()
    assert restored.submit(batches[1]) == two.submit(batches[1])  # the batch counter is saved: seeds continue
    bad = one.to_dict()
    bad["requests"][0]["agent"] = "a3" if bad["requests"][0]["agent"] != "a3" else "a2"
    bad["agents"] = [{**a, "capacity": 0} for a in bad["agents"]]
    with pytest.raises(ValueError, match=r"cannot take it|exceed the capacity"):
        Allocator.from_dict(bad)
    tupled = Allocator([{"id": "a"}])
    tupled.submit([{"id": ("t", 1)}])
    with pytest.raises(TypeError, match="cannot be saved as JSON"):
        tupled.save(tmp_path / "t.json")


def test_one_writer_many_readers_see_whole_states():
    agents = [{"id": f"a{k}", "capacity": 6} for k in range(5)]
    alloc = Allocator(agents, seed=3, time_budget=0.05)
    rng = np.random.default_rng(0)
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                state = alloc.to_dict()  # one snapshot: its placements must fit
                load = dict.fromkeys([a["id"] for a in state["agents"]], 0.0)
                for entry in state["requests"]:
                    load[entry["agent"]] += entry["request"]["demand"]
                assert all(v <= 6 + 1e-9 for v in load.values())
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for k in range(8):
        alloc.submit([{"id": f"r{k}-{i}", "demand": int(rng.integers(1, 4)),
                       "costs": {f"a{j}": int(rng.integers(0, 9)) for j in range(5)}} for i in range(6)])
        alloc.release(list(alloc.assignment)[:4])
    stop.set()
    for t in readers:
        t.join()
    assert not errors


def test_solve_backend_config_reach_the_batches():
    alloc = Allocator([{"id": "a", "capacity": 2}, {"id": "b", "capacity": 2}], backend="exact")
    assert alloc.submit([{"id": "r1", "costs": {"a": 1, "b": 2}}, {"id": "r2", "costs": {"a": 1, "b": 0}}]) \
        == {"r1": "a", "r2": "b"}
    assert alloc.last_result.backend == "exact" and isinstance(alloc.last_result, qiopt.Result)


@pytest.mark.parametrize(("costs", "error", "match"), [
    ({"a": float("inf")}, ValueError, r"request 'r' costs\['a'\] must be a finite number"),
    ({"a": True}, TypeError, r"request 'r' costs\['a'\] must be a number"),
    ({"a": "3"}, TypeError, r"costs\['a'\] must be a number"),
    ({"a": 1, "q": 2}, ValueError, "costs name unknown agent 'q'"),
    # every agent in order: these rows are read all at once, and the error still names the request and agent
    ({"a": 1, "b": float("nan")}, ValueError, r"request 'r' costs\['b'\] must be a finite number"),
    ({"a": True, "b": 1}, TypeError, r"request 'r' costs\['a'\] must be a number"),
    ({"a": 1, "b": "3"}, TypeError, r"request 'r' costs\['b'\] must be a number"),
])
def test_bad_costs_are_named(costs, error, match):
    alloc = Allocator([{"id": "a"}, {"id": "b"}])
    with pytest.raises(error, match=match):
        alloc.submit([{"id": "r", "costs": costs}])
    assert alloc.assignment == {} and alloc.submit([{"id": "r", "costs": {"a": 2, "b": np.float64(1.5)}}]) == {"r": "b"}


def test_rebalance_moves_only_when_it_pays():
    agents = [{"id": "a", "capacity": 4}, {"id": "b", "capacity": 4}]
    alloc = Allocator(agents, seed=4)
    assert alloc.submit([{"id": "r1", "demand": 2, "costs": {"a": 1, "b": 9}},
                         {"id": "r2", "demand": 2, "costs": {"a": 1, "b": 9}}]) == {"r1": "a", "r2": "a"}
    assert alloc.submit([{"id": "r3", "demand": 4, "costs": {"a": 0, "b": 20}}]) == {"r3": "b"}  # a is full
    assert alloc.rebalance(migration_cost=5) == {}  # 1 + 1 + 20 = 22 now; moving all costs 0 + 9 + 9 + 15 = 33
    assert alloc.rebalance(migration_cost=1) == {"r1": "b", "r2": "b", "r3": "a"}  # 0 + 9 + 9 + 3 = 21 < 22
    assert alloc.loads == {"a": 4.0, "b": 4.0} and alloc.last_info["moved"] == 3
    with pytest.raises(ValueError, match="migration_cost"):
        alloc.rebalance(migration_cost=-1)
    assert Allocator(agents).rebalance() == {}


def test_a_lost_agents_requests_get_a_budget_in_proportion_to_their_number():
    agents = [{"id": f"a{k}", "capacity": 10} for k in range(4)]
    alloc = Allocator(agents, seed=1, time_budget=0.2)
    rng = np.random.default_rng(3)
    alloc.submit([{"id": f"r{i}", "costs": {f"a{k}": float(rng.uniform(1, 9)) for k in range(4)}} for i in range(32)])
    assert alloc.last_result.info["options"]["time_limit"] <= 0.2
    full = alloc.last_result.info["options"]["time_limit"]
    lost = [rid for rid, agent in alloc.assignment.items() if agent == "a0"]
    alloc.remove_agent("a0")
    share = len(lost) / 32 if len(lost) > 8 else 0.25  # at least a quarter of the budget
    assert alloc.last_result.info["options"]["time_limit"] <= share * full + 1e-9
    again = Allocator.from_dict(alloc.to_dict())
    assert again.to_dict()["largest_batch"] == 32


def test_cost_rows_in_any_order_read_the_same():
    agents = [{"id": "a", "capacity": 3}, {"id": "b", "capacity": 3}, {"id": "c", "capacity": 3}]
    rows = [{"id": f"r{i}", "costs": {"a": i, "b": 2.5, "c": 3 - i}} for i in range(4)]
    shuffled = [{"id": r["id"], "costs": dict(reversed(list(r["costs"].items())))} for r in rows]
    partial = [{"id": r["id"], "costs": {"c": r["costs"]["c"], "a": r["costs"]["a"]}} for r in rows]
    ids = [a["id"] for a in agents]
    skills = {k: set() for k in ids}
    in_order, _, _ = _matrices(rows, ids, skills, set())
    np.testing.assert_array_equal(in_order, [[i, 2.5, 3 - i] for i in range(4)])
    np.testing.assert_array_equal(_matrices(shuffled, ids, skills, set())[0], in_order)
    np.testing.assert_array_equal(_matrices(partial, ids, skills, set())[0], [[i, 0, 3 - i] for i in range(4)])
    mixed = [rows[0], shuffled[1], partial[2], rows[3]]  # both paths in one batch, each row where it belongs
    np.testing.assert_array_equal(_matrices(mixed, ids, skills, set())[0],
                                  [[0, 2.5, 3], [1, 2.5, 2], [2, 0, 1], [3, 2.5, 0]])


def test_agent_prices_carry_from_batch_to_batch_and_are_saved():
    rng = np.random.default_rng(3)
    agents = [{"id": f"a{k}", "capacity": 6} for k in range(4)]

    def batch(b: int) -> list[dict]:  # every request is cheapest on a0, which has room for a third of them
        return [{"id": f"r{b}-{i}", "demand": int(rng.integers(1, 3)),
                 "costs": {a["id"]: k + float(rng.uniform(0, 0.5)) for k, a in enumerate(agents)}}
                for i in range(8)]

    alloc = Allocator(agents, seed=1, time_budget=0.2)
    alloc.submit(batch(0))
    prices = dict(map(tuple, alloc.to_dict()["prices"]))
    assert set(prices) == {a["id"] for a in agents} and all(p >= 0 for p in prices.values())
    assert prices["a0"] > 0  # the agent every request wants has a price
    restored = Allocator.from_dict(copy.deepcopy(alloc.to_dict()))
    assert restored.to_dict() == alloc.to_dict()
    nxt = batch(1)
    assert restored.submit(copy.deepcopy(nxt)) == alloc.submit(nxt)  # the same prices: the same placements
    loss = alloc.remove_agent("a0")  # a lost agent's few requests do not reprice the others
    assert set(loss) and dict(map(tuple, alloc.to_dict()["prices"])).keys() == {"a1", "a2", "a3"}
    state = alloc.to_dict() | {"prices": [["a1", -1.0]]}
    with pytest.raises(ValueError, match=r"prices\['a1'\]"):
        Allocator.from_dict(state)
