"""The plots render to a file without a display (Agg), and a missing matplotlib names the install command."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import matplotlib
import networkx as nx
import pytest

import qiopt
from qiopt import plotting

matplotlib.use("Agg")

ALLOCATION = {
    "agents": [{"id": "a1", "capacity": 4}, {"id": "a2", "capacity": 4}],
    "tasks": [{"id": "t1", "demand": 2}, {"id": "t2", "demand": 2}, {"id": "t3", "demand": 1}],
    "costs": {"t1": {"a1": 1.0, "a2": 3.0}, "t2": {"a2": 2.0}, "t3": {"a1": 2.0, "a2": 1.0}},
}
LOAD_BALANCING = {
    "workers": [{"id": "w1", "speed": 1.0, "capacity": 6}, {"id": "w2", "speed": 2.0, "capacity": 6}],
    "tasks": [{"id": f"t{i}", "load": 2.0, "current": "w1"} for i in range(4)],
}


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _saved(ax, tmp_path: Path) -> Path:
    path = tmp_path / "plot.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    return path


def test_energy_histogram_of_result_and_sampleset(tmp_path: Path) -> None:
    result = qiopt.solve(nx.cycle_graph(6), seed=1, num_reads=16)
    ax = plotting.energy_histogram(result)
    _saved(ax, tmp_path)
    assert "best" in ax.get_legend().get_texts()[0].get_text()
    plotting.energy_histogram(result.sampleset, bins=5)


def test_energy_histogram_rejects_empty(tmp_path: Path) -> None:
    import dimod

    with pytest.raises(ValueError, match="empty"):
        plotting.energy_histogram(dimod.SampleSet.from_samples([], "SPIN", energy=[]))


def test_convergence_against_time_and_iterations(tmp_path: Path) -> None:
    ax = plotting.convergence([5.0, 3.0, 4.0, 1.0], x=[0.1, 0.2, 0.3, 0.4], xlabel="time (s)", label="run 1")
    ax = plotting.convergence([4.0, 2.0, 2.5], x=[0.1, 0.3, 0.5], xlabel="time (s)", label="run 2", ax=ax)
    _saved(ax, tmp_path)
    assert ax.get_xlabel() == "time (s)"
    best = ax.lines[1].get_ydata()
    assert list(best) == [5.0, 3.0, 3.0, 1.0]
    with pytest.raises(ValueError, match="same length"):
        plotting.convergence([1.0, 2.0], x=[0.0])
    with pytest.raises(ValueError, match="non-empty"):
        plotting.convergence([])


def test_allocation_heatmap(tmp_path: Path) -> None:
    ax = plotting.allocation_heatmap(ALLOCATION, {"t1": "a1", "t2": "a2", "t3": "a2"})
    _saved(ax, tmp_path)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["t1", "t2", "t3"]
    assert len(ax.collections[0].get_offsets()) == 3  # three circled pairs


def test_load_bars(tmp_path: Path) -> None:
    ax = plotting.load_bars(LOAD_BALANCING, {"t0": "w1", "t1": "w1", "t2": "w2", "t3": "w2"})
    _saved(ax, tmp_path)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [8.0, 0.0, 4.0, 4.0]  # before: w1, w2; after: w1, w2


def test_draw_partition_cut_and_clusters(tmp_path: Path) -> None:
    graph = nx.cycle_graph(6)
    ax = plotting.draw_partition(graph, {v: v % 2 for v in graph})
    _saved(ax, tmp_path)
    assert ax.get_title() == "2 parts, 6 of 6 edges cut"
    ax = plotting.draw_partition(graph, {v: v // 2 for v in graph})
    assert ax.get_title().startswith("3 parts, 3 of 6")


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    for module in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, module)
    with pytest.raises(ImportError, match=r"pip install 'qiopt\[plot\]'"):
        plotting.convergence([1.0])


def test_load_bars_with_optional_fields_left_out(tmp_path: Path) -> None:
    data = {"workers": [{"id": "a"}, {"id": "b", "capacity": None}],
            "tasks": [{"id": "x", "current": "a"}, {"id": "y"}]}
    ax = plotting.load_bars(data, {"x": "b", "y": "a"})
    _saved(ax, tmp_path)
    assert [p.get_height() for p in ax.patches] == [1.0, 0.0, 1.0, 1.0]
