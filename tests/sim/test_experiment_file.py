"""Experiment files: loading and validation, the smoke experiment, resuming after SIGTERM,
a Dask LocalCluster giving the local results, bad files refused before any work."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmsched.sched.errors import InputError
from mmsched.sim import resume
from mmsched.sim.cli import main
from mmsched.sim.experiment_file import load_experiment
from mmsched.sim.run_experiment import POINTS, work_folder

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "experiments" / "smoke.toml"
MEDIUM = ROOT / "tests" / "data" / "dysta_csv_medium" / "eyerissv2"


def _run(*argv: str) -> int:
    return main(["run", "--no-plots", "--no-progress", *argv])


def test_smoke_experiment(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert _run("--experiment", str(SMOKE), "--out", str(out), "--jobs", "2") == 0
    exp = load_experiment(SMOKE)
    hw, csv = exp.sweeps
    assert hw.columns == ("rows", "clock_hz", "slots")
    # 2 shapes x 2 clocks = 4 recipes; fcfs, sjf, dysta + dysta_hw at 2 table sizes
    assert len(hw.sweep.recipes) == 4
    assert hw.sweep.policies == ("fcfs", "sjf", "dysta", "dysta_hw:slots=2",
                                 "dysta_hw:slots=64")
    for es in exp.sweeps:
        for name in ("summary.csv", "aggregate.csv", "table.txt", "per_model.csv", "run.json"):
            assert (out / es.name / name).is_file()
    head = (out / "tiny-hw" / "summary.csv").read_text().splitlines()[0].split(",")
    assert head[head.index("seed") + 1:head.index("seed") + 4] == ["rows", "clock_hz", "slots"]
    top = (out / "summary.csv").read_text().splitlines()
    assert top[0].startswith("sweep,") and len(top) - 1 == hw.sweep.runs + csv.sweep.runs
    import pyarrow.parquet as pq

    table = pq.read_table(out / POINTS / "tiny-hw")
    assert table.num_rows == hw.sweep.runs
    assert sorted(set(table.column("rows").to_pylist())) == [4, 8]
    assert set(table.column("slots").to_pylist()) == {None, 2.0, 64.0}
    assert not work_folder(out).exists()
    # a rerun of the finished experiment simulates nothing and writes the same summary
    before = (out / "summary.csv").read_bytes()
    capsys.readouterr()
    assert _run("--experiment", str(SMOKE), "--out", str(out), "--jobs", "1") == 0
    assert f"(0 simulated, {exp.points} resumed)" in capsys.readouterr().out
    assert (out / "summary.csv").read_bytes() == before


def test_points_of_other_code_are_not_resumed(tmp_path, capsys, monkeypatch):
    """A changed program (any of its files) simulates every point again: results of the old
    code are never mixed in."""
    path = _write(tmp_path, GOOD)
    out = tmp_path / "out"
    assert _run("--experiment", str(path), "--out", str(out)) == 0
    assert _run("--experiment", str(path), "--out", str(out)) == 0
    assert "(0 simulated, 1 resumed)" in capsys.readouterr().out
    from mmsched.sim import experiment_file

    monkeypatch.setattr(experiment_file, "code_digest", lambda: "another program")
    assert _run("--experiment", str(path), "--out", str(out)) == 0
    assert "(1 simulated, 0 resumed)" in capsys.readouterr().out


def test_points_of_an_edited_csv_folder_are_not_resumed(tmp_path, capsys):
    csv = tmp_path / "csv"
    shutil.copytree(MEDIUM, csv)
    path = _write(tmp_path, f"""
[[sweep]]
name = "c"
csv = "{csv.as_posix()}"
policies = ["fcfs"]
rates = [5.0]
slos = [10.0]
requests = 20
seeds = 1
""")
    out = tmp_path / "out"
    assert _run("--experiment", str(path), "--out", str(out)) == 0
    assert _run("--experiment", str(path), "--out", str(out)) == 0
    assert "(0 simulated, 1 resumed)" in capsys.readouterr().out
    first = sorted(csv.glob("*.csv"))[0]
    first.write_text(first.read_text().replace("0.", "0.9", 1))  # one latency changed
    assert _run("--experiment", str(path), "--out", str(out)) == 0
    assert "(1 simulated, 0 resumed)" in capsys.readouterr().out


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "exp.toml"
    p.write_text(text)
    return p


GOOD = """
[[sweep]]
name = "a"
scenario = "cosim-tiny"
policies = ["fcfs", "dysta_hw"]
rates = [300000.0]
slos = [10.0]
requests = 12
seeds = 1
"""


@pytest.mark.parametrize("text, where", [
    (GOOD + "colour = 3\n", "sweep[0].colour: expected a known key"),
    (GOOD + "[sweep.hardware]\nrows = []\n", "sweep[0].hardware.rows: expected a non-empty"),
    (GOOD.replace("rates = [300000.0]", "rates = []"), "sweep[0].rates: expected a non-empty"),
    (GOOD + "[sweep.hardware]\nchunk_depth = [4, 64]\n",
     "sweep[0].hardware: expected hardware every accelerator can have"),
    (GOOD + "[sweep.hardware]\nclock_hz = [1e8, 1e20]\n",
     "sweep[0].hardware: expected hardware every accelerator can have, found clock_hz = 1e+20 "
     "on cosim_tiny of cosim-tiny: clock_hz must be a number of Hz in [1000, 1e+12]"),
    (GOOD + "[sweep.hardware]\nclock_hz = [inf]\n", "clock_hz = inf on cosim_tiny"),
    (GOOD + "[sweep.hardware]\nshape = [1]\n", "sweep[0].hardware.shape: expected a known"),
    (GOOD + "[sweep.scheduler]\nslots = [0]\n", "sweep[0].scheduler"),
    (GOOD.replace('"fcfs", "dysta_hw"', '"fcfs"') + "[sweep.scheduler]\nslots = [4]\n",
     "sweep[0].scheduler.slots: expected a policy of the sweep"),
    (GOOD.replace('policies = ["fcfs", "dysta_hw"]', 'policies = ["nope"]'),
     "sweep[0].policies: expected policy names"),
    (GOOD + GOOD, "sweep[1].name: expected a name no other sweep has"),
    ("title = 1\n" + GOOD, "title: expected a known key"),
    (GOOD.replace('scenario = "cosim-tiny"', 'scenario = "cnn"') + "clock_mhz = 1e9\n",
     "sweep[0].clock_mhz: expected a clock in [0.001, 1e+06] MHz"),
    ("[[sweep]]\nname = 'x'\n", "sweep[0]: expected one of scenario or csv"),
])
def test_bad_experiment_file_writes_nothing(tmp_path, capsys, text, where):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match="exp.toml"):
        load_experiment(path)
    out = tmp_path / "out"
    assert _run("--experiment", str(path), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mmsched run: error: ") and where in err[0], err
    assert sorted(os.listdir(tmp_path)) == ["exp.toml"]  # no output, no work folder


def test_an_experiment_too_large_is_refused_before_any_work(tmp_path, capsys):
    path = _write(tmp_path, GOOD.replace("requests = 12", "requests = 90000000"))
    out = tmp_path / "out"
    assert _run("--experiment", str(path), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exp.toml: sweep a (requests, seeds)" in err[0], err
    assert "MAX_RUN_MEMORY_BYTES" in err[0]
    assert sorted(os.listdir(tmp_path)) == ["exp.toml"]


def test_bad_experiment_file_from_the_command_line(tmp_path):
    path = _write(tmp_path, GOOD + "[sweep.hardware]\nrows = [0]\n")
    res = subprocess.run([sys.executable, "-m", "mmsched.sim", "run", "--experiment",
                          str(path), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1 and "rows" in res.stderr
    assert sorted(os.listdir(tmp_path)) == ["exp.toml"]


SLOW = f"""
[[sweep]]
name = "medium"
csv = "{MEDIUM}"
compat = "dysta-artifact"
policies = ["fcfs", "sjf", "prema", "planaria", "sdrm3", "dysta"]
rates = [4, 6, 8]
slos = [10.0, 30.0]
requests = 1500
seeds = 3
"""


def test_sigterm_midway_then_resume_equals_an_uninterrupted_run(tmp_path):
    path = _write(tmp_path, SLOW)
    total = load_experiment(path).points
    whole = tmp_path / "whole"
    assert _run("--experiment", str(path), "--out", str(whole), "--jobs", "1") == 0

    out = tmp_path / "cut"
    parts = work_folder(out) / POINTS / "medium"
    proc = subprocess.Popen([sys.executable, "-m", "mmsched.sim", "run", "--experiment",
                             str(path), "--out", str(out), "--jobs", "1", "--no-plots"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob(resume.PART_GLOB))) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    done = len(list(parts.glob(resume.PART_GLOB)))
    assert proc.returncode != 0 and not out.exists()
    assert 3 <= done < total, (done, total)

    res = subprocess.run([sys.executable, "-m", "mmsched.sim", "run", "--experiment",
                          str(path), "--out", str(out), "--jobs", "2", "--no-plots"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"({total - done} simulated, {done} resumed)" in res.stdout
    for name in ("summary.csv", "medium/summary.csv", "medium/per_model.csv",
                 "medium/requests.csv", "medium/layers.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    import pyarrow.parquet as pq

    names = sorted(os.listdir(whole / POINTS / "medium"))
    assert sorted(os.listdir(out / POINTS / "medium")) == names
    for name in names:  # every point's part: the same rows and the same full record
        a, b = (pq.read_table(f / POINTS / "medium" / name) for f in (out, whole))
        assert a.equals(b) and a.schema.metadata == b.schema.metadata, name
    table = pq.read_table(out / POINTS / "medium")
    assert table.num_rows == load_experiment(path).sweeps[0].sweep.runs
    assert not work_folder(out).exists()


def test_dask_local_cluster_gives_the_local_results(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local = tmp_path / "local"
    assert _run("--experiment", str(SMOKE), "--out", str(local), "--jobs", "1") == 0
    remote = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert _run("--experiment", str(SMOKE), "--out", str(remote),
                    "--scheduler-address", cluster.scheduler_address) == 0
    for p in sorted(local.rglob("*.csv")):
        assert (remote / p.relative_to(local)).read_bytes() == p.read_bytes(), p
    assert sorted(p.name for p in (local / POINTS).rglob("*.parquet")) == sorted(
        p.name for p in (remote / POINTS).rglob("*.parquet"))


def test_hardware_set_system_and_scheduler_axes_become_recipes_policies_columns(tmp_path):
    path = _write(tmp_path, """
[[sweep]]
name = "xr"
scenario = "xr-vr-gaming"
policies = ["edf", "dysta", "dysta_hw:beta=0.02"]
fps_scales = [1.0]
seeds = 1
[sweep.hardware]
system = ["4k", "2x2k"]
set = [{rows = 32, cols = 128}, {rows = 64, cols = 64}]
dense = [false, true]
[sweep.scheduler]
slots = [4, 16]
predictor = ["avg", "last-one"]
""")
    (es,) = load_experiment(path).sweeps
    assert es.columns == ("system", "rows", "cols", "dense", "slots", "predictor")
    names = [r.name for r in es.sweep.recipes]
    assert len(names) == 2 * 2 * 2 and names[0] == "xr-vr-gaming:4k[rows=32,cols=128,dense=False]"
    assert es.sweep.recipes[-1].source.hardware == (("rows", 64), ("cols", 64), ("dense", True))
    # dysta has predictor only; dysta_hw both (its own beta kept); edf neither
    assert es.sweep.policies == (
        "edf", "dysta:predictor=avg", "dysta:predictor=last-one",
        *(f"dysta_hw:beta=0.02:slots={s}:predictor={p}" for s in (4, 16)
          for p in ("avg", "last-one")))
    row = {"recipe": names[-1], "policy": "dysta:predictor=avg", "seed": 0, "uxcost": 1.0}
    assert es.label_rows([row]) == [{"recipe": names[-1], "policy": "dysta:predictor=avg",
                                     "seed": 0, "system": "2x2k", "rows": 64, "cols": 64,
                                     "dense": True, "slots": "", "predictor": "avg",
                                     "uxcost": 1.0}]


def test_progress_bar_counts_points(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["run", "--no-plots", "--progress", "--experiment", str(SMOKE), "--out",
                 str(out), "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    total = load_experiment(SMOKE).points
    assert "simulating: 100%" in err and f"{total}/{total}" in err
    assert "point/s" in err or "s/point" in err  # the rate; tqdm also shows the time left


def test_parts_round_trip_and_refuse_anything_but_plain_values(tmp_path, caplog):
    """A part gives back its result exactly (NaN and -0.0 included); a part whose payload
    names a global (what a crafted pickle would use to run code) is refused and ignored."""
    import pickle

    import pyarrow.parquet as pq

    from mmsched.sim.experiment import PointResult

    result = PointResult(key=("r", 1.0, 2.0, 0), decisions=7,
                         summary=[{"policy": "dysta", "x": float("nan"), "y": -0.0, "n": 3}])
    path = resume.write_part(tmp_path, "d" * 16, result, result.summary)
    digest, back = resume.read_part(path)
    assert digest == "d" * 16 and back.key == result.key and back.decisions == 7
    assert repr(back.summary) == repr(result.summary)
    assert pq.read_table(path).num_rows == 1

    table = pq.read_table(path)
    with pq.ParquetWriter(path, table.schema, store_schema=False) as w:
        w.write_table(table)
        w.add_key_value_metadata({resume.META_KEY: b'{"digest": "dddddddddddddddd"}',
                                  resume.RESULT_KEY: pickle.dumps(print)})
    with pytest.raises(pickle.UnpicklingError, match="plain values only"):
        resume.read_part(path)
    assert resume.finished([tmp_path], "d" * 16, [result.key]) == {}
    assert "ignoring the unreadable part" in caplog.text
