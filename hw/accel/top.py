"""`Accelerator`: the sparse systolic accelerator top (memories, lanes, loader, array, monitor)."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import (
    JOB_OVERHEAD_CYCLES,
    AcceleratorConfig,
    act_write_fields,
    wt_write_fields,
)

from .array import SystolicArray
from .controller import Controller
from .layouts import (
    act_word_layout,
    check_config,
    command_layout,
    done_layout,
    out_word_layout,
    wt_word_layout,
)
from .loader import WeightLoader
from .monitor import Monitor
from .streamer import ActivationStreamer


class Accelerator(wiring.Component):
    """The sparse systolic accelerator: runs one job (a GEMM fitting its memories) per command.

    Parameters
    ----------
    config : AcceleratorConfig
        Validated at construction (`AcceleratorConfig` raises on impossible configurations).

    Ports
    -----
    cmd : In(stream.Signature(command))
        A job (`mmsched.hw.spec.command_fields`): ``m, n, k`` (1 <= each, fitting the
        memories; ``k <= max_k``), the word addresses ``act_base, wt_base, out_base`` of the
        operands in the layouts documented in `Controller`, and ``monitor``. Accepted when
        ``cmd.valid & cmd.ready`` (ready only while idle).
    done : Out(stream.Signature(done record))
        One record per job (`mmsched.hw.spec.DONE_FIELDS`): ``cycles`` = cycles from the
        accept cycle to the first cycle ``done.valid`` is high, ``nnz``/``total`` (monitor),
        ``macs``, ``act_reads``, ``wt_reads``, ``out_writes``. Held until ``done.ready``.
    busy : Out(1)
        A job is in flight (the host must not write the memories then).
    act_wr : In(Struct(en, bank, addr, data))
        Host write of one activation word into bank ``bank`` (one per cycle).
    wt_wr : In(Struct(en, addr, data))
        Host write of one weight word.
    out_rd_addr : In, out_rd_data : Out
        Host read of one output word (synchronous: data the cycle after the address).

    ``latency`` = JOB_OVERHEAD_CYCLES: ``done.cycles`` = the job's tile cycles
    (`mmsched.hw.spec.accelerator`) + ``latency``;
    `mmsched.hw.cyclemodel.cycles.job_counters` gives the whole record.
    """

    latency = JOB_OVERHEAD_CYCLES

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        super().__init__({
            "cmd": In(stream.Signature(command_layout(config))),
            "done": Out(stream.Signature(done_layout())),
            "busy": Out(1),
            "act_wr": In(data.StructLayout({
                **act_write_fields(config), "data": act_word_layout(config)})),
            "wt_wr": In(data.StructLayout({
                **wt_write_fields(config), "data": wt_word_layout(config)})),
            "out_rd_addr": In(config.out_addr_width),
            "out_rd_data": Out(out_word_layout(config)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        R = cfg.rows
        m = Module()
        m.submodules.ctrl = ctrl = Controller(config=cfg)
        m.submodules.array = array = SystolicArray(config=cfg)
        m.submodules.loader = loader = WeightLoader(config=cfg)
        m.submodules.monitor = mon = Monitor(config=cfg)
        lanes = []
        for r in range(R):
            lane = ActivationStreamer(config=cfg)
            m.submodules[f"lane_{r}"] = lane
            lanes.append(lane)

        wiring.connect(m, wiring.flipped(self.cmd), ctrl.cmd)
        wiring.connect(m, ctrl.done, wiring.flipped(self.done))
        m.d.comb += [ctrl.counts.eq(mon.counts), self.busy.eq(ctrl.busy)]

        # memories
        m.submodules.wt_mem = wt_mem = memory.Memory(shape=wt_word_layout(cfg),
                                                     depth=cfg.wt_mem_words, init=[])
        wt_w = wt_mem.write_port()
        wt_r = wt_mem.read_port()
        m.d.comb += [wt_w.en.eq(self.wt_wr.en), wt_w.addr.eq(self.wt_wr.addr),
                     wt_w.data.eq(self.wt_wr.data),
                     wt_r.en.eq(loader.mem_en), wt_r.addr.eq(loader.mem_addr),
                     loader.mem_data.eq(wt_r.data)]
        m.submodules.out_mem = out_mem = memory.Memory(shape=out_word_layout(cfg),
                                                       depth=cfg.out_mem_words, init=[])
        out_w = out_mem.write_port()
        out_r = out_mem.read_port()
        m.d.comb += [out_w.en.eq(ctrl.out_wr_en), out_w.addr.eq(ctrl.out_wr_addr),
                     out_w.data.eq(array.out_row),
                     out_r.addr.eq(self.out_rd_addr), self.out_rd_data.eq(out_r.data)]
        for r, lane in enumerate(lanes):
            mem = memory.Memory(shape=act_word_layout(cfg), depth=cfg.act_mem_words, init=[])
            m.submodules[f"act_mem_{r}"] = mem
            w = mem.write_port()
            rd = mem.read_port()
            m.d.comb += [w.en.eq(self.act_wr.en & (self.act_wr.bank == r)),
                         w.addr.eq(self.act_wr.addr), w.data.eq(self.act_wr.data),
                         rd.en.eq(ctrl.act_rd_en), rd.addr.eq(ctrl.act_rd_addr),
                         lane.word.eq(rd.data), lane.live.eq(loader.live),
                         lane.kvalid.eq(ctrl.lane_kvalid), lane.bank.eq(ctrl.lane_bank),
                         lane.load.eq(ctrl.lane_load), lane.row_valid.eq(ctrl.lane_row_valid[r]),
                         array.a_in[r].eq(lane.out),
                         mon.lane_nnz[r].eq(lane.nnz)]
        lane_last = Signal(R)
        lane_valid = Signal(R)
        m.d.comb += [lane_last[r].eq(lane.last) for r, lane in enumerate(lanes)]
        m.d.comb += [lane_valid[r].eq(lane.out.valid) for r, lane in enumerate(lanes)]

        # loader, array, monitor
        m.d.comb += [
            loader.start.eq(ctrl.ld_start), loader.base.eq(ctrl.ld_base),
            loader.nwords.eq(ctrl.ld_nwords), loader.bank.eq(ctrl.ld_bank),
            ctrl.ld_idle.eq(loader.idle), ctrl.lane_last.eq(lane_last),
            array.w_en.eq(loader.w_en), array.w_bank.eq(loader.w_bank),
            array.w_word.eq(loader.w_word), array.w_data.eq(loader.w_data),
            array.shift.eq(ctrl.shift),
            mon.clear.eq(ctrl.mon_clear), mon.busy.eq(ctrl.mon_busy),
            mon.lane_load.eq(ctrl.lane_load), mon.count_nnz.eq(ctrl.mon_count_nnz),
            mon.chunk_rows.eq(ctrl.mon_chunk_rows), mon.valid_rows.eq(ctrl.mon_valid_rows),
            mon.lane_valid.eq(lane_valid), mon.valid_cols.eq(ctrl.mon_valid_cols),
            mon.act_read.eq(ctrl.mon_act_read), mon.wt_read.eq(loader.mem_en),
            mon.out_write.eq(ctrl.out_wr_en),
        ]
        return m


TOP_NAME = "accelerator"
"""The top module name of the accelerator's Verilog (the C harness and testbenches use it)."""


def accelerator_verilog(config: AcceleratorConfig, *, name: str = TOP_NAME) -> str:
    """Verilog of `Accelerator` for ``config``, as Amaranth writes it (`mmsched.sim.rtl.build`
    caches it and adds the Icarus time-0 fix for simulation)."""
    from amaranth.back import verilog

    return verilog.convert(Accelerator(config=config), name=name)
