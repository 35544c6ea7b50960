"""cocotb test module: random GEMMs on the generated Verilog of the accelerator top.

Run by tests/hw/accel/test_cocotb_icarus.py (cocotb_tools.runner); the configuration comes
as JSON in ``MMSCHED_ACCEL_CONFIG`` (built from the same `AcceleratorConfig` object as the
Verilog), the seed and GEMM count in ``MMSCHED_SEED`` / ``MMSCHED_GEMMS``. Results are checked
against numpy, every job's done record against the exact cycle model, and the accept-to-done
span measured here against the record's ``cycles``.
"""

import json
import os

import cocotb
import numpy as np

from mmsched.hw.cyclemodel.cycles import job_counters, kept_columns
from mmsched.hw.cyclemodel.host import decode_outputs, job_image, operands, reference
from mmsched.hw.spec import AcceleratorConfig, plan_split
from mmsched.sim._cocotb_accel import AccelTB


@cocotb.test()
async def random_gemms(dut):
    cfg = AcceleratorConfig.from_dict(json.loads(os.environ["MMSCHED_ACCEL_CONFIG"]))
    seed = int(os.environ.get("MMSCHED_SEED", "0"))
    count = int(os.environ.get("MMSCHED_GEMMS", "10"))
    rng = np.random.default_rng(seed)
    tb = AccelTB(dut, cfg)
    await tb.start()
    done_jobs = 0
    while done_jobs < count:
        m, n, k = (int(x) for x in rng.integers(1, 3 * cfg.rows + 2, size=3))
        if sum(len(cuts) for cuts in plan_split(cfg, m, n, k)) != 6:
            continue  # one job per GEMM here; tiling across jobs is the backends' test
        da, dw = (float(x) for x in rng.choice([0.0, 0.25, 0.6, 1.0], size=2))
        am = rng.random((m, k)) < da
        wm = rng.random((k, n)) < dw
        a, b = operands(cfg, am, wm, rng)
        keep = kept_columns(wm)  # the host maps only kept weight columns
        b, wm = b[:, keep], wm[:, keep]
        img = job_image(cfg, a, b)
        done, words, span = await tb.run_job(img)
        msg = f"seed {seed} gemm {done_jobs} (M={m} N={n} K={k}) at cycle {tb.cycle}"
        got = decode_outputs(cfg, img, words)
        assert np.array_equal(got, reference(cfg, a, b)), msg
        ref = job_counters(cfg, am, wm)
        assert done == {f: getattr(ref, f) for f in done}, f"{msg}: {done} != {ref}"
        assert span == done["cycles"], msg
        done_jobs += 1
