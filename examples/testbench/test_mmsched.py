"""Example cocotb testbench of mmsched's generated Verilog, written with the kit
`mmsched.sim.rtl.cocotb`. Copy this folder and change the tests.

The DUT is the Verilog ``mmsched verilog accelerator`` or ``mmsched verilog scheduler`` wrote;
its configuration is the JSON written beside it (``MMSCHED_TB_CONFIG``, set by the Makefile
and run.py). The test of the other kind of top skips itself.

Environment:
  MMSCHED_TB_CONFIG  the configuration JSON (required)
  TB_SEED            seed of the random stimulus (default 1)
  TB_COUNT           GEMMs (accelerator, default 20) or commands (scheduler, default 200)
  TB_EXPECT_OFFSET   added to every expected cycle count (default 0): a deliberately wrong
                     expectation, to see a failing check
"""

import dataclasses
import os

import cocotb

from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig
from mmsched.sim.rtl.cocotb import (
    AcceleratorDriver,
    AcceleratorScoreboard,
    JobResult,
    SchedulerDriver,
    SchedulerScoreboard,
    load_config,
    make_rng,
    random_commands,
    random_gemm,
)

CONFIG = load_config(os.environ["MMSCHED_TB_CONFIG"])
SEED = int(os.environ.get("TB_SEED", "1"))
OFFSET = int(os.environ.get("TB_EXPECT_OFFSET", "0"))


def count(default: int) -> int:
    return int(os.environ.get("TB_COUNT", default))


@cocotb.test(skip=not isinstance(CONFIG, AcceleratorConfig))
async def accelerator_random_gemms(dut):
    """Random sparse GEMMs, one job each: outputs vs numpy, done records vs the exact cycle
    model."""
    tb = AcceleratorDriver(dut, CONFIG)
    sb = AcceleratorScoreboard(CONFIG)
    rng = make_rng(SEED)
    await tb.start()
    for i in range(count(20)):
        job = random_gemm(CONFIG, rng)
        await tb.load(job.image)  # the activation and weight memories
        await tb.send(job.image.command)  # start the job
        done = await tb.recv()  # its done record (cycles, monitor counts, ...)
        words = await tb.read(addr for addr, _row, _col in job.image.out)
        expected = sb.expect(job)
        expected.done["cycles"] += OFFSET
        sb.compare(expected, JobResult(done.fields, words, done.span), job.image,
                   where=f"seed {SEED} GEMM {i} (cycle {tb.cycle})")
    dut._log.info("%d GEMMs equal to numpy and the exact cycle model", sb.checked)


@cocotb.test(skip=not isinstance(CONFIG, SchedulerConfig))
async def scheduler_random_commands(dut):
    """A random command sequence: every response (value and cycle) vs the twin."""
    tb = SchedulerDriver(dut)
    sb = SchedulerScoreboard(CONFIG)
    await tb.start()
    for gap, word in random_commands(CONFIG, SEED, count(200)):
        await tb.send(word, gap)
        got = await tb.recv()
        expected = sb.expect(word, gap)
        expected = dataclasses.replace(expected, resp_cycle=expected.resp_cycle + OFFSET)
        sb.compare(expected, got, word=word, where=f"seed {SEED}")
    dut._log.info("%d responses equal to the twin's (%d cycles)", sb.checked, tb.cycle)
