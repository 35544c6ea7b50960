"""RestoringDivider vs `divide_sat` on seeded random operands (Amaranth simulator)."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.cyclemodel.dysta_sched import divide_sat
from mmsched.hw.dysta import RestoringDivider


@pytest.mark.rtl
@pytest.mark.parametrize("a_bits,b_bits,q_bits", [(8, 4, 1), (59, 48, 16), (13, 5, 7)])
def test_divider_matches_model(a_bits, b_bits, q_bits):
    seed = a_bits * 100 + q_bits
    rng = np.random.default_rng(seed)
    dut = RestoringDivider(dividend_bits=a_bits, divisor_bits=b_bits, quotient_bits=q_bits)
    cases = [(0, 1), ((1 << a_bits) - 1, 1), ((1 << a_bits) - 1, (1 << b_bits) - 1), (5, 0)]
    for _ in range(40):
        b = int(rng.integers(1, 1 << b_bits))
        # quotients around the saturation point as well as small ones
        q = int(rng.integers(0, 1 << (q_bits + 1)))
        a = min(b * q + int(rng.integers(0, b)), (1 << a_bits) - 1)
        cases.append((a, b))

    async def bench(ctx):
        cycle = 0
        for a, b in cases:
            ctx.set(dut.dividend, a)
            ctx.set(dut.divisor, b)
            ctx.set(dut.start, 1)
            start = cycle
            await ctx.tick()
            cycle += 1
            ctx.set(dut.start, 0)
            while not ctx.get(dut.done):
                await ctx.tick()
                cycle += 1
            want = divide_sat(a, b, q_bits) if b else (1 << q_bits) - 1
            got = ctx.get(dut.quotient)
            assert cycle - start == dut.latency, f"seed {seed}, cycle {cycle}: latency"
            assert got == want, f"seed {seed}, cycle {cycle}: {a} / {b} = {got}, want {want}"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def test_bad_parameters():
    with warnings.catch_warnings():
        # the half-built component is reported unused when collected
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="quotient_bits must be a positive integer, not 0"):
            RestoringDivider(dividend_bits=4, divisor_bits=4, quotient_bits=0)
        gc.collect()
