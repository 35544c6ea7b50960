"""ScoreUnit vs `slot_score`: one new decision time per cycle (Amaranth simulator)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.dysta import ScoreUnit
from mmsched.hw.model.dysta_sched import slot_score
from mmsched.hw.spec import SchedulerConfig, recip_n_q


@pytest.mark.rtl
@pytest.mark.parametrize("cfg", [
    SchedulerConfig(wait_shift=0, fair_shift=-10, score_frac=0),
    SchedulerConfig(wait_shift=12, fair_shift=20),
    SchedulerConfig(wait_shift=3, fair_shift=2, score_bits=24, time_bits=24),
], ids=["fine", "coarse-saturating", "narrow"])
def test_score_unit_matches_model(cfg):
    seed = cfg.wait_shift + 31
    rng = np.random.default_rng(seed)
    dut = ScoreUnit(config=cfg)
    pmin, pmax = -(1 << cfg.r_bits), 1 << cfg.time_bits
    vectors = []
    for _ in range(12):
        held = dict(rb=int(rng.integers(0, 1 << cfg.score_bits)),
                    p=int(rng.integers(pmin, pmax)),
                    last=int(rng.integers(0, 1 << cfg.time_bits)),
                    k=int(rng.integers(0, 1 << 16)),
                    recip_n=recip_n_q(int(rng.integers(0, 600))))
        if rng.random() < 0.3:
            held["rb"] = 0
        ts = [int(rng.integers(0, 1 << cfg.time_bits)) for _ in range(6)]
        ts += [held["last"] + int(rng.integers(-3, 1 << 20)) for _ in range(6)]
        ts = [t % (1 << cfg.time_bits) for t in ts]
        vectors.append((held, ts))

    async def bench(ctx):
        cycle = 0
        for held, ts in vectors:
            for k, v in held.items():
                ctx.set(getattr(dut, k), v)
            ctx.set(dut.sample, 1)
            expect = []
            for t in ts + [0] * dut.latency:
                ctx.set(dut.t, t)
                expect.append(slot_score(cfg, t, held["rb"], held["p"], held["last"],
                                         held["k"], held["recip_n"]))
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
