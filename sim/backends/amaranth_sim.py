"""The ``amaranth`` timing backend: the accelerator RTL in Amaranth's Python simulator.

Slow (about a thousand cycles per second at 8x8): for unit tests and small checks; use
``verilator`` for whole layers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from mmsched.hw.cyclemodel.host import JobImage, unpack_done
from mmsched.hw.spec import AcceleratorConfig

from . import register_backend
from ._rtl import RtlBackend


class AmaranthDriver:
    """Runs jobs on one `Accelerator` in one Amaranth `Simulator` whose state persists across
    calls, as in hardware: one testbench serves a queue of jobs and the driver advances the
    simulation until the queued jobs are done.

    Parameters
    ----------
    cfg : AcceleratorConfig
    vcd : str, optional
        Write a waveform of everything simulated until `close`.
    """

    def __init__(self, cfg: AcceleratorConfig, *, vcd: str | None = None) -> None:
        # imported here: registering the backend must not cost every user an Amaranth import
        from amaranth.sim import Simulator

        from mmsched.hw.accel import Accelerator

        self.cfg = cfg
        self.dut = Accelerator(config=cfg)
        self.sim = Simulator(self.dut)
        self.sim.add_clock(1e-8)
        self.cycle = 0
        self.job_spans: list[tuple[int, int]] = []  # (accept cycle, done-valid cycle)
        self._queue: list[JobImage] = []
        self._results: list[tuple[dict, dict[int, int]]] = []
        self._stack = contextlib.ExitStack()
        if vcd:
            self._stack.enter_context(self.sim.write_vcd(vcd))
        self.sim.add_testbench(self._serve, background=True)

    @property
    def cycles(self) -> int:
        """Cycles simulated so far (memory writes, jobs, reads and idle cycles)."""
        return self.cycle

    def close(self) -> None:
        self._stack.close()

    async def _tick(self, ctx) -> None:
        await ctx.tick()
        self.cycle += 1

    async def _serve(self, ctx) -> None:
        dut = self.dut
        while True:
            if not self._queue:
                await self._tick(ctx)
                continue
            img = self._queue.pop(0)
            for bank, addr, word in img.act:
                ctx.set(dut.act_wr.en, 1)
                ctx.set(dut.act_wr.bank, bank)
                ctx.set(dut.act_wr.addr, addr)
                ctx.set(dut.act_wr.data.as_value(), word)
                await self._tick(ctx)
            ctx.set(dut.act_wr.en, 0)
            for addr, word in img.wt:
                ctx.set(dut.wt_wr.en, 1)
                ctx.set(dut.wt_wr.addr, addr)
                ctx.set(dut.wt_wr.data.as_value(), word)
                await self._tick(ctx)
            ctx.set(dut.wt_wr.en, 0)
            ctx.set(dut.cmd.payload.as_value(), img.command)
            ctx.set(dut.cmd.valid, 1)
            while not ctx.get(dut.cmd.ready):
                await self._tick(ctx)
            accept = self.cycle
            await self._tick(ctx)
            ctx.set(dut.cmd.valid, 0)
            ctx.set(dut.done.ready, 1)
            while not ctx.get(dut.done.valid):
                await self._tick(ctx)
            self.job_spans.append((accept, self.cycle))
            done = unpack_done(ctx.get(dut.done.payload.as_value()))
            await self._tick(ctx)
            ctx.set(dut.done.ready, 0)
            words = {}
            for addr, _row, _n0 in img.out:
                ctx.set(dut.out_rd_addr, addr)
                await self._tick(ctx)
                words[addr] = ctx.get(dut.out_rd_data.as_value())
            self._results.append((done, words))

    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]:
        want = len(self._results) + len(images)
        start = len(self._results)
        self._queue.extend(images)
        while len(self._results) < want:
            self.sim.advance()
        return self._results[start:want]


class AmaranthBackend(RtlBackend):
    name = "amaranth"

    def make_driver(self, cfg: AcceleratorConfig, **options) -> AmaranthDriver:
        return AmaranthDriver(cfg, **options)


@register_backend("amaranth")
def _make(**kwargs) -> AmaranthBackend:
    return AmaranthBackend(**kwargs)
