"""Services at the edge of the library: the stateful :class:`Allocator` over the allocation engine."""

from qiopt.services.allocator import Allocator

__all__ = ["Allocator"]
