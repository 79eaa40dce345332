"""``python -m qiopt``: the command line (``python -m qiopt`` alone runs the Quick start demo)."""

import sys

from qiopt.cli import main

sys.exit(main(sys.argv[1:] or ["demo"]))
