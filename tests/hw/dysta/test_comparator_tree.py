"""ComparatorTree vs `beats` on random keys, one new input set per cycle."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.cyclemodel.dysta_sched import beats
from mmsched.hw.dysta import ComparatorTree


def _model(valid, score, seq):
    best = None
    for i in range(len(valid)):
        if valid[i] and (best is None or beats(score[i], seq[i], score[best], seq[best])):
            best = i
    return best


@pytest.mark.rtl
@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_tree_matches_model(count):
    seed = 500 + count
    rng = np.random.default_rng(seed)
    dut = ComparatorTree(count=count, score_bits=12)
    assert dut.latency == (count - 1).bit_length()
    sets = []
    for i in range(60):
        valid = [int(rng.random() < (0.7 if i % 9 else 0.0)) for _ in range(count)]
        score = [int(rng.integers(0, 8 if i % 2 else 4096)) for _ in range(count)]  # ties
        seq = [int(x) for x in rng.permutation(1 << 16)[:count]]
        sets.append((valid, score, seq))

    async def bench(ctx):
        got = []
        for cycle, (valid, score, seq) in enumerate(sets + sets[:1] * dut.latency):
            ctx.set(dut.valid, sum(v << i for i, v in enumerate(valid)))
            for i in range(count):
                ctx.set(dut.score[i], score[i])
                ctx.set(dut.seq[i], seq[i])
            if cycle >= dut.latency:
                valid0, score0, seq0 = sets[cycle - dut.latency]
                want = _model(valid0, score0, seq0)
                ov = ctx.get(dut.o_valid)
                assert ov == (want is not None), f"seed {seed}, cycle {cycle}: valid"
                if want is not None:
                    oi = ctx.get(dut.o_index)
                    assert oi == want, f"seed {seed}, cycle {cycle}: index {oi}, want {want}"
                    assert ctx.get(dut.o_score) == score0[want]
                got.append(ov)
            if dut.latency:
                await ctx.tick()
            else:  # combinational: no clock domain
                await ctx.delay(1e-8)

    sim = Simulator(dut)
    sim.add_clock(1e-8, if_exists=True)
    sim.add_testbench(bench)
    sim.run()
