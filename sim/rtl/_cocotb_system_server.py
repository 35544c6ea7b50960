"""cocotb test that serves the host side of `DystaSystem` over a UNIX socket (private).

Started by `mmsched.sim.rtl.icarus.IcarusSystemSession` inside the RTL simulator (one
accelerator, ``acc0``). Protocol: one JSON object per line each way; requests ``{"k": "issue",
"w": word}``, ``{"k": "write", "act": [port values], "wt": [port values]}``, ``{"k": "job",
"w": tagged job word, "take": bool}``, ``{"k": "release"}``, ``{"k": "read", "a": [addrs]}``
and ``{"k": "quit"}``; answers carry the simulation cycle ``c``. Inputs are set after a falling
edge and the outputs sampled then; the next falling edge ends the cycle (the conventions of
the Amaranth session and the C harness). Cycles count from the first cycle after reset.
"""

from __future__ import annotations

import json
import os
import socket

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge


def _int(v) -> int:
    return int(v) if v.is_resolvable else -1  # X/Z: never a valid value


@cocotb.test()
async def serve(dut):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.environ["MMSCHED_COSIM_SOCKET"])
    f = sock.makefile("rwb")
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.host_cmd__valid.value = 0
    dut.host_resp__ready.value = 1
    dut.acc0_act_wr.value = 0
    dut.acc0_wt_wr.value = 0
    dut.acc0_job__valid.value = 0
    dut.acc0_done__ready.value = 0
    dut.acc0_out_rd_addr.value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    cycle = 0

    async def tick():
        nonlocal cycle
        await FallingEdge(dut.clk)
        cycle += 1

    async def response() -> dict:
        while _int(dut.host_resp__valid.value) != 1:
            await tick()
        out = {"c": cycle, "now": _int(dut.now.value),
               "p": _int(dut.host_resp__payload.value)}
        await tick()
        out["sent"] = _int(dut.sent.value)
        return out

    try:
        while True:
            line = f.readline()
            if not line:
                break
            req = json.loads(line)
            k = req["k"]
            if k == "quit":
                break
            if k == "issue":
                dut.host_cmd__payload.value = req["w"]
                dut.host_cmd__valid.value = 1
                # ready does not depend on valid (the system's arbiter): sampled at once
                while _int(dut.host_cmd__ready.value) != 1:
                    await tick()
                await tick()
                dut.host_cmd__valid.value = 0
                ans = await response()
            elif k == "write":
                for v in req["act"]:
                    dut.acc0_act_wr.value = v
                    await tick()
                dut.acc0_act_wr.value = 0
                for v in req["wt"]:
                    dut.acc0_wt_wr.value = v
                    await tick()
                dut.acc0_wt_wr.value = 0
                ans = {"c": cycle}
            elif k == "job":
                dut.acc0_job__payload.value = req["w"]
                dut.acc0_job__valid.value = 1
                while _int(dut.acc0_job__ready.value) != 1:
                    await tick()
                await tick()
                dut.acc0_job__valid.value = 0
                while _int(dut.acc0_done__valid.value) != 1:
                    await tick()
                ans = {"c": cycle, "done": _int(dut.acc0_done__payload.value)}
                if req["take"]:
                    dut.acc0_done__ready.value = 1
                    await tick()
                    dut.acc0_done__ready.value = 0
            elif k == "release":
                dut.acc0_done__ready.value = 1
                await tick()
                dut.acc0_done__ready.value = 0
                ans = await response()
            elif k == "read":
                words = []
                for a in req["a"]:
                    dut.acc0_out_rd_addr.value = a
                    await tick()
                    words.append(_int(dut.acc0_out_rd_data.value))
                ans = {"c": cycle, "words": words}
            else:
                raise ValueError(f"unknown request {k!r}")
            f.write((json.dumps(ans) + "\n").encode())
            f.flush()
    finally:
        f.close()
        sock.close()
