"""Problem builders: domain data in, a model out, decoded and repaired domain answers back.

Example:
    >>> from qiopt.problems import TaskAllocation
    >>> p = TaskAllocation.from_dict({"agents": [{"id": "a"}], "tasks": [{"id": "t"}]})
    >>> p.evaluate({"t": "a"}).feasible
    True
"""

from qiopt.problems.allocation import TaskAllocation
from qiopt.problems.base import Problem, Solution
from qiopt.problems.graphs import AffinityClustering, GraphPartitioning, MaxCut
from qiopt.problems.load_balancing import LoadBalancing

__all__ = ["AffinityClustering", "GraphPartitioning", "LoadBalancing", "MaxCut", "Problem", "Solution",
           "TaskAllocation"]
