"""cocotb test that runs a batch of accelerator jobs for `mmsched.sim.rtl.icarus.IcarusDriver`
(private).

Reads ``MMSCHED_JOBS`` (JSON: the configuration and the job images), runs the jobs back to
back with the kit's `AcceleratorDriver` and writes ``MMSCHED_RESULTS`` (JSON: per job the done
record, the output words and the measured accept-to-done span; the cycles simulated).
"""

from __future__ import annotations

import json
import os

import cocotb

from mmsched.hw.cyclemodel.host import JobImage
from mmsched.hw.paths import atomic_write
from mmsched.hw.spec import AcceleratorConfig
from mmsched.sim.rtl.cocotb import AcceleratorDriver


def image_to_json(img: JobImage) -> dict:
    return {"act": img.act, "wt": img.wt, "command": img.command, "out": img.out,
            "m": img.m, "n": img.n}


def image_from_json(d: dict) -> JobImage:
    return JobImage(act=[tuple(x) for x in d["act"]], wt=[tuple(x) for x in d["wt"]],
                    command=d["command"], out=[tuple(x) for x in d["out"]], m=d["m"], n=d["n"])


@cocotb.test()
async def serve_jobs(dut):
    """Run the jobs of ``MMSCHED_JOBS`` and write ``MMSCHED_RESULTS``."""
    with open(os.environ["MMSCHED_JOBS"]) as f:
        req = json.load(f)
    tb = AcceleratorDriver(dut, AcceleratorConfig.from_dict(req["config"]))
    await tb.start()
    out = []
    for d in req["jobs"]:
        r = await tb.run_job(image_from_json(d))
        out.append({"done": r.done, "words": {str(k): v for k, v in r.words.items()},
                    "span": r.span})
    atomic_write(os.environ["MMSCHED_RESULTS"],
                 json.dumps({"results": out, "cycles": tb.cycle}))
