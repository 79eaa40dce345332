"""Plots of results (optional extra ``plot``: ``pip install 'qiopt[plot]'``).

Every function draws on ``ax`` (a new figure's axes when None) and returns the axes, so plots compose and
save with ``ax.figure.savefig(...)``. matplotlib is imported on first use only.

* :func:`energy_histogram`: the energies of a sample set (weighted by occurrences).
* :func:`convergence`: a trace (best energy vs time, or QAOA objective vs iteration), with its running best.
* :func:`allocation_heatmap`: the task × agent cost matrix with the chosen pairs marked.
* :func:`load_bars`: each worker's load before and after a rebalancing, with its capacity.
* :func:`draw_partition`: a graph with its nodes coloured by part (a cut or a clustering), cut edges dashed.

Example:
    >>> import networkx as nx, qiopt
    >>> from qiopt import plotting
    >>> result = qiopt.solve(nx.cycle_graph(6), seed=1)
    >>> ax = plotting.energy_histogram(result)                    # doctest: +SKIP
    >>> ax = plotting.draw_partition(nx.cycle_graph(6), result.best_sample)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["allocation_heatmap", "convergence", "draw_partition", "energy_histogram", "load_bars"]

INSTALL_HINT = "pip install 'qiopt[plot]'"


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib, which is not installed here. Install it with: "
                          f"{INSTALL_HINT}") from exc
    return plt


def _axes(ax: Any, figsize: tuple[float, float] = (6.0, 4.0)) -> Any:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def energy_histogram(samples: Any, *, bins: int = 30, ax: Any = None) -> Any:
    """Histogram of the energies of a :class:`dimod.SampleSet` or a :class:`~qiopt.result.Result`.

    Each sample counts ``num_occurrences`` times; the lowest energy is marked with a vertical line.
    """
    sampleset = getattr(samples, "sampleset", samples)
    energies = np.asarray(sampleset.record.energy, dtype=float)
    weights = np.asarray(sampleset.record.num_occurrences, dtype=float)
    if energies.size == 0:
        raise ValueError("the sample set is empty: no energies to plot")
    ax = _axes(ax)
    ax.hist(energies, bins=bins, weights=weights, color="tab:blue", alpha=0.8)
    ax.axvline(energies.min(), color="tab:red", linestyle="--", label=f"best {energies.min():.6g}")
    ax.set(xlabel="energy", ylabel="samples", title="Energy distribution")
    ax.legend()
    return ax


def convergence(values: Sequence[float], x: Sequence[float] | None = None, *, running_best: bool = True,
                xlabel: str = "iteration", ylabel: str = "energy", label: str | None = None,
                ax: Any = None) -> Any:
    """Plot a trace: ``values`` against ``x`` (default 0, 1, 2...), plus its running minimum.

    Use it for the best energy vs time of annealing batches (``x`` = seconds, ``xlabel="time (s)"``) or for a
    QAOA optimizer's objective per iteration. Call it again with the same ``ax`` to compare runs.
    """
    y = np.asarray(values, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {y.shape}")
    xs = np.arange(y.size) if x is None else np.asarray(x, dtype=float)
    if xs.shape != y.shape:
        raise ValueError(f"x and values must have the same length, got {xs.size} and {y.size}")
    ax = _axes(ax)
    line, = ax.plot(xs, y, marker=".", alpha=0.5 if running_best else 1.0, label=label or ylabel)
    if running_best:
        ax.step(xs, np.minimum.accumulate(y), where="post", color=line.get_color(),
                label=f"best so far ({label})" if label else "best so far")
    ax.set(xlabel=xlabel, ylabel=ylabel, title="Convergence")
    ax.legend()
    return ax


def allocation_heatmap(data: Mapping[str, Any], assignment: Mapping[Any, Any], *, ax: Any = None) -> Any:
    """Cost matrix of an allocation (tasks × agents, in the JSON format's ``costs``), chosen pairs circled.

    ``data`` is the allocation as a dict (``agents``, ``tasks``, ``costs``); ``assignment`` maps task → agent.
    Pairs without a cost are left blank.
    """
    tasks = [t["id"] for t in data["tasks"]]
    agents = [a["id"] for a in data["agents"]]
    costs = data.get("costs", {})
    matrix = np.full((len(tasks), len(agents)), np.nan)
    for i, task in enumerate(tasks):
        for j, agent in enumerate(agents):
            if agent in costs.get(task, {}):
                matrix[i, j] = float(costs[task][agent])
    ax = _axes(ax, (max(4.0, 0.5 * len(agents) + 2), max(3.0, 0.25 * len(tasks) + 1)))
    image = ax.imshow(matrix, aspect="auto", cmap="viridis_r")
    ax.figure.colorbar(image, ax=ax, label="cost")
    column = {agent: j for j, agent in enumerate(agents)}
    chosen = [(column[a], i) for i, t in enumerate(tasks) if (a := assignment.get(t)) in column]
    if chosen:
        xs, ys = zip(*chosen, strict=True)
        ax.scatter(xs, ys, s=60, facecolors="none", edgecolors="red", linewidths=1.5, label="assigned")
        ax.legend(loc="upper right")
    ax.set_xticks(range(len(agents)), [str(a) for a in agents], rotation=45, ha="right")
    ax.set_yticks(range(len(tasks)), [str(t) for t in tasks])
    ax.set(xlabel="agent", ylabel="task", title="Allocation (cost, assigned pairs circled)")
    return ax


def load_bars(data: Mapping[str, Any], assignment: Mapping[Any, Any], *, ax: Any = None) -> Any:
    """Each worker's load before (the tasks' ``current`` workers) and after ``assignment``, with capacities.

    ``data`` is the load-balancing problem as a dict (``workers``, ``tasks``); ``assignment`` maps
    task → worker.
    """
    workers = [w["id"] for w in data["workers"]]
    index = {w: k for k, w in enumerate(workers)}
    before, after = np.zeros(len(workers)), np.zeros(len(workers))
    for task in data["tasks"]:
        load = float(task.get("load", 1.0))  # the format's default
        if task.get("current") in index:
            before[index[task["current"]]] += load
        if assignment.get(task["id"]) in index:
            after[index[assignment[task["id"]]]] += load
    ax = _axes(ax, (max(5.0, 0.6 * len(workers) + 2), 4.0))
    pos = np.arange(len(workers))
    ax.bar(pos - 0.2, before, width=0.4, label="before", color="tab:gray")
    ax.bar(pos + 0.2, after, width=0.4, label="after", color="tab:blue")
    capacity = [np.nan if w.get("capacity") is None else float(w["capacity"]) for w in data["workers"]]  # nan: none
    ax.scatter(pos, capacity, marker="_", s=400, color="tab:red", label="capacity", zorder=3)
    ax.set_xticks(pos, [str(w) for w in workers])
    ax.set(xlabel="worker", ylabel="load", title="Load per worker")
    ax.legend()
    return ax


def draw_partition(graph: Any, parts: Mapping[Any, Any], *, pos: Mapping[Any, Any] | None = None,
                   seed: int = 1, ax: Any = None) -> Any:
    """Draw a networkx ``graph`` with nodes coloured by ``parts`` (node → part: a cut's 0/1 or ±1, a cluster).

    Edges between different parts (the cut) are drawn dashed in red. ``pos`` defaults to a spring layout.
    """
    import networkx as nx

    ax = _axes(ax, (6.0, 6.0))
    pos = nx.spring_layout(graph, seed=seed) if pos is None else pos
    labels = sorted({parts.get(v) for v in graph.nodes}, key=str)
    colour = {p: k for k, p in enumerate(labels)}
    cut = [(u, v) for u, v in graph.edges if parts.get(u) != parts.get(v)]
    kept = [(u, v) for u, v in graph.edges if parts.get(u) == parts.get(v)]
    nx.draw_networkx_edges(graph, pos, edgelist=kept, ax=ax, edge_color="tab:gray", alpha=0.6)
    nx.draw_networkx_edges(graph, pos, edgelist=cut, ax=ax, edge_color="tab:red", style="dashed")
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[colour[parts.get(v)] for v in graph.nodes],
                           cmap="tab10", vmin=0, vmax=9, node_size=200)
    if graph.number_of_nodes() <= 40:
        nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8)
    ax.set_title(f"{len(labels)} parts, {len(cut)} of {graph.number_of_edges()} edges cut")
    ax.set_axis_off()
    return ax
