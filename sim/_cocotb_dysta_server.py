"""cocotb test that serves Dysta scheduler command words over a UNIX socket (private).

Started by `mmsched.sim.cosim.IcarusSession` inside the RTL simulator. Protocol, one line
each way: ``<word hex> <gap>`` -> ``<accept cycle> <response cycle> <response hex>``; ``Q``
ends the session. Cycles count from the first cycle after reset (counter value 0), the same
convention as the twin's.
"""

from __future__ import annotations

import os
import socket

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge


@cocotb.test()
async def serve(dut):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.environ["MMSCHED_COSIM_SOCKET"])
    f = sock.makefile("rwb")
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.resp__ready.value = 1
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    cycle = 0
    try:
        while True:
            line = f.readline()
            if not line or line.strip() == b"Q":
                break
            word_hex, gap = line.split()
            for _ in range(int(gap)):
                await FallingEdge(dut.clk)
                cycle += 1
            dut.cmd__payload.value = int(word_hex, 16)
            dut.cmd__valid.value = 1
            while not int(dut.cmd__ready.value):
                await FallingEdge(dut.clk)
                cycle += 1
            accept = cycle
            await FallingEdge(dut.clk)
            cycle += 1
            dut.cmd__valid.value = 0
            while not int(dut.resp__valid.value):
                await FallingEdge(dut.clk)
                cycle += 1
            raw = dut.resp__payload.value
            payload = int(raw) if raw.is_resolvable else (1 << 80) - 1  # X: never a valid word
            f.write(f"{accept} {cycle} {payload:x}\n".encode())
            f.flush()
            await FallingEdge(dut.clk)
            cycle += 1
    finally:
        f.close()
        sock.close()
