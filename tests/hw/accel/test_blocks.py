"""Amaranth-simulator unit tests of each accelerator block against its Python model
(`mmsched.hw.cyclemodel.blocks`): seeded random stimuli, compared cycle by cycle."""

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module
from amaranth.sim import Simulator

from mmsched.hw.accel.array import SystolicArray
from mmsched.hw.accel.loader import WeightLoader
from mmsched.hw.accel.monitor import Monitor
from mmsched.hw.accel.pe import ProcessingElement
from mmsched.hw.accel.streamer import ActivationStreamer
from mmsched.hw.accel.wbuf import WeightBuffer
from mmsched.hw.cyclemodel.blocks import Element, LoaderModel, PEModel, StreamerModel
from mmsched.hw.cyclemodel.host import pack
from mmsched.hw.spec import AcceleratorConfig

CFGS = {
    "1x1_c1": AcceleratorConfig(rows=1, cols=1, chunk_depth=1, pe_buffer_depth=1,
                                load_rows_per_cycle=1, data_width=4, acc_width=12, max_k=16),
    "3x5_c5": AcceleratorConfig(rows=3, cols=5, chunk_depth=5, pe_buffer_depth=6,
                                load_rows_per_cycle=2, data_width=5, acc_width=16, max_k=32),
    "2x2_c4_dense": AcceleratorConfig(rows=2, cols=2, chunk_depth=4, pe_buffer_depth=4,
                                      load_rows_per_cycle=4, data_width=8, acc_width=20,
                                      max_k=16, dense=True),
}
CYCLES = 150


def _run(dut, tb):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()


def _sval(rng, cfg, zero_p=0.3):
    lo, hi = -(1 << (cfg.data_width - 1)), 1 << (cfg.data_width - 1)
    return 0 if rng.random() < zero_p else int(rng.integers(lo, hi))


class _PEWithBuffer(Elaboratable):
    """A PE reading a one-reader `WeightBuffer` (what `PEModel` models: a PE with its
    buffer)."""

    def __init__(self, cfg):
        self.pe = ProcessingElement(config=cfg)
        self.buf = WeightBuffer(config=cfg, readers=1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.pe, m.submodules.buf = self.pe, self.buf
        m.d.comb += [self.buf.rd_addr[0].eq(self.pe.w_addr),
                     self.pe.w_rdata.eq(self.buf.rd_data[0])]
        return m


@pytest.mark.parametrize("name", sorted(CFGS))
@pytest.mark.parametrize("seed", [0, 1])
def test_pe_matches_model(name, seed):
    cfg = CFGS[name]
    rng = np.random.default_rng(seed)
    fixture, model = _PEWithBuffer(cfg), PEModel(cfg)
    dut, buf = fixture.pe, fixture.buf
    lw = cfg.load_rows_per_cycle

    async def tb(ctx):
        for cyc in range(CYCLES):
            valid = int(rng.random() < 0.6)  # an invalid element has value 0 (streamer)
            el = Element(valid, _sval(rng, cfg) if valid else 0,
                         int(rng.integers(cfg.chunk_depth)), int(rng.integers(2)))
            w = dict(w_en=int(rng.random() < 0.3), w_bank=int(rng.integers(2)),
                     w_word=int(rng.integers(cfg.words_per_chunk)),
                     w_data=[_sval(rng, cfg) for _ in range(lw)],
                     shift=int(rng.random() < 0.05), acc_in=int(rng.integers(-100, 100)))
            for f in ("valid", "value", "k", "bank"):
                ctx.set(getattr(dut.a_in, f), getattr(el, f))
            ctx.set(buf.w_en, w["w_en"])
            ctx.set(buf.w_bank, w["w_bank"])
            ctx.set(buf.w_word, w["w_word"])
            for i, v in enumerate(w["w_data"]):
                ctx.set(buf.w_data[i], v)
            ctx.set(dut.shift, w["shift"])
            ctx.set(dut.acc_in, w["acc_in"])
            assert ctx.get(dut.acc) == model.acc, f"seed {seed} cycle {cyc}: acc"
            assert ctx.get(dut.a_out.valid) == model.a_out.valid, f"seed {seed} cycle {cyc}"
            if model.a_out.valid:
                assert ctx.get(dut.a_out.value) == model.a_out.value, f"seed {seed} cycle {cyc}"
            await ctx.tick()
            model.step(el, **w)
        assert ProcessingElement.latency == 1

    _run(fixture, tb)


@pytest.mark.parametrize("name", sorted(CFGS))
@pytest.mark.parametrize("seed", [0, 1])
def test_streamer_matches_model(name, seed):
    cfg = CFGS[name]
    rng = np.random.default_rng(seed)
    dut, model = ActivationStreamer(config=cfg), StreamerModel(cfg)
    kc = cfg.chunk_depth

    async def tb(ctx):
        zero_p = 0.0
        for cyc in range(CYCLES):
            if cyc % 30 == 0:
                zero_p = float(rng.choice([0.0, 0.5, 1.0]))  # all-dense, mixed, all-zero
            word = [_sval(rng, cfg, zero_p) for _ in range(kc)]
            rows = int(rng.integers(1, kc + 1))
            inp = dict(load=int(rng.random() < 0.25), word=word,
                       live=int(rng.integers(1 << kc)), kvalid=(1 << rows) - 1,
                       row_valid=int(rng.random() < 0.9), bank=int(rng.integers(2)))
            ctx.set(dut.word.as_value(), pack(word, cfg.data_width))
            for f in ("load", "live", "kvalid", "row_valid", "bank"):
                ctx.set(getattr(dut, f), inp[f])
            out = model.out
            msg = f"seed {seed} cycle {cyc}"
            assert ctx.get(dut.out.valid) == out.valid, msg
            assert out.valid or ctx.get(dut.out.value) == 0, msg  # the PE's invariant
            assert ctx.get(dut.last) == model.last, msg
            assert ctx.get(dut.nnz) == model.nnz(word, inp["kvalid"], inp["row_valid"]), msg
            if out.valid:
                assert (ctx.get(dut.out.k), ctx.get(dut.out.value), ctx.get(dut.out.bank)) == (
                    out.k, out.value, out.bank), msg
            await ctx.tick()
            model.step(**inp)

    _run(dut, tb)


@pytest.mark.parametrize("name", sorted(CFGS))
@pytest.mark.parametrize("seed", [0, 1])
def test_loader_matches_model(name, seed):
    cfg = CFGS[name]
    rng = np.random.default_rng(seed)
    dut, model = WeightLoader(config=cfg), LoaderModel(cfg)
    lw, C = cfg.load_rows_per_cycle, cfg.cols
    mem = [[[_sval(rng, cfg, 0.7) for _ in range(C)] for _ in range(lw)] for _ in range(16)]

    async def tb(ctx):
        last_data = mem[0]
        for cyc in range(CYCLES):
            o = model.outputs()
            start = int(o["idle"] and rng.random() < 0.4)
            base = int(rng.integers(0, 16 - cfg.words_per_chunk))
            nwords = int(rng.integers(1, cfg.words_per_chunk + 1))
            bank = int(rng.integers(2))
            ctx.set(dut.start, start)
            ctx.set(dut.base, base)
            ctx.set(dut.nwords, nwords)
            ctx.set(dut.bank, bank)
            ctx.set(dut.mem_data.as_value(), pack(last_data, cfg.data_width))
            o = model.outputs(start=start, base=base)
            msg = f"seed {seed} cycle {cyc}"
            for f in ("mem_en", "w_en", "idle", "live"):
                assert ctx.get(getattr(dut, f)) == o[f], f"{msg}: {f}"
            if o["mem_en"]:
                assert ctx.get(dut.mem_addr) == o["mem_addr"], msg
            if o["w_en"]:
                assert (ctx.get(dut.w_word), ctx.get(dut.w_bank)) == (o["w_word"],
                                                                      o["w_bank"]), msg
            await ctx.tick()
            model.step(start=start, base=base, nwords=nwords, bank=bank, mem_data=last_data)
            if o["mem_en"]:
                last_data = mem[o["mem_addr"]]
        assert WeightLoader.latency == 2

    _run(dut, tb)


def test_loader_load_time_is_nwords_plus_latency():
    cfg = CFGS["3x5_c5"]
    dut = WeightLoader(config=cfg)

    async def tb(ctx):
        ctx.set(dut.start, 1)
        ctx.set(dut.nwords, 3)
        busy = 0
        await ctx.tick()
        ctx.set(dut.start, 0)
        busy = 1
        while not ctx.get(dut.idle):
            busy += 1
            await ctx.tick()
        assert busy + 1 == 3 + WeightLoader.latency  # + the idle cycle that ends the phase

    _run(dut, tb)


@pytest.mark.parametrize("name", ["1x1_c1", "3x5_c5"])
@pytest.mark.parametrize("seed", [0, 1])
def test_array_matches_pe_grid_model(name, seed):
    """Random elements into every row and random weight writes, then a drain; the bottom row
    equals an R x C grid of `PEModel` whose column j sees writes j cycles late."""
    cfg = CFGS[name]
    rng = np.random.default_rng(seed)
    dut = SystolicArray(config=cfg)
    R, C, lw = cfg.rows, cfg.cols, cfg.load_rows_per_cycle
    pes = [[PEModel(cfg) for _ in range(C)] for _ in range(R)]
    hist = []
    idle_w = (0, 0, 0, [[0] * C for _ in range(lw)])

    def step_model(els, shift):
        t = len(hist) - 1
        a_ins = [[els[r] if j == 0 else pes[r][j - 1].a_out for j in range(C)]
                 for r in range(R)]
        acc_ins = [[0 if r == 0 else pes[r - 1][j].acc for j in range(C)] for r in range(R)]
        for r in range(R):
            for j in range(C):
                w = hist[t - j] if t >= j else idle_w
                pes[r][j].step(a_ins[r][j], w_en=w[0], w_bank=w[1], w_word=w[2],
                               w_data=[w[3][i][j] for i in range(lw)], shift=shift,
                               acc_in=acc_ins[r][j])

    async def tb(ctx):
        total = 60 + C + R
        for cyc in range(total):
            active = cyc < 60
            shift = int(cyc >= 60 + C)
            valid = [int(active and rng.random() < 0.5) for _ in range(R)]
            els = [Element(v, _sval(rng, cfg) if v else 0,  # invalid: value 0 (streamer)
                           int(rng.integers(cfg.chunk_depth)), int(rng.integers(2)))
                   for v in valid]
            w = (int(active and rng.random() < 0.3), int(rng.integers(2)),
                 int(rng.integers(cfg.words_per_chunk)),
                 [[_sval(rng, cfg) for _ in range(C)] for _ in range(lw)])
            for r, el in enumerate(els):
                for f in ("valid", "value", "k", "bank"):
                    ctx.set(getattr(dut.a_in[r], f), getattr(el, f))
            ctx.set(dut.w_en, w[0])
            ctx.set(dut.w_bank, w[1])
            ctx.set(dut.w_word, w[2])
            ctx.set(dut.w_data.as_value(), pack(w[3], cfg.data_width))
            ctx.set(dut.shift, shift)
            got = [ctx.get(dut.out_row[j]) for j in range(C)]
            assert got == [pes[R - 1][j].acc for j in range(C)], f"seed {seed} cycle {cyc}"
            hist.append(w)
            await ctx.tick()
            step_model(els, shift)
        assert all(ctx.get(dut.out_row[j]) == 0 for j in range(C)), "drain clears the array"
        assert dut.latency == C

    _run(dut, tb)


def test_monitor_counts():
    cfg = CFGS["3x5_c5"]
    dut = Monitor(config=cfg)

    async def tb(ctx):
        ctx.set(dut.clear, 1)
        await ctx.tick()
        ctx.set(dut.clear, 0)
        assert ctx.get(dut.counts.cycles) == 1
        ctx.set(dut.busy, 1)
        ctx.set(dut.lane_load, 1)
        ctx.set(dut.count_nnz, 1)
        for r, v in enumerate((2, 0, 5)):
            ctx.set(dut.lane_nnz[r], v)
        ctx.set(dut.chunk_rows, 5)
        ctx.set(dut.valid_rows, 2)
        ctx.set(dut.lane_valid, 0b101)
        ctx.set(dut.valid_cols, 4)
        ctx.set(dut.act_read, 1)
        ctx.set(dut.wt_read, 1)
        ctx.set(dut.out_write, 1)
        await ctx.tick()
        for f in ("lane_load", "count_nnz", "act_read", "wt_read", "out_write"):
            ctx.set(getattr(dut, f), 0)
        ctx.set(dut.lane_valid, 0)
        ctx.set(dut.busy, 0)
        for _ in range(Monitor.latency - 1):
            await ctx.tick()
        c = dut.counts
        assert [ctx.get(getattr(c, f)) for f in
                ("cycles", "nnz", "total", "macs", "act_reads", "wt_reads", "out_writes")] == [
            2, 7, 10, 8, 2, 1, 1]
        ctx.set(dut.lane_valid, 0b111)
        ctx.set(dut.lane_load, 1)  # not counted: count_nnz is low
        await ctx.tick()
        ctx.set(dut.lane_valid, 0)
        ctx.set(dut.lane_load, 0)
        for _ in range(Monitor.latency):
            await ctx.tick()
        assert ctx.get(c.nnz) == 7 and ctx.get(c.macs) == 8 + 12

    _run(dut, tb)


@pytest.mark.parametrize("block", [ProcessingElement, ActivationStreamer, WeightLoader, Monitor,
                                   SystolicArray, WeightBuffer])
def test_blocks_reject_bad_config(block):
    with pytest.raises(ValueError, match="AcceleratorConfig"):
        block(config={"rows": 1})


@pytest.mark.parametrize("readers", [0, -1, 1.5, True])
def test_weight_buffer_rejects_bad_readers(readers):
    with pytest.raises(ValueError, match="readers must be a positive integer"):
        WeightBuffer(config=CFGS["1x1_c1"], readers=readers)
