"""The ``icarus`` timing backend: the generated Verilog in Icarus Verilog under cocotb.

Each call launches one simulation that runs the layer's jobs back to back (the
`mmsched.sim._cocotb_accel` job server), so the build and start-up cost (~1 s) is paid once per
call, not per job. Slow (thousands of cycles per second): for checks, not experiments.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mmsched.hw.cyclemodel.host import JobImage
from mmsched.hw.paths import build_dir
from mmsched.hw.spec import AcceleratorConfig

from . import register_backend
from ._rtl import RtlBackend


class CocotbDriver:
    """Runs batches of jobs in one cocotb simulation per call (``simulator``: icarus or
    verilator). ``cycles``: simulated cycles of all calls so far."""

    def __init__(self, cfg: AcceleratorConfig, *, simulator: str = "icarus",
                 waves: bool = False) -> None:
        from cocotb_tools.runner import get_runner

        from mmsched.hw.accel.build import (
            TOP_NAME,
                        icarus_verilog,
            rtl_hash,
            write_verilog,
        )

        self.cfg = cfg
        self.simulator = simulator
        self.waves = waves
        self.cycles = 0
        self.job_spans: list[int] = []
        vpath = write_verilog(cfg)
        if simulator == "icarus":
            vpath = icarus_verilog(vpath)
        self.build_dir = build_dir() / f"{simulator}_{rtl_hash(cfg)}"
        self.runner = get_runner(simulator)
        self.runner.build(sources=[vpath], hdl_toplevel=TOP_NAME, build_dir=self.build_dir,
                          timescale=("1ns", "1ps"), always=False, waves=waves,
                          build_args=["-Wno-fatal"] if simulator == "verilator" else [])

    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]:
        from cocotb_tools.runner import get_results

        from mmsched.hw.accel.build import TOP_NAME
        from mmsched.sim._cocotb_accel import image_to_json

        with tempfile.TemporaryDirectory(dir=self.build_dir) as tmp:
            jobs = Path(tmp) / "jobs.json"
            res = Path(tmp) / "results.json"
            jobs.write_text(json.dumps({"config": self.cfg.to_dict(),
                                        "jobs": [image_to_json(i) for i in images]}))
            xml = self.runner.test(hdl_toplevel=TOP_NAME, test_module="mmsched.sim._cocotb_accel",
                                   test_dir=tmp, build_dir=self.build_dir, waves=self.waves,
                                   extra_env={"MMSCHED_JOBS": str(jobs),
                                              "MMSCHED_RESULTS": str(res),
                                              "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
                                   results_xml=str(Path(tmp) / "results.xml"),
                                   log_file=Path(tmp) / "sim.log")
            _, fails = get_results(xml)
            if fails or not res.exists():
                log = (Path(tmp) / "sim.log").read_text()[-4000:]
                raise RuntimeError(f"{self.simulator} job server failed:\n{log}")
            data = json.loads(res.read_text())
        self.cycles += data["cycles"]
        out = []
        for r in data["results"]:
            self.job_spans.append(r["span"])
            out.append((r["done"], {int(k): v for k, v in r["words"].items()}))
        return out


class IcarusBackend(RtlBackend):
    name = "icarus"

    def make_driver(self, cfg: AcceleratorConfig, **options) -> CocotbDriver:
        return CocotbDriver(cfg, simulator="icarus", **options)


@register_backend("icarus")
def _make(**kwargs) -> IcarusBackend:
    return IcarusBackend(**kwargs)
