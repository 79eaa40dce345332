"""A third-party style backend, registered in tests through a real entry point object."""

from dataclasses import dataclass

import numpy as np

from qiopt.backends.base import Backend, RunOutput
from qiopt.options import Options, option, positive_int


@dataclass(frozen=True)
class SignOptions(Options):
    num_reads: int = option(1, "Copies of the answer.", check=positive_int)


class SignBackend(Backend):
    """Sets each spin against its linear bias (exact when there are no couplings)."""

    name = "sign"
    options_type = SignOptions
    summary = "test plugin"

    def _run(self, model, options, bqm):
        spins = np.where(model.h > 0, -1, 1).astype(np.int8)
        return RunOutput(np.tile(spins, (options.num_reads, 1)))


class NeedsMissing(SignBackend):
    name = "needs-missing"
    requires = ("qiopt_module_that_does_not_exist",)
    install_hint = "pip install qiopt-missing-extra"
