"""The ``qiopt`` command line: every command, every exit code, bad input named without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import qiopt
from qiopt.cli import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK, main

ALLOCATION = {
    "agents": [{"id": "a1", "capacity": 4, "skills": ["travel"]},
               {"id": "a2", "capacity": 4, "skills": ["travel", "hotel"]}],
    "tasks": [{"id": "t1", "demand": 2, "skill": "travel"}, {"id": "t2", "demand": 2, "skill": "hotel"},
              {"id": "t3", "demand": 1, "skill": "travel"}],
    "costs": {"t1": {"a1": 1.0, "a2": 3.0}, "t2": {"a2": 2.0}, "t3": {"a1": 2.0, "a2": 1.0}},
    "affinity": [["t1", "t3", 0.5]],
}
LOAD_BALANCING = {
    "workers": [{"id": "w1", "speed": 1.0, "capacity": 10}, {"id": "w2", "speed": 1.0, "capacity": 10}],
    "tasks": [{"id": f"t{i}", "load": 2.0, "current": "w1", "migration_cost": 0.1} for i in range(4)],
    "affinity": [["t0", "t1", 0.5]],
}
QUBO = {"qubo": [["a", "a", -1.0], ["a", "b", 2.0], ["b", "b", -1.0]]}
ISING = {"h": {"x": 1.0}, "J": [["x", "y", -1.0]], "offset": 0.5}


@pytest.fixture
def write(tmp_path: Path):
    def _write(data: object, name: str = "problem.json") -> str:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return str(path)
    return _write


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# --- global options ------------------------------------------------------------------------------------------

def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"qiopt {qiopt.__version__}"


@pytest.mark.parametrize("argv", [[], ["--help"], ["solve", "--help"], ["backends", "--help"], ["demo", "--help"]])
def test_help_on_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_OK
    assert "usage: qiopt" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == EXIT_BAD_INPUT
    assert "invalid choice" in _error(capsys)


# --- backends ------------------------------------------------------------------------------------------------

def test_backends_lists_every_backend_with_hints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends"]) == EXIT_OK
    out = capsys.readouterr().out
    for name, info in qiopt.available_backends().items():
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert ("usable" if info.usable else "missing") in line
        if not info.usable and info.install_hint:
            assert info.install_hint in out


# --- solve: plain models -------------------------------------------------------------------------------------

def test_solve_qubo_writes_result(write, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "result.json"
    assert main(["solve", write(QUBO), "--seed", "3", "--output", str(out_path)]) == EXIT_OK
    assert "qubo" in capsys.readouterr().out
    result = json.loads(out_path.read_text())
    assert result["kind"] == "qubo" and result["backend"] == "sa" and result["feasible"]
    assert result["energy"] == -1.0 == result["objective"]
    assert result["options"]["seed"] == 3
    assert set(result["assignment"]) == {"a", "b"} and sum(result["assignment"].values()) == 1
    assert result["timing"]["total_s"] > 0 and "sampling_ns" in result["timing"]


def test_solve_ising_exact_to_stdout(write, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", write(ISING), "--backend", "exact", "--seed", "1", "--output", "-"]) == EXIT_OK
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # only JSON on stdout; the summary went to stderr
    assert result["backend"] == "exact" and result["energy"] == -1.5
    assert "backend: exact" in captured.err


def test_solve_with_config_and_time_limit(write, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "qiopt.toml"
    config.write_text('[solver]\nbackend = "exact"\n[solver.options]\nnum_states = 2\n')
    out_path = tmp_path / "r.json"
    code = main(["solve", write(QUBO), "--config", str(config), "--time-limit", "5", "-o", str(out_path)])
    assert code == EXIT_OK
    result = json.loads(out_path.read_text())
    assert result["backend"] == "exact" and result["options"]["num_states"] == 2


# --- solve: bad input → exit 2, message names the field -------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    ('{"qubo": [["a", "a", -1]', "not valid JSON"),
    ("[1, 2]", "top level must be a JSON object"),
    ('{"nodes": []}', "cannot tell the problem kind"),
    ('{"qubo": [["a", "b"]]}', "qubo[0]"),
    ('{"qubo": [["a", "b", "x"]]}', "qubo[0]"),
    ('{"qubo": [[["a"], "b", 1.0]]}', "qubo[0]"),
    ('{"qubo": {"a": 1}}', "'qubo'"),
    ('{"qubo": [], "h": {}}', "unknown field 'h'"),
    ('{"h": {"a": "big"}, "J": []}', "h['a']"),
    ('{"h": 3, "J": []}', "'h'"),
    ('{"h": {"a": 1}, "J": [["a", "a", 1.0]]}', "J"),
    ('{"qubo": [["a", "a", 1]], "offset": "zero"}', "offset"),
    ('{"qubo": []}', "empty"),
])
def test_bad_model_files(write, capsys: pytest.CaptureFixture[str], content: str, expected: str) -> None:
    assert main(["solve", write(content)]) == EXIT_BAD_INPUT
    err = _error(capsys)
    assert err.startswith("qiopt: error:") and expected in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(tmp_path / "nope.json")]) == EXIT_BAD_INPUT
    assert "file not found" in _error(capsys)


def test_unknown_backend_is_named(write, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", write(QUBO), "--backend", "simulated"]) == EXIT_BAD_INPUT
    assert "unknown backend 'simulated'" in _error(capsys)


@pytest.mark.parametrize(("argv", "expected"), [
    (["--time-limit", "-1"], "time_limit"),
    (["--time-limit", "soon"], "--time-limit"),
    (["--seed", "x"], "--seed"),
    (["--kind", "tsp"], "--kind"),
    (["--config", "/nonexistent/qiopt.toml"], "config file not found"),
])
def test_bad_options(write, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    assert main(["solve", write(QUBO), *argv]) == EXIT_BAD_INPUT
    assert expected in _error(capsys)


def test_wrong_kind_names_the_field(write, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", write(QUBO), "--kind", "qubo"]) == EXIT_OK
    capsys.readouterr()
    assert main(["solve", write({"h": {}, "qubo": []}), "--kind", "qubo"]) == EXIT_BAD_INPUT
    assert "unknown field 'h'" in _error(capsys)


# --- solve: problems -----------------------------------------------------------------------------------------

def test_solve_allocation_feasible(write, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "r.json"
    assert main(["solve", write(ALLOCATION), "--seed", "1", "-o", str(out_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "(allocation)" in out and "load 3/4" in out and "feasible" in out
    result = json.loads(out_path.read_text())
    assert result["kind"] == "allocation" and result["feasible"] and result["violations"] == {}
    assert result["assignment"]["t2"] == "a2"  # the only agent with the skill


def test_solve_allocation_with_reference(write, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "r.json"
    assert main(["solve", write(ALLOCATION), "--seed", "1", "--reference", "milp", "-o", str(out_path)]) == 0
    assert "gap" in capsys.readouterr().out
    result = json.loads(out_path.read_text())
    assert result["reference"]["objective"] <= result["objective"] + 1e-9


def test_solve_infeasible_allocation_exits_1(write, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crowded = {"agents": [{"id": "a1", "capacity": 3}, {"id": "a2", "capacity": 3}],  # total fits, packing not
               "tasks": [{"id": f"t{i}", "demand": 2} for i in range(3)]}
    out_path = tmp_path / "r.json"
    assert main(["solve", write(crowded), "--seed", "1", "-o", str(out_path)]) == EXIT_INFEASIBLE
    assert "INFEASIBLE" in capsys.readouterr().out
    result = json.loads(out_path.read_text())
    assert not result["feasible"] and result["violations"]


def test_bad_allocation_names_the_field(write, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {**ALLOCATION, "agents": [{"id": "a1", "capacity": "lots"}, ALLOCATION["agents"][1]]}
    assert main(["solve", write(broken)]) == EXIT_BAD_INPUT
    assert "capacity" in _error(capsys)


def test_solve_load_balancing(write, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "r.json"
    code = main(["solve", write(LOAD_BALANCING), "--kind", "load-balancing", "--seed", "2", "-o", str(out_path)])
    assert code == EXIT_OK
    out = capsys.readouterr().out
    assert "load before" in out and "migrations" in out
    result = json.loads(out_path.read_text())
    assert set(result["assignment"]) == {f"t{i}" for i in range(4)}


def test_bad_load_balancing_names_the_field(write, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {**LOAD_BALANCING, "tasks": [{"id": "t1", "current": "w1"}]}
    assert main(["solve", write(broken)]) == EXIT_BAD_INPUT
    assert "load" in _error(capsys)


# --- demo ----------------------------------------------------------------------------------------------------

def test_demo_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "travel planning" in out and "Travel agent 1" in out and "load " in out and "feasible" in out
    assert "backend: sa" in out


def test_run_demo_returns_the_result() -> None:
    import io

    from qiopt.demo import load_scenario, run_demo

    stream = io.StringIO()
    result = run_demo(stream=stream, seed=3)
    assert result.backend == "sa" and result.solution.feasible
    assert set(result.solution.assignment) == {t["id"] for t in load_scenario()["tasks"]}
    if result.reference is not None:
        assert "MILP reference" in stream.getvalue() and result.gap >= -1e-9


# --- real processes ------------------------------------------------------------------------------------------

def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QIOPT_")}
    return subprocess.run([sys.executable, "-m", "qiopt", *argv], capture_output=True, text=True, env=env,
                          timeout=120)


def test_subprocess_solve_and_bad_input(write) -> None:
    ok = _run("solve", write(QUBO), "--seed", "1")
    assert ok.returncode == EXIT_OK, ok.stderr
    assert "energy: -1" in ok.stdout
    bad = _run("solve", write('{"qubo": [["a", "b"]]}', "bad.json"))
    assert bad.returncode == EXIT_BAD_INPUT
    assert "qubo[0]" in bad.stderr and "Traceback" not in bad.stderr


def test_subprocess_module_runs_demo() -> None:
    proc = _run()
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "travel planning" in proc.stdout


def test_optional_fields_left_out(write, capsys: pytest.CaptureFixture[str]) -> None:
    """Capacity (unlimited), demand and load (1) are optional in the formats: the summary must not need them."""
    allocation = {"agents": [{"id": "a"}, {"id": "b", "capacity": 1}], "tasks": [{"id": "x"}, {"id": "y"}]}
    assert main(["solve", write(allocation), "--seed", "1"]) == EXIT_OK
    assert "no cap" in capsys.readouterr().out
    balancing = {"workers": [{"id": "w1"}, {"id": "w2"}], "tasks": [{"id": "t1"}, {"id": "t2", "current": "w1"}]}
    assert main(["solve", write(balancing, "lb.json"), "--seed", "1"]) == EXIT_OK
    assert "w2" in capsys.readouterr().out
