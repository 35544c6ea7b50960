"""Shared machinery of the estimate-based policies (private).

`EstimatePolicy` keeps one `_State` per queued task with the per-task constants a decision
needs, recomputed only at layer boundaries (`on_arrival`, `on_layer_done`), so ``select``
loops over plain slot attributes. The estimates come from the static tables
(``context.tables``): pattern level (``sparse``) or architecture level, scaled by the
task's monitored gamma when the policy uses the monitor.

Several accelerators: when every accelerator has the same static tables (one accelerator,
or identical ones) the tables of accelerator 0 serve every decision, exactly as on one
accelerator (same values, same operations: single-accelerator results are unchanged bit for
bit). When they differ (a heterogeneous system), each state also holds the estimates of
every accelerator, and ``select(now, a, ready)`` first *binds* the ready states to
accelerator ``a`` (their ``rem``, ``lay`` and ``iso`` become ``a``'s, then ``_refresh``), so
a policy's formula reads the estimates of the accelerator it is offered; the numpy columns
below are not used then.

Fast path: the states are also kept in a list in (arrival, id) order. When ``ready`` has as
many tasks as there are states (always, on one accelerator without frame dropping), the two
are the same tasks in the same order and ``select`` iterates the state list directly;
otherwise it looks states up by task id.

Long queues (overload): a policy that names ``_vec_fields`` gets, once the queue reaches
``VEC_ON`` tasks, numpy columns of those state fields in queue order, maintained at every
boundary until the queue drops below ``VEC_OFF``; its ``select`` then scores all tasks with
array operations. The array code performs the same IEEE operations in the same order as the
scalar loop and breaks ties the same way (first in queue order), so both paths give the same
decisions, bit for bit (tested).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from ..gamma import PREDICTORS, check_predictor, observe
from ..policy import Policy, PolicyConfig, PolicyContext, Task, param
from ..static import ModelProfile, suffix_sums_ltr


class _State:
    """Per-task constants between layer boundaries (times in the workload unit)."""

    __slots__ = ("task", "key", "prio", "arrival", "deadline", "last", "j", "rem", "lay",
                 "dens", "iso", "g", "gsum", "gn", "est", "enext", "token", "acct", "true_rem",
                 "acc", "rems", "lays", "true_rems")

    def __init__(self, task: Task, prof: ModelProfile, dens: tuple[float, ...]) -> None:
        self.task = task
        self.key = (task.arrival, task.id)
        self.prio = task.priority
        self.arrival = task.arrival
        self.deadline = task.deadline
        self.last = task.last_run
        self.j = task.next_layer
        self.rem = prof.remaining
        self.lay = prof.layer_latency
        self.dens = dens
        self.iso = prof.remaining[0]  # the artifact's sum(est_lat_queue) at admission
        self.g = 1.0       # gamma (`mmsched.sched.gamma`), updated in on_layer_done
        self.gsum = 0.0
        self.gn = 0
        self.est = 0.0
        self.enext = 0.0
        self.token = -1.0
        self.acct = task.last_run
        self.true_rem: tuple = ()
        self.acc = 0       # the accelerator whose estimates rem/lay/iso hold
        self.rems: tuple = ()   # heterogeneous systems: remaining / layer_latency per accelerator
        self.lays: tuple = ()
        self.true_rems: tuple = ()


@dataclass(frozen=True)
class SparseVariantConfig(PolicyConfig):
    """Config fields of the policies with a ``*_sparse`` variant (sjf, prema, sdrm3)."""

    sparse: bool = False
    """Pattern-level averages and the monitored gamma (the ``*_sparse`` presets)."""
    predictor: str = param("avg", choices=PREDICTORS)
    """Gamma predictor, ``"avg"`` or ``"last-one"`` (used when ``sparse``)."""


class EstimatePolicy(Policy):
    """Base of sjf, prema, planaria, sdrm3, dysta: state bookkeeping and gamma monitoring.

    Subclass hooks: ``_level`` ("pattern" or "arch"), ``_monitor`` (update gamma from the
    hardware monitor), ``_refresh(st)`` (recompute ``st.est`` / ``st.enext`` after a boundary).
    """

    _level = "arch"
    _monitor = False
    _vec_fields: tuple[str, ...] = ()
    _vec_mutable = 0
    """The last ``_vec_mutable`` of ``_vec_fields`` are updated by ``select`` itself (PREMA's
    tokens): while the columns exist they own those values, and hand them back to the states
    when they are dropped."""
    VEC_ON = 48
    """Queue length at which ``select`` switches to numpy columns (policies with
    ``_vec_fields``)."""
    VEC_OFF = 24
    """Queue length below which the columns are dropped again (hysteresis)."""

    def __init__(self, context: PolicyContext, config: PolicyConfig | None = None) -> None:
        super().__init__(context, config)
        if not context.tables:
            raise ValueError(f"policy {type(self).__name__} needs static tables "
                             f"(PolicyContext.tables is empty)")
        self._tables = context.tables[0]
        first = context.tables[0]
        self._multi = any(t is not first and t != first for t in context.tables[1:])
        """Heterogeneous estimates: bind states to the offered accelerator (module docstring)."""
        if isinstance(self.config, SparseVariantConfig):
            self._level = "pattern" if self.config.sparse else "arch"
            self._monitor = self.config.sparse
        self._last_one = check_predictor(getattr(self.config, "predictor", "avg")) == "last-one"
        self._states: dict[int, _State] = {}
        self._order: list[_State] = []
        self._cols: _Columns | None = None
        self._get = (attrgetter(*self._vec_fields) if len(self._vec_fields) > 1
                     and not self._multi else None)

    def _profile(self, key: str, accelerator: int = 0
                 ) -> tuple[ModelProfile, tuple[float, ...]]:
        t = self.context.tables[accelerator] if accelerator else self._tables
        try:
            prof = t.profile(key, self._level)
        except KeyError:
            raise ValueError(f"{type(self).__name__}: no static profile for model {key!r}; "
                             f"profiled: {sorted(t.pattern)}") from None
        # Gamma's reference density is always the key's own (pattern) average.
        return prof, t.pattern[key].layer_density

    def _refresh(self, st: _State) -> None:
        st.est = st.g * st.rem[st.j]

    def _bind(self, st: _State, a: int) -> None:
        """Heterogeneous systems: make ``st`` hold accelerator ``a``'s estimates."""
        st.acc = a
        st.rem = st.rems[a]
        st.lay = st.lays[a]
        st.iso = st.rem[0]
        if st.true_rems:
            st.true_rem = st.true_rems[a]
            st.iso = st.true_rem[0]
        self._refresh(st)

    def on_arrival(self, now: int | float, task: Task) -> None:
        prof, dens = self._profile(task.model.key)
        st = _State(task, prof, dens)
        if self._multi:
            profs = [prof] + [self._profile(task.model.key, a)[0]
                              for a in range(1, len(self.context.tables))]
            st.rems = tuple(p.remaining for p in profs)
            st.lays = tuple(p.layer_latency for p in profs)
        self._admit(st)
        self._refresh(st)
        self._states[task.id] = st
        order = self._order
        if not order or order[-1].key < st.key:
            order.append(st)
            if self._cols is not None:
                self._cols.insert(len(order) - 1, self._get(st))
        else:
            pos = bisect_right(order, st.key, key=lambda s: s.key)
            order.insert(pos, st)
            if self._cols is not None:
                self._cols.insert(pos, self._get(st))

    def _admit(self, st: _State) -> None:
        """Extra per-task set-up at admission (oracle tables)."""

    def on_layer_done(self, now: int | float, task: Task, accelerator: int, nnz: int,
                      total: int) -> None:
        # gamma: `mmsched.sched.gamma.observe` (the arithmetic of `Gamma.update`)
        st = self._states[task.id]
        j = st.j
        if self._monitor:
            observe(st, nnz / total if total else 1.0, st.dens[j], self._last_one)
        j += 1
        st.j = j
        st.last = task.last_run
        if j < len(st.lay):
            self._refresh(st)
            if self._cols is not None:
                self._cols.set(self._order.index(st), self._get(st))

    def on_finish(self, now: int | float, task: Task) -> None:
        st = self._states.pop(task.id, None)
        if st is not None:
            pos = self._order.index(st)
            del self._order[pos]
            if self._cols is not None:
                self._cols.delete(pos)

    def _columns(self, n: int) -> _Columns | None:
        """The numpy columns when the fast path's queue is long enough (built on demand),
        else None. Call only with ``n == len(self._order)``."""
        cols = self._cols
        if cols is None:
            if n >= self.VEC_ON and self._get is not None:
                cols = self._cols = _Columns([self._get(st) for st in self._order],
                                             len(self._vec_fields) - self._vec_mutable)
        elif n < self.VEC_OFF:
            if self._vec_mutable:
                k = len(self._vec_fields)
                for i, name in enumerate(self._vec_fields[k - self._vec_mutable:],
                                         start=k - self._vec_mutable):
                    for st, v in zip(self._order, cols.a[i, :cols.n].tolist(), strict=True):
                        setattr(st, name, v)
            cols = self._cols = None
        return cols

    def _ready_states(self, ready: Sequence[Task], accelerator: int = 0) -> list[_State]:
        """The states of ``ready``, in its order; on a heterogeneous system bound to
        ``accelerator`` first (module docstring)."""
        if self._multi:
            states = [self._states[t.id] for t in ready]
            bind = self._bind
            for st in states:
                if st.acc != accelerator:
                    bind(st, accelerator)
            return states
        if len(ready) == len(self._order):
            return self._order
        states = self._states
        return [states[t.id] for t in ready]


class _Columns:
    """Per-task fields as rows of a float64 matrix ``a[field, position]`` in queue order.
    `set` rewrites only the first ``fixed`` rows (the rest belong to ``select``)."""

    __slots__ = ("a", "fixed", "n")

    def __init__(self, rows: list[tuple], fixed: int) -> None:
        self.fixed = fixed
        self.n = len(rows)
        k = len(rows[0])
        self.a = np.empty((k, max(64, 2 * self.n)))
        self.a[:, :self.n] = np.asarray(rows, dtype=np.float64).T

    def insert(self, pos: int, values: tuple) -> None:
        a, n = self.a, self.n
        if n == a.shape[1]:
            self.a = a = np.concatenate([a, np.empty_like(a)], axis=1)
        if pos < n:
            a[:, pos + 1:n + 1] = a[:, pos:n]
        a[:, pos] = values
        self.n = n + 1

    def set(self, pos: int, values: tuple) -> None:
        f = self.fixed
        self.a[:f, pos] = values[:f]

    def delete(self, pos: int) -> None:
        n = self.n
        if pos < n - 1:
            self.a[:, pos:n - 1] = self.a[:, pos + 1:n]
        self.n = n - 1


def true_suffix_sums(backend, task: Task, seconds: bool, cache: dict,
                     accelerator: int = 0) -> tuple:
    """True remaining latency per layer boundary of one (model, sample) on ``accelerator``,
    from the oracle backend: left-to-right suffix sums in seconds (the artifact's
    ``sum(real_lat_queue)``), exact integer suffix sums in cycles. Cached per (key, sample,
    accelerator)."""
    ck = (task.model.key, task.request.sample) if not accelerator else \
        (task.model.key, task.request.sample, accelerator)
    hit = cache.get(ck)
    if hit is not None:
        return hit
    times = [backend.layer(accelerator, task.model, j, task.request.sample).cycles
             for j in range(task.num_layers)]
    if seconds:
        out = suffix_sums_ltr(times)
    else:
        acc, rev = 0, [0]
        for c in reversed(times):
            acc += c
            rev.append(acc)
        out = tuple(reversed(rev))
    cache[ck] = out
    return out


def artifact_running_max(items, scores):
    """The Dysta artifact's arg-max (docs/artifact-compat.md, defect 5;
    `CompatFlags.running_max_minus_one`).

    The running maximum starts at -1 and is replaced while it is negative, so among items
    with negative scores the last in order wins; equal scores keep the earlier arrival.
    ``items`` (tasks or policy states, in arrival order) and ``scores`` are iterated together;
    NaN scores are never taken once the maximum is >= 0, as in the artifact.
    """
    best = None
    mx = -1
    for it, score in zip(items, scores):  # noqa: B905 (equal lengths by construction)
        if mx < 0 or mx <= score:
            if mx == score and best is not None and best.arrival < it.arrival:
                continue
            best = it
            mx = score
    return best


def artifact_running_max_index(score: np.ndarray) -> int | None:
    """`artifact_running_max` over a score column (queue order): the index it picks, or None
    when a score is NaN (whose running-maximum semantics only the scalar loop reproduces).
    Every task replaces the maximum while it is negative, then the first maximum of the rest
    wins (ties keep the earlier arrival)."""
    if np.isnan(score).any():
        return None
    nonneg = score >= 0
    if not nonneg.any():
        return len(score) - 1
    i0 = int(nonneg.argmax())
    return i0 + int(score[i0:].argmax())


def ieee_div(a: float, b: float) -> float:
    """``a / b`` with IEEE-754 results for ``b == 0`` (inf, -inf or nan), as numpy float64
    arithmetic gives in the Dysta artifact (Python floats raise instead)."""
    if b:
        return a / b
    if a == 0 or a != a:
        return float("nan")
    neg = (a < 0) != (math.copysign(1.0, b) < 0)
    return float("-inf") if neg else float("inf")
