"""qiopt.read / qiopt.write: every format round-trips, detection by extension and content, errors name the file
and line, the CLI solves every format; QuadraticProgram input."""

import io
import json

import dimod
import networkx as nx
import numpy as np
import pytest
from tests.test_bounds import gap_instance, random_bqm

import qiopt
from qiopt.cli import main
from qiopt.files import identify

QUBO = """c a small QUBO
p qubo 0 3 3 2
0 0 -1
1 1 -1
2 2 2.5
0 1 2
1 2 -3
"""


def test_qubo_text_reads_to_the_model_it_describes():
    bqm = qiopt.read(io.StringIO(QUBO), format="qubo")
    assert bqm.vartype is dimod.BINARY and set(bqm.variables) == {0, 1, 2}
    assert bqm.energy({0: 0, 1: 1, 2: 1}) == pytest.approx(-1 + 2.5 - 3)
    exact = qiopt.solve(bqm, backend="exact")
    states = [dict(zip(range(3), s, strict=True)) for s in np.ndindex(2, 2, 2)]
    assert exact.best_energy == pytest.approx(min(bqm.energy(s) for s in states))


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
@pytest.mark.parametrize("fmt", ["qubo", "bqm", "json", "lp", "cqm"])
def test_round_trips_keep_every_energy(tmp_path, fmt, vartype):
    bqm = random_bqm(3, n=6, vartype=vartype)
    path = tmp_path / f"model.{fmt}"
    names = qiopt.write(bqm, path)
    back = qiopt.read(path)
    objective = back.objective if fmt in ("lp", "cqm") else back
    for state in np.ndindex(*(2,) * 6):
        sample = dict(zip(bqm.variables, state, strict=True))
        if vartype == "SPIN":
            sample = {v: 2 * x - 1 for v, x in sample.items()}
        binary = {names.get(v, v): (x + 1) // 2 if vartype == "SPIN" else x for v, x in sample.items()}
        if fmt in ("bqm", "json"):
            assert back.energy(sample) == pytest.approx(bqm.energy(sample))
        else:  # BINARY forms (qubo, LP, CQM), integer or LP names
            assert objective.energy(binary) == pytest.approx(bqm.energy(sample))


def test_gset_reads_to_minus_cut_and_round_trips(tmp_path):
    graph = nx.random_regular_graph(3, 12, seed=2)
    path = tmp_path / "G0.txt"  # Gset's own file names end in .txt: detected by content
    qiopt.write(graph, path, format="gset")
    assert identify(path) == "gset"
    bqm = qiopt.read(path)
    side = {v: 1 if v % 2 else -1 for v in range(1, 13)}
    nodes = list(graph.nodes)
    cut = sum(1 for u, v in graph.edges if side[nodes.index(u) + 1] != side[nodes.index(v) + 1])
    assert bqm.energy(side) == pytest.approx(-cut)
    assert qiopt.read(io.StringIO(path.read_text()), format="gset") == bqm


def test_gset_energy_matches_the_max_cut_of_the_graph(tmp_path):
    path = tmp_path / "g.gset"
    path.write_text("4 4\n1 2 1\n2 3 1\n3 4 1\n4 1 -1\n")
    bqm = qiopt.read(path)
    result = qiopt.solve(bqm, backend="exact")
    brute = max(sum(w for (u, v), w in {(1, 2): 1, (2, 3): 1, (3, 4): 1, (4, 1): -1}.items()
                    if s[u - 1] != s[v - 1]) for s in np.ndindex(2, 2, 2, 2))
    assert result.best_energy == -brute


def test_problem_json_and_dimod_json_are_told_apart(tmp_path):
    problem = gap_instance(2, n=8, m=3)
    qiopt.write(problem, tmp_path / "p.json")
    again = qiopt.read(tmp_path / "p.json")
    assert type(again) is type(problem) and again.to_dict() == problem.to_dict()
    bqm = random_bqm(1)
    qiopt.write(bqm, tmp_path / "b.json")
    assert qiopt.read(tmp_path / "b.json") == bqm
    (tmp_path / "q.json").write_text(json.dumps({"qubo": [["a", "b", 1.0], ["a", "a", -1.0]]}))
    assert qiopt.read(tmp_path / "q.json").energy({"a": 1, "b": 0}) == -1.0


def test_detection_by_content_and_file_objects(tmp_path):
    (tmp_path / "noext").write_text(QUBO)
    assert identify(tmp_path / "noext") == "qubo"
    bqm = random_bqm(0)
    raw = io.BytesIO()
    qiopt.write(bqm, raw, format="bqm")
    assert identify(io.BytesIO(raw.getvalue())) == "bqm"
    assert qiopt.read(io.BytesIO(raw.getvalue())) == bqm
    lp = b"Minimize\n obj: x + 2 y\nSubject To\n c: x + y >= 1\nBinary\n x y\nEnd\n"
    assert identify(io.BytesIO(lp)) == "lp"
    with pytest.raises(TypeError, match="binary mode"):
        qiopt.write(bqm, io.StringIO(), format="bqm")


@pytest.mark.parametrize(("text", "fmt", "match"), [
    ("p qubo 0 2 1 0\n0 0 x\n", "qubo", r"line 2: value 'x' is not a number"),
    ("0 0 1\np qubo 0 2 1 0\n", "qubo", r"line 1: an entry before the 'p qubo"),
    ("p qubo 0 2 2 0\n0 0 1\n", "qubo", r"announces 2 diagonal and 0 coupler entries; the file has 1 and 0"),
    ("p qubo 0 2 1 1\n0 0 1\n0 5 1\n", "qubo", r"line 3: node 5 is out of range"),
    ("c nothing\n", "qubo", r"no 'p qubo"),
    ("p qubo 0 2 0 2\n0 1 1\n1 0 2\n", "qubo", r"line 3: coupler \(0, 1\) repeats"),
    ("3 2\n1 2 1\n", "gset", r"header announces 2 edges; the file has 1"),
    ("3 1\n1 4 1\n", "gset", r"line 2: node 4 is outside 1..3"),
    ("3 1\n2 2 1\n", "gset", r"line 2: self-loop"),
    ("3 2\n1 2 1\n2 1 1\n", "gset", r"line 3: edge \(2, 1\) repeats"),
    ("3 1\n1 2 w\n", "gset", r"line 2: weight 'w' is not a number"),
    ("Minimize\n obj: x + + y\nSubject To\n c1: x + <= 3\nEnd\n", "lp", r"near line 2"),
    ("Minimize\n obj: 3 x + y\nGeneral\n x\nEnd\n", "lp", r"x \(integer\), y \(real\) are not binary"),
    ("hello", "lp", r"no 'Minimize' or 'Maximize' section"),
    ('{"qubo": [["a"]]}', "json", r"qubo\[0\] must be a triple"),
    ('{"qubo": ', "json", r"not valid JSON"),
    ('{"something": 1}', "json", r"cannot tell the problem kind"),
])
def test_malformed_files_name_the_line_or_field(tmp_path, text, fmt, match):
    path = tmp_path / f"bad.{fmt}"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        qiopt.read(path)
    assert str(path) in str(info.value)


def test_unknown_formats_and_files(tmp_path):
    (tmp_path / "x.xyz").write_text("hello there")
    with pytest.raises(ValueError, match=r"cannot tell the format \(extension '.xyz'"):
        qiopt.read(tmp_path / "x.xyz")
    with pytest.raises(ValueError, match="format must be one of"):
        qiopt.read(tmp_path / "x.xyz", format="mps")
    with pytest.raises(ValueError, match="file not found"):
        qiopt.read(tmp_path / "missing.lp")
    with pytest.raises(ValueError, match="not a dimod BQM file"):
        qiopt.read(io.BytesIO(b"DIMODBQM garbage"))
    with pytest.raises(ValueError, match="cannot tell the format from the extension"):
        qiopt.write(random_bqm(0), tmp_path / "out.xyz")


def test_gap_lp_file_is_solved_feasibly_in_time(tmp_path):
    problem = gap_instance(4, n=40, m=6)
    path = tmp_path / "gap.lp"
    names = qiopt.write(problem, path)
    cqm = qiopt.read(path)
    assert len(cqm.variables) == len(names) and len(cqm.constraints) == 40 + 6
    result = qiopt.solve(cqm, time_limit=3, seed=1)
    assert cqm.check_feasible(result.best_sample)
    assert result.info["one_hot_groups"]  # the assignment equalities became one-hot groups
    back = {v: result.best_sample[name] for v, name in names.items()}  # answers in the problem's labels
    assert problem.to_constrained().is_feasible(np.array([back[v] for v in problem.labels]))
    assert result.lower_bound <= result.best_energy


def test_cli_solves_an_lp_file_and_writes_the_variable_values(tmp_path, capsys):
    problem = gap_instance(5, n=20, m=4)
    qiopt.write(problem, tmp_path / "gap.lp")
    out = tmp_path / "answer.json"
    assert main(["solve", str(tmp_path / "gap.lp"), "--time-limit", "3", "--seed", "1", "-o", str(out)]) == 0
    payload = json.loads(out.read_text())
    cqm = qiopt.read(tmp_path / "gap.lp")
    assert payload["kind"] == "lp" and payload["feasible"] is True
    assert cqm.check_feasible(payload["assignment"])
    assert payload["lower_bound"] <= payload["energy"] and 0 <= payload["certified_gap"] < 1
    assert "lower bound:" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["qubo", "gset", "bqm"])
def test_cli_solves_qubo_gset_and_dimod_files(tmp_path, fmt):
    graph = nx.cycle_graph(6)
    path = tmp_path / f"m.{fmt}"
    if fmt == "gset":
        qiopt.write(graph, path)
    else:
        qiopt.write(qiopt.solve(graph, backend="exact").model, path)
    out = tmp_path / "r.json"
    assert main(["solve", str(path), "--backend", "exact", "--no-bound", "-o", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert "lower_bound" not in payload and len(payload["assignment"]) == 6
    assert main(["solve", str(path), "--format", "json"]) == 2  # wrong format named: a clear error, exit 2


def test_quadratic_program_with_an_equality_is_solved_exactly():
    qiskit_optimization = pytest.importorskip("qiskit_optimization")
    qp = qiskit_optimization.QuadraticProgram("three")
    for name in ("x", "y", "z"):
        qp.binary_var(name)
    qp.minimize(linear={"x": 2, "y": -1, "z": 3}, quadratic={("x", "z"): -6, ("y", "z"): 1, ("x", "x"): 1},
                constant=0.5)
    qp.linear_constraint({"x": 1, "y": 1, "z": 1}, "==", 2, "two")
    best = min((qp.objective.evaluate(list(s)), s) for s in np.ndindex(2, 2, 2) if sum(s) == 2)
    result = qiopt.solve(qp, seed=3)
    assert list(result.best_sample) == ["x", "y", "z"]
    assert tuple(result.best_sample.values()) == best[1]
    assert result.best_energy == pytest.approx(best[0])
    assert result.info["objective_sense"] == "minimize" and result.feasible
    assert result.lower_bound <= best[0] + 1e-9


def test_quadratic_program_maximised_and_refused():
    qiskit_optimization = pytest.importorskip("qiskit_optimization")
    qp = qiskit_optimization.QuadraticProgram()
    qp.binary_var("a")
    qp.binary_var("b")
    qp.maximize(linear={"a": 1, "b": 2}, quadratic={("a", "b"): -5})
    qp.linear_constraint({"a": 1, "b": 1}, "<=", 1, "at_most_one")
    result = qiopt.solve(qp, seed=1)
    assert result.best_sample == {"a": 0, "b": 1} and result.best_energy == -2.0
    assert result.info["objective_sense"] == "maximize"
    qp.integer_var(0, 3, "n")
    with pytest.raises(ValueError, match=r"'n' \(INTEGER\)"):
        qiopt.solve(qp)
    qp2 = qiskit_optimization.QuadraticProgram()
    qp2.binary_var("a")
    qp2.quadratic_constraint(quadratic={("a", "a"): 1}, sense="<=", rhs=1, name="sq")
    with pytest.raises(ValueError, match="'sq' is quadratic"):
        qiopt.solve(qp2)
