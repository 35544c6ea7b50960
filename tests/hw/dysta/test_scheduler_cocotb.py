"""The generated Verilog of DystaScheduler on Icarus (cocotb, the testbench kit) vs the twin."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from mmsched.hw.spec import SchedulerConfig

HERE = Path(__file__).resolve().parent


def run_icarus(cfg: SchedulerConfig, seed: int, count: int) -> None:
    from mmsched.sim.rtl.icarus import run_test

    tests, fails = run_test("scheduler", cfg, test_module="dysta_sched_tb",
                            test_dir=HERE / "cocotb_tb",
                            extra_env={"DYSTA_CONFIG": json.dumps(dataclasses.asdict(cfg)),
                                       "DYSTA_SEED": str(seed), "DYSTA_COUNT": str(count)})
    assert (tests, fails) == (1, 0)


needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None,
                                  reason="Icarus Verilog not installed (make deps-system)")


@pytest.mark.rtl
@needs_icarus
@pytest.mark.parametrize("cfg,seed,count", [
    (SchedulerConfig(slots=16, models=3, patterns=2, layers=5, predictor="avg",
                     wait_shift=4, fair_shift=-3), 11, 600),
    (SchedulerConfig(slots=7, models=2, patterns=1, layers=4, predictor="last-one",
                     beta=0.25, wait_shift=0, fair_shift=3), 12, 400),
    (SchedulerConfig(slots=1, models=1, patterns=1, layers=3), 13, 150),
], ids=["S16-avg", "S7-last-one", "S1"])
def test_icarus_matches_twin(cfg, seed, count):
    run_icarus(cfg, seed, count)


@pytest.mark.rtl
@pytest.mark.slow
@needs_icarus
def test_icarus_matches_twin_s64():
    cfg = SchedulerConfig(slots=64, models=3, patterns=2, layers=5, wait_shift=2,
                          fair_shift=-4)
    run_icarus(cfg, 21, 1500)
