"""GammaUnit vs `layer_ratio` / `gamma_update` / `estimate` / `n_scaled` (Amaranth
simulator)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.cyclemodel.dysta_sched import estimate, gamma_update, layer_ratio, n_scaled
from mmsched.hw.dysta import GammaUnit
from mmsched.hw.spec import SchedulerConfig


@pytest.mark.rtl
@pytest.mark.parametrize("cfg", [
    SchedulerConfig(predictor="avg"),
    SchedulerConfig(predictor="last-one", beta=0.37, gamma_bits=12, gamma_frac=8,
                    remaining_bits=24, score_bits=24, time_bits=32, score_frac=11, slots=5),
], ids=["avg", "last-one-narrow"])
def test_gamma_unit_matches_model(cfg):
    seed = 7 if cfg.predictor == "avg" else 8
    rng = np.random.default_rng(seed)
    dut = GammaUnit(config=cfg)
    cases = []
    for i in range(25):
        total = 0 if i % 11 == 3 else int(rng.integers(1, 1 << 32))
        nnz = int(rng.integers(0, total + 1)) if i % 7 else int(rng.integers(0, 1 << 32))
        density = 0 if i % 13 == 5 else int(rng.integers(0, 1 << 16))
        layer = int(rng.integers(0, 4095))
        gsum = int(rng.integers(0, (layer + 1) * (1 << cfg.gamma_bits) // 2))
        cases.append(dict(admit=int(i % 5 == 0), nnz=nnz, total=total, density=density,
                          remaining=int(rng.integers(0, 1 << cfg.remaining_bits)),
                          deadline=int(rng.integers(0, 1 << cfg.time_bits)), gsum=gsum,
                          layer=layer, n=int(rng.integers(0, cfg.slots + 1))))

    async def bench(ctx):
        cycle = 0
        for c in cases:
            for k, v in c.items():
                ctx.set(getattr(dut, k), v)
            ctx.set(dut.start, 1)
            start = cycle
            await ctx.tick()
            cycle += 1
            ctx.set(dut.start, 0)
            while not ctx.get(dut.done):
                await ctx.tick()
                cycle += 1
            if c["admit"]:
                g, gs = cfg.gamma_one, 0
                lat = dut.admit_latency
            else:
                r = layer_ratio(cfg, c["nnz"], c["total"], c["density"])
                g, gs = gamma_update(cfg, r, c["gsum"], c["layer"])
                lat = dut.latency
            _, rb, p = estimate(cfg, g, c["remaining"], c["deadline"])
            want = (g, rb, p, *n_scaled(c["n"], rb, p))
            got = (ctx.get(dut.gamma), ctx.get(dut.rb), ctx.get(dut.p), ctx.get(dut.nrb),
                   ctx.get(dut.np))
            assert cycle - start == lat, f"seed {seed}, cycle {cycle}: latency"
            assert got == want, f"seed {seed}, cycle {cycle}: {c} -> {got}, want {want}"
            if cfg.predictor == "avg" and not c["admit"]:
                assert ctx.get(dut.gsum_out) == gs, f"seed {seed}, cycle {cycle}: gsum"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
