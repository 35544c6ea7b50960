"""First-come first-served (FCFS).

The baseline of Dysta (MICRO'23, arXiv 2310.11096, section 6) and of PREMA (HPCA'20): the
queued task that arrived first runs its next layer; ties (equal arrival) go to the lower
request id. Identical in fixed and Dysta-artifact compat mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import Policy, PolicyConfig, Task, register


@register("fcfs")
class FCFS(Policy):
    """Pick min arrival (the engine's ``ready`` is in (arrival, id) order: its first task)."""

    trivial_single = True

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        """FCFS has no parameters."""

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        return ready[0]
