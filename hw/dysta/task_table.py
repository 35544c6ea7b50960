"""Task table: S slots; decision-time fields in registers, the rest in a task memory."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import SchedulerConfig

from .layouts import cold_layout, hot_layout


def _add_sub(x, y, sub):
    """``x - y`` if ``sub`` else ``x + y``, wrapping to x's width, with a single adder."""
    w = len(x)
    inv = sub.replicate(w)
    return ((x.as_unsigned() ^ inv) + y)[:w] ^ inv


class TaskTable(wiring.Component):
    """Per-slot state of the Dysta scheduler.

    *Hot* fields (`hot_layout`: valid, running, R/beta, P, N x R/beta, N x P, last run,
    fairness weight, admission sequence number) are registers read in parallel by the score
    units and the comparator tree.
    *Cold* fields (`cold_layout`: model, pattern, layers done, gamma sum, deadline) live in a
    memory read by the gamma unit only (synchronous read, `latency` = 1).

    Ports
    -----
    hot_0 ... hot_{slots-1} : Out(hot_layout)
        Every slot's hot record (one port each: a single array port would exceed Amaranth's
        65,536-bit value limit at 512 slots); the list is `hot`.
    free : Out(range(slots + 1))
        The lowest free slot (``slots`` when full).
    w_en, w_slot, w_hot : In
        Write a whole hot record (visible the next cycle).
    f_en, f_slot, f_valid, f_running : In
        Write only a slot's two flags (never in the same cycle as ``w_en``).
    n_inc, n_dec : In(1)
        N (the number of candidates) has grown / shrunk by one: every slot adds / subtracts
        its R/beta and P to / from its N x R/beta and N x P (at most one of the two is high;
        exact, wrapping arithmetic; never in the same cycle as ``w_en``).
    c_we, c_waddr, c_wdata, c_raddr : In;  c_rdata : Out
        Task memory ports.
    """

    latency = 1

    def __init__(self, *, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self._cfg = cfg = config
        hot = hot_layout(cfg)
        cold = cold_layout(cfg)
        sr = range(cfg.slots)
        super().__init__({
            **{f"hot_{i}": Out(hot) for i in range(cfg.slots)},
            "free": Out(range(cfg.slots + 1)),
            "w_en": In(1), "w_slot": In(sr), "w_hot": In(hot),
            "f_en": In(1), "f_slot": In(sr), "f_valid": In(1), "f_running": In(1),
            "n_inc": In(1), "n_dec": In(1),
            "c_we": In(1), "c_waddr": In(sr), "c_wdata": In(cold), "c_raddr": In(sr),
            "c_rdata": Out(cold)})

    @property
    def hot(self) -> list:
        """The hot-record ports, slot order."""
        return [getattr(self, f"hot_{i}") for i in range(self._cfg.slots)]

    def elaborate(self, platform):
        cfg = self._cfg
        m = Module()
        regs = [Signal(hot_layout(cfg), name=f"slot_{i}") for i in range(cfg.slots)]
        for i, r in enumerate(regs):
            m.d.comb += self.hot[i].eq(r)
            with m.If(self.w_en & (self.w_slot == i)):
                m.d.sync += r.eq(self.w_hot)
            with m.If(self.n_inc | self.n_dec):
                # one adder per field: x - y = ~(~x + y)
                m.d.sync += [r.nrb.eq(_add_sub(r.nrb, r.rb, self.n_dec)),
                             r.np.eq(_add_sub(r.np, r.p, self.n_dec))]
            with m.If(self.f_en & (self.f_slot == i)):
                m.d.sync += [r.valid.eq(self.f_valid), r.running.eq(self.f_running)]
        m.d.comb += self.free.eq(cfg.slots)
        for i in reversed(range(cfg.slots)):
            with m.If(~regs[i].valid):
                m.d.comb += self.free.eq(i)

        m.submodules.cold = mem = memory.Memory(shape=cold_layout(cfg), depth=cfg.slots,
                                                init=[])
        wp = mem.write_port()
        rp = mem.read_port()
        m.d.comb += [wp.en.eq(self.c_we), wp.addr.eq(self.c_waddr), wp.data.eq(self.c_wdata),
                     rp.addr.eq(self.c_raddr), self.c_rdata.eq(rp.data)]
        return m
