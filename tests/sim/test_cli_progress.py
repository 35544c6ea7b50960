"""The run command's progress bar (tqdm) on stderr, only when asked or on a terminal."""

import io
import re
import subprocess
import sys

from mmsched.sim import _progress

ARGS = ["--scenario", "cnn", "--requests", "20", "--seeds", "2", "--rates", "3", "--slo", "10",
        "--policies",
        "fcfs,sjf", "--jobs", "1"]


def test_counter_drives_one_bar(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    update, close = _progress.counter(4, "simulating", "run")
    update(1, 4)
    update(4, 4)
    close()
    text = buf.getvalue()
    assert "simulating" in text and "4/4" in text and "run/s" in text
    assert text.endswith("\n") and text.count("\n") == 1
    buf.truncate(0)
    update, close = _progress.counter(4, "simulating", "run", enabled=False)
    update(4, 4)
    close()
    assert buf.getvalue() == ""


def _run(tmp_path, *extra):
    return subprocess.run([sys.executable, "-m", "mmsched.sim", "run", *ARGS, *extra,
                           "--out", "o"], cwd=tmp_path, capture_output=True, check=False,
                          timeout=120)  # bytes: text mode would turn the bar's \r into \n


def test_silent_when_not_a_tty_unless_asked(tmp_path):
    quiet = _run(tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == b""
    loud = _run(tmp_path, "--progress")
    assert loud.returncode == 0
    last = loud.stderr.split(b"\r")[-1]
    assert re.fullmatch(rb"simulating: 100%.* 4/4 \[.*run/s\]\n", last), last
    assert loud.stderr.count(b"\n") == 1
    assert loud.stdout.startswith(b"recipe")  # stdout stays the table


def test_no_plots_draws_nothing_and_never_imports_matplotlib(tmp_path):
    code = ("import sys; from mmsched.sim.cli import main; "
            f"rc = main({['run', *ARGS, '--out', 'o', '--no-plots']!r}); "
            "print('matplotlib' in sys.modules, rc)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, check=True, timeout=120)
    assert r.stdout.splitlines()[-1] == "False 0"
    assert not list((tmp_path / "o").glob("*.png"))
    assert (tmp_path / "o" / "table.txt").is_file()
