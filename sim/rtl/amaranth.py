"""Amaranth's Python simulator: the accelerator, the scheduler and the system tops in-process.

- `AmaranthDriver`: the accelerator (`mmsched.hw.accel.Accelerator`); runs jobs
  (``run_jobs``) for the ``amaranth`` timing backend. About a thousand cycles per second at
  8x8: for unit tests and small checks.
- `AmaranthSession`: the Dysta scheduler (``issue(word, gap)``), served from a worker thread
  (the simulator owns its main loop; requests and answers go through queues).
- `AmaranthSystemSession`: the integrated system top (host primitives ``issue``, ``write``,
  ``job``, ``release``, ``read``), likewise.

No build: the components are elaborated in this process (Amaranth is imported on first use).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence
from typing import Any

from mmsched.hw.cyclemodel.dysta_sched import TwinResponse
from mmsched.hw.cyclemodel.host import JobImage, pack_act_write, pack_wt_write, unpack_done
from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig, unpack_dysta_resp

from ._system import HostResponse, decode_sent

# --- the accelerator ---------------------------------------------------------------------------


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


# --- the scheduler -----------------------------------------------------------------------------


class AmaranthSession:
    """`DystaScheduler` on Amaranth's simulator, served from a worker thread.

    Parameters
    ----------
    config : SchedulerConfig
    vcd_path : str or None
        Write a VCD of the whole session (keep sessions short when you do).
    """

    name = "amaranth"

    def __init__(self, config: SchedulerConfig, *, vcd_path: str | None = None) -> None:
        from amaranth.sim import Simulator

        from mmsched.hw.dysta import DystaScheduler

        self.config = config
        self._req: queue.Queue = queue.Queue()
        self._resp: queue.Queue = queue.Queue()
        dut = DystaScheduler(config=config)
        req, resp = self._req, self._resp

        async def serve(ctx):
            ctx.set(dut.resp.ready, 1)
            cycle = 0
            while True:
                item = req.get()
                if item is None:
                    return
                word, gap = item
                for _ in range(gap):
                    await ctx.tick()
                    cycle += 1
                ctx.set(dut.cmd.payload.as_value(), word)
                ctx.set(dut.cmd.valid, 1)
                while not ctx.get(dut.cmd.ready):
                    await ctx.tick()
                    cycle += 1
                accept = cycle
                await ctx.tick()
                cycle += 1
                ctx.set(dut.cmd.valid, 0)
                while not ctx.get(dut.resp.valid):
                    await ctx.tick()
                    cycle += 1
                r = unpack_dysta_resp(ctx.get(dut.resp.payload.as_value()))
                resp.put(TwinResponse(accept, cycle, r["op"], r["status"], r["slot"],
                                      r["value"]))
                await ctx.tick()
                cycle += 1

        sim = Simulator(dut)
        sim.add_clock(1e-9)
        sim.add_testbench(serve)

        self._thread = start_simulation(sim, resp, vcd_path=vcd_path, name="amaranth-dysta")

    def issue(self, word: int, gap: int = 0) -> TwinResponse:
        self._req.put((word, gap))
        r = self._resp.get()
        if isinstance(r, BaseException):
            raise RuntimeError(f"the Amaranth simulation failed: {r}") from r
        return r

    def close(self) -> None:
        self._req.put(None)
        self._thread.join(timeout=60)


def start_simulation(sim, failures: queue.Queue, *, vcd_path=None,
                     name: str) -> threading.Thread:
    """Run the Amaranth simulator ``sim`` (its testbench serves a request queue) in a daemon
    thread, with a VCD when ``vcd_path`` is given; an exception is put on ``failures`` (the
    response queue the caller waits on)."""
    def run() -> None:
        try:
            if vcd_path:
                with sim.write_vcd(vcd_path):
                    sim.run()
            else:
                sim.run()
        except BaseException as e:  # hand the failure to the waiting caller
            failures.put(e)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


# --- the integrated system ---------------------------------------------------------------------


class AmaranthSystemSession:
    """`DystaSystem` (one accelerator) on Amaranth's simulator, served from a worker thread
    (the simulator owns its main loop; requests and answers go through queues).

    Parameters
    ----------
    scheduler : SchedulerConfig
    accelerator : AcceleratorConfig
    vcd_path : str or None
        Write a VCD of the whole session (tiny runs only).
    """

    name = "amaranth"

    def __init__(self, scheduler: SchedulerConfig, accelerator: AcceleratorConfig, *,
                 vcd_path: str | None = None) -> None:
        from amaranth.sim import Simulator

        from mmsched.hw.system import DystaSystem

        self.scheduler, self.accelerator = scheduler, accelerator
        self._req: queue.Queue = queue.Queue()
        self._resp: queue.Queue = queue.Queue()
        dut = DystaSystem(scheduler=scheduler, accelerators=(accelerator,))
        self._cycle = 0
        req, resp = self._req, self._resp
        session = self

        async def tick(ctx):
            await ctx.tick()
            session._cycle += 1

        async def response(ctx):
            while not ctx.get(dut.host_resp.valid):
                await tick(ctx)
            cyc, now = session._cycle, ctx.get(dut.now)
            r = unpack_dysta_resp(ctx.get(dut.host_resp.payload.as_value()))
            await tick(ctx)
            sent = decode_sent(ctx.get(dut.sent.as_value()))
            return HostResponse(cyc, now, r["op"], r["status"], r["slot"], r["value"], sent)

        async def serve(ctx):
            ctx.set(dut.host_resp.ready, 1)
            while True:
                item = req.get()
                if item is None:
                    return
                kind, args = item
                if kind == "issue":
                    ctx.set(dut.host_cmd.payload.as_value(), args)
                    ctx.set(dut.host_cmd.valid, 1)
                    while not ctx.get(dut.host_cmd.ready):
                        await tick(ctx)
                    await tick(ctx)
                    ctx.set(dut.host_cmd.valid, 0)
                    resp.put(await response(ctx))
                elif kind == "write":
                    img: JobImage = args
                    for bank, addr, word in img.act:
                        ctx.set(dut.acc0_act_wr.as_value(), pack_act_write(accelerator, bank,
                                                                           addr, word))
                        await tick(ctx)
                    ctx.set(dut.acc0_act_wr.as_value(), 0)
                    for addr, word in img.wt:
                        ctx.set(dut.acc0_wt_wr.as_value(), pack_wt_write(accelerator, addr,
                                                                         word))
                        await tick(ctx)
                    ctx.set(dut.acc0_wt_wr.as_value(), 0)
                    resp.put(None)
                elif kind == "job":
                    word, take = args
                    ctx.set(dut.acc0_job.payload.as_value(), word)
                    ctx.set(dut.acc0_job.valid, 1)
                    while not ctx.get(dut.acc0_job.ready):
                        await tick(ctx)
                    await tick(ctx)
                    ctx.set(dut.acc0_job.valid, 0)
                    while not ctx.get(dut.acc0_done.valid):
                        await tick(ctx)
                    done = unpack_done(ctx.get(dut.acc0_done.payload.as_value()))
                    if take:
                        ctx.set(dut.acc0_done.ready, 1)
                        await tick(ctx)
                        ctx.set(dut.acc0_done.ready, 0)
                    resp.put(done)
                elif kind == "release":
                    ctx.set(dut.acc0_done.ready, 1)
                    await tick(ctx)
                    ctx.set(dut.acc0_done.ready, 0)
                    resp.put(await response(ctx))
                elif kind == "read":
                    words = {}
                    for addr in args:
                        ctx.set(dut.acc0_out_rd_addr, addr)
                        await tick(ctx)
                        words[addr] = ctx.get(dut.acc0_out_rd_data.as_value())
                    resp.put(words)
                else:
                    raise ValueError(f"unknown request {kind!r}")

        sim = Simulator(dut)
        sim.add_clock(1e-8)
        sim.add_testbench(serve)

        self._thread = start_simulation(sim, resp, vcd_path=vcd_path, name="amaranth-system")

    @property
    def cycles(self) -> int:
        return self._cycle

    def _call(self, kind: str, args: Any) -> Any:
        self._req.put((kind, args))
        r = self._resp.get()
        if isinstance(r, BaseException):
            raise RuntimeError(f"the Amaranth simulation failed: {r}") from r
        return r

    def issue(self, word: int) -> HostResponse:
        return self._call("issue", word)

    def write(self, image: JobImage) -> None:
        self._call("write", image)

    def job(self, word: int, *, take: bool) -> dict:
        return self._call("job", (word, take))

    def release(self) -> HostResponse:
        return self._call("release", None)

    def read(self, addrs: Sequence[int]) -> dict[int, int]:
        return self._call("read", list(addrs))

    def close(self) -> None:
        self._req.put(None)
        self._thread.join(timeout=60)
