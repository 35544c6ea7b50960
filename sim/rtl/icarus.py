"""Icarus Verilog under cocotb: the accelerator, the scheduler and the system tops.

The Verilog and the Icarus build come from `mmsched.sim.rtl.build` (cached per key); every
simulation runs a private cocotb test module of this package (``_cocotb_*_server``), written
with the testbench kit `mmsched.sim.rtl.cocotb` where a kit driver fits.

- `IcarusDriver`: the accelerator; each ``run_jobs`` call launches one simulation that runs
  the batch of jobs back to back (the start-up cost, ~1 s, is paid once per call). Slow
  (thousands of cycles per second): for checks, not experiments.
- `IcarusSession`: the Dysta scheduler, one long simulation whose cocotb test serves command
  words over a UNIX socket (`CocotbLink`).
- `IcarusSystemSession`: the integrated system top, likewise (one JSON line each way). Tiny
  runs only.

Logs (``sim.log``, ``results.xml``) and waveforms go to a run folder: ``run_dir`` when given,
else a temporary folder in the build folder, removed when the session closes cleanly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from mmsched.hw.cyclemodel.dysta_sched import TwinResponse
from mmsched.hw.cyclemodel.host import JobImage, pack_act_write, pack_wt_write, unpack_done
from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig, unpack_dysta_resp

from ._system import HostResponse, decode_sent
from .errors import CosimMismatch

# --- plumbing -----------------------------------------------------------------------------------


def _runner(top: str, config, *, waves: bool = False):
    """A cocotb Icarus runner of ``top``'s cached build, and the build folder."""
    from cocotb_tools.runner import get_runner

    from .build import TOPS, icarus_build, verilog_file

    folder = icarus_build(top, config, waves=waves)
    runner = get_runner("icarus")
    # up to date: the runner only records the build's settings (no compilation)
    runner.build(sources=[verilog_file(top, config)], hdl_toplevel=TOPS[top].module,
                 build_dir=folder, timescale=("1ns", "1ps"), always=False, waves=waves,
                 log_file=None)
    return runner, folder


class RunDir:
    """Where one simulation's logs and waveform go: ``path`` when given (created, kept), else
    a temporary folder in the build folder, removed by ``done(ok=True)``."""

    def __init__(self, path: str | os.PathLike | None, build: Path) -> None:
        self.keep = path is not None
        if path is not None:
            self.path = Path(path)
            self.path.mkdir(parents=True, exist_ok=True)
        else:
            self.path = Path(tempfile.mkdtemp(prefix="run-", dir=build))

    def done(self, ok: bool) -> None:
        if ok and not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


class CocotbLink:
    """Run cocotb test ``test_module`` on the cached Icarus build of ``top`` in a thread and
    connect to it over a UNIX socket (path passed in ``$MMSCHED_COSIM_SOCKET``).

    Parameters
    ----------
    top : str
        ``scheduler`` or ``system`` (`mmsched.sim.rtl.build.TOPS`).
    config : the top's configuration
    test_module : str
    run_dir : path or None
        Where ``sim.log``, ``results.xml`` and the waveform go (`RunDir`).
    waves : bool
        Ask cocotb for a waveform of the whole session (``<module>.fst`` in the run folder).
    timeout_s : float
        How long to wait for the simulator to connect (RuntimeError then).

    Attributes
    ----------
    file : binary file
        The connection (``readline``/``write``/``flush``).
    """

    def __init__(self, top: str, config, *, test_module: str,
                 run_dir: str | os.PathLike | None = None, waves: bool = False,
                 timeout_s: float = 120.0) -> None:
        from .build import TOPS

        runner, build = _runner(top, config, waves=waves)
        module = TOPS[top].module
        self.run = RunDir(run_dir, build)
        run = self.run.path
        self.errors: list[BaseException] = []
        # a short socket path (UNIX socket paths are limited to ~100 bytes)
        self._sock_dir = tempfile.mkdtemp(prefix="mmsched-cocotb-")
        path = os.path.join(self._sock_dir, "s")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(1.0)
        plusargs = [f"+dumpfile_path={run / (module + '.fst')}"] if waves else []

        def target() -> None:
            try:
                runner.test(hdl_toplevel=module, test_module=test_module, build_dir=build,
                            test_dir=run, waves=waves, results_xml=str(run / "results.xml"),
                            log_file=run / "sim.log", plusargs=plusargs,
                            extra_env={"MMSCHED_COSIM_SOCKET": path})
            except BaseException as e:  # reported by close() or a closed connection
                self.errors.append(e)

        self._thread = threading.Thread(target=target, name=f"icarus-{module}", daemon=True)
        self._thread.start()
        start = time.monotonic()
        while True:
            try:
                conn, _ = srv.accept()
                break
            except TimeoutError:
                if not self._thread.is_alive() or time.monotonic() - start > timeout_s:
                    srv.close()
                    raise RuntimeError(f"the Icarus simulation did not connect "
                                       f"({self.errors or 'timeout'}); see {run}") from None
        srv.close()
        conn.settimeout(None)
        self._conn = conn
        self.file = conn.makefile("rwb")

    def closed_error(self) -> RuntimeError:
        """The error for a connection the simulation closed."""
        return RuntimeError(f"the Icarus simulation closed the connection "
                            f"({self.errors or 'see ' + str(self.run.path / 'sim.log')})")

    def close(self, quit_line: bytes) -> None:
        """Send ``quit_line``, close, wait for the simulation; RuntimeError if it failed."""
        try:
            self.file.write(quit_line)
            self.file.flush()
        except OSError:
            pass
        self.file.close()
        self._conn.close()
        self._thread.join(timeout=120)
        with contextlib.suppress(OSError):
            os.rmdir(self._sock_dir)
        self.run.done(ok=not self.errors)
        if self.errors:
            raise RuntimeError(f"the Icarus simulation failed: {self.errors[0]}; see "
                               f"{self.run.path / 'sim.log'}")


def run_test(top: str, config, *, test_module: str, test_dir: str | os.PathLike,
             run_dir: str | os.PathLike | None = None, extra_env: dict | None = None,
             waves: bool = False) -> tuple[int, int]:
    """Run a cocotb test module (found in ``test_dir``) on the cached Icarus build of ``top``
    for ``config``; return (tests, failures) from its results. Logs go to ``run_dir``
    (`RunDir`; a temporary one is kept when a test fails and named in the AssertionError)."""
    from cocotb_tools.runner import get_results

    from .build import TOPS

    runner, build = _runner(top, config, waves=waves)
    run = RunDir(run_dir, build)
    xml = run.path / "results.xml"
    module = TOPS[top].module
    plusargs = [f"+dumpfile_path={run.path / (module + '.fst')}"] if waves else []
    try:
        runner.test(hdl_toplevel=module, test_module=test_module, test_dir=test_dir,
                    build_dir=build, waves=waves, plusargs=plusargs,
                    extra_env=dict(extra_env or {}), results_xml=str(xml),
                    log_file=run.path / "sim.log")
        tests, fails = get_results(xml)
    except (SystemExit, RuntimeError) as e:  # the runner exits under pytest on a failure
        raise AssertionError(f"cocotb test {test_module} failed ({e}); see "
                             f"{run.path / 'sim.log'}") from None
    if fails:
        raise AssertionError(f"cocotb test {test_module}: {fails} of {tests} failed; see "
                             f"{run.path / 'sim.log'}")
    run.done(ok=True)
    return tests, fails


# --- the accelerator ---------------------------------------------------------------------------


class IcarusDriver:
    """Runs batches of accelerator jobs, one cocotb simulation per `run_jobs` call.

    Parameters
    ----------
    cfg : AcceleratorConfig
    waves : bool
        Write a waveform of each call's simulation (``accelerator.fst`` in its run folder).
    run_dir : path or None
        Where each call's log goes (`RunDir`).

    ``cycles``: simulated cycles of all calls so far; ``job_spans``: each job's measured
    accept-to-done span.
    """

    def __init__(self, cfg: AcceleratorConfig, *, waves: bool = False,
                 run_dir: str | os.PathLike | None = None) -> None:
        self.cfg = cfg
        self.waves = waves
        self.run_dir = run_dir
        self.cycles = 0
        self.job_spans: list[int] = []
        self.runner, self.build_dir = _runner("accelerator", cfg, waves=waves)

    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]:
        from cocotb_tools.runner import get_results

        from ._cocotb_accel_server import image_to_json

        run = RunDir(self.run_dir, self.build_dir)
        tmp = run.path
        jobs, res = tmp / "jobs.json", tmp / "results.json"
        jobs.write_text(json.dumps({"config": self.cfg.to_dict(),
                                    "jobs": [image_to_json(i) for i in images]}))
        plusargs = [f"+dumpfile_path={tmp / 'accelerator.fst'}"] if self.waves else []
        xml = self.runner.test(hdl_toplevel="accelerator",
                               test_module="mmsched.sim.rtl._cocotb_accel_server",
                               test_dir=tmp, build_dir=self.build_dir, waves=self.waves,
                               plusargs=plusargs,
                               extra_env={"MMSCHED_JOBS": str(jobs), "MMSCHED_RESULTS": str(res),
                                          "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
                               results_xml=str(tmp / "results.xml"), log_file=tmp / "sim.log")
        _, fails = get_results(xml)
        if fails or not res.exists():
            log = (tmp / "sim.log").read_text()[-4000:]
            raise RuntimeError(f"the Icarus job server failed (see {tmp}):\n{log}")
        data = json.loads(res.read_text())
        run.done(ok=True)
        self.cycles += data["cycles"]
        out = []
        for r in data["results"]:
            self.job_spans.append(r["span"])
            out.append((r["done"], {int(k): v for k, v in r["words"].items()}))
        return out


# --- the scheduler -----------------------------------------------------------------------------


class IcarusSession:
    """`DystaScheduler` on Icarus, driven by a cocotb server test
    (``_cocotb_scheduler_server``, the kit's `SchedulerDriver`).

    Parameters
    ----------
    config : SchedulerConfig
    run_dir : path or None
        Where the simulator log (and waveform) go (`RunDir`).
    waves : bool
        Ask cocotb for a waveform of the whole session (``dysta_sched.fst``).
    timeout_s : float
        How long to wait for the simulator to connect.
    """

    name = "icarus"

    def __init__(self, config: SchedulerConfig, *, run_dir: str | os.PathLike | None = None,
                 waves: bool = False, timeout_s: float = 120.0) -> None:
        self.config = config
        self._link = CocotbLink("scheduler", config,
                                test_module="mmsched.sim.rtl._cocotb_scheduler_server",
                                run_dir=run_dir, waves=waves, timeout_s=timeout_s)
        self._file = self._link.file

    def issue(self, word: int, gap: int = 0) -> TwinResponse:
        f = self._file
        f.write(f"{word:x} {gap}\n".encode())
        f.flush()
        line = f.readline()
        if not line:
            raise self._link.closed_error()
        f = line.split()
        if f[0] == b"X":
            raise CosimMismatch(f"the Icarus scheduler answered command {word:#x} with X/Z "
                                f"bits in cycle {int(f[2])}")
        return TwinResponse(*(int(x) for x in f))

    def close(self) -> None:
        self._link.close(b"Q\n")


# --- the integrated system ---------------------------------------------------------------------


class IcarusSystemSession:
    """`DystaSystem` (one accelerator) on Icarus under cocotb: the cocotb test
    ``_cocotb_system_server`` serves the host's requests over a UNIX
    socket (one JSON line each way). Slow (about a thousand cycles per second for a tiny
    system): tiny runs only.

    Parameters
    ----------
    scheduler : SchedulerConfig
    accelerator : AcceleratorConfig
    run_dir : path or None
        Where the simulator log (and waveform) go (`RunDir`).
    waves : bool
        Ask cocotb for a waveform of the whole session (``dysta_system.fst``).
    timeout_s : float
        How long to wait for the simulator to connect.
    """

    name = "icarus"

    def __init__(self, scheduler: SchedulerConfig, accelerator: AcceleratorConfig, *,
                 run_dir: str | os.PathLike | None = None, waves: bool = False,
                 timeout_s: float = 120.0) -> None:
        from .build import SystemConfig

        self.scheduler, self.accelerator = scheduler, accelerator
        self._cycle = 0
        self._link = CocotbLink("system", SystemConfig(scheduler, (accelerator,)),
                                test_module="mmsched.sim.rtl._cocotb_system_server",
                                run_dir=run_dir, waves=waves, timeout_s=timeout_s)
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
                            decode_sent(a["sent"]))

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
