"""LUT memories: remaining latency and average density per (model, pattern, layer), fairness
weight (1/isolated latency) per (model, pattern)."""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import DYSTA_DENSITY_BITS, DYSTA_WEIGHT_BITS, SchedulerConfig


class LUTMemories(wiring.Component):
    """Three single-write, single-read memories loaded by the host (LOAD_LUT, LOAD_ISO).

    Addresses: ``cfg.lut_address(model, pattern, layer)`` for the layer LUTs and
    ``model * patterns + pattern`` for the weight LUT (the scheduler computes them). Reads are
    synchronous: data in the cycle after the address (`latency` = 1); writes land at the end
    of the write cycle. All entries reset to 0.

    Ports
    -----
    lut_we, lut_waddr, rem_wdata, dens_wdata : In
    iso_we, iso_waddr, iso_wdata : In
    rem_raddr, dens_raddr, iso_raddr : In
    rem_rdata, dens_rdata, iso_rdata : Out
    """

    latency = 1

    def __init__(self, *, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self._cfg = cfg = config
        la = range(cfg.lut_depth)
        ia = range(cfg.models * cfg.patterns)
        super().__init__({
            "lut_we": In(1), "lut_waddr": In(la), "rem_wdata": In(cfg.remaining_bits),
            "dens_wdata": In(DYSTA_DENSITY_BITS),
            "iso_we": In(1), "iso_waddr": In(ia), "iso_wdata": In(DYSTA_WEIGHT_BITS),
            "rem_raddr": In(la), "dens_raddr": In(la), "iso_raddr": In(ia),
            "rem_rdata": Out(cfg.remaining_bits), "dens_rdata": Out(DYSTA_DENSITY_BITS),
            "iso_rdata": Out(DYSTA_WEIGHT_BITS)})

    def elaborate(self, platform):
        cfg = self._cfg
        m = Module()
        m.submodules.remaining = rem = memory.Memory(
            shape=cfg.remaining_bits, depth=cfg.lut_depth, init=[])
        m.submodules.density = dens = memory.Memory(
            shape=DYSTA_DENSITY_BITS, depth=cfg.lut_depth, init=[])
        m.submodules.weight = iso = memory.Memory(
            shape=DYSTA_WEIGHT_BITS, depth=cfg.models * cfg.patterns, init=[])
        for mem, we, waddr, wdata, raddr, rdata in (
                (rem, self.lut_we, self.lut_waddr, self.rem_wdata, self.rem_raddr,
                 self.rem_rdata),
                (dens, self.lut_we, self.lut_waddr, self.dens_wdata, self.dens_raddr,
                 self.dens_rdata),
                (iso, self.iso_we, self.iso_waddr, self.iso_wdata, self.iso_raddr,
                 self.iso_rdata)):
            wp = mem.write_port()
            rp = mem.read_port()
            m.d.comb += [wp.en.eq(we), wp.addr.eq(waddr), wp.data.eq(wdata),
                         rp.addr.eq(raddr), rdata.eq(rp.data)]
        return m
