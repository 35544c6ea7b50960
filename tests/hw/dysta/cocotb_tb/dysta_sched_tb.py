"""cocotb testbench of the generated Verilog of DystaScheduler (run by test_scheduler_cocotb.py).

Environment: DYSTA_CONFIG (SchedulerConfig as JSON), DYSTA_SEED, DYSTA_COUNT. The program and
the expected responses come from the same library code as the Amaranth tests
(`random_program`, `DystaSchedTwin`); every response must match in value and cycle.
"""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin, random_program
from mmsched.hw.spec import SchedulerConfig, unpack_dysta_resp


@cocotb.test()
async def random_program_matches_twin(dut):
    cfg = SchedulerConfig(**json.loads(os.environ["DYSTA_CONFIG"]))
    seed = int(os.environ["DYSTA_SEED"])
    count = int(os.environ["DYSTA_COUNT"])
    program = random_program(cfg, np.random.default_rng(seed), count)
    twin = DystaSchedTwin(cfg)
    expected = []
    for gap, word in program:
        r = twin.issue(word, gap)
        expected.append((r.accept_cycle, r.resp_cycle, r.op, r.status, r.slot, r.value))

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.resp__ready.value = 1
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    cycle = 0
    assert int(dut.now.value) == 0

    async def tick():
        nonlocal cycle
        await FallingEdge(dut.clk)
        cycle += 1

    for i, (gap, word) in enumerate(program):
        for _ in range(gap):
            await tick()
        dut.cmd__payload.value = word
        dut.cmd__valid.value = 1
        while not int(dut.cmd__ready.value):
            await tick()
        accept = cycle
        await tick()
        dut.cmd__valid.value = 0
        while not int(dut.resp__valid.value):
            await tick()
            assert cycle - accept < 1000, f"seed {seed}, cycle {cycle}: no response"
        raw = dut.resp__payload.value
        assert raw.is_resolvable, (f"seed {seed}, command {i} (word {word:#x}), cycle {cycle}: "
                                   f"response has X/Z bits: {raw}")
        r = unpack_dysta_resp(int(raw))
        got = (accept, cycle, r["op"], r["status"], r["slot"], r["value"])
        assert got == expected[i], (f"seed {seed}, command {i} (word {word:#x}), cycle "
                                    f"{expected[i][0]}: RTL {got}, twin {expected[i]}")
        await tick()
    dut._log.info("seed %d: %d commands, %d cycles, all equal to the twin", seed,
                  len(program), cycle)
