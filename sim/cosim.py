"""Co-simulation hosts: whole workloads with the Dysta scheduler RTL (and optionally the
accelerator RTL) in the loop.

**Scheduler in RTL** (`run_cosim`). The engine (`mmsched.sim.engine.simulate`) runs the
``dysta_hw`` policy as usual, but the policy's scheduler is `RTLScheduler`: every
host/accelerator command (LOAD_LUT, LOAD_ISO, ADMIT, RETIRE, LAYER_DONE, DECIDE) is sent as a
command word to the generated hardware running in an RTL simulator *session*
(`mmsched.sim.rtl.make_session`: Amaranth's simulator, Icarus under cocotb or Verilator
through ctypes), and the policy acts on the RTL's responses. The accelerator stays on its
timing backend (the exact model: time advances in one step per layer); before every timed
command the host sets the scheduler's cycle counter (SET_TIME) so the RTL sees the engine's
time. With ``check=True`` (default) every response is compared with the bit-exact twin fed
the same words: value, status, slot and both cycles must be equal, or `CosimMismatch` names
the command and the cycle.

**Scheduler and accelerator in RTL** (`run_system_cosim`). ONE RTL simulation holds the Dysta
scheduler and the sparse accelerator (`mmsched.hw.system.DystaSystem`, one accelerator;
`mmsched.sim.rtl.make_system_session`). Every session offers the same host primitives:
``issue`` (a scheduler command), ``write`` (a job's memory images), ``job`` (start a tagged
job, wait for its done record, take it or leave it waiting), ``release`` (take the waiting
record, return the response to the system's LAYER_DONE) and ``read`` (output words). The
engine and the ``dysta_hw`` policy run as usual; `SystemHost` is both the policy's scheduler
and the engine's timing backend:

- every host command (LOAD_LUT, LOAD_ISO, ADMIT, RETIRE, DECIDE) goes to the system's host
  port; timed ones are preceded by SET_TIME(now - 1) so the counter reads the engine's ``now``
  when the command is accepted (checked on every response);
- each layer the scheduler picks runs on the RTL accelerator, job by job (the plan of
  `mmsched.hw.spec.plan_jobs`), on the request's own masks (the same seeded masks the exact
  model uses for that sample) and seeded operand values, every job tagged with the slot it
  serves; the results are checked against numpy and the counters against the exact model;
- the layer's last done record is held until the host has set the counter to the layer's end
  time (start + the cycles the RTL's done records report); then the system itself sends the
  scheduler LAYER_DONE(slot, non-zero, total) from the accelerator's monitor sums. The
  response, and the counts the scheduler was sent (the system's ``sent`` port), are checked
  when the engine reports the layer done: the slot, the counts and the time must be the
  engine's, and (``check``) every response must equal the bit-exact twin's.

So the scheduler's decisions depend only on RTL: the monitor counts and the cycle counts the
accelerator RTL produces. The engine's time still advances one layer at a time (the host's
memory loads and reads are not schedule time, as with the exact model).

``cosim-tiny`` (``sched/data/scenarios/cosim-tiny.toml``) is a shipped scenario small enough
for RTL; `estimate_rtl_seconds` is the guard that stops a large scenario from running for
hours.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin, TwinResponse
from mmsched.hw.cyclemodel.host import JobImage
from mmsched.hw.spec import (
    AcceleratorConfig,
    DystaOp,
    DystaStatus,
    SchedulerConfig,
    pack_dysta_cmd,
)

from .rtl import SIMULATORS, HostResponse, make_session, make_system_session
from .rtl._system import job_word
from .rtl.backend import RtlBackend
from .rtl.errors import CosimMismatch, RtlMismatch

log = logging.getLogger(__name__)

__all__ = ["CosimMismatch", "CosimResult", "HeldoutMasks", "LayerEvent", "RTLScheduler",
           "RtlMismatch", "SystemCosimResult", "SystemHost", "estimate_rtl_seconds",
           "replay_vcd", "run_cosim", "run_system_cosim"]

TINY_SCENARIO = "cosim-tiny"
"""The shipped scenario small enough for the accelerator in RTL (``--scenario cosim-tiny``)."""
SYSTEM_SIMULATORS = SIMULATORS
"""Simulators of the integrated system (Amaranth and Icarus: tiny runs only)."""
TINY_SCENARIO = "cosim-tiny"
SET_TIME_TO_EVENT = 2
"""Cycles from a SET_TIME's acceptance to the acceptance of the LAYER_DONE released right
after its response: SET_TIME accepted in cycle a (counter = v in a + 1), its response taken
in a + 1, the done record taken in a + 2, the system's event accepted in a + 3 (counter v + 2).
Checked on every layer (the counter at acceptance must be the engine's time)."""
RTL_SECONDS_PER_CYCLE = {"amaranth": (6e-4, 7.8e-6, 4.4e-5),
                         "icarus": (2e-4, 4e-6, 1.5e-5),
                         "verilator": (6.4e-7, 1e-8, 4e-8)}
"""Rough wall seconds per simulated cycle of the system, ``(base, per PE, per slot)``, for
`estimate_rtl_seconds` (fitted on the 2-core development machine: the Amaranth simulator runs
cosim-tiny at ~1,060 cycles/s with S = 4, ~670 with S = 16 and ~280 with S = 64 (the 8x8
array alone ~2,000 cycles/s); Icarus ~3,300, ~1,700 and ~800 cycles/s with S = 3, 16, 64;
Verilator ~3.8 us per cycle at 16x16 with S = 16)."""
HOST_CYCLES_FACTOR = 2.4
"""Simulated cycles per accelerator cycle: the host's memory writes and output reads come on
top (measured 2.44 on cosim-tiny, 1.77 on a 16x16 array)."""
HOST_SECONDS_PER_LAYER = 3e-3
"""Python work per layer (masks, operands, numpy reference, twin), measured ~2 ms."""


class Session(Protocol):
    """A scheduler session (`mmsched.sim.rtl.make_session`)."""

    name: str

    def issue(self, word: int, gap: int = 0) -> TwinResponse: ...

    def close(self) -> None: ...


# --- the scheduler in RTL: the twin's interface over a session ------------------------------


class RTLScheduler:
    """The twin's functional interface (what the ``dysta_hw`` policy calls), answered by RTL.

    Timed commands (ADMIT, LAYER_DONE, DECIDE) are preceded by SET_TIME(now - 1): SET_TIME
    accepted in cycle c makes the counter now - 1 in cycle c + 1, its response is taken in
    c + 1 and the next command is accepted in c + 2, when the counter reads ``now``.
    """

    def __init__(self, config: SchedulerConfig, session: Session, *, check: bool = True
                 ) -> None:
        self.config = config
        self.session = session
        self.twin = DystaSchedTwin(config) if check else None
        self.words: list[int] = []
        """Every command word sent, in order (to replay a window into a waveform)."""
        self.commands = 0
        self.decisions = 0
        self.cycles = 0
        self._mask = (1 << config.time_bits) - 1

    def _issue(self, word: int) -> TwinResponse:
        r = self.session.issue(word, 0)
        self.words.append(word)
        self.commands += 1
        self.cycles = r.resp_cycle
        if self.twin is not None:
            t = self.twin.issue(word, 0)
            if t != r:
                raise CosimMismatch(
                    f"command {self.commands - 1} (word {word:#x}, accepted in cycle "
                    f"{r.accept_cycle}): RTL {r}, twin {t}")
        return r

    def _timed(self, word: int, now: int) -> TwinResponse:
        self._issue(pack_dysta_cmd(DystaOp.SET_TIME, value=(now - 1) & self._mask))
        return self._issue(word)

    def load_lut(self, model: int, pattern: int, layer: int, remaining: int,
                 density: int) -> int:
        return self._issue(pack_dysta_cmd(DystaOp.LOAD_LUT, model=model, pattern=pattern,
                                          layer=layer, remaining=remaining,
                                          density=density)).status

    def load_iso(self, model: int, pattern: int, weight: int) -> int:
        return self._issue(pack_dysta_cmd(DystaOp.LOAD_ISO, model=model, pattern=pattern,
                                          weight=weight)).status

    def admit(self, model: int, pattern: int, deadline: int, arrival: int, now: int
              ) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.ADMIT, model=model, pattern=pattern,
                                       deadline=deadline & self._mask,
                                       arrival=arrival & self._mask), now)
        return r.status, r.slot, r.value

    def retire(self, slot: int) -> int:
        return self._issue(pack_dysta_cmd(DystaOp.RETIRE, slot=slot)).status

    def layer_done(self, slot: int, nnz: int, total: int, now: int) -> tuple[int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.LAYER_DONE, slot=slot, nnz=nnz, total=total),
                        now)
        return r.status, r.value

    def decide(self, now: int) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.DECIDE), now)
        self.decisions += 1
        if r.status not in (DystaStatus.OK, DystaStatus.IDLE):
            raise CosimMismatch(f"DECIDE answered with status {r.status}")
        return r.status, r.slot, r.value


# --- a whole run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CosimResult:
    """A co-simulated run: the engine's result plus the RTL's command and cycle counts."""

    run: Any
    simulator: str
    commands: int
    decisions: int
    rtl_cycles: int
    wall_s: float
    hw_config: SchedulerConfig
    words: tuple[int, ...]
    run_s: float = float("nan")
    """Wall time of the run alone (without building the RTL and loading the LUTs)."""

    @property
    def decisions_per_s(self) -> float:
        """Decisions per second of the run alone (the simulator already built)."""
        return self.decisions / self.run_s if self.run_s > 0 else float("nan")


def run_cosim(workload, backend, context, *, simulator: str,
              run_dir: str | os.PathLike | None = None,
              policy_overrides: dict[str, Any] | None = None, check: bool = True,
              waves: bool = False, num_accelerators: int = 1) -> CosimResult:
    """Simulate ``workload`` with ``dysta_hw`` whose scheduler is RTL on ``simulator``.

    ``context``: the `PolicyContext` (static tables, clock); ``policy_overrides``: fields of
    ``DystaHW.Config``. Raises `CosimMismatch` when ``check`` and the RTL departs from the
    twin.
    """
    from mmsched.sched.policies.dysta_hw import DystaHW
    from mmsched.sim.engine import simulate

    made: list[RTLScheduler] = []

    def factory(hw: SchedulerConfig) -> RTLScheduler:
        s = RTLScheduler(hw, make_session(simulator, hw, run_dir=run_dir, waves=waves),
                         check=check)
        made.append(s)
        return s

    cfg = DystaHW.Config(**(policy_overrides or {}))
    t0 = time.perf_counter()
    policy = DystaHW(context, cfg, scheduler_factory=factory)
    sched = made[0]
    t1 = time.perf_counter()
    try:
        run = simulate(workload, policy, backend, num_accelerators=num_accelerators)
    finally:
        sched.session.close()
    t2 = time.perf_counter()
    return CosimResult(run=run, simulator=simulator, commands=sched.commands,
                       decisions=sched.decisions, rtl_cycles=sched.cycles, wall_s=t2 - t0,
                       hw_config=policy.hw_config, words=tuple(sched.words), run_s=t2 - t1)


def replay_vcd(config: SchedulerConfig, words, path: str | os.PathLike) -> None:
    """Replay command words (a window of a run, from its start) on the Amaranth simulator
    into a VCD waveform at ``path``."""
    from .rtl.amaranth import AmaranthSession

    s = AmaranthSession(config, vcd_path=str(path))
    try:
        for w in words:
            s.issue(w, 0)
    finally:
        s.close()


# --- scheduler and accelerator in RTL: the integrated system --------------------------------


class HeldoutMasks:
    """The masks the scenario's exact-model backend costs for a request's sample.

    A workload's models are latency-table models (no GEMM shapes): the masks are those of the
    scenario's model of the same key, and request sample ``i`` is profile sample
    ``heldout[i]`` of the scenario's mask source.

    Parameters
    ----------
    inner : mask source (``masks(model, layer_index, sample)``)
    heldout : sequence of int
    models : iterable of Model
        The scenario's models (`Scenario.model_list`).
    """

    def __init__(self, inner, heldout: Sequence[int], models) -> None:
        self.inner, self.heldout = inner, tuple(heldout)
        self.models = {m.key: m for m in models}

    def masks(self, model, layer_index: int, sample: int):
        try:
            real = self.models[model.key]
        except KeyError:
            raise ValueError(f"model {model.key!r} is not one of the scenario's: "
                             f"{', '.join(self.models)}") from None
        return self.inner.masks(real, layer_index, self.heldout[sample])


def estimate_rtl_seconds(workload, backend, accelerator: AcceleratorConfig, simulator: str,
                         *, slots: int) -> tuple[int, float]:
    """(accelerator cycles of every layer of every request, estimated wall seconds of the run
    on ``simulator`` with a task table of ``slots``): the cycles from ``backend`` (the exact
    model), the speed from `RTL_SECONDS_PER_CYCLE`, `HOST_CYCLES_FACTOR` and
    `HOST_SECONDS_PER_LAYER` (a rough figure: it guards against runs of hours, it is not a
    benchmark)."""
    cycles = layers = 0
    for r in workload.requests:
        m = workload.models[r.model]
        layers += len(m.layers)
        cycles += sum(int(backend.layer(0, m, j, r.sample).cycles)
                      for j in range(len(m.layers)))
    base, per_pe, per_slot = RTL_SECONDS_PER_CYCLE[simulator]
    per_cycle = base + per_pe * accelerator.rows * accelerator.cols + per_slot * slots
    return cycles, HOST_CYCLES_FACTOR * cycles * per_cycle + HOST_SECONDS_PER_LAYER * layers


@dataclass(frozen=True)
class LayerEvent:
    """One layer boundary as the scheduler saw it (for tests and reports)."""

    slot: int
    nnz: int
    total: int
    now: int
    gamma: int


class _TaggingDriver:
    """The accelerator side of `SystemHost`: runs a layer's jobs tagged with the running
    slot, the last one with ``last`` (its completion is the layer boundary)."""

    def __init__(self, host: SystemHost) -> None:
        self.host = host

    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]:
        host, s = self.host, self.host.session
        cfg = s.accelerator
        out, cycles = [], 0
        for i, img in enumerate(images):
            last = i == len(images) - 1
            s.write(img)
            host.jobs += 1
            done = s.job(job_word(cfg, host.running_slot, last, img.command), take=not last)
            cycles += done["cycles"]
            if last:
                host.layer_boundary(host.layer_start + cycles)
            out.append((done, s.read([a for a, _, _ in img.out])))
        return out


class SystemHost(RtlBackend):
    """The host of one integrated-system session: the scheduler interface the ``dysta_hw``
    policy drives (the twin's functional methods) and the timing backend the engine asks for
    each layer (``layer``: cycles and monitor counts from the RTL accelerator; results and
    counters checked against numpy and the exact model, see `RtlBackend`).

    The engine must ask for a layer right after the DECIDE that chose it (as it does).

    Parameters
    ----------
    session : AmaranthSystemSession or VerilatorSystemSession
    masks : mask source (the requests' own masks: `HeldoutMasks` of the scenario's source)
    seed : int
        Seeds the operand values per (model key, layer, sample).
    check : bool
        Compare every scheduler response with the bit-exact twin.
    """

    name = "system"

    def __init__(self, session, *, masks, seed: int = 0, check: bool = True) -> None:
        super().__init__("system", system=session.accelerator, masks=masks, seed=seed, check=True)
        self.session = session
        self.config = session.scheduler
        self.twin = DystaSchedTwin(self.config) if check else None
        self._mask = (1 << self.config.time_bits) - 1
        self._driver = _TaggingDriver(self)
        self.running_slot = 0
        self.layer_start = 0
        self._event: LayerEvent | None = None
        self._event_status = 0
        self._armed = False
        self.events: list[LayerEvent] = []
        self.commands = 0
        self.decisions = 0
        self.accel_cycles = 0
        self.jobs = 0
        """Accelerator jobs run (a layer takes one or more)."""
        """Cycles of the layers run (the done records' sum: busy time of the accelerator)."""

    def make_driver(self, cfg: AcceleratorConfig, **options) -> _TaggingDriver:
        return self._driver

    # --- scheduler interface ---------------------------------------------------------------
    def _issue(self, word: int, now: int | None = None) -> HostResponse:
        r = self.session.issue(word)
        self.commands += 1
        if r.op != word & 0x7:
            raise CosimMismatch(f"command {self.commands - 1} ({word:#x}) answered with op "
                                f"{r.op}")
        if now is not None:
            at = (r.now - self.config.latency(r.op, r.status)) & self._mask
            if at != now & self._mask:
                raise CosimMismatch(f"command {self.commands - 1} ({word:#x}) accepted at "
                                    f"counter {at}, the engine's time is {now}")
        return r

    def _timed(self, word: int, now: int) -> HostResponse:
        self._issue(pack_dysta_cmd(DystaOp.SET_TIME, value=(now - 1) & self._mask))
        return self._issue(word, now)

    def _check(self, what: str, rtl: tuple, twin_fn, *args) -> None:
        if self.twin is None:
            return
        ref = twin_fn(*args)
        ref = ref if isinstance(ref, tuple) else (ref,)
        if tuple(int(x) for x in ref) != tuple(int(x) for x in rtl):
            raise CosimMismatch(f"{what} (command {self.commands - 1}, simulation cycle "
                                f"{self.session.cycles}): RTL {rtl}, twin {ref}")

    def load_lut(self, model: int, pattern: int, layer: int, remaining: int,
                 density: int) -> int:
        r = self._issue(pack_dysta_cmd(DystaOp.LOAD_LUT, model=model, pattern=pattern,
                                       layer=layer, remaining=remaining, density=density))
        self._check("LOAD_LUT", (r.status,), getattr(self.twin, "load_lut", None), model,
                    pattern, layer, remaining, density)
        return r.status

    def load_iso(self, model: int, pattern: int, weight: int) -> int:
        r = self._issue(pack_dysta_cmd(DystaOp.LOAD_ISO, model=model, pattern=pattern,
                                       weight=weight))
        self._check("LOAD_ISO", (r.status,), getattr(self.twin, "load_iso", None), model,
                    pattern, weight)
        return r.status

    def admit(self, model: int, pattern: int, deadline: int, arrival: int, now: int
              ) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.ADMIT, model=model, pattern=pattern,
                                       deadline=deadline & self._mask,
                                       arrival=arrival & self._mask), now)
        self._check("ADMIT", (r.status, r.slot, r.value), getattr(self.twin, "admit", None),
                    model, pattern, deadline & self._mask, arrival & self._mask,
                    now & self._mask)
        return r.status, r.slot, r.value

    def retire(self, slot: int) -> int:
        r = self._issue(pack_dysta_cmd(DystaOp.RETIRE, slot=slot))
        self._check("RETIRE", (r.status,), getattr(self.twin, "retire", None), slot)
        return r.status

    def decide(self, now: int) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.DECIDE), now)
        self.decisions += 1
        self._check("DECIDE", (r.status, r.slot, r.value), getattr(self.twin, "decide", None),
                    now & self._mask)
        if r.status not in (DystaStatus.OK, DystaStatus.IDLE):
            raise CosimMismatch(f"DECIDE answered with status {r.status}")
        self.running_slot, self.layer_start = r.slot, now
        self._armed = r.status == DystaStatus.OK
        return r.status, r.slot, r.value

    def layer_boundary(self, end: int) -> None:
        """The last job of the running layer is done (its record waiting): set the counter
        so the system's LAYER_DONE is accepted at ``end``, release the record, keep the
        response for `layer_done`."""
        if self._event is not None:
            raise CosimMismatch("a layer finished before the previous one was reported")
        self._issue(pack_dysta_cmd(DystaOp.SET_TIME,
                                   value=(end - SET_TIME_TO_EVENT) & self._mask))
        r = self.session.release()
        self.commands += 1
        count, slot, nnz, total = r.sent
        at = (r.now - self.config.latency(r.op, r.status)) & self._mask
        if r.op != DystaOp.LAYER_DONE or slot != self.running_slot or at != end & self._mask:
            raise CosimMismatch(f"the system's LAYER_DONE: response {r} (accepted at counter "
                                f"{at}), expected slot {self.running_slot} at {end}")
        self._event = LayerEvent(slot, nnz, total, end, r.value)
        self._event_status = r.status

    def layer_done(self, slot: int, nnz: int, total: int, now: int) -> tuple[int, int]:
        """The engine reports the layer the system already sent: check that the scheduler
        saw this slot, these monitor counts and this time; return its response."""
        ev = self._event
        if ev is None:
            raise CosimMismatch(f"the engine reports a layer of slot {slot} the system did "
                                f"not run")
        self._event = None
        if (ev.slot, ev.nnz, ev.total, ev.now) != (slot, nnz, total, now & self._mask):
            raise CosimMismatch(f"the scheduler saw LAYER_DONE(slot {ev.slot}, nnz {ev.nnz}, "
                                f"total {ev.total}) at {ev.now}; the engine reports slot "
                                f"{slot}, nnz {nnz}, total {total} at {now}")
        self._check("LAYER_DONE", (self._event_status, ev.gamma),
                    getattr(self.twin, "layer_done", None), slot, nnz, total,
                    now & self._mask)
        self.events.append(ev)
        return self._event_status, ev.gamma

    # --- timing backend ----------------------------------------------------------------------
    def layer(self, accelerator: int, model, layer_index: int, sample: int):
        if accelerator != 0:
            raise ValueError(f"the integrated system has one accelerator, not {accelerator + 1}")
        if not self._armed:  # e.g. a dropped request's remaining layers: never run
            raise CosimMismatch(f"layer {layer_index} of {model.key} asked for without a "
                                f"DECIDE that chose it (the system runs only chosen layers)")
        self._armed = False
        t = super().layer(accelerator, model, layer_index, sample)
        self.accel_cycles += int(t.cycles)
        return t


# --- a whole run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemCosimResult:
    """A run with the integrated system: the engine's result, the layer events the scheduler
    saw, the simulation's cycles and wall times."""

    run: Any
    simulator: str
    commands: int
    decisions: int
    sim_cycles: int
    accel_cycles: int
    jobs: int
    events: tuple[LayerEvent, ...]
    hw_config: SchedulerConfig
    wall_s: float
    run_s: float

    @property
    def cycles_per_s(self) -> float:
        """Simulated cycles per wall second of the run alone (the library already built)."""
        return self.sim_cycles / self.run_s if self.run_s > 0 else float("nan")


def run_system_cosim(workload, masks, context, accelerator: AcceleratorConfig, *,
                     simulator: str, policy_overrides: dict[str, Any] | None = None,
                     check: bool = True, seed: int = 0, vcd_path: str | None = None,
                     run_dir: str | os.PathLike | None = None) -> SystemCosimResult:
    """Simulate ``workload`` under ``dysta_hw`` with the scheduler AND the accelerator in one
    RTL simulation of `DystaSystem` on ``simulator``.

    ``masks``: the requests' masks (``masks(model, layer, sample)``, the exact model's);
    ``context``: the `PolicyContext` (static tables, clock); ``policy_overrides``: fields of
    ``DystaHW.Config``; ``seed``: operand values. The workload's clock must be the
    accelerator's (its cycles are the engine's). Raises `CosimMismatch` when the RTL departs
    from the twin or from the engine, `RtlMismatch` when a result or counter departs from
    numpy or the exact model.
    """
    from mmsched.sched.policies.dysta_hw import DystaHW
    from mmsched.sim.engine import simulate

    if simulator not in SYSTEM_SIMULATORS:
        raise ValueError(f"the integrated system runs on {', '.join(SYSTEM_SIMULATORS)}, "
                         f"not {simulator!r}")
    if workload.time_unit != "cycles" or workload.clock_hz != accelerator.clock_hz:
        raise ValueError(f"the workload must be in cycles of the accelerator's clock "
                         f"({accelerator.clock_hz:g} Hz), not {workload.time_unit} at "
                         f"{workload.clock_hz:g} Hz")
    made: list[SystemHost] = []

    def factory(hw: SchedulerConfig) -> SystemHost:
        host = SystemHost(make_system_session(simulator, hw, accelerator, vcd_path=vcd_path,
                                              run_dir=run_dir),
                          masks=masks, seed=seed, check=check)
        made.append(host)
        return host

    cfg = DystaHW.Config(**(policy_overrides or {}))
    t0 = time.perf_counter()
    policy = DystaHW(context, cfg, scheduler_factory=factory)
    host = made[0]
    c1, t1 = host.session.cycles, time.perf_counter()
    try:
        run = simulate(workload, policy, host, keep_layers=True)
        cycles = host.session.cycles
    finally:
        host.session.close()
    t2 = time.perf_counter()
    return SystemCosimResult(run=run, simulator=simulator, commands=host.commands,
                             decisions=host.decisions, sim_cycles=cycles - c1,
                             accel_cycles=host.accel_cycles, jobs=host.jobs,
                             events=tuple(host.events),
                             hw_config=policy.hw_config, wall_s=t2 - t0, run_s=t2 - t1)
