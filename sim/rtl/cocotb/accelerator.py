"""`AcceleratorDriver`: drives the accelerator top's ports (as Amaranth names them: ``clk``,
``rst``, ``cmd__valid/ready/payload``, ``done__valid/ready/payload``, ``act_wr``, ``wt_wr``,
``out_rd_addr``, ``out_rd_data``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

from mmsched.hw.cyclemodel.host import JobImage, pack_act_write, pack_wt_write, unpack_done
from mmsched.hw.spec import AcceleratorConfig


@dataclass(frozen=True)
class DoneRecord:
    """A job's done record (``fields``: `mmsched.hw.spec.DONE_FIELDS` -> value) and the
    accept-to-done ``span`` the driver measured (cycles; equals ``fields["cycles"]``)."""

    fields: dict[str, int]
    span: int


@dataclass(frozen=True)
class JobResult:
    """What `AcceleratorDriver.run_job` returns: the done record's fields, the output words
    read (address -> word) and the measured span."""

    done: dict[str, int]
    words: dict[int, int]
    span: int


class AcceleratorDriver:
    """Drives one accelerator top (`mmsched.hw.accel.Accelerator`'s generated Verilog).

    Parameters
    ----------
    dut : the cocotb handle of the top
    config : AcceleratorConfig
        The configuration the Verilog was generated from (`load_config`).
    period_ns : int
        Clock period.

    ``cycle`` counts falling clock edges since `start`; inputs change after a falling edge,
    outputs are sampled in the read-only phase before the next rising edge. A job is
    ``await load(image)``, ``await send(image.command)``, ``await recv()``,
    ``await read(...)`` (`run_job`); the memories must not be written while a job runs.
    """

    def __init__(self, dut, config: AcceleratorConfig, *, period_ns: int = 10) -> None:
        self.dut = dut
        self.config = config
        self.period_ns = period_ns
        self.cycle = 0
        self._accept: int | None = None

    async def start(self, reset_cycles: int = 2) -> None:
        """Start the clock and hold reset for ``reset_cycles``; all inputs idle."""
        dut = self.dut
        Clock(dut.clk, self.period_ns, unit="ns").start()
        for sig in (dut.cmd__valid, dut.done__ready, dut.act_wr, dut.wt_wr, dut.out_rd_addr,
                    dut.cmd__payload):
            sig.value = 0
        dut.rst.value = 1
        for _ in range(reset_cycles):
            await self.next_cycle()
        dut.rst.value = 0

    async def next_cycle(self) -> None:
        await FallingEdge(self.dut.clk)
        self.cycle += 1

    async def load(self, image: JobImage) -> None:
        """Write a job's activation words (``image.act``: bank, addr, word) and weight words
        (``image.wt``: addr, word), one per cycle."""
        dut, cfg = self.dut, self.config
        await self.next_cycle()
        for bank, addr, word in image.act:
            dut.act_wr.value = pack_act_write(cfg, bank, addr, word)
            await self.next_cycle()
        dut.act_wr.value = 0
        for addr, word in image.wt:
            dut.wt_wr.value = pack_wt_write(cfg, addr, word)
            await self.next_cycle()
        dut.wt_wr.value = 0

    async def send(self, command: int) -> int:
        """Issue a job command (`mmsched.hw.cyclemodel.host.pack_command`); returns the cycle
        the accelerator accepted it."""
        dut = self.dut
        dut.cmd__payload.value = command
        dut.cmd__valid.value = 1
        while True:
            await ReadOnly()
            if dut.cmd__ready.value:
                break
            await self.next_cycle()
        self._accept = accept = self.cycle
        await self.next_cycle()
        dut.cmd__valid.value = 0
        return accept

    async def recv(self) -> DoneRecord:
        """Wait for the running job's done record and take it."""
        dut = self.dut
        if self._accept is None:
            raise RuntimeError("recv() without a job sent")
        dut.done__ready.value = 1
        while True:
            await ReadOnly()
            if dut.done__valid.value:
                break
            await self.next_cycle()
        span = self.cycle - self._accept
        self._accept = None
        fields = unpack_done(int(dut.done__payload.value))
        await self.next_cycle()
        dut.done__ready.value = 0
        return DoneRecord(fields, span)

    async def read(self, addrs: Iterable[int]) -> dict[int, int]:
        """Read output words (synchronous memory: the word arrives the cycle after its
        address)."""
        dut = self.dut
        words: dict[int, int] = {}
        for addr in addrs:
            dut.out_rd_addr.value = addr
            await self.next_cycle()  # the rising edge in between reads the word
            await ReadOnly()
            words[addr] = int(dut.out_rd_data.value)
            await self.next_cycle()
        return words

    async def run_job(self, image: JobImage) -> JobResult:
        """Write the memories, run the command, read the outputs."""
        await self.load(image)
        await self.send(image.command)
        done = await self.recv()
        words = await self.read(addr for addr, _row, _n0 in image.out)
        return JobResult(done.fields, words, done.span)
