"""`mmsched.hw.paths`: folders resolved at call time from the environment, never inside the
installed package."""

from pathlib import Path

import mmsched.hw
from mmsched.hw import paths


def test_environment_is_read_at_each_call(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.delenv("MMSCHED_BUILD_DIR", raising=False)
    assert paths.cache_dir() == tmp_path / "a"
    assert paths.build_dir() == tmp_path / "a" / "build"
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("MMSCHED_BUILD_DIR", str(tmp_path / "builds"))
    assert paths.cache_dir() == tmp_path / "b"
    assert paths.build_dir() == tmp_path / "builds"


def test_default_is_the_user_cache_not_the_package(tmp_path, monkeypatch):
    monkeypatch.delenv("MMSCHED_CACHE_DIR", raising=False)
    monkeypatch.delenv("MMSCHED_BUILD_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    package = Path(mmsched.hw.__file__).resolve().parent.parent
    for folder in (paths.cache_dir(), paths.build_dir()):
        assert not folder.resolve().is_relative_to(package)
        assert "mmsched" in folder.parts
    assert paths.cache_dir() == tmp_path / "xdg" / "mmsched"


# --- atomic files ---------------------------------------------------------------------------


def test_atomic_write_text_bytes_mode_and_no_temp(tmp_path):
    p = tmp_path / "sub" / "a.txt"
    paths.atomic_write(p, "x\r\ny\n")
    assert p.read_bytes() == b"x\r\ny\n"  # text is written as given, UTF-8, no translation
    paths.atomic_write(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    assert p.stat().st_mode & 0o777 == 0o666 & ~paths.current_umask()
    assert [q.name for q in p.parent.iterdir()] == ["a.txt"]


def test_atomic_open_failure_keeps_the_old_file(tmp_path):
    p = tmp_path / "a.json"
    paths.atomic_write(p, "old\n")
    try:
        with paths.atomic_open(p) as f:
            f.write("half")
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    assert p.read_text() == "old\n"
    assert [q.name for q in tmp_path.iterdir()] == ["a.json"]


def test_atomic_path_for_writers_that_take_a_name(tmp_path):
    p = tmp_path / "plot.png"
    with paths.atomic_path(p, suffix=".png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.exists()
        assert not p.exists()
        tmp.write_bytes(b"png")
    assert p.read_bytes() == b"png"
    assert [q.name for q in tmp_path.iterdir()] == ["plot.png"]


# Nothing may hand-roll a temp file + rename: single files go through atomic_write /
# atomic_open / atomic_path, build folders through atomic_dir, run folders through
# sim/_atomic.py's staged folders (its two renames).


def test_every_writer_uses_the_atomic_helper():
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("hw", "sched", "sim", "bench"):
        for f in sorted((root / folder).rglob("*.py")):
            rel = f.relative_to(root).as_posix()
            if rel == "hw/paths.py":
                continue
            text = f.read_text()
            for needle in ("mkstemp", "NamedTemporaryFile", "os.replace("):
                if needle in text and not (rel == "sim/_atomic.py" and needle == "os.replace("):
                    offenders.append(f"{rel}: {needle}")
    assert offenders == [], offenders
