"""Issue 13, items 5-7: lost work and lost files.

``--out`` is checked before any work (an unwritable or impossible path fails at once, with
nothing simulated); a rerun never deletes files a user added to a run folder; a symlinked
``--out`` stays a symlink; ``mmsched report`` checks every input first and writes only into
folders mmsched wrote.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = settings.get_profile("reliability")  # tests/reliability/conftest.py
SLOW = ("--scenario", "cnn", "--requests", "20000", "--seeds", "4", "--rates", "3,5",
        "--slo", "10,50", "--jobs", "1", "--no-plots")
"""A sweep of many seconds: refused before it starts, or the test notices."""


def _out_cases(tmp: Path) -> list[str]:
    (tmp / "afile").write_text("mine\n")
    return ["/proc/x", "/proc/x/y/z", "/sys/mmsched-run", str(tmp / "afile"),
            str(tmp / "afile" / "sub"), "afile/sub/deeper", "/dev/null"]


@FUZZ
@given(case=st.integers(0, 6))
def test_unwritable_out_refused_before_any_work(rel, tmp_path, case):
    out = _out_cases(tmp_path)[case]
    before = rel.snapshot(tmp_path)
    t0 = time.monotonic()
    res = rel.cli("run", *SLOW, "--out", out)
    assert time.monotonic() - t0 < 10, "the sweep ran before --out was checked"
    rel.error(res, "--out")
    assert rel.snapshot(tmp_path) == before


@FUZZ
@given(names=st.lists(st.sampled_from(["notes.txt", "thesis.tex", "summary.csv.bak", "x.png",
                                       ".hidden", "plots"]), min_size=1, max_size=3,
                      unique=True))
def test_rerun_never_deletes_a_users_files(rel, tmp_path, names):
    shutil.rmtree(tmp_path / "r", ignore_errors=True)  # tmp_path is shared by the examples
    assert rel.cli("run", *rel.B, "--out", "r").returncode == 0
    for n in names:
        if n == "plots":
            (tmp_path / "r" / n).mkdir()
            (tmp_path / "r" / n / "a.png").write_bytes(b"\x89PNG mine")
        else:
            (tmp_path / "r" / n).write_text("precious\n")
    before = rel.snapshot(tmp_path / "r")
    res = rel.cli("run", *rel.B, "--rates", "5", "--out", "r")
    line = rel.error(res, "--out", "r")
    for n in names:  # even a PNG: the run folder's marker lists the files mmsched wrote
        assert n in line
    assert rel.snapshot(tmp_path / "r") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "r"]


def test_rerun_replaces_its_own_files_and_reports(rel, tmp_path):
    assert rel.cli("run", *rel.B, "--out", "r").returncode == 0
    rep = rel.cli("report", "r")  # adds the plots the --no-plots run did not draw
    assert rep.returncode == 0, rep.stderr
    again = rel.cli("run", *rel.B, "--rates", "5", "--out", "r")
    assert again.returncode == 0, again.stderr
    assert "5.0" in (tmp_path / "r" / "summary.csv").read_text()


def test_symlinked_out_stays_a_symlink(rel, tmp_path):
    assert rel.cli("run", *rel.B, "--out", "real").returncode == 0
    os.symlink("real", tmp_path / "link")
    res = rel.cli("run", *rel.B, "--rates", "5", "--out", "link")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "link").is_symlink() and os.readlink(tmp_path / "link") == "real"
    assert "5.0" in (tmp_path / "real" / "summary.csv").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "link", "real"]


def test_report_into_a_foreign_or_missing_folder(rel, tmp_path):
    assert rel.cli("run", *rel.B, "--out", "r").returncode == 0
    mine = tmp_path / "mine"
    shutil.copytree(tmp_path / "r", mine)
    (mine / ".mmsched-run").unlink()
    (mine / "table.txt").write_text("my table\n")
    before = rel.snapshot(tmp_path)
    rel.error(rel.cli("report", "mine"), "mine", "did not write")
    rel.error(rel.cli("report", "r/summary.csv"), "summary.csv", "a file")
    rel.error(rel.cli("report", "nowhere"), "nowhere", "no such folder")
    assert rel.snapshot(tmp_path) == before


@FUZZ
@given(name=st.sampled_from(["layers.csv", "requests.csv", "per_model.csv", "summary.csv"]),
       data=st.one_of(st.binary(min_size=1, max_size=40),
                      st.sampled_from([b"recipe,policy\ncnn,fcfs\n", b"\xe9t\xe9,x\n1,2\n",
                                       b"\x00\x00", b"a,b\n1,2,3,4\n\"unclosed\n"])))
def test_report_with_a_bad_file_writes_nothing(rel, tmp_path, name, data):
    shutil.rmtree(tmp_path / "r", ignore_errors=True)  # tmp_path is shared by the examples
    if not (tmp_path / "base").exists():
        assert rel.cli("run", *rel.B, "--out", "base").returncode == 0
    shutil.copytree(tmp_path / "base", tmp_path / "r", symlinks=True)
    (tmp_path / "r" / name).write_bytes(data)
    before = rel.snapshot(tmp_path / "r")
    res = rel.cli("report", "r")
    if res.returncode == 0:  # a file the report does not need may be any CSV
        assert name != "summary.csv"
        return
    rel.error(res, name)
    assert rel.snapshot(tmp_path / "r") == before
