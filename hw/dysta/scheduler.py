"""The Dysta hardware scheduler top: command in, response out."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import enum, stream, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import (
    DYSTA_COUNT_BITS,
    DYSTA_RESP_VALUE_MAX,
    DYSTA_SEQ_BITS,
    DYSTA_SLOT_ID_BITS,
    DYSTA_WEIGHT_BITS,
    DystaOp,
    DystaStatus,
    SchedulerConfig,
)

from .comparator_tree import ComparatorTree
from .gamma_unit import GammaUnit
from .layouts import cmd_layout, cold_layout, hot_layout, nt_shape, resp_layout
from .lut_memories import LUTMemories
from .score_unit import ScoreUnit
from .task_table import TaskTable


class _State(enum.Enum, shape=3):
    IDLE = 0
    RESP = 1
    DECIDE_WAIT = 2
    ADMIT_LUT = 3
    DONE_COLD = 4
    DONE_LUT = 5
    GAMMA_WAIT = 6


class DystaScheduler(wiring.Component):
    """Dysta's dynamic scheduler (MICRO'23, arXiv 2310.11096) as hardware.

    Commands (`mmsched.hw.spec.DystaOp`: LOAD_LUT, LOAD_ISO, ADMIT, RETIRE, SET_TIME,
    LAYER_DONE, DECIDE) arrive on ``cmd`` one at a time; each gets exactly one response on
    ``resp`` (op, `DystaStatus`, slot, value). Candidates are compared by their N-scaled score
    (N x R/beta and N x P kept per slot, updated by adds when N changes; N x t multiplied once
    per decision), so a score lane's only multiplier is the fairness one. A command accepted
    in cycle c is answered in
    cycle c + ``config.latency(op, status)`` (DECIDE: ceil(log2 S) + 4); ``cmd.ready`` rises
    again the cycle after the response is taken. Arithmetic, formats, tie-break and the
    handling of bad ids, full table and past deadlines: `mmsched.hw.spec.scheduler`. Bit-exact twin:
    `mmsched.hw.cyclemodel.dysta_sched.DystaSchedTwin`.

    Ports
    -----
    cmd : In(stream.Signature(cmd_layout))
    resp : Out(stream.Signature(resp_layout))
    now : Out(time_bits)
        The free-running cycle counter (+1 per cycle; SET_TIME accepted in cycle c makes it
        equal the command's value in cycle c + 1).

    Parameters
    ----------
    config : SchedulerConfig
    """

    def __init__(self, *, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self._cfg = config
        super().__init__({
            "cmd": In(stream.Signature(cmd_layout())),
            "resp": Out(stream.Signature(resp_layout())),
            "now": Out(config.time_bits)})

    @property
    def config(self) -> SchedulerConfig:
        return self._cfg

    @property
    def latency(self) -> int:
        """Decision latency in cycles (acceptance of DECIDE to its response)."""
        return self._cfg.decide_latency

    def elaborate(self, platform):
        cfg = self._cfg
        S = cfg.slots
        m = Module()
        m.submodules.table = table = TaskTable(config=cfg)
        m.submodules.luts = luts = LUTMemories(config=cfg)
        m.submodules.gamma = gamma = GammaUnit(config=cfg)
        m.submodules.tree = tree = ComparatorTree(count=S, score_bits=cfg.nscore_bits)

        state = Signal(_State, name="state")
        now = Signal(cfg.time_bits, name="now_r")
        n = Signal(range(S + 1), name="n_cand")
        nt = Signal(nt_shape(cfg), name="n_times_t")
        # N changed by +-1 in the previous cycle: the table adds/subtracts every slot's rb and
        # P to/from its N*rb and N*P in this cycle (registered: it fans out to every slot). A
        # slot written in the cycle of the change holds N-before x its values, so it takes
        # the increment too. Changes are >= 2 cycles apart (one per command, at its
        # acceptance or its response) and a decision reads N*P and N*rb >= 2 cycles after the
        # change.
        n_inc = Signal(name="n_inc")
        n_dec = Signal(name="n_dec")
        m.d.sync += [n_inc.eq(0), n_dec.eq(0)]
        m.d.comb += [table.n_inc.eq(n_inc), table.n_dec.eq(n_dec)]
        seq = Signal(DYSTA_SEQ_BITS, name="seq_ctr")
        cnt = Signal(range(cfg.decide_latency + 1), name="decide_cnt")
        m.d.comb += self.now.eq(now)
        m.d.sync += now.eq(now + 1)

        # latched command fields
        op_r = Signal(3, name="op_r")
        slot_r = Signal(range(S), name="slot_r")
        model_r = Signal(8, name="model_r")
        pattern_r = Signal(8, name="pattern_r")
        deadline_r = Signal(cfg.time_bits, name="deadline_r")
        arrival_r = Signal(cfg.time_bits, name="arrival_r")
        nnz_r = Signal(DYSTA_COUNT_BITS, name="nnz_r")
        total_r = Signal(DYSTA_COUNT_BITS, name="total_r")
        now_r = Signal(cfg.time_bits, name="accept_time")
        late_r = Signal(name="late_r")
        admit_r = Signal(name="admit_mode")
        k_r = Signal(DYSTA_WEIGHT_BITS, name="k_r")
        cold_r = Signal(cold_layout(cfg), name="cold_r")
        past_last_r = Signal(name="past_last_layer")
        # response registers
        r_status = Signal(3, name="resp_status")
        r_slot = Signal(DYSTA_SLOT_ID_BITS, name="resp_slot")
        r_value = Signal(48, name="resp_value")
        r_tree = Signal(name="resp_from_tree")

        # score lanes and the tree; N x t once per decision (the lanes' stage 2 reads it)
        sample = Signal(name="sample")
        with m.If(sample):
            m.d.sync += nt.eq(n * now)
        for i in range(S):
            lane = ScoreUnit(config=cfg)
            m.submodules[f"score_{i}"] = lane
            h = table.hot[i]
            m.d.comb += [lane.sample.eq(sample), lane.t.eq(now), lane.nt.eq(nt),
                         lane.nrb.eq(h.nrb), lane.np.eq(h.np), lane.last.eq(h.last),
                         lane.k.eq(h.k),
                         tree.valid[i].eq(h.valid & ~h.running), tree.score[i].eq(lane.score),
                         tree.seq[i].eq(h.seq)]

        # response stream (DECIDE: the winner's score_N, saturated to the value field)
        win_value = Signal(48, name="win_value")
        vmax = DYSTA_RESP_VALUE_MAX
        m.d.comb += win_value.eq(Mux(tree.o_score > vmax, vmax, tree.o_score))
        m.d.comb += [
            self.resp.valid.eq(state == _State.RESP),
            self.resp.payload.op.eq(op_r),
            self.resp.payload.status.eq(Mux(r_tree, Mux(tree.o_valid, DystaStatus.OK,
                                                        DystaStatus.IDLE), r_status)),
            self.resp.payload.slot.eq(Mux(r_tree, Mux(tree.o_valid, tree.o_index, 0), r_slot)),
            self.resp.payload.value.eq(Mux(r_tree, Mux(tree.o_valid, win_value, 0), r_value)),
            self.cmd.ready.eq(state == _State.IDLE),
        ]

        def lut_addr(model, pattern, layer):
            return (model * cfg.patterns + pattern) * cfg.layers + layer

        def respond(status, slot=0, value=0):
            return [r_status.eq(status), r_slot.eq(slot), r_value.eq(value), r_tree.eq(0),
                    state.eq(_State.RESP)]

        hots = table.hot
        valid = Signal(S, name="valid_mask")
        running = Signal(S, name="running_mask")
        m.d.comb += [valid.eq(Cat(h.valid for h in hots)),
                     running.eq(Cat(h.running for h in hots))]
        c = self.cmd.payload
        ids_ok = Signal(name="ids_ok")
        slot_ok = Signal(name="slot_ok")
        m.d.comb += [ids_ok.eq((c.model < cfg.models) & (c.pattern < cfg.patterns)),
                     slot_ok.eq((c.slot < S) & valid.bit_select(c.slot, 1))]
        # the slot being updated (LAYER_DONE keeps its weight and sequence number)
        cur_k = Signal(DYSTA_WEIGHT_BITS, name="cur_k")
        cur_seq = Signal(DYSTA_SEQ_BITS, name="cur_seq")
        cur_running = Signal(name="cur_running")
        with m.Switch(slot_r):
            for i, h in enumerate(hots):
                with m.Case(i):
                    m.d.comb += [cur_k.eq(h.k), cur_seq.eq(h.seq), cur_running.eq(h.running)]

        with m.Switch(state):
            with m.Case(_State.IDLE), m.If(self.cmd.valid):
                m.d.sync += [op_r.eq(c.op), now_r.eq(now)]
                with m.Switch(c.op):
                    with m.Case(DystaOp.LOAD_LUT):
                        with m.If(ids_ok & (c.layer < cfg.layers)):
                            m.d.comb += [luts.lut_we.eq(1),
                                         luts.lut_waddr.eq(lut_addr(c.model, c.pattern,
                                                                    c.layer)),
                                         luts.rem_wdata.eq(c.arg.lut.remaining),
                                         luts.dens_wdata.eq(c.arg.lut.density)]
                            m.d.sync += respond(DystaStatus.OK)
                        with m.Else():
                            m.d.sync += respond(DystaStatus.BAD_ID)
                    with m.Case(DystaOp.LOAD_ISO):
                        with m.If(ids_ok):
                            m.d.comb += [luts.iso_we.eq(1),
                                         luts.iso_waddr.eq(c.model * cfg.patterns
                                                           + c.pattern),
                                         luts.iso_wdata.eq(c.arg.iso.weight)]
                            m.d.sync += respond(DystaStatus.OK)
                        with m.Else():
                            m.d.sync += respond(DystaStatus.BAD_ID)
                    with m.Case(DystaOp.ADMIT):
                        with m.If(~ids_ok):
                            m.d.sync += respond(DystaStatus.BAD_ID)
                        with m.Elif(table.free == S):
                            m.d.sync += respond(DystaStatus.FULL)
                        with m.Else():
                            m.d.comb += [luts.rem_raddr.eq(lut_addr(c.model, c.pattern, 0)),
                                         luts.iso_raddr.eq(c.model * cfg.patterns
                                                           + c.pattern)]
                            m.d.sync += [slot_r.eq(table.free), model_r.eq(c.model),
                                         pattern_r.eq(c.pattern),
                                         deadline_r.eq(c.arg.admit.deadline),
                                         arrival_r.eq(c.arg.admit.arrival),
                                         late_r.eq(c.arg.admit.deadline < now),
                                         state.eq(_State.ADMIT_LUT)]
                    with m.Case(DystaOp.RETIRE):
                        with m.If(slot_ok):
                            m.d.comb += [table.f_en.eq(1), table.f_slot.eq(c.slot),
                                         table.f_valid.eq(0), table.f_running.eq(0)]
                            with m.If(~running.bit_select(c.slot, 1)):
                                m.d.sync += n_dec.eq(1)
                                m.d.sync += n.eq(n - 1)
                            m.d.sync += respond(DystaStatus.OK, c.slot)
                        with m.Else():
                            m.d.sync += respond(DystaStatus.BAD_ID)
                    with m.Case(DystaOp.SET_TIME):
                        m.d.sync += [now.eq(c.arg.time.value), *respond(DystaStatus.OK)]
                    with m.Case(DystaOp.LAYER_DONE):
                        with m.If(slot_ok):
                            m.d.comb += table.c_raddr.eq(c.slot)
                            m.d.sync += [slot_r.eq(c.slot), nnz_r.eq(c.arg.done.nnz),
                                         total_r.eq(c.arg.done.total),
                                         state.eq(_State.DONE_COLD)]
                        with m.Else():
                            m.d.sync += respond(DystaStatus.BAD_ID)
                    with m.Case(DystaOp.DECIDE):
                        m.d.comb += sample.eq(1)
                        m.d.sync += [cnt.eq(cfg.decide_latency - 1),
                                     state.eq(_State.DECIDE_WAIT)]
                    with m.Default():
                        m.d.sync += respond(DystaStatus.BAD_OP)
            with m.Case(_State.ADMIT_LUT):
                m.d.comb += [gamma.start.eq(1), gamma.admit.eq(1), gamma.n.eq(n),
                             gamma.remaining.eq(luts.rem_rdata), gamma.deadline.eq(deadline_r)]
                m.d.sync += [k_r.eq(luts.iso_rdata), admit_r.eq(1),
                             state.eq(_State.GAMMA_WAIT)]
            with m.Case(_State.DONE_COLD):
                cold = table.c_rdata
                with m.If(cold.layer >= cfg.layers):
                    m.d.sync += respond(DystaStatus.BAD_ID)
                with m.Else():
                    m.d.comb += [luts.dens_raddr.eq(lut_addr(cold.model, cold.pattern,
                                                             cold.layer)),
                                 luts.rem_raddr.eq(lut_addr(cold.model, cold.pattern,
                                                            cold.layer + 1))]
                    m.d.sync += [cold_r.eq(cold), past_last_r.eq(cold.layer + 1 >= cfg.layers),
                                 state.eq(_State.DONE_LUT)]
            with m.Case(_State.DONE_LUT):
                m.d.comb += [gamma.start.eq(1), gamma.admit.eq(0), gamma.nnz.eq(nnz_r),
                             gamma.total.eq(total_r), gamma.density.eq(luts.dens_rdata),
                             gamma.remaining.eq(Mux(past_last_r, 0, luts.rem_rdata)),
                             gamma.deadline.eq(cold_r.deadline), gamma.gsum.eq(cold_r.gsum),
                             gamma.layer.eq(cold_r.layer), gamma.n.eq(n)]
                m.d.sync += [admit_r.eq(0), state.eq(_State.GAMMA_WAIT)]
            with m.Case(_State.GAMMA_WAIT), m.If(gamma.done):
                hot = Signal(hot_layout(cfg), name="hot_next")
                cold_next = Signal(cold_layout(cfg), name="cold_next")
                m.d.comb += [table.w_en.eq(1), table.w_slot.eq(slot_r),
                             table.w_hot.eq(hot), table.c_we.eq(1),
                             table.c_waddr.eq(slot_r), table.c_wdata.eq(cold_next),
                             hot.valid.eq(1), hot.running.eq(0), hot.rb.eq(gamma.rb),
                             hot.p.eq(gamma.p), hot.nrb.eq(gamma.nrb), hot.np.eq(gamma.np)]
                with m.If(admit_r):
                    m.d.comb += [hot.last.eq(arrival_r), hot.k.eq(k_r), hot.seq.eq(seq),
                                 cold_next.model.eq(model_r),
                                 cold_next.pattern.eq(pattern_r), cold_next.layer.eq(0),
                                 cold_next.gsum.eq(0), cold_next.deadline.eq(deadline_r)]
                    m.d.sync += [n.eq(n + 1), n_inc.eq(1), seq.eq(seq + 1),
                                 *respond(Mux(late_r, DystaStatus.LATE, DystaStatus.OK),
                                          slot_r, seq)]
                with m.Else():
                    m.d.comb += [hot.last.eq(now_r), hot.k.eq(cur_k), hot.seq.eq(cur_seq),
                                 cold_next.eq(cold_r), cold_next.layer.eq(cold_r.layer + 1),
                                 cold_next.gsum.eq(gamma.gsum_out)]
                    with m.If(cur_running):
                        m.d.sync += [n.eq(n + 1), n_inc.eq(1)]
                    m.d.sync += respond(DystaStatus.OK, slot_r, gamma.gamma)
            with m.Case(_State.DECIDE_WAIT):
                with m.If(cnt == 1):
                    m.d.sync += [r_tree.eq(1), state.eq(_State.RESP)]
                with m.Else():
                    m.d.sync += cnt.eq(cnt - 1)
            with m.Case(_State.RESP), m.If(self.resp.ready):
                m.d.sync += state.eq(_State.IDLE)
                with m.If(r_tree & tree.o_valid):
                    m.d.comb += [table.f_en.eq(1), table.f_slot.eq(tree.o_index),
                                 table.f_valid.eq(1), table.f_running.eq(1)]
                    m.d.sync += [n.eq(n - 1), n_dec.eq(1)]
        return m


def scheduler_verilog(config: SchedulerConfig, *, name: str = "dysta_sched") -> str:
    """Verilog of `DystaScheduler` for ``config`` (ports ``clk``, ``rst``, ``cmd__*``,
    ``resp__*``, ``now``; payloads flattened LSB first as in the spec), as Amaranth writes it.

    Simulators and the build cache use `mmsched.sim.rtl.build`, which adds the Icarus time-0
    fix (amaranth-lang/amaranth issue #1629) to this text."""
    from amaranth.back import verilog

    return verilog.convert(DystaScheduler(config=config), name=name)
