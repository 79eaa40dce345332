"""qiopt: allocation problems as QUBO / Ising models, solved by interchangeable backends.

Example:
    >>> import qiopt
    >>> result = qiopt.solve({("a", "a"): -1.0, ("a", "b"): 2.0, ("b", "b"): -1.0}, backend="exact")
    >>> result.best_energy
    -1.0
"""

from importlib import metadata as _metadata

from qiopt.backends.registry import available_backends, get_backend
from qiopt.config import SolverConfig
from qiopt.files import read, write
from qiopt.problems import (
    AffinityClustering,
    GraphPartitioning,
    LoadBalancing,
    MaxCut,
    Problem,
    Solution,
    TaskAllocation,
)
from qiopt.result import Result
from qiopt.services import Allocator, solve_many
from qiopt.solve import solve

try:
    __version__ = _metadata.version("qiopt")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "AffinityClustering", "Allocator", "GraphPartitioning", "LoadBalancing", "MaxCut", "Problem", "Result", "Solution",
    "SolverConfig", "TaskAllocation", "__version__", "available_backends", "get_backend", "read", "solve",
    "solve_many", "write",
]
