"""The one spec package: configurations, fixed-point formats, command and record layouts.

No Amaranth import (enforced by the import-linter contract in pyproject.toml): the RTL, its
Python models, the cocotb scoreboards and the policies all import it. Three modules,
re-exported here so ``from mmsched.hw.spec import X`` works for every name:

- `accelerator`: the sparse systolic accelerator (docs/accelerator.md);
- `scheduler`: the Dysta hardware scheduler (docs/dysta-scheduler.md);
- `fixedpoint`: rounding, saturation and shift rules shared by both.
"""

from .accelerator import *  # noqa: F403
from .accelerator import __all__ as _acc_all
from .fixedpoint import *  # noqa: F403
from .fixedpoint import __all__ as _fp_all
from .scheduler import *  # noqa: F403
from .scheduler import __all__ as _sch_all

__all__ = [*_acc_all, *_fp_all, *_sch_all]
