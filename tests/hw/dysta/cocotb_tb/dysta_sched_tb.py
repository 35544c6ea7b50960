"""cocotb testbench of the generated Verilog of DystaScheduler (run by test_scheduler_cocotb.py),
with the testbench kit (`mmsched.sim.rtl.cocotb`).

Environment: DYSTA_CONFIG (SchedulerConfig as JSON), DYSTA_SEED, DYSTA_COUNT. The program and
the expected responses come from the same library code as the Amaranth tests
(`random_commands`: the twin's `random_program`; `SchedulerScoreboard`: `DystaSchedTwin`);
every response must match in value and cycle.
"""

from __future__ import annotations

import os

import cocotb

from mmsched.sim.rtl.cocotb import (
    SchedulerDriver,
    SchedulerScoreboard,
    load_config,
    random_commands,
)


@cocotb.test()
async def random_program_matches_twin(dut):
    cfg = load_config(os.environ["DYSTA_CONFIG"])
    seed = int(os.environ["DYSTA_SEED"])
    count = int(os.environ["DYSTA_COUNT"])
    program = random_commands(cfg, seed, count)
    sb = SchedulerScoreboard(cfg)
    tb = SchedulerDriver(dut)
    await tb.start()
    assert int(dut.now.value) == 0
    for gap, word in program:
        got = await tb.issue(word, gap)
        sb.check(word, gap, got, where=f"seed {seed}")
    dut._log.info("seed %d: %d commands, %d cycles, all equal to the twin", seed,
                  sb.checked, tb.cycle)
