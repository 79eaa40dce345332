"""Services at the edge of the library: the stateful :class:`Allocator` over the allocation engine, and the
gateway (:mod:`qiopt.services.gateway`, extra ``serve``) that puts one behind HTTP."""

from qiopt.services.allocator import Allocator, UnknownIdError

__all__ = ["Allocator", "UnknownIdError"]
