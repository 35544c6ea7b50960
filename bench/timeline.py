"""Where the time of one ``mmsched run`` goes, step by step, in both of its processes.

    python bench/timeline.py                  # the end-to-end command of bench_e2e
    python bench/timeline.py run --csv-dir DIR --policies dysta --out o   # any run

Runs the command in this process with timers around its steps (the command's own modules,
wrapped before it starts) and prints, in seconds since the command started, when the plot
process started, imported matplotlib and drew, and when the command built its sweep, had
its rows and finished its files. A diagnosis tool for docs/performance.md, not a benchmark:
one run, no medians. Writes into a temporary folder unless ``--out`` is given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

T0 = time.perf_counter()

_E2E_ARGV = """
import json, sys
sys.path.insert(0, sys.argv[1])
from _e2e_data import make_csv_set
from bench_e2e import ARGS
from mmsched.hw.paths import build_dir
print(json.dumps(["run", "--csv-dir", str(make_csv_set(build_dir() / "e2e_csv")), *ARGS]))
"""


def _mark(what: str) -> None:
    sys.stderr.write(f"{time.perf_counter() - T0:6.3f} s  [{os.getpid()}] {what}\n")


def _wrap() -> None:
    import mmsched.sim._plotter as plotter
    import mmsched.sim.cmd_run as cmd_run

    serve, split = plotter._serve, plotter._draw_split

    def timed_serve(*args):
        _mark("plot process: started")
        import mmsched.sim.report as report

        pyplot = report._pyplot

        def imported():
            first = pyplot.cache_info().currsize == 0
            got = pyplot()
            if first:
                _mark("plot process: matplotlib imported")
            return got

        report._pyplot = imported
        return serve(*args)

    def timed_split(jobs):
        _mark("plot process: drawing")
        got = split(jobs)
        _mark("plot process: plots drawn")
        return got

    plotter._serve, plotter._draw_split = timed_serve, timed_split
    prepare, outputs = cmd_run.prepare_sources, cmd_run.write_outputs

    def timed_prepare(*args, **kwargs):
        _mark("command: sweep built, loading inputs")
        return prepare(*args, **kwargs)

    def timed_outputs(*args, **kwargs):
        _mark("command: every run simulated, rows in memory")
        got = outputs(*args, **kwargs)
        _mark("command: files written, plots back")
        return got

    cmd_run.prepare_sources, cmd_run.write_outputs = timed_prepare, timed_outputs


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        if not argv:  # made in another process: this one imports only what the command does
            argv = json.loads(subprocess.run(
                [sys.executable, "-c", _E2E_ARGV, os.path.dirname(os.path.abspath(__file__))],
                capture_output=True, text=True, check=True).stdout)
        if "--out" not in argv:
            argv = [*argv, "--out", os.path.join(tmp, "out")]
        if "--no-progress" not in argv:
            argv.append("--no-progress")
        global T0
        T0 = time.perf_counter()  # from here: the interpreter's own start is not counted
        _wrap()
        _mark("command's first modules imported")
        from mmsched.sim.cli import main as cli

        with open(os.devnull, "w") as null:
            stdout, sys.stdout = sys.stdout, null
            try:
                code = cli(argv)
            finally:
                sys.stdout = stdout
        _mark(f"command: returned {code}")
        return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
