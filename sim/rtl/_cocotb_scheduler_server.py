"""cocotb test that serves Dysta scheduler command words over a UNIX socket (private).

Started by `mmsched.sim.rtl.icarus.IcarusSession` inside the RTL simulator; drives the DUT
with the kit's `SchedulerDriver`. Protocol, one line each way: ``<word hex> <gap>`` ->
``<accept cycle> <response cycle> <response hex>`` (X/Z bits: all ones, never a valid
response); ``Q`` ends the session. Cycles count from the first cycle after reset (counter
value 0), the twin's convention.
"""

from __future__ import annotations

import os
import socket

import cocotb

from mmsched.sim.rtl.cocotb import SchedulerDriver, XResponse


@cocotb.test()
async def serve(dut):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.environ["MMSCHED_COSIM_SOCKET"])
    f = sock.makefile("rwb")
    tb = SchedulerDriver(dut, max_wait=None)
    await tb.start()
    try:
        while True:
            line = f.readline()
            if not line or line.strip() == b"Q":
                break
            word_hex, gap = line.split()
            accept = await tb.send(int(word_hex, 16), int(gap))
            try:
                r = await tb.recv()
                ans = f"{accept} {r.resp_cycle} {r.op} {r.status} {r.slot} {r.value}"
            except XResponse:
                ans = f"X {accept} {tb.cycle - 1}"
            f.write(f"{ans}\n".encode())
            f.flush()
    finally:
        f.close()
        sock.close()
