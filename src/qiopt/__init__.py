"""qiopt: allocation problems as QUBO / Ising models, solved by interchangeable backends.

Example:
    >>> import qiopt
    >>> result = qiopt.solve({("a", "a"): -1.0, ("a", "b"): 2.0, ("b", "b"): -1.0}, backend="exact")
    >>> result.best_energy
    -1.0
"""

from qiopt.backends.registry import available_backends, get_backend
from qiopt.config import SolverConfig
from qiopt.result import Result
from qiopt.solve import solve

__version__ = "0.1.0"

__all__ = ["Result", "SolverConfig", "__version__", "available_backends", "get_backend", "solve"]
