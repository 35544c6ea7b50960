"""`SchedulerDriver`: drives the Dysta scheduler's command/response stream (ports ``clk``,
``rst``, ``cmd__valid/ready/payload``, ``resp__valid/ready/payload``, ``now``)."""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from mmsched.hw.cyclemodel.dysta_sched import TwinResponse
from mmsched.hw.spec import unpack_dysta_resp


class XResponse(AssertionError):
    """The scheduler's response payload had X or Z bits."""

    def __init__(self, message: str, raw) -> None:
        super().__init__(message)
        self.raw = raw


class SchedulerDriver:
    """Drives one Dysta scheduler (`mmsched.hw.dysta.DystaScheduler`'s generated Verilog).

    Parameters
    ----------
    dut : the cocotb handle of the top
    period_ns : int
        Clock period.
    max_wait : int or None
        Cycles `recv` waits for a response before raising AssertionError (None: forever).

    ``cycle`` counts cycles from the reset's release (the scheduler's counter ``now`` is 0
    then), the convention of the twin (`SchedulerScoreboard`): a response's
    ``accept_cycle`` and ``resp_cycle`` compare equal to the twin's. Responses are always
    taken (``resp__ready`` high).
    """

    def __init__(self, dut, *, period_ns: int = 10, max_wait: int | None = 1000) -> None:
        self.dut = dut
        self.period_ns = period_ns
        self.max_wait = max_wait
        self.cycle = 0
        self._accept: int | None = None
        self._word: int | None = None

    async def start(self, reset_cycles: int = 3) -> None:
        """Start the clock and hold reset for ``reset_cycles``; ``cycle`` is 0 after it."""
        dut = self.dut
        cocotb.start_soon(Clock(dut.clk, self.period_ns, unit="ns").start())
        dut.rst.value = 1
        dut.cmd__valid.value = 0
        dut.resp__ready.value = 1
        for _ in range(reset_cycles):
            await FallingEdge(dut.clk)
        dut.rst.value = 0
        self.cycle = 0

    async def tick(self, cycles: int = 1) -> None:
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
            self.cycle += 1

    async def send(self, word: int, gap: int = 0) -> int:
        """Wait ``gap`` idle cycles, then issue command ``word`` (`mmsched.hw.spec.
        pack_dysta_cmd`); returns the cycle it was accepted."""
        dut = self.dut
        await self.tick(gap)
        dut.cmd__payload.value = word
        dut.cmd__valid.value = 1
        while not int(dut.cmd__ready.value):
            await self.tick()
        self._accept, self._word = self.cycle, word
        await self.tick()
        dut.cmd__valid.value = 0
        return self._accept

    async def recv(self) -> TwinResponse:
        """Wait for the response to the command sent; XResponse if it has X/Z bits."""
        dut = self.dut
        if self._accept is None:
            raise RuntimeError("recv() without a command sent")
        accept, word = self._accept, self._word
        self._accept = self._word = None
        while not int(dut.resp__valid.value):
            await self.tick()
            if self.max_wait is not None and self.cycle - accept >= self.max_wait:
                raise AssertionError(f"cycle {self.cycle}: no response to command "
                                     f"{word:#x} within {self.max_wait} cycles")
        cycle = self.cycle
        raw = dut.resp__payload.value
        await self.tick()
        if not raw.is_resolvable:
            raise XResponse(f"cycle {cycle}: the response to command {word:#x} has X/Z "
                            f"bits: {raw}", raw)
        r = unpack_dysta_resp(int(raw))
        return TwinResponse(accept, cycle, r["op"], r["status"], r["slot"], r["value"])

    async def issue(self, word: int, gap: int = 0) -> TwinResponse:
        """`send` then `recv`."""
        await self.send(word, gap)
        return await self.recv()
