"""dysta_hw: the Dysta hardware scheduler's decisions, from its bit-exact twin.

Fan, Venieris, Kouris, Lane, "Sparse-DySta", MICRO'23 (arXiv 2310.11096), section 5 (the
hardware scheduler). Drives `mmsched.hw.cyclemodel.dysta_sched.DystaSchedTwin` (or, through
`DystaHW.scheduler_factory`, the RTL itself: ``mmsched.sim.cosim``) with the command sequence
the host and the accelerators would send: the static tables (``context.tables[0]``) are
quantised into the scheduler's LUTs once, each arrival is an ADMIT, each finished layer a
LAYER_DONE with the monitor's counts, each decision a DECIDE, each finished request a RETIRE.
The score, formats and tie-break are those of `mmsched.hw.spec.scheduler`: the float
``dysta`` policy's score in fixed point.

Deviations from the float ``dysta`` policy (measured agreement: docs/dysta-scheduler.md and
docs/results.md):

- fixed-point arithmetic (gamma UQ4.12 floor, R/beta floor, waiting time in quanta of
  2^wait_shift cycles multiplied as an 18-bit mantissa, fairness weight 16 bits); the 1/N
  factor is exact (the hardware compares N times the score);
- the task table has ``slots`` entries: when it is full, arrivals wait in a host FIFO (arrival
  order) and are admitted as slots free up; only admitted tasks are candidates;
- ties go to the earlier admission (arrival order), as in ``dysta``;
- monitor counts wider than the scheduler's 32-bit counters are shifted right together.

The fairness term ``(w / Iso_est) / N`` is dimensionless; ``fairness`` says what one unit of it
is worth: ``"seconds"`` (default) one second (``clock_hz`` cycles: the paper's and the
artifact's seconds-based score, and what the float ``dysta`` policy adds), ``"time-unit"``
one unit of the workload's time (one cycle: fairness then only breaks near-ties).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin
from mmsched.hw.spec import (
    DYSTA_COUNT_BITS,
    DystaStatus,
    SchedulerConfig,
    density_q,
    dysta_shifts,
)

from ..gamma import PREDICTORS
from ..policy import Policy, PolicyConfig, PolicyContext, Task, param, register

FAIRNESS_UNITS = ("time-unit", "seconds")


@register("dysta_hw")
class DystaHW(Policy):
    """Dysta's hardware scheduler (fixed point, comparator-tree selection) as a policy."""

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        beta: float = param(0.01, lo=0)
        """The score's beta (paper: 0.01)."""
        predictor: str = param("avg", choices=PREDICTORS)
        """Gamma predictor, ``"avg"`` or ``"last-one"``."""
        slots: int = param(64, lo=1, hi=1 << 12)
        """Task-table size S."""
        fairness: str = param("seconds", choices=FAIRNESS_UNITS)
        """Worth of one unit of ``(w / Iso) / N``: ``"time-unit"`` or ``"seconds"``."""

    def __init__(self, context: PolicyContext, config: PolicyConfig | None = None, *,
                 scheduler_factory: Callable[[SchedulerConfig], Any] | None = None) -> None:
        """``scheduler_factory(hw_config)`` builds the scheduler the policy drives: by default
        the twin; the co-simulation (`mmsched.sim.cosim`) passes one that drives the RTL. It
        must offer the twin's functional methods (load_lut, load_iso, admit, retire,
        layer_done, decide)."""
        super().__init__(context, config)
        cfg = self.config
        if not context.tables:
            raise ValueError("dysta_hw needs static tables (PolicyContext.tables is empty)")
        self._seconds = context.time_unit == "seconds"
        # integer cycles per workload time unit
        self._scale = float(context.clock_hz) if self._seconds else 1.0
        tables = context.tables[0]
        keys = sorted(tables.pattern)
        archs = sorted({tables.arch_of.get(k, k) for k in keys})
        by_arch: dict[str, list[str]] = {a: [] for a in archs}
        for k in keys:
            by_arch[tables.arch_of.get(k, k)].append(k)
        self._ids: dict[str, tuple[int, int]] = {}
        for mi, a in enumerate(archs):
            for pi, k in enumerate(by_arch[a]):
                self._ids[k] = (mi, pi)
        iso = {k: tables.pattern[k].remaining[0] * self._scale for k in keys}
        fair = float(context.clock_hz) if cfg.fairness == "seconds" else self._scale
        wait_shift, fair_shift = dysta_shifts([max(v, 1.0) for v in iso.values()], fair)
        self.hw_config = SchedulerConfig(
            slots=cfg.slots, models=len(archs),
            patterns=max(len(v) for v in by_arch.values()),
            layers=max(len(tables.pattern[k].layer_latency) for k in keys),
            predictor=cfg.predictor, beta=cfg.beta, wait_shift=wait_shift,
            fair_shift=fair_shift)
        hw = self.hw_config
        self.scheduler = (scheduler_factory or DystaSchedTwin)(hw)
        sched = self.scheduler
        for k in keys:
            mi, pi = self._ids[k]
            prof = tables.pattern[k]
            for j in range(len(prof.layer_latency)):
                st = sched.load_lut(mi, pi, j, hw.remaining_q(prof.remaining[j] * self._scale),
                                    density_q(prof.layer_density[j]))
                self._check(st, "LOAD_LUT")
            st = sched.load_iso(mi, pi, hw.fair_weight_q(max(iso[k], 1.0), fair))
            self._check(st, "LOAD_ISO")
        self._slot_of: dict[int, int] = {}
        self._task_of: dict[int, Task] = {}
        self._pending: deque[Task] = deque()
        self.refused_full = 0
        """ADMITs refused with FULL (the request then waits in the host FIFO)."""

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status not in (DystaStatus.OK, DystaStatus.LATE):
            raise ValueError(f"dysta_hw: the scheduler refused {what} with status "
                             f"{DystaStatus(status).name}")

    def _cycles(self, t: int | float) -> int:
        return int(round(t * self._scale)) if self._seconds else int(t)

    def _admit(self, now: int | float, task: Task) -> bool:
        mi, pi = self._ids[task.model.key]
        status, slot, _ = self.scheduler.admit(mi, pi, self._cycles(task.deadline),
                                               self._cycles(task.last_run), self._cycles(now))
        if status == DystaStatus.FULL:
            self.refused_full += 1
            return False
        self._check(status, f"ADMIT of request {task.id}")
        self._slot_of[task.id] = slot
        self._task_of[slot] = task
        return True

    def on_arrival(self, now: int | float, task: Task) -> None:
        if task.model.key not in self._ids:
            raise ValueError(f"dysta_hw: model {task.model.key!r} has no static table")
        if self._pending or not self._admit(now, task):
            self._pending.append(task)

    def on_layer_done(self, now: int | float, task: Task, accelerator: int, nnz: int,
                      total: int) -> None:
        slot = self._slot_of[task.id]
        # the monitor's counters are 32 bits: wider counts (the table backend reports a
        # density as an exact binary fraction, up to 2^53) are scaled down together
        shift = max(0, max(int(total), int(nnz)).bit_length() - DYSTA_COUNT_BITS)
        status, _ = self.scheduler.layer_done(slot, int(nnz) >> shift, int(total) >> shift,
                                              self._cycles(now))
        self._check(status, f"LAYER_DONE of request {task.id}")

    def on_finish(self, now: int | float, task: Task) -> None:
        slot = self._slot_of.pop(task.id, None)
        if slot is None:
            if task in self._pending:
                self._pending.remove(task)
            return
        del self._task_of[slot]
        self._check(self.scheduler.retire(slot), f"RETIRE of request {task.id}")
        while self._pending and self._admit(now, self._pending[0]):
            self._pending.popleft()

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        status, slot, _ = self.scheduler.decide(self._cycles(now))
        if status == DystaStatus.IDLE:
            raise ValueError(f"dysta_hw: the scheduler has no candidate but {len(ready)} "
                             f"task(s) are ready (a task table out of step with the engine)")
        return self._task_of[slot]
