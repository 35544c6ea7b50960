"""DystaScheduler (RTL, Amaranth simulator) vs its bit-exact twin on seeded random programs:
identical responses in identical cycles."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin, random_program
from mmsched.hw.dysta import DystaScheduler
from mmsched.hw.spec import (
    DystaOp,
    DystaStatus,
    SchedulerConfig,
    pack_dysta_cmd,
    unpack_dysta_resp,
)


def run_rtl(cfg: SchedulerConfig, program: list[tuple[int, int]]) -> list[tuple]:
    """Drive ``program`` into the RTL; return (accept, resp_cycle, op, status, slot, value)."""
    dut = DystaScheduler(config=cfg)
    out: list[tuple] = []

    async def bench(ctx):
        ctx.set(dut.resp.ready, 1)
        cycle = 0
        for gap, word in program:
            for _ in range(gap):
                await ctx.tick()
                cycle += 1
            ctx.set(dut.cmd.payload.as_value(), word)
            ctx.set(dut.cmd.valid, 1)
            while not ctx.get(dut.cmd.ready):
                await ctx.tick()
                cycle += 1
            accept = cycle
            await ctx.tick()
            cycle += 1
            ctx.set(dut.cmd.valid, 0)
            while not ctx.get(dut.resp.valid):
                await ctx.tick()
                cycle += 1
                if cycle - accept > 1000:
                    raise AssertionError(f"no response {cycle - accept} cycles after cycle "
                                         f"{accept}")
            r = unpack_dysta_resp(ctx.get(dut.resp.payload.as_value()))
            out.append((accept, cycle, r["op"], r["status"], r["slot"], r["value"]))
            await ctx.tick()
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out


def run_twin(cfg: SchedulerConfig, program: list[tuple[int, int]]) -> list[tuple]:
    twin = DystaSchedTwin(cfg)
    out = []
    for gap, word in program:
        r = twin.issue(word, gap)
        out.append((r.accept_cycle, r.resp_cycle, r.op, r.status, r.slot, r.value))
    return out


def check_equal(cfg, seed, program, rtl, twin) -> None:
    assert len(rtl) == len(twin)
    for i, (a, b) in enumerate(zip(rtl, twin, strict=True)):
        if a != b:
            raise AssertionError(
                f"seed {seed}, command {i} (word {program[i][1]:#x}), cycle {b[0]}: RTL "
                f"(accept, resp, op, status, slot, value) = {a}, twin = {b}; config {cfg}")


CONFIGS = [
    SchedulerConfig(slots=1, models=2, patterns=1, layers=3, predictor="avg"),
    SchedulerConfig(slots=3, models=2, patterns=2, layers=4, predictor="last-one",
                    wait_shift=3, fair_shift=-6, beta=0.5, score_frac=0),
    SchedulerConfig(slots=5, models=3, patterns=1, layers=5, predictor="avg", wait_shift=0,
                    fair_shift=4, beta=0.01),
    SchedulerConfig(slots=16, models=2, patterns=2, layers=6, predictor="avg", wait_shift=6,
                    fair_shift=-2, time_bits=32, score_bits=32, remaining_bits=24,
                    score_frac=12),
]


@pytest.mark.rtl
@pytest.mark.parametrize("idx", range(len(CONFIGS)))
def test_random_programs_match_twin(idx):
    cfg = CONFIGS[idx]
    seed = 1000 + idx
    rng = np.random.default_rng(seed)
    program = random_program(cfg, rng, 90 + 10 * cfg.slots)
    twin = run_twin(cfg, program)
    rtl = run_rtl(cfg, program)
    check_equal(cfg, seed, program, rtl, twin)
    statuses = {t[3] for t in twin}
    # the program must exercise the interesting outcomes, or the test proves little
    assert {DystaStatus.OK, DystaStatus.BAD_ID, DystaStatus.BAD_OP} <= statuses, statuses
    assert any(t[2] == DystaOp.DECIDE and t[3] == DystaStatus.OK for t in twin)


@pytest.mark.rtl
def test_full_table_refused_and_decision_latency():
    cfg = SchedulerConfig(slots=3, models=1, patterns=1, layers=2)
    prog = [(0, pack_dysta_cmd(DystaOp.LOAD_LUT, model=0, pattern=0, layer=0, remaining=100,
                               density=1 << 14))]
    prog += [(0, pack_dysta_cmd(DystaOp.ADMIT, model=0, pattern=0, deadline=10_000, arrival=0))
             for _ in range(4)]
    prog += [(0, pack_dysta_cmd(DystaOp.ADMIT, model=1, pattern=0, deadline=10_000)),
             (0, pack_dysta_cmd(DystaOp.ADMIT, model=0, pattern=0, deadline=0)),
             (0, pack_dysta_cmd(DystaOp.DECIDE))]
    rtl = run_rtl(cfg, prog)
    check_equal(cfg, None, prog, rtl, run_twin(cfg, prog))
    st = [r[3] for r in rtl]
    # 3 admitted, the 4th refused FULL (no slot changed), bad model -> BAD_ID (checked before
    # FULL), the past-deadline one also FULL since the table is full
    assert st[1:4] == [DystaStatus.OK] * 3
    assert st[4] == DystaStatus.FULL and st[5] == DystaStatus.BAD_ID
    assert st[6] == DystaStatus.FULL
    accept, resp = rtl[7][0], rtl[7][1]
    assert resp - accept == cfg.decide_latency == 2 + 4
    assert rtl[7][3] == DystaStatus.OK and rtl[7][4] == 0  # equal scores: first admitted


@pytest.mark.rtl
def test_past_deadline_admitted_late():
    cfg = SchedulerConfig(slots=2, models=1, patterns=1, layers=1)
    prog = [(0, pack_dysta_cmd(DystaOp.SET_TIME, value=5000)),
            (0, pack_dysta_cmd(DystaOp.ADMIT, model=0, pattern=0, deadline=4000,
                               arrival=3000)),
            (0, pack_dysta_cmd(DystaOp.DECIDE))]
    rtl = run_rtl(cfg, prog)
    check_equal(cfg, None, prog, rtl, run_twin(cfg, prog))
    assert rtl[1][3] == DystaStatus.LATE
    assert rtl[2][3] == DystaStatus.OK and rtl[2][4] == 0
