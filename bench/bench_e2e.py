"""End to end against the Dysta artifact: the same CSVs, the same nine runs, side by side.

The command a new user runs on a folder of the artifact's CSVs, timed as a whole process
(interpreter start, imports, CSV loading, the sweep, the table, the plots):

    mmsched run --csv-dir DIR --policies dysta,prema,sdrm3 --rates 5 --slo 10 \\
                --requests 1000 --seeds 3

in the default (fixed) mode, with ``--no-plots``, and in ``--compat dysta-artifact`` mode
(the artifact's semantics: its results must agree), against the artifact's own simulator on
the same nine runs (``python simulator.py --csv_lat_dir DIR --schedule_method dysta prema
sdrm3 --sample_per_sec 5 --lat_slo_mult 10 --num_sample 1000 --num_random_seeds 3``).
It also times a new user's first commands with an empty user cache: ``mmsched scenarios``
and ``mmsched run`` (the default scenario, as ``make demo`` runs it after installing), with
the time to the run's first progress output (targets: 3 s, 60 s, 2 s).
Runs alternate between the tools (``REPEATS`` each, after one untimed warm-up run of each,
with bytecode caching on for both: `_env`); medians and ratios are printed and
written to ``bench/results/e2e.json`` (`_results.write_results`: with the machine, the date and
the commit).

The artifact is not part of this project: ``DYSTA_ARTIFACT`` names a local clone of it (the
folder holding ``dysta_scheduler/simulator.py``), ``DYSTA_ARTIFACT_PYTHON`` an interpreter
with its dependencies (pandas, scipy, scikit-learn, matplotlib, brokenaxes; default: this
one). Without ``DYSTA_ARTIFACT`` the benchmark says so and skips. The CSVs are generated
(`_e2e_data.make_csv_set`: 12 files, 81,000 rows, the artifact's Eyeriss format) under the
build folder; the folder name contains ``eyerissv2``, which is how the artifact picks the
format.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _e2e_data import make_csv_set
from _results import write_results

from mmsched.hw.paths import build_dir

HERE = Path(__file__).resolve().parent
REPEATS = 3
TARGET = 10.0
ARGS = ["--policies", "dysta,prema,sdrm3", "--rates", "5", "--slo", "10", "--requests", "1000",
        "--seeds", "3"]
ARTIFACT_ARGS = ["--schedule_method", "dysta", "prema", "sdrm3", "--sample_per_sec", "5",
                 "--lat_slo_mult", "10", "--num_sample", "1000", "--num_random_seeds", "3"]


def _env() -> dict[str, str]:
    """Both tools as on a usual Python set-up: bytecode cached (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which makes every start compile every module again)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False,
                         env=_env())
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({res.returncode}):\n"
                           f"{res.stderr[-2000:]}")
    return wall, res.stdout


def _artifact_violations(stdout: str) -> list[tuple[str, float]]:
    return [(m.group(1), float(m.group(2))) for m in
            re.finditer(r"Violation rate of\s+(\S+)\s+scheduling:\s*(\S+)", stdout)]


def _first_use() -> dict:
    """A new user's first commands, each with an empty user cache: ``mmsched scenarios``, and
    ``mmsched run`` (the default scenario, what ``make demo`` runs after installing) with the
    time to its first progress output on stderr."""
    scen, demo, first = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(REPEATS):
            env = {**_env(), "MMSCHED_CACHE_DIR": str(Path(tmp) / f"cache{i}")}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "mmsched.sim", "scenarios"], cwd=tmp, env=env,
                           capture_output=True, check=True)
            scen.append(time.perf_counter() - t0)
            env["MMSCHED_CACHE_DIR"] = str(Path(tmp) / f"cache-run{i}")
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "mmsched.sim", "run", "--progress",
                                     "--out", str(Path(tmp) / f"demo{i}")], cwd=tmp, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            proc.stderr.read(1)
            first.append(time.perf_counter() - t0)
            proc.stderr.read()
            if proc.wait() != 0:
                raise RuntimeError("mmsched run failed")
            demo.append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in
           (("scenarios", scen), ("run", demo), ("first progress output", first))}
    print(f"first use, empty user cache, median of {REPEATS} (wall seconds):")
    for name, target, cmd in (("scenarios", 3.0, "mmsched scenarios"),
                              ("run", 60.0, "mmsched run (the default scenario; make demo)"),
                              ("first progress output", 2.0, "mmsched run: first output")):
        print(f"  {cmd:48s} {med[name]:6.2f} s  (target < {target:g} s: "
              f"{'met' if med[name] < target else 'MISSED'})")
    return {"first use, empty user cache, wall seconds (median of "
            f"{REPEATS})": [{"command": k, "median_s": round(v, 2),
                             "runs_s": [round(t, 2) for t in runs]}
                            for (k, v), runs in zip(med.items(), (scen, demo, first),
                                                    strict=True)]}


def main() -> None:
    first_use = _first_use()
    clone = os.environ.get("DYSTA_ARTIFACT")
    if not clone:
        print("artifact comparison skipped: set DYSTA_ARTIFACT to a local clone of the Dysta "
              "artifact (the folder holding dysta_scheduler/simulator.py)")
        write_results("e2e", first_use, title="A new user's first commands (python bench/run.py "
                      "e2e; DYSTA_ARTIFACT unset: no artifact comparison)")
        return
    sim_dir = Path(clone).expanduser() / "dysta_scheduler"
    if not (sim_dir / "simulator.py").is_file():
        print(f"skipped: no dysta_scheduler/simulator.py under DYSTA_ARTIFACT={clone}")
        return
    art_py = os.environ.get("DYSTA_ARTIFACT_PYTHON", sys.executable)
    csv_dir = make_csv_set(build_dir() / "e2e_csv")
    rows = sum(len(p.read_text().splitlines()) - 1 for p in csv_dir.glob("*.csv"))
    mm = [sys.executable, "-m", "mmsched.sim", "run", "--csv-dir", str(csv_dir), *ARGS,
          "--no-progress"]
    variants = {"mmsched": [], "mmsched --no-plots": ["--no-plots"],
                "mmsched --compat dysta-artifact": ["--compat", "dysta-artifact"]}
    times: dict[str, list[float]] = {k: [] for k in [*variants, "artifact"]}
    agree = None
    artifact = [art_py, "simulator.py", "--csv_lat_dir", str(csv_dir), *ARTIFACT_ARGS]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _timed([*mm, "--out", str(work / "warm-up")], work)  # bytecode written, not timed
        _timed(artifact, sim_dir)
        for rep in range(REPEATS):
            for name, extra in variants.items():
                out = work / f"out{len(times[name])}"
                wall, _ = _timed([*mm, *extra, "--out", str(out)], work)
                times[name].append(wall)
                if rep == 0 and "compat" in name:
                    compat_out = out
            wall, stdout = _timed(artifact, sim_dir)
            times["artifact"].append(wall)
            if rep == 0:  # the artifact's 9 violation rates against mmsched's compat mode
                theirs = _artifact_violations(stdout)
                import csv

                with open(compat_out / "summary.csv", newline="") as f:
                    ours = {(r["policy"], int(r["seed"])): float(r["violation_rate"])
                            for r in csv.DictReader(f)}
                pols = ["dysta", "prema", "sdrm3"]
                mine = [(p, ours[(p, s)]) for s in range(3) for p in pols]
                agree = len(theirs) == 9 and all(
                    a == b and abs(x - y) < 1e-12 for (a, x), (b, y) in zip(theirs, mine,
                                                                               strict=True))
    med = {k: statistics.median(v) for k, v in times.items()}
    art = med["artifact"]
    print(f"{rows} CSV rows in 12 files, 9 runs of 1000 requests; wall seconds, median of "
          f"{REPEATS} (machine load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"  {'Dysta artifact':34s} {art:7.2f} s")
    for k in variants:
        print(f"  {k:34s} {med[k]:7.2f} s   {art / med[k]:5.1f}x faster  "
              f"(target >= {TARGET:g}x: {'met' if art / med[k] >= TARGET else 'MISSED'})")
    print(f"  compat-mode violation rates equal to the artifact's (9 runs): {agree}")
    rows_out = [{"tool": "Dysta artifact (its simulator.py)", "median_s": round(art, 2),
                 "runs_s": [round(t, 2) for t in times["artifact"]], "speedup": 1.0}]
    rows_out += [{"tool": k, "median_s": round(med[k], 2),
                  "runs_s": [round(t, 2) for t in times[k]], "speedup": round(art / med[k], 1)}
                 for k in variants]
    write_results("e2e", {f"end to end, {rows} CSV rows, 9 runs x 1000 requests, wall "
                          f"seconds (median of {REPEATS})": rows_out,
                          "compat-mode violation rates equal to the artifact's":
                          bool(agree),
                          "load average at the end": round(os.getloadavg()[0], 1),
                          **first_use},
                  title="mmsched against the Dysta artifact, end to end (python bench/run.py "
                        "e2e)",
                  commands=["mmsched run --csv-dir DIR " + " ".join(ARGS),
                            "python simulator.py --csv_lat_dir DIR " + " ".join(ARTIFACT_ARGS)],
                  notes=f"target >= {TARGET:g}x; wall times count the machine's other load")
