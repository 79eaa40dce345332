import dataclasses

import pytest
import tomli_w

import qiopt
from qiopt.backends.registry import backend_class
from qiopt.config import SolverConfig, load_config, resolve_config


def write(tmp_path, text):
    path = tmp_path / "qiopt.toml"
    path.write_text(text)
    return path


def test_file_selects_backend_and_options(tmp_path):
    path = write(tmp_path, '[solver]\nbackend = "exact"\n[solver.options]\nnum_states = 3\n')
    cfg = resolve_config(path, env={})
    assert cfg.backend == "exact" and cfg.options_for("exact") == {"num_states": 3}


def test_precedence_explicit_over_env_over_file(tmp_path):
    path = write(tmp_path, '[solver]\nbackend = "sa"\ntime_limit = 5\n')
    assert resolve_config(path, env={}).backend == "sa"
    assert resolve_config(path, env={"QIOPT_BACKEND": "exact"}).backend == "exact"
    assert resolve_config(path, backend="sa", env={"QIOPT_BACKEND": "exact"}).backend == "sa"
    assert resolve_config(path, env={"QIOPT_TIME_LIMIT": "2.5"}).time_limit == 2.5
    assert resolve_config(path, time_limit=1, env={"QIOPT_TIME_LIMIT": "2.5"}).time_limit == 1


def test_env_names_config_file(tmp_path):
    path = write(tmp_path, '[solver]\nbackend = "exact"\n')
    assert resolve_config(None, env={"QIOPT_CONFIG": str(path)}).backend == "exact"


def test_explicit_options_override_file_options(tmp_path):
    path = write(tmp_path, '[solver.options]\nnum_reads = 20\nseed = 7\n')
    cfg = resolve_config(path, options={"seed": 9}, env={})
    assert cfg.options_for("sa") == {"num_reads": 20, "seed": 9}


def test_per_backend_tables_and_fallback(tmp_path):
    path = write(tmp_path, '[solver]\nbackend = "exact"\nfallback = ["sa"]\n[backends.sa]\nnum_reads = 4\n')
    cfg = resolve_config(path, env={"QIOPT_FALLBACK": "sa, exact"})
    assert cfg.chain == ("exact", "sa")
    assert cfg.options_for("sa") == {"num_reads": 4}


@pytest.mark.parametrize("text, key", [
    ('[solver]\nbakend = "sa"\n', "bakend"),
    ('[solvr]\nbackend = "sa"\n', "solvr"),
    ('[solver.options]\nnum_read = 3\n', "num_read"),
    ('[solver.options]\nnum_reads = -3\n', "num_reads"),
    ('[solver]\nbackend = "nope"\n', "nope"),
    ('[solver]\ntime_limit = -1\n', "time_limit"),
    ('[backends.exact]\nnum_reads = 3\n', "num_reads"),
])
def test_bad_keys_and_values_are_named(tmp_path, text, key):
    with pytest.raises(ValueError, match=key):
        resolve_config(write(tmp_path, text), env={})


def test_unknown_env_is_ignored_with_one_warning_and_bad_values_are_named():
    with pytest.warns(UserWarning, match="QIOPT_BACKNED'; did you mean 'QIOPT_BACKEND'") as caught:
        cfg = resolve_config(None, env={"QIOPT_BACKNED": "exact", "QIOPT_LOG_LEVEL": "debug"})
    assert len(caught) == 1 and "QIOPT_LOG_LEVEL" in str(caught[0].message) and cfg.backend == "sa"
    assert "QIOPT_TIME_LIMIT" in str(caught[0].message)  # the known ones are named
    with pytest.raises(ValueError, match="QIOPT_TIME_LIMIT"):
        resolve_config(None, env={"QIOPT_TIME_LIMIT": "soon"})


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ValueError, match="TOML"):
        load_config(write(tmp_path, "[solver\n"))


def test_example_config_is_valid():
    from pathlib import Path

    cfg = resolve_config(Path(__file__).parents[1] / "examples" / "qiopt.toml", env={})
    assert cfg.backend == "sa" and cfg.options_for("sa")["seed"] == 7


@pytest.mark.parametrize("name", ["sa", "exact"])
def test_every_option_round_trips_through_toml(tmp_path, name):
    """Options are declared once: each non-default value written to TOML comes back identical."""
    options_type = backend_class(name).options_type
    values = {
        "num_reads": 3, "num_sweeps": 40, "num_sweeps_per_beta": 2, "beta_range": [0.1, 3.0],
        "beta_schedule_type": "linear", "seed": 11, "initial_states_generator": "tile", "time_limit": 0.5,
        "num_threads": 1, "polish": False, "randomize_order": True, "proposal_acceptance_criteria": "Gibbs",
        "num_states": 2, "max_variables": 12, "swap_probability": 0.5, "chain_probability": 0.75,
    }
    chosen = {k: v for k, v in values.items() if k in options_type.names()}
    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({"solver": {"backend": name, "options": chosen}}))
    cfg = resolve_config(path, env={})
    options = options_type.from_kwargs(cfg.options_for(name))
    defaults = options_type()
    for key, value in chosen.items():
        got = getattr(options, key)
        assert (list(got) if isinstance(got, tuple) else got) == value
        assert got != getattr(defaults, key)
    configurable = {f.name for f in dataclasses.fields(options_type)} - {"initial_states", "beta_schedule"}
    assert configurable <= set(chosen), "every TOML-expressible option must be covered by this test"


def test_solve_uses_config_file(tmp_path):
    path = write(tmp_path, '[solver]\nbackend = "exact"\n[solver.options]\nnum_states = 2\n')
    result = qiopt.solve({(0, 0): -1.0, (1, 1): 1.0}, config=path)
    assert result.backend == "exact" and len(result.sampleset) == 2


def test_solver_config_object_validates():
    with pytest.raises(ValueError, match="unknown backend"):
        SolverConfig(backend="nope")
    with pytest.raises(TypeError, match="fallback"):
        SolverConfig(fallback="sa")


def test_mapping_shaped_like_the_file():
    data = {"solver": {"backend": "exact", "options": {"num_states": 2}}, "backends": {"sa": {"seed": 1}}}
    cfg = resolve_config(data, env={})
    assert cfg.backend == "exact" and cfg.options_for("exact") == {"num_states": 2}
    assert cfg.options_for("sa") == {"seed": 1}
    with pytest.raises(ValueError, match="solvr"):
        resolve_config({"solver": {}, "solvr": {}}, env={})


def test_flat_mapping_with_options_and_non_table_errors(tmp_path):
    cfg = resolve_config({"backend": "exact", "options": {"num_states": 2}}, env={})
    assert cfg.options_for("exact") == {"num_states": 2}
    with pytest.raises(TypeError, match=r"\[solver.options\]"):
        resolve_config(write(tmp_path, '[solver]\noptions = 3\n'), env={})
    with pytest.raises(TypeError, match=r"\[backends.sa\]"):
        resolve_config(write(tmp_path, '[backends]\nsa = 1\n'), env={})


def test_the_gateway_token_variable_is_known():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "ignoring" warning for qiopt's own variables
        assert resolve_config(None, env={"QIOPT_SERVE_TOKEN": "x"}).backend == "sa"
