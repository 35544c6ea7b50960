"""Co-simulation: whole workloads with the Dysta scheduler RTL in the loop.

The engine (`mmsched.sim.engine.simulate`) runs the ``dysta_hw`` policy as usual, but the
policy's scheduler is `RTLScheduler`: every host/accelerator command (LOAD_LUT, LOAD_ISO,
ADMIT, RETIRE, LAYER_DONE, DECIDE) is sent as a command word to the generated hardware running
in an RTL simulator *session*, and the policy acts on the RTL's responses. The accelerator stays
on its timing backend (the exact model: time advances in one step per layer); before every
timed command the host sets the scheduler's cycle counter (SET_TIME) so the RTL sees the
engine's time.

Sessions (one per simulator; each ``issue(word, gap) -> TwinResponse`` with the RTL's
acceptance and response cycles):

- `AmaranthSession`: Amaranth's simulator in a worker thread; the testbench serves command
  words from a queue (the simulator owns its main loop).
- `IcarusSession`: the generated Verilog on Icarus under cocotb; the cocotb test
  (`mmsched.sim._cocotb_dysta_server`) serves command words over a UNIX socket.
- `VerilatorSession`: the generated Verilog compiled by Verilator into a library with a C
  harness, loaded with ctypes (one call per command).

With ``check=True`` (default) every response is compared with the bit-exact twin fed the same
words: value, status, slot and both cycles must be equal, or `CosimMismatch` names the command
and the cycle.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin, TwinResponse
from mmsched.hw.spec import DystaOp, DystaStatus, SchedulerConfig, pack_dysta_cmd, unpack_dysta_resp

log = logging.getLogger(__name__)

SIMULATORS = ("amaranth", "icarus", "verilator")


class CosimMismatch(AssertionError):
    """The RTL answered a command differently from the twin."""


class Session(Protocol):
    name: str

    def issue(self, word: int, gap: int = 0) -> TwinResponse: ...

    def close(self) -> None: ...


# --- Amaranth simulator --------------------------------------------------------------------------


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


# --- Icarus under cocotb -------------------------------------------------------------------------


class IcarusSession:
    """The generated Verilog of `DystaScheduler` on Icarus, driven by a cocotb server test.

    Parameters
    ----------
    config : SchedulerConfig
    build_dir : path
        Where the Verilog, the Icarus build and the socket go (created).
    waves : bool
        Ask cocotb for a waveform of the whole session (``dump.fst`` in ``build_dir``).
    timeout_s : float
        How long to wait for the simulator to connect.
    """

    name = "icarus"

    def __init__(self, config: SchedulerConfig, *, build_dir: str | os.PathLike,
                 waves: bool = False, timeout_s: float = 120.0) -> None:
        from mmsched.hw.dysta.scheduler import scheduler_verilog

        from ._cocotb_link import CocotbLink

        self.config = config
        build = Path(build_dir)
        build.mkdir(parents=True, exist_ok=True)
        src = build / "dysta_sched.v"
        src.write_text(scheduler_verilog(config))
        self._link = CocotbLink(src, toplevel="dysta_sched",
                                test_module="mmsched.sim._cocotb_dysta_server", build=build,
                                waves=waves, timeout_s=timeout_s)
        self._file = self._link.file

    def issue(self, word: int, gap: int = 0) -> TwinResponse:
        f = self._file
        f.write(f"{word:x} {gap}\n".encode())
        f.flush()
        line = f.readline()
        if not line:
            raise self._link.closed_error()
        accept, cycle, payload = line.split()
        r = unpack_dysta_resp(int(payload, 16))
        return TwinResponse(int(accept), int(cycle), r["op"], r["status"], r["slot"],
                            r["value"])

    def close(self) -> None:
        self._link.close(b"Q\n")


# --- Verilator (a ctypes-loaded library, one call per command) -----------------------------------


class VerilatorSession:
    """The generated Verilog of `DystaScheduler` compiled by Verilator with the C harness
    ``sim/_verilator/dysta_harness.cpp`` and driven through ctypes (one call per command).

    Parameters
    ----------
    config : SchedulerConfig
    build_dir : path
        Where the Verilog and the Verilator build go (created).
    """

    name = "verilator"

    def __init__(self, config: SchedulerConfig, *, build_dir: str | os.PathLike) -> None:
        import ctypes

        self.config = config
        lib = _build_verilator(config, Path(build_dir))
        self._lib = ctypes.CDLL(str(lib))
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


def _build_verilator(config: SchedulerConfig, build_dir: Path) -> Path:
    """Verilate and link the scheduler for ``config`` (cached by config and sources)."""
    import hashlib

    from mmsched.hw.dysta.scheduler import scheduler_verilog
    from mmsched.sim.backends.verilator import build_harness_library, harness_source_bytes

    harness = Path(__file__).resolve().parent / "_verilator" / "dysta_harness.cpp"
    text = scheduler_verilog(config, icarus_fix=False)
    h = hashlib.sha256(text.encode() + harness_source_bytes(harness)).hexdigest()[:16]
    out = build_dir / f"verilator_{h}"
    lib = out / "libdysta.so"
    if lib.exists():
        return lib
    return build_harness_library(text, "dysta_sched", harness, out, "libdysta.so",
                                 opt_makeflags="OPT_FAST=-O2")


def make_session(simulator: str, config: SchedulerConfig, *, build_dir: str | os.PathLike,
                 waves: bool = False) -> Session:
    """A session of ``simulator`` (one of `SIMULATORS`)."""
    if simulator == "amaranth":
        return AmaranthSession(config, vcd_path=os.path.join(build_dir, "dysta_sched.vcd")
                               if waves else None)
    if simulator == "icarus":
        return IcarusSession(config, build_dir=build_dir, waves=waves)
    if simulator == "verilator":
        return VerilatorSession(config, build_dir=build_dir)
    raise ValueError(f"unknown simulator {simulator!r}; known: {', '.join(SIMULATORS)}")


# --- the scheduler interface over a session ------------------------------------------------------


class RTLScheduler:
    """The twin's functional interface (what the ``dysta_hw`` policy calls), answered by RTL.

    Timed commands (ADMIT, LAYER_DONE, DECIDE) are preceded by SET_TIME(now - 1): SET_TIME
    accepted in cycle c makes the counter now - 1 in cycle c + 1, its response is taken in
    c + 1 and the next command is accepted in c + 2, when the counter reads ``now``.
    """

    def __init__(self, config: SchedulerConfig, session: Session, *, check: bool = True
                 ) -> None:
        self.config = config
        self.session = session
        self.twin = DystaSchedTwin(config) if check else None
        self.words: list[int] = []
        """Every command word sent, in order (to replay a window into a waveform)."""
        self.commands = 0
        self.decisions = 0
        self.cycles = 0
        self._mask = (1 << config.time_bits) - 1

    def _issue(self, word: int) -> TwinResponse:
        r = self.session.issue(word, 0)
        self.words.append(word)
        self.commands += 1
        self.cycles = r.resp_cycle
        if self.twin is not None:
            t = self.twin.issue(word, 0)
            if t != r:
                raise CosimMismatch(
                    f"command {self.commands - 1} (word {word:#x}, accepted in cycle "
                    f"{r.accept_cycle}): RTL {r}, twin {t}")
        return r

    def _timed(self, word: int, now: int) -> TwinResponse:
        self._issue(pack_dysta_cmd(DystaOp.SET_TIME, value=(now - 1) & self._mask))
        return self._issue(word)

    def load_lut(self, model: int, pattern: int, layer: int, remaining: int,
                 density: int) -> int:
        return self._issue(pack_dysta_cmd(DystaOp.LOAD_LUT, model=model, pattern=pattern,
                                          layer=layer, remaining=remaining,
                                          density=density)).status

    def load_iso(self, model: int, pattern: int, weight: int) -> int:
        return self._issue(pack_dysta_cmd(DystaOp.LOAD_ISO, model=model, pattern=pattern,
                                          weight=weight)).status

    def admit(self, model: int, pattern: int, deadline: int, arrival: int, now: int
              ) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.ADMIT, model=model, pattern=pattern,
                                       deadline=deadline & self._mask,
                                       arrival=arrival & self._mask), now)
        return r.status, r.slot, r.value

    def retire(self, slot: int) -> int:
        return self._issue(pack_dysta_cmd(DystaOp.RETIRE, slot=slot)).status

    def layer_done(self, slot: int, nnz: int, total: int, now: int) -> tuple[int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.LAYER_DONE, slot=slot, nnz=nnz, total=total),
                        now)
        return r.status, r.value

    def decide(self, now: int) -> tuple[int, int, int]:
        r = self._timed(pack_dysta_cmd(DystaOp.DECIDE), now)
        self.decisions += 1
        if r.status not in (DystaStatus.OK, DystaStatus.IDLE):
            raise CosimMismatch(f"DECIDE answered with status {r.status}")
        return r.status, r.slot, r.value


# --- a whole run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CosimResult:
    """A co-simulated run: the engine's result plus the RTL's command and cycle counts."""

    run: Any
    simulator: str
    commands: int
    decisions: int
    rtl_cycles: int
    wall_s: float
    hw_config: SchedulerConfig
    words: tuple[int, ...]
    run_s: float = float("nan")
    """Wall time of the run alone (without building the RTL and loading the LUTs)."""

    @property
    def decisions_per_s(self) -> float:
        """Decisions per second of the run alone (the simulator already built)."""
        return self.decisions / self.run_s if self.run_s > 0 else float("nan")


def run_cosim(workload, backend, context, *, simulator: str, build_dir: str | os.PathLike,
              policy_overrides: dict[str, Any] | None = None, check: bool = True,
              waves: bool = False, num_accelerators: int = 1) -> CosimResult:
    """Simulate ``workload`` with ``dysta_hw`` whose scheduler is RTL on ``simulator``.

    ``context``: the `PolicyContext` (static tables, clock); ``policy_overrides``: fields of
    ``DystaHW.Config``. Raises `CosimMismatch` when ``check`` and the RTL departs from the
    twin.
    """
    from mmsched.sched.policies.dysta_hw import DystaHW
    from mmsched.sim.engine import simulate

    made: list[RTLScheduler] = []

    def factory(hw: SchedulerConfig) -> RTLScheduler:
        s = RTLScheduler(hw, make_session(simulator, hw, build_dir=build_dir, waves=waves),
                         check=check)
        made.append(s)
        return s

    cfg = DystaHW.Config(**(policy_overrides or {}))
    t0 = time.perf_counter()
    policy = DystaHW(context, cfg, scheduler_factory=factory)
    sched = made[0]
    t1 = time.perf_counter()
    try:
        run = simulate(workload, policy, backend, num_accelerators=num_accelerators)
    finally:
        sched.session.close()
    t2 = time.perf_counter()
    return CosimResult(run=run, simulator=simulator, commands=sched.commands,
                       decisions=sched.decisions, rtl_cycles=sched.cycles, wall_s=t2 - t0,
                       hw_config=policy.hw_config, words=tuple(sched.words), run_s=t2 - t1)


def replay_vcd(config: SchedulerConfig, words, path: str | os.PathLike) -> None:
    """Replay command words (a window of a run, from its start) on the Amaranth simulator
    into a VCD waveform at ``path``."""
    s = AmaranthSession(config, vcd_path=str(path))
    try:
        for w in words:
            s.issue(w, 0)
    finally:
        s.close()

