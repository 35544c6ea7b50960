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
