"""The structured constrained model and its conversions (dimod BQM with sound penalties, dimod CQM).

Example:
    >>> from qiopt.constrained import ConstrainedModel
    >>> ConstrainedModel(2, groups=[[0, 1]]).num_groups
    1
"""

from qiopt.constrained.model import ConstrainedModel

__all__ = ["ConstrainedModel"]
