"""Decision agreement of two policies on one schedule."""

from __future__ import annotations

from collections.abc import Sequence

from .policy import Policy, Task


class Shadow(Policy):
    """Runs ``primary`` (whose picks the engine executes) and ``shadow`` on the same hooks, and
    counts the decisions where both pick the same task (``same`` of ``total``).

    Used to measure how far one policy's decisions are from another's on the schedule the
    first one produces, e.g. the fixed-point ``dysta_hw`` against the float ``dysta``. Oracle
    policies need their own context with ``oracle`` set (the engine sets only the outer one).
    """

    name = "shadow"

    def __init__(self, primary: Policy, shadow: Policy) -> None:
        super().__init__(primary.context)
        self.primary, self.shadow = primary, shadow
        self.same = self.total = 0

    @property
    def agreement(self) -> float:
        """Fraction of decisions where both picked the same task (1.0 before any decision)."""
        return self.same / self.total if self.total else 1.0

    def on_arrival(self, now: int | float, task: Task) -> None:
        self.primary.on_arrival(now, task)
        self.shadow.on_arrival(now, task)

    def on_layer_done(self, now: int | float, task: Task, accelerator: int, nnz: int,
                      total: int) -> None:
        self.primary.on_layer_done(now, task, accelerator, nnz, total)
        self.shadow.on_layer_done(now, task, accelerator, nnz, total)

    def on_finish(self, now: int | float, task: Task) -> None:
        self.primary.on_finish(now, task)
        self.shadow.on_finish(now, task)

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        pick = self.primary.select(now, accelerator, ready)
        self.total += 1
        self.same += pick is self.shadow.select(now, accelerator, ready)
        return pick
