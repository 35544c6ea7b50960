"""DREAM: MapScore scheduling of real-time multi-model work on several accelerators.

Kim, Kwon, Song, Jo, Chen, Lai, Chandra, "SDRM3: A Dynamic Scheduler for Dynamic Real-time
Multi-model ML Workloads", arXiv 2212.03414 v1 (2022), renamed "DREAM: A Dynamic Scheduler for
Dynamic Real-time Multi-model ML Workloads" in v2 (ASPLOS'23, doi 10.1145/3623278.3624753).
The papers' public abstracts fix the mechanisms (a score per (job, accelerator) pair from
urgency, fairness and the layer's preference for the accelerator; frame dropping; online
tuning of the score weights by a gradient-descent-like rule converging in about five steps;
Supernet sub-network switching under load); the formulas below are this project's
definitions of them (docs/realtime.md, "DREAM"), each a `DREAM.Config` field.

At every decision a free accelerator ``a`` is offered and every ready job ``i`` is scored

    MapScore(i, a) = a_u * urgency + a_f * fairness + a_p * preference

- urgency = ``R_a / (D - t)`` clamped to [0, 1], 1 when ``D <= t``; ``R_a``: the job's
  estimated remaining latency if it ran to the end on ``a`` (static per-layer means of
  ``context.tables[a]``, plus the transfer of the next layer's input when ``a`` is not the
  accelerator of its last layer and ``context.transfer`` is set);
- fairness = ``(t - last_run) / Iso``: waiting since its last layer (or its arrival) over its
  estimated isolated latency on the best path (per layer, the fastest accelerator's mean);
- preference = ``min_b L_b / L_a``: the best latency of its next layer over all accelerators
  over its latency on ``a`` (in (0, 1]); ``L`` includes the transfer as in urgency.

Assignment: when several accelerators are free at one instant (the engine offers them in index
order), the (job, accelerator) pairs of those accelerators are assigned greedily, the highest
MapScore first, then the next among the remaining jobs and accelerators, and so on; the offered
accelerator gets its pair. So a job that strongly prefers another accelerator goes there if
that accelerator is free now, and this one takes the best of the other jobs.

Waiting (``wait``, ours: the papers describe no look-ahead): a job does not take an offered
accelerator when its next layer would end sooner on a busy one, after the layer running there
(its estimated end plus the job's next-layer latency on it, transfers included); it waits. An
accelerator is left idle only when every ready job waits or was assigned to another
accelerator free at the same instant. Without it (``wait=off``) jobs on a system of unlike
arrays run many layers on the array that is slow for them, and the frames end late.

Frame drop (``drop``): a queued frame is dropped when ``t > D``, or when it cannot finish by
``D`` even if it ran now, alone, each remaining layer on its fastest accelerator
(``t + R > D``, ``R = sum_j min_a L_a(j)`` without transfers: a lower bound; ``R`` times
``drop_margin``, 1 by default). With ``drop_rule="stretch"`` (the default; ``"bound"``: the
bound alone) it is also dropped when it would miss at the speed its model's frames got
lately: ``t + s_m x R > D``, where the stretch ``s_m`` of the requested model ``m`` is an
exponential moving average (weight ``stretch_alpha`` of the newest) over its delivered frames
of (finish - start) / ``R`` at the start, and each drop by this rule multiplies
``s_m - 1`` by ``stretch_decay`` so that a model whose frames are all dropped has one run
and measured again after a while. A frame that would be late costs one miss, plus its
energy and the time it takes from the other frames; dropped, it costs one drop and nothing
else, so it is dropped once it is expected to be late, not only once it is sure to be
(measured: docs/realtime.md, "DREAM"). The engine drops the frames that depend on it. A
frame that has started (run at least one layer) is kept and finished, late if need be, unless
``drop_started`` (then either rule drops it): the energy it has spent stays in UXCost's
``E`` whether it is dropped or not, while only a delivered frame adds its least energy to
``E_ref``, so dropping it mid-way wastes that energy (measured: docs/realtime.md).

Online tuning (``tuner``): every ``window`` closed frames (finished or dropped) the window's
UXCost is ``(E / E_ref) x (1 + miss_rate + drop_rate)`` with ``E`` the frames' energy (layers
and transfers, `Task.energy_pj`) and ``E_ref`` the sum over the delivered ones of the
requested model's per-layer least mean energy over accelerators (`ModelProfile.layer_energy`),
as the run's UXCost (`mmsched.sched.metrics.uxcost`; a window with every frame dropped costs
infinity). Coordinate
descent (`WeightTuner`): one weight is perturbed by ``step``; the step is kept if the next
window's UXCost is lower than the reference window's by more than ``tolerance`` (1 %; so
that window-to-window noise does not walk the weights), and the same weight then steps on in
the same direction; otherwise it is undone, that weight's direction reversed, the next weight in
the rotation u -> f -> p taken, and the next window re-measures the reference; the weights
stay in [``0``, ``weight_max``]. Without energy figures (Dysta CSVs,
synthetic tables: ``E_ref == 0``) the window cost is the deadline factor ``1 + miss + drop``
alone, so tuning still trades urgency against fairness, just blind to energy.

Supernet (``supernet``): a model with sub-networks (`Model.variants`, largest first) runs
as the requested model unless the system is loaded. The load is the estimated work of the last
``window`` arrivals (requested models, best path) over the accelerators' time since the oldest
of them; above ``load_high`` (0.9) a frame runs as the largest of the model and its variants
that meets its deadline in two senses: its estimated response (the current backlog, the
best-path remaining work of the jobs in flight shared over the accelerators, plus its own
best-path latency) ends by the deadline, and the load projected with this model's frames run as
that variant (its share of the load scaled by the variant's latency ratio) is at most
``load_high``, so the frames after it can meet theirs too; the smallest if none does. Below
``load_low`` (0.7) frames return to the requested model. (Without the second condition, frame
dropping keeps the backlog short enough that the full model always "fits" and overload
turns into drops instead of smaller sub-networks.)

``dream_sparse`` (``sparse=True``; beyond both papers): the remaining-latency and next-layer
estimates use the model key's (pattern's) means scaled by the monitored activation-sparsity
ratio gamma (`mmsched.sched.gamma`), as ``dysta`` and ``sjf_sparse`` do; ``dream`` uses the
architecture means.

Deviations (ours, as the papers' formulas are not public in the material we read): the
initial weights (1, 1, 1), the step (0.5) and the reference window after a rejected step are
our choices; the load and backlog estimates of the Supernet are ours; the drop rules use mean
latencies (a frame whose true layers would be faster than their means may be dropped), and
the stretch is ours.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from ..gamma import PREDICTORS, check_predictor, observe
from ..metrics import estimated_reference_energy_pj
from ..policy import Policy, PolicyConfig, PolicyContext, Task, param, register

_W = ("a_u", "a_f", "a_p")
_WAIT = -math.inf
"""The score of a (job, accelerator) pair whose job waits for a busy accelerator."""


class WeightTuner:
    """Coordinate descent on the MapScore weights (module docstring, "Online tuning").

    `update` takes the cost of the window that just ended and returns the weights for the
    next one. Deterministic; no randomness.
    """

    __slots__ = ("dirs", "hi", "k", "ref", "step", "tolerance", "trial", "w")

    def __init__(self, weights: Sequence[float], step: float, hi: float = 4.0,
                 tolerance: float = 0.0) -> None:
        self.w = [min(max(float(x), 0.0), hi) for x in weights]
        self.step = float(step)
        self.hi = float(hi)
        self.tolerance = float(tolerance)
        self.k = 0                 # the weight the next trial perturbs
        self.dirs = [1.0] * len(self.w)
        self.ref: float | None = None   # cost of the accepted weights
        self.trial: tuple[int, float] | None = None   # (weight index, its value before)

    def update(self, cost: float) -> tuple[float, ...]:
        if self.trial is not None:
            k, old = self.trial
            self.trial = None
            if self.ref is not None and cost < self.ref * (1.0 - self.tolerance):
                self.ref = cost            # keep the step; the same weight steps on
            else:
                self.w[k] = old            # undo it, try the other way next time
                self.dirs[k] = -self.dirs[k]
                self.k = (k + 1) % len(self.w)   # and move on to the next weight
                self.ref = None            # the next window re-measures the reference
                return tuple(self.w)
        else:
            self.ref = cost
        self._start_trial()
        return tuple(self.w)

    @property
    def accepted(self) -> tuple[float, ...]:
        """The weights without the step under trial."""
        w = list(self.w)
        if self.trial is not None:
            w[self.trial[0]] = self.trial[1]
        return tuple(w)

    def _start_trial(self) -> None:
        k = self.k
        old = self.w[k]
        new = min(max(old + self.dirs[k] * self.step, 0.0), self.hi)
        if new == old:                     # at a bound: go the other way
            self.dirs[k] = -self.dirs[k]
            new = min(max(old + self.dirs[k] * self.step, 0.0), self.hi)
        self.w[k] = new
        self.trial = (k, old)


class _Job:
    """Per-job constants between layer boundaries (times in the workload unit)."""

    __slots__ = ("best_rem", "deadline", "dens", "drop_at", "flat", "g", "gn", "gsum",
                 "inv_iso", "j", "last", "lats", "nxt", "pref", "rems", "remv", "task", "terms",
                 "xfer")

    def __init__(self, task: Task, prof: tuple) -> None:
        self.task = task
        self.deadline = task.deadline
        self.last = task.last_run
        self.j = task.next_layer
        self.lats, self.rems, self.best_rem, self.xfer, self.dens, iso, self.terms = prof
        self.inv_iso = 1.0 / iso if iso > 0 else 0.0
        self.g = 1.0
        self.gsum = 0.0
        self.gn = 0
        self.remv: tuple = ()
        self.pref: tuple = ()
        self.nxt: tuple = ()
        self.flat = True
        self.drop_at = task.deadline


@register("dream")
class DREAM(Policy):
    """Max ``a_u * urgency + a_f * fairness + a_p * preference`` over (job, accelerator)."""

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        a_u: float = param(1.0, lo=0)
        """Initial weight of urgency."""
        a_f: float = param(1.0, lo=0)
        """Initial weight of fairness."""
        a_p: float = param(1.0, lo=0)
        """Initial weight of preference."""
        tuner: bool = True
        """Online tuning of the weights from the windows' UXCost."""
        window: int = param(30, lo=2)
        """Closed frames per tuning window; arrivals per load window (Supernet)."""
        step: float = param(0.5, lo=0, lo_open=True)
        """The tuner's bounded step."""
        tolerance: float = param(0.01, lo=0, hi=1, hi_open=True)
        """A step is kept only if the window's UXCost fell by more than this fraction of
        the reference's (window-to-window noise must not walk the weights)."""
        weight_max: float = param(4.0, lo=0, lo_open=True)
        """Weights stay in [0, weight_max]."""
        drop: bool = True
        """Drop frames that cannot meet their deadline."""
        drop_started: bool = False
        """Drop frames that have already run layers too (``drop``); by default they finish."""
        drop_rule: str = param("stretch", choices=("bound", "stretch"))
        """``"bound"``: drop a queued frame when ``t + R > D`` (``R``: its best-path remaining
        latency); ``"stretch"``: also when ``t + s_m x R > D``, ``s_m`` its model's observed
        stretch (module docstring, "Frame drop")."""
        drop_margin: float = param(1.0, lo=0)
        """Scales ``R`` in the drop rules (1: the best-path bound; below 1 drops later, above
        1 sooner)."""
        stretch_alpha: float = param(0.3, lo=0, hi=1, lo_open=True)
        """``stretch``: the weight of a model's newest delivered frame in its stretch (an
        exponential moving average)."""
        stretch_decay: float = param(0.9, lo=0, hi=1)
        """``stretch``: each drop by the stretch multiplies the model's stretch excess
        ``s_m - 1`` by this, so that a model whose frames are all dropped gets a frame run
        again (and measured) after a while."""
        supernet: bool = True
        """Run frames as smaller sub-networks under load (models with variants)."""
        load_high: float = param(0.9, lo=0)
        """Load above which frames run as sub-networks."""
        load_low: float = param(0.7, lo=0)
        """Load below which frames return to the requested model."""
        wait: bool = True
        """A job waits for a busy accelerator on which its next layer would end sooner than
        on the one offered (the busy one's estimated free time plus the layer's latency
        there, transfers included), instead of taking the offered one."""
        transfer: bool = True
        """Count the transfer of a layer's input in its latency on another accelerator
        (when ``context.transfer`` is set)."""
        sparse: bool = False
        """``dream_sparse``: pattern means scaled by the monitored gamma."""
        predictor: str = param("avg", choices=PREDICTORS)
        """Gamma predictor (``sparse``): ``"avg"`` or ``"last-one"``."""

    def __init__(self, context: PolicyContext, config: PolicyConfig | None = None) -> None:
        super().__init__(context, config)
        c = self.config
        if not context.tables:
            raise ValueError("dream needs static tables (PolicyContext.tables is empty)")
        if len(context.tables) != context.num_accelerators:
            raise ValueError(f"dream needs one static table per accelerator: "
                             f"{len(context.tables)} for {context.num_accelerators}")
        for name in _W:
            v = getattr(c, name)
            if not 0 <= v <= c.weight_max:
                raise ValueError(f"dream {name} must be in [0, {c.weight_max}], not {v!r}")
        if not c.load_low <= c.load_high:
            raise ValueError(f"dream needs 0 <= load_low <= load_high, not {c.load_low!r}, "
                             f"{c.load_high!r}")
        self._last_one = check_predictor(c.predictor) == "last-one"
        self._level = "pattern" if c.sparse else "arch"
        self._n = context.num_accelerators
        self._xfer = context.transfer if c.transfer else None
        self._w = (float(c.a_u), float(c.a_f), float(c.a_p))
        self._margin = float(c.drop_margin)
        self._track = c.drop_rule == "stretch"
        self._tuner = (WeightTuner(self._w, c.step, c.weight_max, c.tolerance) if c.tuner
                       else None)
        self._spu = 1.0 if context.time_unit == "seconds" else 1.0 / context.clock_hz
        self._trace: list[dict] = [{"time_s": 0.0, "a_u": self._w[0], "a_f": self._w[1],
                                    "a_p": self._w[2], "window_uxcost": math.nan}]
        self._jobs: dict[int, _Job] = {}
        self._busy = [False] * self._n
        self._free_at = [0.0] * self._n
        """Estimated end of the layer each busy accelerator runs (``wait``)."""
        self._restricted = any(c.layer_kinds for c in context.system)
        """Some accelerator runs only some layer kinds: the engine then offers each
        accelerator only the jobs it can run, so jobs are picked per offered accelerator
        (no joint assignment over the accelerators free at one instant)."""
        self._prof: dict[str, tuple] = {}
        self._eref: dict[str, float] = {}
        self._version = 0
        self._plan: dict[int, Task | None] | None = None
        self._plan_key: tuple = ()
        # tuning window
        self._win_n = 0
        self._win_late = 0
        self._win_drop = 0
        self._win_e = 0.0
        self._win_ref = 0.0      # E_ref of the window's delivered frames
        self._win_ref_all = 0.0  # and of all its frames (0: no energy figures)
        # Supernet load window: (arrival, estimated best-path work) of the last arrivals
        self._arrivals: deque = deque(maxlen=c.window)
        self._high = False
        self._load = 0.0
        self._load_of: dict[str, float] = {}
        self._stretch: dict[str, float] = {}
        """drop_rule "stretch": per requested model, its stretch."""

    # --- estimates ---------------------------------------------------------------------------

    def _profile(self, key: str) -> tuple:
        """Per-model constants: per-accelerator layer latencies and suffix sums, best-path
        suffix sums, per-layer transfer cycles per accelerator, densities, best-path
        isolated latency (cached per key)."""
        hit = self._prof.get(key)
        if hit is not None:
            return hit
        lats, rems = [], []
        for a, t in enumerate(self.context.tables):
            try:
                p = t.profile(key, self._level)
            except KeyError:
                raise ValueError(f"dream: no static profile for model {key!r} on accelerator "
                                 f"{a}; profiled: {sorted(t.pattern)}") from None
            lats.append(p.layer_latency)
            rems.append(p.remaining)
        nl = len(lats[0])
        best = [min(la[j] for la in lats) for j in range(nl)]
        best_rem = [0.0] * (nl + 1)
        acc = 0.0
        for j in range(nl - 1, -1, -1):
            acc += best[j]
            best_rem[j] = acc
        dens = self.context.tables[0].pattern[key].layer_density
        out = (tuple(lats), tuple(rems), tuple(best_rem), None, dens, best_rem[0], {})
        self._prof[key] = out
        return out

    def _job_profile(self, model) -> tuple:
        """`_profile` of ``model.key`` with the per-layer transfer cycles to each accelerator
        (needs the layers' shapes: from the task's model)."""
        key = "\0xfer:" + model.key
        hit = self._prof.get(key)
        if hit is None:
            hit = self._profile(model.key)
            if self._xfer is not None and self._n > 1:
                cost = self._xfer.cost
                xfer = tuple(tuple(cost(layer, a)[0] for a in range(self._n))
                             for layer in model.layers)
                if any(any(x) for x in xfer):
                    hit = hit[:3] + (xfer,) + hit[4:6] + ({},)
            self._prof[key] = hit
        return hit

    def _energy_ref(self, key: str) -> float:
        """Sum over layers of the least mean energy over accelerators (pJ; 0 if unknown:
        `mmsched.sched.metrics.estimated_reference_energy_pj`)."""
        hit = self._eref.get(key)
        if hit is None:
            try:
                hit = estimated_reference_energy_pj(self.context.tables, key)
            except ValueError:
                hit = 0.0
            self._eref[key] = hit
        return hit

    def _refresh(self, jb: _Job) -> None:
        """Recompute the job's per-accelerator terms after a boundary (cached per model
        key, layer and last accelerator while gamma is 1: they depend on nothing else)."""
        j = jb.j
        g = jb.g
        last = jb.task.last_acc
        if g == 1.0:
            ck = (j, last)
            hit = jb.terms.get(ck)
            if hit is None:
                hit = jb.terms[ck] = self._terms(jb, j, 1.0, last)
            jb.remv, jb.pref, jb.flat, jb.nxt = hit
            jb.drop_at = jb.deadline - self._margin * jb.best_rem[j]
        else:
            jb.remv, jb.pref, jb.flat, jb.nxt = self._terms(jb, j, g, last)
            jb.drop_at = jb.deadline - self._margin * g * jb.best_rem[j]

    def _terms(self, jb: _Job, j: int, g: float, last: int) -> tuple[tuple, tuple, bool, tuple]:
        """``(remv, pref, flat, nxt)``: per accelerator the remaining latency, the preference
        and the next layer's latency (transfer included); ``flat``: remaining latency and
        preference the same on every accelerator (the job is indifferent)."""
        n = self._n
        x = jb.xfer[j] if jb.xfer is not None and last != -1 else None
        nxt = [0.0] * n
        remv = [0.0] * n
        for a in range(n):
            xa = x[a] if x is not None and a != last else 0
            nxt[a] = g * jb.lats[a][j] + xa
            remv[a] = g * jb.rems[a][j] + xa
        if self._restricted:  # the best over the accelerators that run this layer's kind
            kind = jb.task.model.layers[j].kind
            best = min(nxt[a] for a in range(n) if self.context.system[a].runs(kind))
        else:
            best = min(nxt)
        pref = tuple(best / v if v > 0 else 1.0 for v in nxt)
        flat = all(v == remv[0] for v in remv) and all(p == pref[0] for p in pref)
        return tuple(remv), pref, flat, tuple(nxt)

    # --- engine hooks ------------------------------------------------------------------------

    def variant(self, now: int | float, task: Task) -> str | None:
        if not self.config.supernet or not task.model.variants:
            return None
        self._update_load(now)
        if not self._high:
            return None
        backlog = 0.0
        for jb in self._jobs.values():
            backlog += jb.g * jb.best_rem[jb.j]
        backlog /= self._n
        keys = (task.model.key,) + tuple(task.model.variants)
        full = self._profile(keys[0])[5]
        mine = self._load_of.get(keys[0], 0.0)
        for key in keys:
            iso = self._profile(key)[5]
            # the load if this model's frames ran as `key`, and the frame's response
            projected = self._load - mine * (1.0 - iso / full) if full > 0 else 0.0
            if projected <= self.config.load_high and now + backlog + iso <= task.deadline:
                return None if key == keys[0] else key
        return keys[-1]

    def _update_load(self, now: int | float) -> None:
        arr = self._arrivals
        if len(arr) < arr.maxlen:
            return
        span = now - arr[0][0]
        if span <= 0:
            return
        per: dict[str, float] = {}
        for i, (_, w, key) in enumerate(arr):
            if i:
                per[key] = per.get(key, 0.0) + w
        scale = 1.0 / (self._n * span)
        self._load_of = {k: w * scale for k, w in per.items()}
        self._load = load = sum(per.values()) * scale
        if self._high and load < self.config.load_low:
            self._high = False
        elif not self._high and load > self.config.load_high:
            self._high = True

    def on_arrival(self, now: int | float, task: Task) -> None:
        self._version += 1
        if self.config.supernet:
            self._arrivals.append((now, self._profile(task.request.model)[5],
                                   task.request.model))
        jb = _Job(task, self._job_profile(task.model))
        self._refresh(jb)
        self._jobs[task.id] = jb

    def on_layer_done(self, now: int | float, task: Task, accelerator: int, nnz: int,
                      total: int) -> None:
        self._version += 1
        self._busy[accelerator] = False
        jb = self._jobs.get(task.id)
        if jb is None:
            return
        j = jb.j
        if self.config.sparse:
            observe(jb, nnz / total if total else 1.0, jb.dens[j], self._last_one)
        jb.j = j + 1
        jb.last = task.last_run
        if jb.j < task.num_layers:
            self._refresh(jb)

    def on_finish(self, now: int | float, task: Task) -> None:
        self._version += 1
        jb = self._jobs.pop(task.id, None)
        if self._track and jb is not None and not task.dropped and task.start is not None:
            est = jb.best_rem[0]  # the best-path estimate at its start (gamma still 1 there)
            if est > 0:
                r = (now - task.start) / est   # its start-to-finish time over the estimate
                key = task.request.model
                old = self._stretch.get(key)
                a = self.config.stretch_alpha
                self._stretch[key] = r if old is None else (1 - a) * old + a * r
        if self._tuner is None:
            return
        self._win_n += 1
        if task.dropped:
            self._win_drop += 1
        elif task.finish > task.deadline:
            self._win_late += 1
        self._win_e += task.energy_pj
        ref = self._energy_ref(task.request.model)
        self._win_ref_all += ref
        if not task.dropped:
            self._win_ref += ref
        if self._win_n >= self.config.window:
            n = self._win_n
            factor = 1.0 + (self._win_late + self._win_drop) / n
            if self._win_ref_all == 0:  # no energy figures: the deadline factor alone
                cost = factor
            else:  # the run's UXCost definition; every frame dropped: the worst
                cost = (self._win_e / self._win_ref * factor if self._win_ref > 0
                        else math.inf)
            self._w = self._tuner.update(cost)
            self._trace.append({"time_s": now * self._spu, "a_u": self._w[0],
                                "a_f": self._w[1], "a_p": self._w[2], "window_uxcost": cost})
            self._win_n = self._win_late = self._win_drop = 0
            self._win_e = self._win_ref = self._win_ref_all = 0.0

    def should_drop(self, now: int | float, task: Task) -> bool:
        if not self.config.drop:
            return False
        jb = self._jobs.get(task.id)
        if jb is None:
            return now > task.deadline
        if jb.j > 0 and not self.config.drop_started:
            return False
        if now > jb.drop_at:
            return True
        if self._track:
            key = task.request.model
            sm = self._stretch.get(key, 1.0)
            if sm > 1.0 and now + sm * (jb.deadline - jb.drop_at) > jb.deadline:
                self._stretch[key] = 1.0 + (sm - 1.0) * self.config.stretch_decay
                return True
        return False

    def trace(self) -> list[dict]:
        """The weights over time (`Policy.trace`): one row at time 0 and one per tuning
        window (``time_s``, ``a_u``, ``a_f``, ``a_p``, and the window's ``window_uxcost``,
        NaN in the first row)."""
        return [dict(r) for r in self._trace]

    def terms(self, now: int | float, task: Task, accelerator: int) -> tuple[float, ...]:
        """``(urgency, fairness, preference, MapScore)`` of a queued ``task`` on
        ``accelerator`` at ``now`` with the current weights (for inspection and tests)."""
        jb = self._jobs[task.id]
        slack = jb.deadline - now
        u = min(1.0, jb.remv[accelerator] / slack) if slack > 0 else 1.0
        f = (now - jb.last) * jb.inv_iso
        p = jb.pref[accelerator]
        au, af, ap = self._w
        return u, f, p, au * u + af * f + ap * p

    @property
    def weights(self) -> tuple[float, float, float]:
        """The current (a_u, a_f, a_p)."""
        return self._w

    # --- decisions ---------------------------------------------------------------------------

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        busy = self._busy
        n = self._n
        plan = self._plan
        if self._restricted:
            task = self._best(now, accelerator, ready)
        elif plan is not None and accelerator in plan and \
                self._plan_key == (now, self._version):
            task = plan.pop(accelerator)   # a pair assigned earlier at this instant
        else:
            free = [a for a in range(accelerator + 1, n) if not busy[a]] if n > 1 else ()
            if not free:
                task = self._best(now, accelerator, ready)
            elif len(ready) == 1:   # one job: to its best free accelerator
                task = ready[0]
                a = self._best_acc(now, task, accelerator, free)
                if self._waits(now, self._jobs[task.id], a):
                    task = None
                elif a != accelerator:
                    self._plan = {a: task}
                    self._plan_key = (now, self._version)
                    task = None
            else:
                plan = self._plan = self._assign(now, [accelerator, *free], ready)
                self._plan_key = (now, self._version)
                task = plan.pop(accelerator)
        if task is not None:
            busy[accelerator] = True
            self._free_at[accelerator] = now + self._jobs[task.id].nxt[accelerator]
        return task

    def _best(self, now, a: int, ready: Sequence[Task]) -> Task | None:
        """The ready job with the highest MapScore on ``a`` (ties: the earlier job); None
        when every ready job waits for a busy accelerator (``wait``)."""
        # `_scores` for one accelerator, inline: this runs at every decision
        au, af, ap = self._w
        jobs = self._jobs
        check = self.config.wait and not self._restricted and any(self._busy)
        best = None
        bv = _WAIT
        for t in ready:
            jb = jobs[t.id]
            if check and not jb.flat and self._waits(now, jb, a):
                continue   # scored _WAIT: never chosen
            slack = jb.deadline - now
            if slack > 0:
                u = jb.remv[a] / slack
                if u > 1.0:
                    u = 1.0
            else:
                u = 1.0
            v = au * u + af * (now - jb.last) * jb.inv_iso + ap * jb.pref[a]
            if v > bv:
                bv = v
                best = t
        return best

    def _waits(self, now, jb: _Job, a: int) -> bool:
        """Whether ``jb``'s next layer would end sooner on a busy accelerator, after the
        layer running there, than on ``a`` now (``wait``)."""
        if not self.config.wait or jb.flat or self._restricted:
            return False
        nxt = jb.nxt
        end = now + nxt[a]
        busy, free_at = self._busy, self._free_at
        for b in range(self._n):
            if busy[b] and (free_at[b] if free_at[b] > now else now) + nxt[b] < end:
                return True
        return False

    def _best_acc(self, now, task: Task, first: int, others: list[int]) -> int:
        """The free accelerator where ``task`` scores highest (ties: lower index; fairness
        is the same on every accelerator, so it is left out)."""
        jb = self._jobs[task.id]
        if jb.flat:
            return first
        au, _, ap = self._w
        remv, pref = jb.remv, jb.pref
        slack = jb.deadline - now
        best = first
        if slack > 0:
            u = remv[first] / slack
            bv = au * (u if u < 1.0 else 1.0) + ap * pref[first]
            for a in others:
                u = remv[a] / slack
                v = au * (u if u < 1.0 else 1.0) + ap * pref[a]
                if v > bv:
                    best, bv = a, v
        else:
            bv = pref[first]
            for a in others:
                if pref[a] > bv:
                    best, bv = a, pref[a]
        return best

    def _scores(self, now, accs: Sequence[int], ready: Sequence[Task]) -> list[list[float]]:
        """MapScore of every ready job (rows) on every accelerator of ``accs`` (columns);
        ``_WAIT`` where the job waits for a busy accelerator instead (`_waits`)."""
        au, af, ap = self._w
        jobs = self._jobs
        check = self.config.wait and not self._restricted and any(self._busy)
        scores = []
        for t in ready:
            jb = jobs[t.id]
            slack = jb.deadline - now
            fair = af * (now - jb.last) * jb.inv_iso
            row = []
            for a in accs:
                if slack > 0:
                    u = jb.remv[a] / slack
                    if u > 1.0:
                        u = 1.0
                else:
                    u = 1.0
                row.append(au * u + fair + ap * jb.pref[a])
            if check and not jb.flat:
                for k, a in enumerate(accs):
                    if self._waits(now, jb, a):
                        row[k] = _WAIT
            scores.append(row)
        return scores

    def _assign(self, now, accs: list[int], ready: Sequence[Task]) -> dict[int, Task | None]:
        """Greedy (job, accelerator) assignment over the free accelerators ``accs``
        (module docstring): the best pair first; ties go to the earlier job, then the lower
        accelerator index."""
        scores = self._scores(now, accs, ready)
        plan: dict[int, Task | None] = {a: None for a in accs}
        left_jobs = list(range(len(ready)))
        left_accs = list(range(len(accs)))
        while left_jobs and left_accs:
            bi = bk = -1
            bv = 0.0
            for i in left_jobs:
                row = scores[i]
                for k in left_accs:
                    if bi < 0 or row[k] > bv:
                        bv, bi, bk = row[k], i, k
            if bv == _WAIT:
                break
            plan[accs[bk]] = ready[bi]
            left_jobs.remove(bi)
            left_accs.remove(bk)
        return plan


register("dream_sparse", sparse=True)(DREAM)
