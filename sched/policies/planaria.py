"""Planaria's priority/slack scheduling on a single accelerator.

Ghodrati et al., "Planaria: Dynamic Architecture Fission for Spatial Multi-Tenant
Acceleration of Deep Neural Networks", MICRO'20, Algorithm 1 (line 39): the task with the
largest ``prio / (slack x resources)`` runs, with ``slack = D - t``. On one accelerator
without spatial fission ``resources = 1`` (docs/scheduling.md, as in the Dysta
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

import numpy as np

from ..policy import PolicyConfig, Task, param, register
from ._base import EstimatePolicy, artifact_running_max, artifact_running_max_index, ieee_div


@register("planaria")
class Planaria(EstimatePolicy):
    """Max ``prio / (D - t)`` (estimates unused; the base class gives long-queue columns)."""

    trivial_single = True

    _vec_fields = ("prio", "deadline")

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        resources: float = param(1.0, lo=0, lo_open=True)
        """Resource estimate of every task (1 on a single accelerator)."""

    def __init__(self, context, config=None) -> None:
        super().__init__(context, config)
        self._compat = context.compat.running_max_minus_one

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        if len(ready) == 1:
            return ready[0]
        res = self.config.resources
        n = len(ready)
        states = self._ready_states(ready, accelerator)
        cols = self._columns(n) if states is self._order else None
        if cols is not None:
            i = self._select_columns(cols, n, now, res)
            if i is not None:
                return states[i].task
        if self._compat:
            return artifact_running_max(
                ready, [ieee_div(t.priority, (t.deadline - now) * res) for t in ready])
        best = None
        best_key = None
        for t in ready:
            slack = t.deadline - now
            late = slack <= 0
            key = (-1, -t.priority, t.deadline) if late else (0, -(t.priority / (slack * res)))
            if best is None or key < best_key:
                best, best_key = t, key
        return best

    def _select_columns(self, cols, n: int, now: int | float, res: float) -> int | None:
        """The scalar loops of `select` as array operations in the same order (None: a NaN
        score, left to the scalar loop)."""
        prio, d = cols.a[:, :n]
        slack = d - now
        if self._compat:
            with np.errstate(divide="ignore", invalid="ignore"):
                score = prio / (slack * res)
            return artifact_running_max_index(score)
        late = slack <= 0
        if late.any():
            # Highest priority among the late tasks, then the earliest deadline, then the
            # earliest arrival (queue order).
            p = np.where(late, prio, -np.inf)
            top = late & (p == p.max())
            dd = np.where(top, d, np.inf)
            return int(dd.argmin())
        score = prio / (slack * res)
        return int(score.argmax())
