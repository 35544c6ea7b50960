"""Issue 13, item 8: SIGTERM and SIGINT (Ctrl-C, sent to the whole process group) to a
``--jobs 2`` run at several points: while starting, while the workers simulate, and while
the outputs are being written. After each: exit 128 + the signal, one "interrupted" line and
no traceback, no process of the run left, no staging folder left, and the earlier run folder
byte-identical."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(),
                                reason="reads worker pids from /proc (Linux)")

LONG = ("--scenario", "cnn", "--requests", "4000", "--seeds", "3", "--rates", "3,5", "--slo",
        "10,50", "--policies", "fcfs,sjf,dysta", "--jobs", "2")
"""About 20 s of simulation on two workers: always interrupted before it ends."""
SHORT = ("--scenario", "cnn", "--requests", "300", "--seeds", "1", "--rates", "3,5", "--slo",
         "10", "--policies", "fcfs,sjf,dysta", "--jobs", "2")
"""Finishes in a moment and then writes the outputs and plots (the last kill point)."""


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _workers_up(proc: subprocess.Popen, seen: set[int]):
    """A condition for `_wait_for`: ``proc`` has had two child processes (collected into
    ``seen``), or has ended."""

    def up() -> bool:
        seen.update(_children(proc.pid))
        return len(seen) >= 2 or proc.poll() is not None

    return up


def _wait_for(cond, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("kill point never reached")
        time.sleep(0.005)


@pytest.mark.parametrize(("sig", "point", "fresh"), [
    (signal.SIGTERM, "start", False), (signal.SIGTERM, "workers", False),
    (signal.SIGTERM, "writing", False), (signal.SIGINT, "workers", False),
    (signal.SIGINT, "writing", False), (signal.SIGTERM, "writing", True),
])
def test_interrupted_run_leaves_nothing_behind(rel, tmp_path, sig, point, fresh):
    if not fresh:
        earlier = rel.cli("run", *rel.B, "--out", "r")
        assert earlier.returncode == 0, earlier.stderr
    before = rel.snapshot(tmp_path / "r")
    env = rel.env
    args = SHORT if point == "writing" else LONG
    proc = subprocess.Popen([sys.executable, "-m", "mmsched.sim", "run", *args, "--out", "r"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen: set[int] = set()
    workers_up = _workers_up(proc, seen)

    def staging() -> bool:
        workers_up()
        return any(p.name.endswith(".tmp") for p in tmp_path.glob(".r.*")) or \
            proc.poll() is not None

    try:
        if point == "start":
            time.sleep(0.3)
        else:
            _wait_for(workers_up if point == "workers" else staging)
        assert proc.poll() is None, "the run ended before the kill point"
        if sig == signal.SIGINT:  # Ctrl-C: the terminal signals the whole process group
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in out + err, err
    lines = [ln for ln in err.splitlines() if "interrupted" in ln]
    what = "nothing written" if fresh else "earlier results kept in r"
    assert lines == [f"mmsched run: interrupted ({sig.name}); {what}"], err
    time.sleep(0.1)
    assert not [p for p in seen if _alive(p)], "a worker outlived the run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"] + ["r"] * (not fresh), \
        "staging folder left"
    assert rel.snapshot(tmp_path / "r") == before


def test_workers_die_with_a_killed_run(rel, tmp_path):
    """SIGKILL reaches no handler: the workers still end (Linux parent-death signal)."""
    env = rel.env
    proc = subprocess.Popen([sys.executable, "-m", "mmsched.sim", "run", *LONG, "--out", "r"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    _wait_for(_workers_up(proc, seen))
    time.sleep(0.3)  # past the workers' start
    proc.kill()
    proc.wait()
    _wait_for(lambda: not [p for p in seen if _alive(p)], timeout=10)
