from importlib.metadata import EntryPoint

import pytest

import qiopt
from qiopt.backends import registry
from qiopt.testing import assert_backend_contract


@pytest.fixture
def plugins(monkeypatch):
    """Register test backends through the entry-point group, as an installed package would."""
    eps = [EntryPoint("sign", "tests.plugins.greedy_plugin:SignBackend", registry.ENTRY_POINT_GROUP),
           EntryPoint("needs-missing", "tests.plugins.greedy_plugin:NeedsMissing", registry.ENTRY_POINT_GROUP),
           EntryPoint("broken", "tests.plugins.absent_module:X", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: [e for e in eps if e.group == group])
    registry._registered.cache_clear()
    yield
    registry._registered.cache_clear()


def test_builtins_listed():
    names = qiopt.available_backends()
    assert {"sa", "exact", "qaoa", "ibm"} <= set(names)
    assert names["sa"].usable and names["exact"].usable


def test_unknown_backend_lists_available():
    with pytest.raises(ValueError, match=r"unknown backend 'sa2'; did you mean 'sa'\?.*exact"):
        qiopt.get_backend("sa2")
    with pytest.raises(ValueError, match="Valid backends"):
        qiopt.solve({(0, 0): 1.0}, backend="nope")


def test_backend_name_must_be_str():
    with pytest.raises(TypeError):
        qiopt.get_backend(3)


def test_unknown_option_named():
    with pytest.raises(ValueError, match="num_read"):
        qiopt.get_backend("sa", num_read=3)
    with pytest.raises(ValueError, match="num_reads"):
        qiopt.get_backend("sa", num_reads=0)


def test_entry_point_plugin_is_found_and_usable(plugins):
    info = qiopt.available_backends()
    assert info["sign"].usable and info["sign"].source.endswith("SignBackend")
    result = qiopt.solve({(0, 0): -1.0, (1, 1): 2.0}, backend="sign")
    assert result.backend == "sign" and result.best_sample == {0: 1, 1: 0}
    assert_backend_contract(qiopt.get_backend("sign"))


def test_plugin_cannot_replace_builtin(monkeypatch):
    clash = EntryPoint("sa", "tests.plugins.greedy_plugin:SignBackend", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [clash])
    with pytest.warns(RuntimeWarning, match="ignoring entry point 'sa'"):
        registry._registered.cache_clear()
        registry._registered()
    assert registry.backend_class("sa").__name__ == "SimulatedAnnealingBackend"
    registry._registered.cache_clear()


def test_missing_requirement_gives_install_hint(plugins):
    info = qiopt.available_backends()["needs-missing"]
    assert not info.usable and info.install_hint == "pip install qiopt-missing-extra"
    with pytest.raises(ImportError, match="pip install qiopt-missing-extra"):
        qiopt.get_backend("needs-missing")


def test_broken_plugin_does_not_hide_others(plugins):
    info = qiopt.available_backends()
    assert not info["broken"].usable and "failed to load" in info["broken"].summary
    assert info["sa"].usable
