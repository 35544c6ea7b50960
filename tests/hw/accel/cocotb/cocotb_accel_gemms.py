"""cocotb test module: random GEMMs on the generated Verilog of the accelerator top, with the
testbench kit (`mmsched.sim.rtl.cocotb`).

Run by tests/hw/accel/test_cocotb_icarus.py; the configuration comes as JSON in
``MMSCHED_ACCEL_CONFIG`` (built from the same `AcceleratorConfig` object as the Verilog), the
seed and GEMM count in ``MMSCHED_SEED`` / ``MMSCHED_GEMMS``. The scoreboard checks results
against numpy, every job's done record against the exact cycle model, and the accept-to-done
span measured by the driver against the record's ``cycles``.
"""

import os

import cocotb

from mmsched.sim.rtl.cocotb import (
    AcceleratorDriver,
    AcceleratorScoreboard,
    load_config,
    make_rng,
    random_gemm,
)


@cocotb.test()
async def random_gemms(dut):
    cfg = load_config(os.environ["MMSCHED_ACCEL_CONFIG"])
    seed = int(os.environ.get("MMSCHED_SEED", "0"))
    count = int(os.environ.get("MMSCHED_GEMMS", "10"))
    rng = make_rng(seed)
    tb = AcceleratorDriver(dut, cfg)
    sb = AcceleratorScoreboard(cfg)
    await tb.start()
    for i in range(count):
        job = random_gemm(cfg, rng)
        result = await tb.run_job(job.image)
        sb.check(job, result, where=f"seed {seed} gemm {i} at cycle {tb.cycle}")
    assert sb.checked == count
