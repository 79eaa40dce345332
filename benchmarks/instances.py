"""Load the shared benchmark instances (Gset max-cut, Beasley BQP) as :class:`dimod.BinaryQuadraticModel`.

The files live outside the repository (default ``../shared/benchmarks`` relative to the repository root; see
its README.md). Loaders are vectorised (``numpy.loadtxt`` + ``from_numpy_vectors``), so even G81 loads fast.

Example:
    >>> from benchmarks.instances import data_dir, load_gset
    >>> bqm, best_cut, total_weight = load_gset("G1", data_dir())  # doctest: +SKIP
    >>> best_cut, (total_weight - bqm.energy({v: 1 for v in bqm.variables})) / 2  # doctest: +SKIP
    (11624, 0.0)
"""

from __future__ import annotations

import csv
from pathlib import Path

import dimod
import numpy as np

__all__ = ["DEFAULT_DATA", "data_dir", "gka_names", "load_beasley", "load_gka", "load_gset"]

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


def data_dir(path: str | Path | None = None) -> Path:
    """The instance folder (``path`` or the default). Missing data is an error (the script exits with status 1
    and says where it looked), never a silent success."""
    folder = Path(path) if path is not None else DEFAULT_DATA
    if not (folder / "gset").is_dir():
        raise SystemExit(f"benchmark instances not found in {folder} (expected gset/ and bqp/ folders); "
                         "pass --data FOLDER to point at a copy of the shared benchmarks")
    return folder


def _best_known(csv_path: Path, key: str, column: str) -> int:
    with csv_path.open() as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == key:
                return int(row[column])
    raise KeyError(f"{key} not listed in {csv_path}")


def load_gset(name: str, folder: Path) -> tuple[dimod.BinaryQuadraticModel, int, float]:
    """Gset graph ``name`` (e.g. ``"G1"``) as an Ising model minimising ``sum w_ij s_i s_j``.

    Returns ``(bqm, best_known_cut, total_weight)``; the cut of a sample is ``(total_weight - energy) / 2``.
    """
    path = folder / "gset" / f"{name}.txt"
    with path.open() as fh:
        n, _ = (int(x) for x in fh.readline().split())
        edges = np.loadtxt(fh, dtype=np.int64, ndmin=2)
    i, j, w = edges[:, 0] - 1, edges[:, 1] - 1, edges[:, 2].astype(np.float64)
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(np.zeros(n), (i, j, w), 0.0, dimod.SPIN)
    best = _best_known(folder / "gset" / "best_known.csv", name, "best_known")
    return bqm, best, float(w.sum())


def _load_qubo(path: Path, n: int) -> dimod.BinaryQuadraticModel:
    """A qbsolv-format maximisation file as a BINARY model minimising ``-sum Q x``."""
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith(("c", "p"))]
    arr = np.loadtxt(lines, dtype=np.float64, ndmin=2)
    i, j, q = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), -arr[:, 2]
    diag = i == j
    linear = np.zeros(n)
    np.add.at(linear, i[diag], q[diag])
    return dimod.BinaryQuadraticModel.from_numpy_vectors(linear, (i[~diag], j[~diag], q[~diag]), 0.0,
                                                         dimod.BINARY)


def load_beasley(name: str, folder: Path) -> tuple[dimod.BinaryQuadraticModel, int]:
    """Beasley instance ``name`` (e.g. ``"bqp250-1"``) as a BINARY model minimising ``-sum Q x``.

    Returns ``(bqm, best_known_max)``; a sample's objective value is ``-energy``.
    """
    size, k = name.removeprefix("bqp").split("-")
    bqm = _load_qubo(folder / "bqp" / "beasley" / f"bqp{size}_{k}.qubo", int(size))
    return bqm, _best_known(folder / "bqp" / "best_known_beasley.csv", name, "best_known_max")


def gka_names(folder: Path) -> list[str]:
    """Every GKA instance listed in the shared folder (``gka1a`` ... ``gka5f``)."""
    with (folder / "bqp" / "best_known_gka.csv").open() as fh:
        return [row["instance"] for row in csv.DictReader(fh)]


def load_gka(name: str, folder: Path) -> tuple[dimod.BinaryQuadraticModel, int]:
    """GKA instance ``name`` (e.g. ``"gka1a"``) as a BINARY model minimising ``-sum Q x``, with its best-known
    maximum."""
    with (folder / "bqp" / "best_known_gka.csv").open() as fh:
        row = next((r for r in csv.DictReader(fh) if r["instance"] == name), None)
    if row is None:
        raise KeyError(f"{name} not listed in {folder / 'bqp' / 'best_known_gka.csv'}")
    return _load_qubo(folder / "bqp" / row["file"], int(row["n"])), int(row["best_known_max"])
