"""`mmsched report`: the plotting step, rerun on a run folder's CSVs."""

import subprocess
import sys


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mmsched.sim", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)


def test_report_rebuilds_table_and_plots(tmp_path):
    run = _cli("run", "--scenario", "cnn", "--requests", "30", "--seeds", "2", "--rates", "3,5",
               "--slo", "10",
               "--policies", "fcfs,dysta", "--jobs", "1", "--out", "r", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "r"
    table = (out / "table.txt").read_text()
    for name in ("aggregate.csv", "table.txt", "cnn_vs_rate.png", "latency_cdf.png",
                 "gantt.png"):
        (out / name).unlink()
    rep = _cli("report", "r", cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr
    assert rep.stdout.startswith(table)
    assert (out / "table.txt").read_text() == table
    for name in ("aggregate.csv", "cnn_vs_rate.png", "latency_cdf.png", "gantt.png"):
        assert (out / name).is_file(), name


def test_report_bad_input(tmp_path):
    missing = _cli("report", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "mmsched report: error: nowhere: expected a run folder written by mmsched run, found "
        "no such folder"]
    (tmp_path / "bad").mkdir()
    header = ("recipe,workload,mode,policy,seed,rate,slo,violation_rate,antt,stp,"
              "latency_p99\n")
    (tmp_path / "bad" / "summary.csv").write_text(header + "r,w,fixed,fcfs,0,3,10,0,oops,1,1\n")
    bad = _cli("report", "bad", cwd=tmp_path)
    assert bad.returncode == 2 and "line 2, column antt" in bad.stderr


def test_report_writes_only_into_mmsched_folders(tmp_path):
    # a folder mmsched did not write is left alone, even with a valid summary (item 7)
    run = _cli("run", "--scenario", "cnn", "--requests", "30", "--seeds", "1", "--rates", "3",
               "--slo", "10", "--policies", "fcfs", "--jobs", "1", "--no-plots", "--out", "r",
               cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.csv").write_bytes((tmp_path / "r" / "summary.csv").read_bytes())
    (mine / "table.txt").write_text("my own table\n")
    before = {p.name: p.read_bytes() for p in mine.iterdir()}
    res = _cli("report", "mine", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "mmsched report: error: mine: expected a folder written by mmsched run (with its "
        ".mmsched-run file); report writes only into those, found a folder mmsched did not "
        "write"]
    assert {p.name: p.read_bytes() for p in mine.iterdir()} == before
