"""cocotb + Icarus Verilog on the generated Verilog of the accelerator top (the testbench kit's
`AcceleratorDriver` and `AcceleratorScoreboard`, tests/hw/accel/cocotb/)."""

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from mmsched.hw.spec import AcceleratorConfig

pytestmark = pytest.mark.rtl

CFG = AcceleratorConfig(rows=3, cols=5, chunk_depth=4, pe_buffer_depth=4, load_rows_per_cycle=3,
                        max_k=32, acc_width=24, act_mem_words=16, wt_mem_words=32,
                        out_mem_words=64)


def _run(cfg, seed, gemms):
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not installed (make deps-system)")
    from mmsched.sim.rtl.icarus import run_test

    tests, fails = run_test("accelerator", cfg, test_module="cocotb_accel_gemms",
                            test_dir=Path(__file__).parent / "cocotb",
                            extra_env={"MMSCHED_ACCEL_CONFIG": json.dumps(cfg.to_dict()),
                                       "MMSCHED_SEED": str(seed),
                                       "MMSCHED_GEMMS": str(gemms)})
    assert (tests, fails) == (1, 0)


def test_icarus_random_gemms_sparse():
    _run(CFG, seed=5, gemms=12)


def test_icarus_random_gemms_dense_mode():
    _run(dataclasses.replace(CFG, dense=True), seed=6, gemms=6)


def test_icarus_1x1():
    cfg = AcceleratorConfig(rows=1, cols=1, chunk_depth=1, pe_buffer_depth=1,
                            load_rows_per_cycle=1, max_k=8, acc_width=24, act_mem_words=16,
                            wt_mem_words=16, out_mem_words=16)
    _run(cfg, seed=7, gemms=6)
