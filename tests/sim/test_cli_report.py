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
        "mmsched report: error: nowhere/summary.csv: expected an mmsched results CSV, found "
        "no such file"]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.csv").write_text("policy,rate,antt\nfcfs,3,oops\n")
    bad = _cli("report", "bad", cwd=tmp_path)
    assert bad.returncode == 2 and "line 2, column antt" in bad.stderr
