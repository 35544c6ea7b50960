"""The accelerator top in Amaranth's simulator: random GEMMs, results vs numpy, the done
record vs the exact cycle model, and the measured accept-to-done span vs ``cycles``."""

import dataclasses

import numpy as np
import pytest

from mmsched.hw.accel import Accelerator
from mmsched.hw.cyclemodel.cycles import layer_counters
from mmsched.hw.cyclemodel.host import operands, reference
from mmsched.hw.spec import JOB_OVERHEAD_CYCLES, AcceleratorConfig
from mmsched.sim.rtl.amaranth import AmaranthDriver
from mmsched.sim.rtl.backend import run_gemm

CFG = AcceleratorConfig(rows=3, cols=5, chunk_depth=4, pe_buffer_depth=4, load_rows_per_cycle=3,
                        max_k=16, acc_width=24, act_mem_words=6, wt_mem_words=10,
                        out_mem_words=30)


@pytest.mark.parametrize("dense", [False, True])
def test_top_random_gemms_equal_model(dense):
    cfg = dataclasses.replace(CFG, dense=dense)
    drv = AmaranthDriver(cfg)
    seed = 11 + dense
    rng = np.random.default_rng(seed)
    for t in range(12):
        m, n, k = (int(x) for x in rng.integers(1, 14, size=3))
        da, dw = (float(x) for x in rng.choice([0.0, 0.3, 0.7, 1.0], size=2))
        am = rng.random((1, m, k)) < da
        wm = rng.random((1, k, n)) < dw
        a, b = operands(cfg, am, wm, rng)
        spans_before = len(drv.job_spans)
        done, res = run_gemm(cfg, drv, a, b)
        msg = f"seed {seed} gemm {t} (M={m} N={n} K={k})"
        assert np.array_equal(res, reference(cfg, a, b)), msg
        ref = layer_counters(cfg, am, wm)
        got = tuple(done[f] for f in ("cycles", "nnz", "total", "macs", "act_reads",
                                      "wt_reads", "out_writes"))
        assert got == (ref.cycles, ref.nnz, ref.total, ref.macs, ref.act_reads, ref.wt_reads,
                       ref.out_writes), msg
        spans = drv.job_spans[spans_before:]
        assert len(spans) == ref.jobs, msg
        # measured accept-to-done spans = the model's tile cycles + the top's stated latency
        tile_cycles = ref.cycles - ref.jobs * JOB_OVERHEAD_CYCLES
        assert sum(e - a for a, e in spans) == tile_cycles + ref.jobs * drv.dut.latency, msg


def test_latency_is_job_overhead():
    assert Accelerator.latency == JOB_OVERHEAD_CYCLES


def test_top_rejects_bad_config():
    with pytest.raises(ValueError, match="AcceleratorConfig"):
        Accelerator(config=None)
