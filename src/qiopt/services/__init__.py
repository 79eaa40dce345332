"""Services at the edge of the library: the stateful :class:`Allocator` over the allocation engine, and the
gateway (:mod:`qiopt.services.gateway`, extra ``serve``) that puts one behind HTTP, and :func:`solve_many` (local
processes, any executor, Dask)."""

from qiopt.services.allocator import Allocator, UnknownIdError
from qiopt.services.parallel import solve_many

__all__ = ["Allocator", "UnknownIdError", "solve_many"]
