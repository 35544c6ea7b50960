"""ScoreUnit vs `lane_score`: one new decision time per cycle (Amaranth simulator)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.cyclemodel.dysta_sched import lane_score
from mmsched.hw.dysta import ScoreUnit
from mmsched.hw.spec import SchedulerConfig


@pytest.mark.rtl
@pytest.mark.parametrize("cfg", [
    SchedulerConfig(wait_shift=0, fair_shift=-10, score_frac=0),
    SchedulerConfig(wait_shift=12, fair_shift=20),
    SchedulerConfig(wait_shift=3, fair_shift=2, score_bits=24, time_bits=24, slots=5),
    SchedulerConfig(wait_shift=1, fair_shift=-3, wait_bits=16, slots=3),
], ids=["fine", "coarse-saturating", "narrow", "wait16"])
def test_score_unit_matches_model(cfg):
    seed = cfg.wait_shift + 31
    rng = np.random.default_rng(seed)
    dut = ScoreUnit(config=cfg)
    pmin, pmax = -(1 << cfg.r_bits), 1 << cfg.time_bits
    vectors = []
    for _ in range(12):
        n = int(rng.integers(0, cfg.slots + 1))
        rb = 0 if rng.random() < 0.3 else int(rng.integers(0, 1 << cfg.score_bits))
        held = dict(nrb=n * rb, np=n * int(rng.integers(pmin, pmax)),
                    last=int(rng.integers(0, 1 << cfg.time_bits)),
                    k=int(rng.integers(0, 1 << 16)))
        ts = [int(rng.integers(0, 1 << cfg.time_bits)) for _ in range(6)]
        # waits on both sides of the mantissa boundary 2^18 and of saturation
        ts += [held["last"] + int(rng.integers(-3, 1 << 20)) for _ in range(3)]
        ts += [held["last"] + (int(rng.integers(1 << 17, 1 << 19)) << cfg.wait_shift)
               for _ in range(3)]
        ts = [t % (1 << cfg.time_bits) for t in ts]
        vectors.append((n, held, ts))

    async def bench(ctx):
        cycle = 0
        for n, held, ts in vectors:
            for k, v in held.items():
                ctx.set(getattr(dut, k), v)
            ctx.set(dut.sample, 1)
            expect = []
            prev_nt = 0
            for t in ts + [0] * dut.latency:
                ctx.set(dut.t, t)
                # N x t arrives one cycle after its sample (the scheduler's register)
                ctx.set(dut.nt, prev_nt)
                prev_nt = n * t
                expect.append(lane_score(cfg, t, n * t, held["nrb"], held["np"],
                                         held["last"], held["k"]))
                if len(expect) > dut.latency:
                    want = expect[-1 - dut.latency]
                    got = ctx.get(dut.score)
                    assert got == want, f"seed {seed}, cycle {cycle}: {held}, got {got}, " \
                                        f"want {want}"
                await ctx.tick()
                cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
