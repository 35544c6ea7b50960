"""Co-simulation with the accelerator in RTL too: the integrated `DystaSystem` top in the loop.

`run_system_cosim` runs a workload with ONE RTL simulation holding the Dysta scheduler and the
sparse accelerator (`mmsched.hw.system.DystaSystem`, one accelerator), on Verilator
(`VerilatorSystemSession`, a ctypes-loaded library with the C harness
``sim/_verilator/system_harness.cpp``), or for tiny runs on Amaranth's simulator
(`AmaranthSystemSession`) or Icarus under cocotb (`IcarusSystemSession`, the cocotb test
``sim/_cocotb_system_server.py`` serving the host over a UNIX socket). Every session offers the
same host primitives: ``issue`` (a scheduler command), ``write`` (a job's memory images),
``job`` (start a tagged job, wait for its done record, take it or leave it waiting),
``release`` (take the waiting record, return the response to the system's LAYER_DONE) and
``read`` (output words). The engine
(`mmsched.sim.engine.simulate`) and the ``dysta_hw`` policy run as usual; `SystemHost` is both
the policy's scheduler and the engine's timing backend:

- every host command (LOAD_LUT, LOAD_ISO, ADMIT, RETIRE, DECIDE) goes to the system's host
  port; timed ones are preceded by SET_TIME(now - 1) so the counter reads the engine's ``now``
  when the command is accepted (checked on every response);
- each layer the scheduler picks runs on the RTL accelerator, job by job (the plan of
  `mmsched.hw.spec.plan_jobs`), on the request's own masks (the same seeded masks the exact
  model uses for that sample) and seeded operand values, every job tagged with the slot it
  serves; the results are checked against numpy and the counters against the exact model;
- the layer's last done record is held until the host has set the counter to the layer's end
  time (start + the cycles the RTL's done records report); then the system itself sends the
  scheduler LAYER_DONE(slot, non-zero, total) from the accelerator's monitor sums. The
  response, and the counts the scheduler was sent (the system's ``sent`` port), are checked
  when the engine reports the layer done: the slot, the counts and the time must be the
  engine's, and (``check``) every response must equal the bit-exact twin's.

So the scheduler's decisions depend only on RTL: the monitor counts and the cycle counts the
accelerator RTL produces. The engine's time still advances one layer at a time (the host's
memory loads and reads are not schedule time, as with the exact model).

`tiny_scenario` is a built-in scenario small enough for RTL (``--scenario cosim-tiny``);
`estimate_rtl_seconds` is the guard that stops a large scenario from running for hours.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin
from mmsched.hw.cyclemodel.host import JobImage, pack_act_write, pack_wt_write, unpack_done
from mmsched.hw.spec import (
    COUNTER_WIDTH,
    DONE_FIELDS,
    AcceleratorConfig,
    DystaOp,
    DystaStatus,
    SchedulerConfig,
    act_write_fields,
    pack_dysta_cmd,
    unpack_dysta_resp,
    wt_write_fields,
)

from .backends._rtl import RtlBackend
from .cosim import CosimMismatch, start_simulation

log = logging.getLogger(__name__)

SYSTEM_SIMULATORS = ("amaranth", "icarus", "verilator")
"""Simulators of the integrated system (Amaranth and Icarus: tiny runs only)."""
TINY_SCENARIO = "cosim-tiny"
SET_TIME_TO_EVENT = 2
"""Cycles from a SET_TIME's acceptance to the acceptance of the LAYER_DONE released right
after its response: SET_TIME accepted in cycle a (counter = v in a + 1), its response taken
in a + 1, the done record taken in a + 2, the system's event accepted in a + 3 (counter v + 2).
Checked on every layer (the counter at acceptance must be the engine's time)."""
RTL_SECONDS_PER_CYCLE = {"amaranth": (6e-4, 7.8e-6, 4.4e-5),
                         "icarus": (2e-4, 4e-6, 1.5e-5),
                         "verilator": (6.4e-7, 1e-8, 4e-8)}
"""Rough wall seconds per simulated cycle of the system, ``(base, per PE, per slot)``, for
`estimate_rtl_seconds` (fitted on the 2-core development machine: the Amaranth simulator runs
cosim-tiny at ~1,060 cycles/s with S = 4, ~670 with S = 16 and ~280 with S = 64 (the 8x8
array alone ~2,000 cycles/s); Icarus ~3,300, ~1,700 and ~800 cycles/s with S = 3, 16, 64;
Verilator ~3.8 us per cycle at 16x16 with S = 16)."""
HOST_CYCLES_FACTOR = 2.4
"""Simulated cycles per accelerator cycle: the host's memory writes and output reads come on
top (measured 2.44 on cosim-tiny, 1.77 on a 16x16 array)."""
HOST_SECONDS_PER_LAYER = 3e-3
"""Python work per layer (masks, operands, numpy reference, twin), measured ~2 ms."""


# --- the tiny built-in scenario ------------------------------------------------------------------


TINY_ACCELERATOR = AcceleratorConfig(
    name="cosim_tiny", rows=4, cols=4, chunk_depth=4, pe_buffer_depth=4, load_rows_per_cycle=2,
    max_k=16, acc_width=24, act_mem_words=8, wt_mem_words=16, out_mem_words=8,
    clock_hz=100e6)
"""A 4 x 4 array with small memories: most layers of `tiny_scenario` take 2 to 4 jobs (M and
N tiles, K pieces whose partial sums the host adds)."""


def tiny_scenario():
    """``cosim-tiny``: two small CNN-like models (3 and 4 convolution GEMMs of up to
    8 x 8 x 24, one with two weight patterns) on `TINY_ACCELERATOR` (100 MHz), real
    activation-sparsity profiles, 6 samples (3 profiling, 3 held out). Its default rate
    (300,000 requests/s) loads the accelerator to 0.86, so requests queue and the
    scheduler's choices matter; a default run (12 requests) is about 3,500 accelerator
    cycles."""
    from mmsched.sched.model import Layer
    from mmsched.sched.scenario import ModelEntry, Scenario

    def net(*dims):
        return tuple(Layer(f"conv{i}", "conv", m, n, k, act_sparse=i > 0)
                     for i, (m, n, k) in enumerate(dims))

    return Scenario(
        name=TINY_SCENARIO, system=(TINY_ACCELERATOR,),
        description="two tiny CNN-like models on a 4x4 array: RTL-accelerator co-simulation",
        models=(ModelEntry("tinya", ("dense", "unstructured50"),
                           layers=net((8, 8, 12), (8, 8, 16), (8, 4, 16))),
                ModelEntry("tinyb", ("dense",),
                           layers=net((4, 8, 8), (8, 8, 24), (8, 8, 8), (4, 4, 8)))),
        rates=(300_000.0,), slos=(10.0,), requests=12, samples=6, profile_samples=3)


class HeldoutMasks:
    """The masks the scenario's exact-model backend costs for a request's sample.

    A workload's models are latency-table models (no GEMM shapes): the masks are those of the
    scenario's model of the same key, and request sample ``i`` is profile sample
    ``heldout[i]`` of the scenario's mask source.

    Parameters
    ----------
    inner : mask source (``masks(model, layer_index, sample)``)
    heldout : sequence of int
    models : iterable of Model
        The scenario's models (`Scenario.model_list`).
    """

    def __init__(self, inner, heldout: Sequence[int], models) -> None:
        self.inner, self.heldout = inner, tuple(heldout)
        self.models = {m.key: m for m in models}

    def masks(self, model, layer_index: int, sample: int):
        try:
            real = self.models[model.key]
        except KeyError:
            raise ValueError(f"model {model.key!r} is not one of the scenario's: "
                             f"{', '.join(self.models)}") from None
        return self.inner.masks(real, layer_index, self.heldout[sample])


def estimate_rtl_seconds(workload, backend, accelerator: AcceleratorConfig, simulator: str,
                         *, slots: int) -> tuple[int, float]:
    """(accelerator cycles of every layer of every request, estimated wall seconds of the run
    on ``simulator`` with a task table of ``slots``): the cycles from ``backend`` (the exact
    model), the speed from `RTL_SECONDS_PER_CYCLE`, `HOST_CYCLES_FACTOR` and
    `HOST_SECONDS_PER_LAYER` (a rough figure: it guards against runs of hours, it is not a
    benchmark)."""
    cycles = layers = 0
    for r in workload.requests:
        m = workload.models[r.model]
        layers += len(m.layers)
        cycles += sum(int(backend.layer(0, m, j, r.sample).cycles)
                      for j in range(len(m.layers)))
    base, per_pe, per_slot = RTL_SECONDS_PER_CYCLE[simulator]
    per_cycle = base + per_pe * accelerator.rows * accelerator.cols + per_slot * slots
    return cycles, HOST_CYCLES_FACTOR * cycles * per_cycle + HOST_SECONDS_PER_LAYER * layers


# --- sessions: one simulation of the system, host-side primitives --------------------------------


@dataclass(frozen=True)
class HostResponse:
    """A scheduler response on the system's host port: ``resp_cycle`` (simulation cycle),
    ``now`` (the scheduler's counter then), the decoded response, and ``sent`` (the system's
    last internal LAYER_DONE: count, slot, nnz, total)."""

    resp_cycle: int
    now: int
    op: int
    status: int
    slot: int
    value: int
    sent: tuple[int, int, int, int]


def _event_fields():
    from amaranth.hdl import Shape

    from mmsched.hw.system import event_layout

    lay = event_layout()
    return [(name, lay[name].offset, Shape.cast(lay[name].shape).width) for name in
            ("count", "slot", "nnz", "total")]


def _decode_sent(word: int, fields) -> tuple[int, int, int, int]:
    return tuple((word >> off) & ((1 << w) - 1) for _, off, w in fields)


@functools.cache
def _job_offsets(cfg: AcceleratorConfig) -> tuple[int, int, int]:
    from mmsched.hw.system import job_layout

    lay = job_layout(cfg)
    return lay["slot"].offset, lay["last"].offset, lay["job"].offset


def _job_word(cfg: AcceleratorConfig, slot: int, last: bool, command: int) -> int:
    """A tagged job (`mmsched.hw.system.job_layout`) as one int."""
    so, lo, jo = _job_offsets(cfg)
    return (slot << so) | (int(last) << lo) | (command << jo)


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
        req, resp, fields = self._req, self._resp, _event_fields()
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
            sent = _decode_sent(ctx.get(dut.sent.as_value()), fields)
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


def _offsets(fields: dict[str, int]) -> dict[str, int]:
    """Bit offset of each field of an LSB-first layout (name -> width)."""
    out, off = {}, 0
    for name, width in fields.items():
        out[name] = off
        off += width
    return out


def _nwords(width: int) -> int:
    return max(2, -(-width // 32))


def _u32(values: Sequence[int], width: int) -> np.ndarray:
    """Ints of ``width`` bits as a C-contiguous uint32 array ``[len, words]``."""
    nw = _nwords(width)
    raw = b"".join(v.to_bytes(4 * nw, "little") for v in values)
    return np.frombuffer(raw, dtype=np.uint32).reshape(len(values), nw).copy()


def _int(words) -> int:
    return int.from_bytes(np.ascontiguousarray(words, dtype=np.uint32).tobytes(), "little")


class VerilatorSystemSession:
    """`DystaSystem` (one accelerator) compiled by Verilator with the C harness
    ``sim/_verilator/system_harness.cpp`` and driven through ctypes (a few calls per job).

    Parameters
    ----------
    scheduler : SchedulerConfig
    accelerator : AcceleratorConfig
    max_wait : int
        Cycles to wait for a response or a done record before raising RuntimeError.
    """

    name = "verilator"

    def __init__(self, scheduler: SchedulerConfig, accelerator: AcceleratorConfig, *,
                 max_wait: int = 10**9) -> None:
        self.scheduler, self.accelerator = scheduler, accelerator
        self.max_wait = max_wait
        lib = self._lib = ctypes.CDLL(str(build_system_library(scheduler, accelerator)))
        vp, i32, u64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64
        u32p, u64p = ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint64)
        lib.sys_new.restype = vp
        lib.sys_free.argtypes = [vp]
        lib.sys_cycles.argtypes = [vp]
        lib.sys_cycles.restype = u64
        lib.sys_issue.argtypes = [vp, u32p, u64p, u64p, u32p, u32p, u64]
        lib.sys_issue.restype = i32
        for f in (lib.sys_write_act, lib.sys_write_wt):
            f.argtypes = [vp, i32, u32p, i32]
        lib.sys_job.argtypes = [vp, u32p, i32, u32p, u64, u64p]
        lib.sys_job.restype = i32
        lib.sys_release.argtypes = [vp, u64p, u64p, u32p, u32p, u64]
        lib.sys_release.restype = i32
        lib.sys_read_out.argtypes = [vp, i32, u32p, u32p, i32]
        self._h = lib.sys_new()
        self._fields = _event_fields()
        self._act_w = sum(act_write_fields(accelerator).values())
        self._wt_w = sum(wt_write_fields(accelerator).values())
        self._act_off = _offsets(act_write_fields(accelerator))
        self._wt_off = _offsets(wt_write_fields(accelerator))
        from mmsched.hw.system import job_layout

        self._job_w = job_layout(accelerator).size
        self._out_w = accelerator.cols * accelerator.acc_width
        self._cmd = (ctypes.c_uint32 * 5)()
        self._cyc = (ctypes.c_uint64 * 2)()
        self._now = ctypes.c_uint64(0)
        self._resp = (ctypes.c_uint32 * 3)()
        self._sent = (ctypes.c_uint32 * 3)()

    @property
    def cycles(self) -> int:
        return int(self._lib.sys_cycles(self._h))

    @staticmethod
    def _ptr(a: np.ndarray):
        return a.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32))

    def _answer(self) -> HostResponse:
        r = unpack_dysta_resp(self._resp[0] | (self._resp[1] << 32) | (self._resp[2] << 64))
        sent = self._sent[0] | (self._sent[1] << 32) | (self._sent[2] << 64)
        return HostResponse(int(self._cyc[1]), int(self._now.value), r["op"], r["status"],
                            r["slot"], r["value"], _decode_sent(sent, self._fields))

    def issue(self, word: int) -> HostResponse:
        for i in range(5):
            self._cmd[i] = (word >> (32 * i)) & 0xFFFF_FFFF
        if self._lib.sys_issue(self._h, self._cmd, self._cyc, ctypes.byref(self._now),
                               self._resp, self._sent, self.max_wait):
            raise RuntimeError(f"the Verilated system did not answer command {word:#x}")
        return self._answer()

    def write(self, image: JobImage) -> None:
        # the write ports' values, packed as `pack_act_write` / `pack_wt_write` do (inlined:
        # tens of thousands of words per second)
        lib = self._lib
        en, bo, ao, do = (self._act_off[k] for k in ("en", "bank", "addr", "data"))
        act = _u32([(1 << en) | (b << bo) | (a << ao) | (w << do) for b, a, w in image.act],
                   self._act_w)
        en, ao, do = (self._wt_off[k] for k in ("en", "addr", "data"))
        wt = _u32([(1 << en) | (a << ao) | (w << do) for a, w in image.wt], self._wt_w)
        lib.sys_write_act(self._h, len(act), self._ptr(act), act.shape[1])
        lib.sys_write_wt(self._h, len(wt), self._ptr(wt), wt.shape[1])

    def job(self, word: int, *, take: bool) -> dict:
        done = np.zeros(_nwords(COUNTER_WIDTH * len(DONE_FIELDS)), dtype=np.uint32)
        span = ctypes.c_uint64(0)
        job = _u32([word], self._job_w)
        if self._lib.sys_job(self._h, self._ptr(job), int(take), self._ptr(done),
                             self.max_wait, ctypes.byref(span)):
            raise RuntimeError(f"the accelerator did not finish within {self.max_wait} cycles")
        return unpack_done(_int(done))

    def release(self) -> HostResponse:
        if self._lib.sys_release(self._h, self._cyc, ctypes.byref(self._now), self._resp,
                                 self._sent, self.max_wait):
            raise RuntimeError("the Verilated system did not answer the layer's LAYER_DONE")
        return self._answer()

    def read(self, addrs: Sequence[int]) -> dict[int, int]:
        a = np.array(list(addrs), dtype=np.uint32)
        nw = _nwords(self._out_w)
        words = np.zeros((len(a), nw), dtype=np.uint32)
        self._lib.sys_read_out(self._h, len(a), self._ptr(a), self._ptr(words), nw)
        return {int(x): _int(words[i]) for i, x in enumerate(a)}

    def close(self) -> None:
        if getattr(self, "_h", None):
            self._lib.sys_free(self._h)
            self._h = None


class IcarusSystemSession:
    """The generated Verilog of `DystaSystem` (one accelerator) on Icarus under cocotb: the
    cocotb test `mmsched.sim._cocotb_system_server` serves the host's requests over a UNIX
    socket (one JSON line each way). Slow (about a thousand cycles per second for a tiny
    system): tiny runs only.

    Parameters
    ----------
    scheduler : SchedulerConfig
    accelerator : AcceleratorConfig
    build_dir : path
        Where the Verilog, the Icarus build and the simulator log go (created).
    waves : bool
        Ask cocotb for a waveform of the whole session (``dump.fst`` in ``build_dir``).
    timeout_s : float
        How long to wait for the simulator to connect.
    """

    name = "icarus"

    def __init__(self, scheduler: SchedulerConfig, accelerator: AcceleratorConfig, *,
                 build_dir: str | os.PathLike, waves: bool = False,
                 timeout_s: float = 120.0) -> None:
        from mmsched.hw.system import system_verilog

        from ._cocotb_link import CocotbLink

        self.scheduler, self.accelerator = scheduler, accelerator
        self._fields = _event_fields()
        self._cycle = 0
        build = Path(build_dir)
        build.mkdir(parents=True, exist_ok=True)
        src = build / "dysta_system.v"
        src.write_text(system_verilog(scheduler, (accelerator,)))
        self._link = CocotbLink(src, toplevel="dysta_system",
                                test_module="mmsched.sim._cocotb_system_server", build=build,
                                waves=waves, timeout_s=timeout_s)
        self._file = self._link.file

    @property
    def cycles(self) -> int:
        return self._cycle

    def _call(self, req: dict) -> dict:
        self._file.write((json.dumps(req) + "\n").encode())
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise self._link.closed_error()
        ans = json.loads(line)
        self._cycle = ans["c"]
        return ans

    def _answer(self, a: dict) -> HostResponse:
        if min(a["now"], a["p"], a["sent"]) < 0:
            raise CosimMismatch(f"the Icarus simulation answered X/Z in cycle {a['c']}")
        r = unpack_dysta_resp(a["p"])
        return HostResponse(a["c"], a["now"], r["op"], r["status"], r["slot"], r["value"],
                            _decode_sent(a["sent"], self._fields))

    def issue(self, word: int) -> HostResponse:
        return self._answer(self._call({"k": "issue", "w": word}))

    def write(self, image: JobImage) -> None:
        cfg = self.accelerator
        self._call({"k": "write",
                    "act": [pack_act_write(cfg, b, a, w) for b, a, w in image.act],
                    "wt": [pack_wt_write(cfg, a, w) for a, w in image.wt]})

    def job(self, word: int, *, take: bool) -> dict:
        a = self._call({"k": "job", "w": word, "take": take})
        if a["done"] < 0:
            raise CosimMismatch(f"the Icarus accelerator's done record has X/Z (cycle "
                                f"{a['c']})")
        return unpack_done(a["done"])

    def release(self) -> HostResponse:
        return self._answer(self._call({"k": "release"}))

    def read(self, addrs: Sequence[int]) -> dict[int, int]:
        addrs = [int(x) for x in addrs]
        return dict(zip(addrs, self._call({"k": "read", "a": addrs})["words"], strict=True))

    def close(self) -> None:
        self._link.close(b'{"k": "quit"}\n')


SYSTEM_HARNESS = Path(__file__).resolve().parent / "_verilator" / "system_harness.cpp"


SYSTEM_OPT_MAKEFLAGS = "OPT_FAST=-O2"


def system_build_key(scheduler: SchedulerConfig, accelerator: AcceleratorConfig) -> str:
    """Hash of both configurations, the RTL sources (``hw/``), the harness, the Verilate-and-
    link code (`mmsched.sim.backends.verilator`), the build flags and the Amaranth version:
    the cache key of the Verilated system (computed without generating Verilog)."""
    import amaranth

    from mmsched.sim.backends import verilator

    hw = Path(__file__).resolve().parents[1] / "hw"
    h = hashlib.sha256(repr((scheduler, accelerator.to_dict(), SYSTEM_OPT_MAKEFLAGS,
                             amaranth.__version__)).encode())
    for p in sorted([*hw.glob("*.py"), *hw.glob("accel/*.py"), *hw.glob("dysta/*.py")]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(verilator.harness_source_bytes(SYSTEM_HARNESS))
    h.update(Path(verilator.__file__).read_bytes())
    return h.hexdigest()[:16]


def build_system_library(scheduler: SchedulerConfig, accelerator: AcceleratorConfig) -> Path:
    """Verilate and link the system for (``scheduler``, ``accelerator``) with the harness;
    cached under ``build/verilator_system_<key>`` (`system_build_key`)."""
    from mmsched.hw.paths import build_dir
    from mmsched.hw.system import system_verilog
    from mmsched.sim.backends.verilator import build_harness_library

    out = build_dir() / f"verilator_system_{system_build_key(scheduler, accelerator)}"
    lib = out / "libsystem.so"
    if lib.exists():
        return lib
    log.info("building the Verilated system (once per configuration): %s", out)
    text = system_verilog(scheduler, (accelerator,), icarus_fix=False)
    return build_harness_library(text, "dysta_system", SYSTEM_HARNESS, out, "libsystem.so",
                                 opt_makeflags=SYSTEM_OPT_MAKEFLAGS)


def make_system_session(simulator: str, scheduler: SchedulerConfig,
                        accelerator: AcceleratorConfig, *, vcd_path: str | None = None,
                        build_dir: str | os.PathLike | None = None):
    """A session of the integrated system on ``simulator`` (one of `SYSTEM_SIMULATORS`);
    ``vcd_path``: Amaranth only; ``build_dir``: Icarus (default ``build/cosim_system``)."""
    if simulator == "amaranth":
        return AmaranthSystemSession(scheduler, accelerator, vcd_path=vcd_path)
    if simulator == "verilator":
        return VerilatorSystemSession(scheduler, accelerator)
    if simulator == "icarus":
        from mmsched.hw import paths

        return IcarusSystemSession(scheduler, accelerator,
                                   build_dir=build_dir or paths.build_dir() / "cosim_system")
    raise ValueError(f"the integrated system runs on {', '.join(SYSTEM_SIMULATORS)}, "
                     f"not {simulator!r}")


# --- the host: scheduler interface for the policy and timing backend for the engine -------------


@dataclass(frozen=True)
class LayerEvent:
    """One layer boundary as the scheduler saw it (for tests and reports)."""

    slot: int
    nnz: int
    total: int
    now: int
    gamma: int


class _TaggingDriver:
    """The accelerator side of `SystemHost`: runs a layer's jobs tagged with the running
    slot, the last one with ``last`` (its completion is the layer boundary)."""

    def __init__(self, host: SystemHost) -> None:
        self.host = host

    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]:
        host, s = self.host, self.host.session
        cfg = s.accelerator
        out, cycles = [], 0
        for i, img in enumerate(images):
            last = i == len(images) - 1
            s.write(img)
            host.jobs += 1
            done = s.job(_job_word(cfg, host.running_slot, last, img.command), take=not last)
            cycles += done["cycles"]
            if last:
                host.layer_boundary(host.layer_start + cycles)
            out.append((done, s.read([a for a, _, _ in img.out])))
        return out


class SystemHost(RtlBackend):
    """The host of one integrated-system session: the scheduler interface the ``dysta_hw``
    policy drives (the twin's functional methods) and the timing backend the engine asks for
    each layer (``layer``: cycles and monitor counts from the RTL accelerator; results and
    counters checked against numpy and the exact model, see `RtlBackend`).

    The engine must ask for a layer right after the DECIDE that chose it (as it does).

    Parameters
    ----------
    session : AmaranthSystemSession or VerilatorSystemSession
    masks : mask source (the requests' own masks: `HeldoutMasks` of the scenario's source)
    seed : int
        Seeds the operand values per (model key, layer, sample).
    check : bool
        Compare every scheduler response with the bit-exact twin.
    """

    name = "system"

    def __init__(self, session, *, masks, seed: int = 0, check: bool = True) -> None:
        super().__init__(system=session.accelerator, masks=masks, seed=seed, check=True)
        self.session = session
        self.config = session.scheduler
        self.twin = DystaSchedTwin(self.config) if check else None
        self._mask = (1 << self.config.time_bits) - 1
        self._driver = _TaggingDriver(self)
        self.running_slot = 0
        self.layer_start = 0
        self._event: LayerEvent | None = None
        self._event_status = 0
        self._armed = False
        self.events: list[LayerEvent] = []
        self.commands = 0
        self.decisions = 0
        self.accel_cycles = 0
        self.jobs = 0
        """Accelerator jobs run (a layer takes one or more)."""
        """Cycles of the layers run (the done records' sum: busy time of the accelerator)."""

    def make_driver(self, cfg: AcceleratorConfig, **options) -> _TaggingDriver:
        return self._driver

    # --- scheduler interface ---------------------------------------------------------------
    def _issue(self, word: int, now: int | None = None) -> HostResponse:
        r = self.session.issue(word)
        self.commands += 1
        if r.op != word & 0x7:
            raise CosimMismatch(f"command {self.commands - 1} ({word:#x}) answered with op "
                                f"{r.op}")
        if now is not None:
            at = (r.now - self.config.latency(r.op, r.status)) & self._mask
            if at != now & self._mask:
                raise CosimMismatch(f"command {self.commands - 1} ({word:#x}) accepted at "
                                    f"counter {at}, the engine's time is {now}")
        return r

    def _timed(self, word: int, now: int) -> HostResponse:
        self._issue(pack_dysta_cmd(DystaOp.SET_TIME, value=(now - 1) & self._mask))
        return self._issue(word, now)

    def _check(self, what: str, rtl: tuple, twin_fn, *args) -> None:
        if self.twin is None:
            return
        ref = twin_fn(*args)
        ref = ref if isinstance(ref, tuple) else (ref,)
        if tuple(int(x) for x in ref) != tuple(int(x) for x in rtl):
            raise CosimMismatch(f"{what} (command {self.commands - 1}, simulation cycle "
                                f"{self.session.cycles}): RTL {rtl}, twin {ref}")

    def load_lut(self, model: int, pattern: int, layer: int, remaining: int,
                 density: int) -> int:
        r = self._issue(pack_dysta_cmd(DystaOp.LOAD_LUT, model=model, pattern=pattern,
                                       layer=layer, remaining=remaining, density=density))
        self._check("LOAD_LUT", (r.status,), getattr(self.twin, "load_lut", None), model,
                    pattern, layer, remaining, density)
        return r.status

    def load_iso(self, model: int, pattern: int, weight: int) -> int:
        r = self._issue(pack_dysta_cmd(DystaOp.LOAD_ISO, model=model, pattern=pattern,
                                       weight=weight))
        self._check("LOAD_ISO", (r.status,), getattr(self.twin, "load_iso", None), model,
                    pattern, weight)
        return r.status

    def admit(self, model: int, pattern: int, deadline: int, arrival: int, now: int
              ) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.ADMIT, model=model, pattern=pattern,
                                       deadline=deadline & self._mask,
                                       arrival=arrival & self._mask), now)
        self._check("ADMIT", (r.status, r.slot, r.value), getattr(self.twin, "admit", None),
                    model, pattern, deadline & self._mask, arrival & self._mask,
                    now & self._mask)
        return r.status, r.slot, r.value

    def retire(self, slot: int) -> int:
        r = self._issue(pack_dysta_cmd(DystaOp.RETIRE, slot=slot))
        self._check("RETIRE", (r.status,), getattr(self.twin, "retire", None), slot)
        return r.status

    def decide(self, now: int) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.DECIDE), now)
        self.decisions += 1
        self._check("DECIDE", (r.status, r.slot, r.value), getattr(self.twin, "decide", None),
                    now & self._mask)
        if r.status not in (DystaStatus.OK, DystaStatus.IDLE):
            raise CosimMismatch(f"DECIDE answered with status {r.status}")
        self.running_slot, self.layer_start = r.slot, now
        self._armed = r.status == DystaStatus.OK
        return r.status, r.slot, r.value

    def layer_boundary(self, end: int) -> None:
        """The last job of the running layer is done (its record waiting): set the counter
        so the system's LAYER_DONE is accepted at ``end``, release the record, keep the
        response for `layer_done`."""
        if self._event is not None:
            raise CosimMismatch("a layer finished before the previous one was reported")
        self._issue(pack_dysta_cmd(DystaOp.SET_TIME,
                                   value=(end - SET_TIME_TO_EVENT) & self._mask))
        r = self.session.release()
        self.commands += 1
        count, slot, nnz, total = r.sent
        at = (r.now - self.config.latency(r.op, r.status)) & self._mask
        if r.op != DystaOp.LAYER_DONE or slot != self.running_slot or at != end & self._mask:
            raise CosimMismatch(f"the system's LAYER_DONE: response {r} (accepted at counter "
                                f"{at}), expected slot {self.running_slot} at {end}")
        self._event = LayerEvent(slot, nnz, total, end, r.value)
        self._event_status = r.status

    def layer_done(self, slot: int, nnz: int, total: int, now: int) -> tuple[int, int]:
        """The engine reports the layer the system already sent: check that the scheduler
        saw this slot, these monitor counts and this time; return its response."""
        ev = self._event
        if ev is None:
            raise CosimMismatch(f"the engine reports a layer of slot {slot} the system did "
                                f"not run")
        self._event = None
        if (ev.slot, ev.nnz, ev.total, ev.now) != (slot, nnz, total, now & self._mask):
            raise CosimMismatch(f"the scheduler saw LAYER_DONE(slot {ev.slot}, nnz {ev.nnz}, "
                                f"total {ev.total}) at {ev.now}; the engine reports slot "
                                f"{slot}, nnz {nnz}, total {total} at {now}")
        self._check("LAYER_DONE", (self._event_status, ev.gamma),
                    getattr(self.twin, "layer_done", None), slot, nnz, total,
                    now & self._mask)
        self.events.append(ev)
        return self._event_status, ev.gamma

    # --- timing backend ----------------------------------------------------------------------
    def layer(self, accelerator: int, model, layer_index: int, sample: int):
        if accelerator != 0:
            raise ValueError(f"the integrated system has one accelerator, not {accelerator + 1}")
        if not self._armed:  # e.g. a dropped request's remaining layers: never run
            raise CosimMismatch(f"layer {layer_index} of {model.key} asked for without a "
                                f"DECIDE that chose it (the system runs only chosen layers)")
        self._armed = False
        t = super().layer(accelerator, model, layer_index, sample)
        self.accel_cycles += int(t.cycles)
        return t


# --- a whole run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemCosimResult:
    """A run with the integrated system: the engine's result, the layer events the scheduler
    saw, the simulation's cycles and wall times."""

    run: Any
    simulator: str
    commands: int
    decisions: int
    sim_cycles: int
    accel_cycles: int
    jobs: int
    events: tuple[LayerEvent, ...]
    hw_config: SchedulerConfig
    wall_s: float
    run_s: float

    @property
    def cycles_per_s(self) -> float:
        """Simulated cycles per wall second of the run alone (the library already built)."""
        return self.sim_cycles / self.run_s if self.run_s > 0 else float("nan")


def run_system_cosim(workload, masks, context, accelerator: AcceleratorConfig, *,
                     simulator: str, policy_overrides: dict[str, Any] | None = None,
                     check: bool = True, seed: int = 0, vcd_path: str | None = None,
                     build_dir: str | os.PathLike | None = None) -> SystemCosimResult:
    """Simulate ``workload`` under ``dysta_hw`` with the scheduler AND the accelerator in one
    RTL simulation of `DystaSystem` on ``simulator``.

    ``masks``: the requests' masks (``masks(model, layer, sample)``, the exact model's);
    ``context``: the `PolicyContext` (static tables, clock); ``policy_overrides``: fields of
    ``DystaHW.Config``; ``seed``: operand values. The workload's clock must be the
    accelerator's (its cycles are the engine's). Raises `CosimMismatch` when the RTL departs
    from the twin or from the engine, `RtlMismatch` when a result or counter departs from
    numpy or the exact model.
    """
    from mmsched.sched.policies.dysta_hw import DystaHW
    from mmsched.sim.engine import simulate

    if simulator not in SYSTEM_SIMULATORS:
        raise ValueError(f"the integrated system runs on {', '.join(SYSTEM_SIMULATORS)}, "
                         f"not {simulator!r}")
    if workload.time_unit != "cycles" or workload.clock_hz != accelerator.clock_hz:
        raise ValueError(f"the workload must be in cycles of the accelerator's clock "
                         f"({accelerator.clock_hz:g} Hz), not {workload.time_unit} at "
                         f"{workload.clock_hz:g} Hz")
    made: list[SystemHost] = []

    def factory(hw: SchedulerConfig) -> SystemHost:
        host = SystemHost(make_system_session(simulator, hw, accelerator, vcd_path=vcd_path,
                                              build_dir=build_dir),
                          masks=masks, seed=seed, check=check)
        made.append(host)
        return host

    cfg = DystaHW.Config(**(policy_overrides or {}))
    t0 = time.perf_counter()
    policy = DystaHW(context, cfg, scheduler_factory=factory)
    host = made[0]
    c1, t1 = host.session.cycles, time.perf_counter()
    try:
        run = simulate(workload, policy, host, keep_layers=True)
        cycles = host.session.cycles
    finally:
        host.session.close()
    t2 = time.perf_counter()
    return SystemCosimResult(run=run, simulator=simulator, commands=host.commands,
                             decisions=host.decisions, sim_cycles=cycles - c1,
                             accel_cycles=host.accel_cycles, jobs=host.jobs,
                             events=tuple(host.events),
                             hw_config=policy.hw_config, wall_s=t2 - t0, run_s=t2 - t1)
