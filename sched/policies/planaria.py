"""Planaria's priority/slack scheduling on a single accelerator.

Ghodrati et al., "Planaria: Dynamic Architecture Fission for Spatial Multi-Tenant
Acceleration of Deep Neural Networks", MICRO'20, Algorithm 1 (line 39): the task with the
largest ``prio / (slack x resources)`` runs, with ``slack = D - t``. On one accelerator
without spatial fission ``resources = 1`` (REFERENCE.md section 1, as in the Dysta
artifact). Ties: earliest arrival.

Deviations and compat switch: the score is undefined once a task is past its deadline.
Fixed mode: a task with ``slack <= 0`` outranks every task with positive slack; among late
tasks the highest priority, then the earliest deadline, then the earliest arrival wins.
`CompatFlags.running_max_minus_one` reproduces the artifact instead (defect 5): a running
maximum starting at -1 that any task replaces while it is negative (so among tasks past
their deadline the last in arrival order wins unless a later one has a positive score), and
IEEE division by zero at ``D == t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import Policy, PolicyConfig, Task, register
from ._base import ieee_div


@register("planaria")
class Planaria(Policy):
    """Max ``prio / (D - t)``."""

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        resources: float = 1.0
        """Resource estimate of every task (1 on a single accelerator)."""

    def __init__(self, context, config=None) -> None:
        super().__init__(context, config)
        if not self.config.resources > 0:
            raise ValueError(f"planaria resources must be positive, not "
                             f"{self.config.resources!r}")
        self._compat = context.compat.running_max_minus_one

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        if len(ready) == 1:
            return ready[0]
        res = self.config.resources
        if self._compat:
            best = None
            mx = -1
            for t in ready:
                slack = t.deadline - now
                score = ieee_div(t.priority, slack * res)
                if mx < 0 or mx <= score:
                    if mx == score and best is not None and best.arrival < t.arrival:
                        continue
                    best = t
                    mx = score
            return best
        best = None
        best_key = None
        for t in ready:
            slack = t.deadline - now
            late = slack <= 0
            key = (-1, -t.priority, t.deadline) if late else (0, -(t.priority / (slack * res)))
            if best is None or key < best_key:
                best, best_key = t, key
        return best
