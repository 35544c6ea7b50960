"""Atomic outputs: a failed run leaves nothing; an earlier run's folder is replaced whole."""

import pytest

from mmsched.sched.errors import InputError
from mmsched.sim import _atomic


def test_write_text_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "a.csv"
    _atomic.write_text(p, "x\n")
    _atomic.write_text(p, "y\n")
    assert p.read_text() == "y\n"
    assert [q.name for q in tmp_path.iterdir()] == ["a.csv"]


def test_staged_dir_creates_out_and_parents(tmp_path):
    out = tmp_path / "deep" / "er" / "run"
    with _atomic.staged_dir(out) as stage:
        assert not out.exists()
        (stage / "summary.csv").write_text("a\n")
    assert (out / "summary.csv").read_text() == "a\n"
    assert (out / _atomic.MARKER).is_file()
    assert sorted(q.name for q in out.parent.iterdir()) == ["run"]


def test_failure_leaves_nothing_not_even_parents(tmp_path):
    out = tmp_path / "new" / "run"
    with pytest.raises(RuntimeError), _atomic.staged_dir(out) as stage:
        (stage / "summary.csv").write_text("partial\n")
        raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_run(tmp_path):
    out = tmp_path / "run"
    with _atomic.staged_dir(out) as stage:
        (stage / "summary.csv").write_text("old\n")
    with pytest.raises(RuntimeError), _atomic.staged_dir(out) as stage:
        (stage / "summary.csv").write_text("new\n")
        raise RuntimeError("boom")
    assert (out / "summary.csv").read_text() == "old\n"
    assert sorted(q.name for q in tmp_path.iterdir()) == ["run"]


def test_previous_run_is_replaced_whole(tmp_path):
    out = tmp_path / "run"
    with _atomic.staged_dir(out) as stage:
        (stage / "stale.png").write_text("old\n")
    with _atomic.staged_dir(out) as stage:
        (stage / "summary.csv").write_text("new\n")
    assert sorted(q.name for q in out.iterdir()) == [_atomic.MARKER, "summary.csv"]
    assert sorted(q.name for q in tmp_path.iterdir()) == ["run"]


def test_foreign_folders_and_files_are_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious\n")
    with pytest.raises(InputError, match="did not write"), \
            _atomic.staged_dir(tmp_path / "mine"):
        pass
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious\n"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="existing file"):
        _atomic.check_replaceable(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    _atomic.check_replaceable(tmp_path / "empty")


def test_modes_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        with _atomic.staged_dir(tmp_path / "run") as stage:
            _atomic.write_text(stage / "a.csv", "x\n")
    finally:
        os.umask(old)
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "run" / "a.csv").stat().st_mode & 0o777 == 0o644


def test_marker_lists_the_files_and_a_rerun_keeps_user_files(tmp_path):
    out = tmp_path / "run"
    with _atomic.staged_dir(out) as stage:
        (stage / "summary.csv").write_text("a\n")
    assert _atomic.run_files(out) == [_atomic.MARKER, "summary.csv"]
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(InputError, match="1 other file.*notes.txt"), _atomic.staged_dir(out):
        pass
    assert (out / "notes.txt").read_text() == "mine\n"
    (out / "notes.txt").unlink()
    _atomic.record_files(out, ["plot.png"])  # what `mmsched report` adds
    (out / "plot.png").write_bytes(b"png")
    with _atomic.staged_dir(out) as stage:
        (stage / "summary.csv").write_text("b\n")
    assert sorted(p.name for p in out.iterdir()) == [_atomic.MARKER, "summary.csv"]


def test_older_marker_accepts_only_mmsched_outputs(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / _atomic.MARKER).write_text("written by mmsched; replaced by the next run\n")
    (out / "summary.csv").write_text("a\n")
    (out / "x_vs_rate.png").write_bytes(b"png")
    _atomic.check_replaceable(out)
    (out / "thesis.tex").write_text("mine\n")
    with pytest.raises(InputError, match="thesis.tex"):
        _atomic.check_replaceable(out)


def test_symlinked_out_stays_a_link(tmp_path):
    import os

    with _atomic.staged_dir(tmp_path / "real") as stage:
        (stage / "a.csv").write_text("old\n")
    os.symlink("real", tmp_path / "link")
    with _atomic.staged_dir(tmp_path / "link") as stage:
        (stage / "a.csv").write_text("new\n")
    assert os.readlink(tmp_path / "link") == "real"
    assert (tmp_path / "link" / "a.csv").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_unwritable_or_impossible_out(tmp_path):
    (tmp_path / "f").write_text("x")
    for bad, match in ((tmp_path / "f" / "sub", "is a file"), ("/proc/x/y", "can write in")):
        with pytest.raises(InputError, match=match):
            _atomic.check_replaceable(bad)
    with pytest.raises(InputError, match="an existing folder"):
        _atomic.check_writable(tmp_path, "--out")
