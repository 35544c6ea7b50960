"""`DystaSystem`: the Dysta hardware scheduler next to one or more sparse accelerators."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import (
    COUNTER_WIDTH,
    DYSTA_COUNT_BITS,
    DYSTA_SLOT_ID_BITS,
    AcceleratorConfig,
    DystaOp,
    SchedulerConfig,
    act_write_fields,
    wt_write_fields,
)

from .accel import Accelerator
from .accel.layouts import (
    act_word_layout,
    command_layout,
    done_layout,
    out_word_layout,
    wt_word_layout,
)
from .dysta import DystaScheduler
from .dysta.layouts import cmd_layout, resp_layout


def job_layout(cfg: AcceleratorConfig) -> data.StructLayout:
    """A tagged accelerator job: the scheduler ``slot`` it serves, ``last`` (the layer's last
    job: its completion is the layer boundary) and the accelerator's own command."""
    return data.StructLayout({"slot": DYSTA_SLOT_ID_BITS, "last": 1,
                              "job": command_layout(cfg)})


def event_layout() -> data.StructLayout:
    """The last LAYER_DONE the system sent the scheduler: ``count`` (how many so far, modulo
    2^16), ``slot`` and the monitor sums ``nnz``, ``total`` it carried."""
    return data.StructLayout({"count": 16, "slot": DYSTA_SLOT_ID_BITS,
                              "nnz": DYSTA_COUNT_BITS, "total": DYSTA_COUNT_BITS})


class DystaSystem(wiring.Component):
    """The scheduler (`DystaScheduler`) plus accelerators (`Accelerator`) with their memories.

    The host talks to the scheduler on ``host_cmd`` / ``host_resp`` (load LUTs, admit, retire,
    set time, read a decision: DECIDE) and starts jobs on accelerator ``a`` on ``acc{a}_job``,
    each tagged with the slot it serves. The system closes the monitor loop in hardware: it
    adds up each accelerator's monitor counts (``nnz``, ``total`` of its done records, as the
    host consumes them on ``acc{a}_done``) and, when a job tagged ``last`` completes, sends the
    scheduler LAYER_DONE(slot, nnz, total) itself, ahead of any waiting host command (lowest
    accelerator index first). Every scheduler response, to host commands and to these internal
    LAYER_DONEs, appears on ``host_resp`` in order. Monitor sums are saturated to the
    scheduler's 32-bit counters. One boundary per accelerator can wait: the host must not
    complete a second layer on an accelerator before the first one's LAYER_DONE response.

    Ports
    -----
    host_cmd : In(stream(cmd_layout)) ; host_resp : Out(stream(resp_layout))
    now : Out(time_bits)
        The scheduler's cycle counter.
    sent : Out(event_layout)
        The last internal LAYER_DONE the scheduler accepted (registered: valid from the cycle
        after its acceptance), so a host or testbench can check the monitor counts the
        scheduler saw.
    acc{a}_job : In(stream(job_layout))
    acc{a}_done : Out(stream(done record))
    acc{a}_act_wr, acc{a}_wt_wr, acc{a}_out_rd_addr : In ; acc{a}_out_rd_data, acc{a}_busy : Out
        The accelerator's memory ports (see `Accelerator`).

    ``latency``: a layer boundary reaches the scheduler one cycle after its done record is
    taken (then waits for the scheduler to be free); the scheduler's latencies are those of
    `SchedulerConfig.latency`.

    Parameters
    ----------
    scheduler : SchedulerConfig
    accelerators : tuple of AcceleratorConfig
        One or more (keyword-only).
    """

    latency = 1

    def __init__(self, *, scheduler: SchedulerConfig,
                 accelerators: tuple[AcceleratorConfig, ...]) -> None:
        if not isinstance(scheduler, SchedulerConfig):
            raise ValueError(f"scheduler must be a SchedulerConfig, not "
                             f"{type(scheduler).__name__}")
        accelerators = tuple(accelerators)
        if not accelerators or not all(isinstance(a, AcceleratorConfig) for a in accelerators):
            raise ValueError("accelerators must be a non-empty tuple of AcceleratorConfig")
        self._sched, self._accs = scheduler, accelerators
        members = {"host_cmd": In(stream.Signature(cmd_layout())),
                   "host_resp": Out(stream.Signature(resp_layout())),
                   "now": Out(scheduler.time_bits), "sent": Out(event_layout())}
        for a, cfg in enumerate(accelerators):
            members.update({
                f"acc{a}_job": In(stream.Signature(job_layout(cfg))),
                f"acc{a}_done": Out(stream.Signature(done_layout())),
                f"acc{a}_busy": Out(1),
                f"acc{a}_act_wr": In(data.StructLayout({**act_write_fields(cfg),
                                                        "data": act_word_layout(cfg)})),
                f"acc{a}_wt_wr": In(data.StructLayout({**wt_write_fields(cfg),
                                                       "data": wt_word_layout(cfg)})),
                f"acc{a}_out_rd_addr": In(cfg.out_addr_width),
                f"acc{a}_out_rd_data": Out(out_word_layout(cfg)),
            })
        super().__init__(members)

    @property
    def scheduler(self) -> SchedulerConfig:
        return self._sched

    @property
    def accelerators(self) -> tuple[AcceleratorConfig, ...]:
        return self._accs

    def elaborate(self, platform):
        m = Module()
        m.submodules.sched = sched = DystaScheduler(config=self._sched)
        wiring.connect(m, sched.resp, wiring.flipped(self.host_resp))
        m.d.comb += self.now.eq(sched.now)
        cmax = (1 << DYSTA_COUNT_BITS) - 1

        pend, pend_slot, pend_nnz, pend_total, sums = [], [], [], [], []
        for a, cfg in enumerate(self._accs):
            acc = Accelerator(config=cfg)
            m.submodules[f"acc{a}"] = acc
            job = getattr(self, f"acc{a}_job")
            done = getattr(self, f"acc{a}_done")
            m.d.comb += [
                acc.cmd.payload.eq(job.payload.job), acc.cmd.valid.eq(job.valid),
                job.ready.eq(acc.cmd.ready),
                done.payload.eq(acc.done.payload), done.valid.eq(acc.done.valid),
                acc.done.ready.eq(done.ready),
                getattr(self, f"acc{a}_busy").eq(acc.busy),
                acc.act_wr.eq(getattr(self, f"acc{a}_act_wr")),
                acc.wt_wr.eq(getattr(self, f"acc{a}_wt_wr")),
                acc.out_rd_addr.eq(getattr(self, f"acc{a}_out_rd_addr")),
                getattr(self, f"acc{a}_out_rd_data").eq(acc.out_rd_data),
            ]
            # the tag of the job in flight (one job at a time per accelerator)
            slot = Signal(DYSTA_SLOT_ID_BITS, name=f"acc{a}_slot")
            last = Signal(name=f"acc{a}_last")
            with m.If(job.valid & job.ready):
                m.d.sync += [slot.eq(job.payload.slot), last.eq(job.payload.last)]
            # monitor sums of the layer in progress, and the pending LAYER_DONE
            nnz = Signal(COUNTER_WIDTH + 1, name=f"acc{a}_nnz_sum")
            total = Signal(COUNTER_WIDTH + 1, name=f"acc{a}_total_sum")
            p = Signal(name=f"acc{a}_event")
            p_slot = Signal(DYSTA_SLOT_ID_BITS, name=f"acc{a}_event_slot")
            p_nnz = Signal(DYSTA_COUNT_BITS, name=f"acc{a}_event_nnz")
            p_total = Signal(DYSTA_COUNT_BITS, name=f"acc{a}_event_total")
            pend.append(p)
            pend_slot.append(p_slot)
            pend_nnz.append(p_nnz)
            pend_total.append(p_total)
            sums.append((done, last, slot, nnz, total))

        # arbiter: pending layer boundaries first (lowest accelerator), then the host
        ev = Signal(cmd_layout(), name="event_cmd")
        any_ev = Signal(name="any_event")
        sel = Signal(range(max(2, len(self._accs))), name="event_sel")
        for a in reversed(range(len(self._accs))):
            with m.If(pend[a]):
                m.d.comb += [sel.eq(a), ev.op.eq(DystaOp.LAYER_DONE), ev.slot.eq(pend_slot[a]),
                             ev.arg.done.nnz.eq(pend_nnz[a]),
                             ev.arg.done.total.eq(pend_total[a]), any_ev.eq(1)]
        m.d.comb += [
            sched.cmd.payload.eq(Mux(any_ev, ev, self.host_cmd.payload)),
            sched.cmd.valid.eq(any_ev | self.host_cmd.valid),
            self.host_cmd.ready.eq(sched.cmd.ready & ~any_ev),
        ]
        with m.If(any_ev & sched.cmd.ready):
            m.d.sync += [self.sent.count.eq(self.sent.count + 1), self.sent.slot.eq(ev.slot),
                         self.sent.nnz.eq(ev.arg.done.nnz),
                         self.sent.total.eq(ev.arg.done.total)]
        for a, (done, last, slot, nnz, total) in enumerate(sums):
            with m.If(any_ev & sched.cmd.ready & (sel == a)):
                m.d.sync += pend[a].eq(0)
            n_next = Signal.like(nnz)
            t_next = Signal.like(total)
            m.d.comb += [n_next.eq(nnz + done.payload.nnz),
                         t_next.eq(total + done.payload.total)]
            with m.If(done.valid & done.ready):  # after the clear: a new boundary wins
                with m.If(last):
                    m.d.sync += [pend[a].eq(1), pend_slot[a].eq(slot),
                                 pend_nnz[a].eq(Mux(n_next > cmax, cmax, n_next)),
                                 pend_total[a].eq(Mux(t_next > cmax, cmax, t_next)),
                                 nnz.eq(0), total.eq(0)]
                with m.Else():
                    m.d.sync += [nnz.eq(n_next), total.eq(t_next)]
        return m


def system_verilog(scheduler: SchedulerConfig, accelerators: tuple[AcceleratorConfig, ...], *,
                   name: str = "dysta_system") -> str:
    """Verilog of `DystaSystem`, as Amaranth writes it (`mmsched.sim.rtl.build` adds the
    Icarus time-0 fix for simulation)."""
    from amaranth.back import verilog

    return verilog.convert(DystaSystem(scheduler=scheduler, accelerators=accelerators),
                           name=name)
