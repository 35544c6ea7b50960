"""Earliest deadline first (EDF), at layer granularity on any number of accelerators.

Liu and Layland, "Scheduling Algorithms for Multiprogramming in a Hard-Real-Time
Environment", J. ACM 20(1), 1973: the ready job with the earliest absolute deadline runs. Here
each free accelerator, offered in index order, takes the ready request with the earliest
deadline for its next layer (ties: earliest arrival, then lower request id, which is the
engine's ``ready`` order). A real-time baseline of the DREAM comparison (docs/realtime.md,
"Baselines"); it reads no estimates, so heterogeneous accelerators are all alike to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import Policy, PolicyConfig, Task, register


@register("edf")
class EDF(Policy):
    """Min deadline (first in ``ready`` order among equals)."""

    trivial_single = True

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        """EDF has no parameters."""

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        best = ready[0]
        bd = best.deadline
        for t in ready:
            if t.deadline < bd:
                bd = t.deadline
                best = t
        return best
