"""The Dysta hardware scheduler in Amaranth: one block per module.

Formats, layouts and latencies come from `mmsched.hw.spec.scheduler`; the bit-exact Python
twin is `mmsched.hw.cyclemodel.dysta_sched`.
"""

from .comparator_tree import ComparatorTree
from .divider import RestoringDivider
from .gamma_unit import GammaUnit
from .lut_memories import LUTMemories
from .scheduler import DystaScheduler
from .score_unit import ScoreUnit
from .task_table import TaskTable

__all__ = ["ComparatorTree", "DystaScheduler", "GammaUnit", "LUTMemories", "RestoringDivider",
           "ScoreUnit", "TaskTable"]
