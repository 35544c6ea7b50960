"""The run command's progress bar: plain text on stderr, only when asked or on a terminal."""

import io
import re
import subprocess
import sys

from mmsched.sim.cmd_run import Progress

ARGS = ["--scenario", "cnn", "--requests", "20", "--seeds", "2", "--rates", "3", "--slo", "10",
        "--policies",
        "fcfs,sjf", "--jobs", "1"]


def test_progress_bar_text():
    buf = io.StringIO()
    bar = Progress(buf, width=10)
    bar(1, 4)
    bar(4, 4)
    text = buf.getvalue()
    assert text.startswith("\r[##........] 1/4 runs")  # 1/4 of 10 columns, rounded down
    assert "\r[##########] 4/4 runs" in text
    assert text.endswith("\n") and text.count("\n") == 1


def _run(tmp_path, *extra):
    return subprocess.run([sys.executable, "-m", "mmsched.sim", "run", *ARGS, *extra,
                           "--out", "o"], cwd=tmp_path, capture_output=True, check=False,
                          timeout=120)  # bytes: text mode would turn the bar's \r into \n


def test_silent_when_not_a_tty_unless_asked(tmp_path):
    quiet = _run(tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == b""
    loud = _run(tmp_path, "--progress")
    assert loud.returncode == 0
    assert loud.stderr.startswith(b"preparing workloads ...\r[")
    assert re.fullmatch(rb"\[#{30}\] 4/4 runs .*s\n", loud.stderr.split(b"\r")[-1])
    assert loud.stderr.count(b"\n") == 1
    assert loud.stdout.startswith(b"recipe")  # stdout stays the table
