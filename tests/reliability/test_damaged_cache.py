"""Issue 13, item 9: a damaged profile cache never crashes a run.

A cache file that does not load (truncated, empty, bytes flipped or replaced, counters
tampered with) is discarded with a warning naming it and rebuilt, and the results equal those
of an undamaged cache; an unusable cache folder (the path is a file, or cannot be created)
means a warning before profiling and a run without saving.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmsched.sched.static_profile import DamagedCache, load_runs

FUZZ = settings.get_profile("reliability")  # tests/reliability/conftest.py
RUN = ("run", "--scenario", "s.toml", "--seeds", "1", "--policies", "fcfs,dysta", "--jobs",
       "1", "--no-plots")


def _scenario(rel, folder: Path) -> None:
    """A scenario of the cosim-tiny models on a system no shipped cache covers."""
    rel.tiny_scenario(folder, "s.toml", name="dmg", rate=200000.0, requests=30,
                      system='[{name = "mid", rows = 8, cols = 8, clock_hz = 1e8}]')


def _key(path: Path) -> str:
    with np.load(path) as z:
        return str(z["_key"])


def _damage(path: Path, how: str, where: float) -> None:
    data = path.read_bytes()
    i = min(len(data) - 1, int(where * len(data)))
    if how == "truncate":
        path.write_bytes(data[:i])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flip":
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
    elif how == "garbage":
        path.write_bytes(bytes((i * 7 + 3) % 256 for i in range(len(data))))
    else:  # tamper: a well-formed file under the right key with impossible counters
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        name = {"tamper-negative": "0.cycles", "tamper-nan": "0.energy_pj",
                "tamper-shape": "0.nnz"}[how]
        a = arrays[name].astype(np.float64)
        arrays[name] = (-a - 1 if how == "tamper-negative" else
                        np.full_like(a, np.nan) if how == "tamper-nan" else a[:, :1])
        with path.open("wb") as f:
            np.savez_compressed(f, **arrays)


@FUZZ
@given(how=st.sampled_from(["truncate", "empty", "flip", "garbage", "tamper-negative",
                            "tamper-nan", "tamper-shape"]),
       where=st.floats(0.05, 0.95), which=st.integers(0, 1))
def test_damaged_cache_file_is_rebuilt(rel, tmp_path, how, where, which):
    shutil.rmtree(rel.cache, ignore_errors=True)  # tmp_path is shared by the examples
    for name in ("ref", "again"):
        shutil.rmtree(tmp_path / name, ignore_errors=True)
    _scenario(rel, tmp_path)
    ref = rel.cli(*RUN, "--out", "ref")
    assert ref.returncode == 0, ref.stderr
    files = sorted(rel.cache.glob("profile-*.npz"))
    assert len(files) == 2
    victim = files[which]
    key = _key(victim)
    _damage(victim, how, where)
    try:
        damaged = load_runs(victim, key) is None
    except DamagedCache:
        damaged = True
    res = rel.cli(*RUN, "--out", "again")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    if damaged:
        assert victim.name in res.stderr and "discarded" in res.stderr, res.stderr
    assert load_runs(victim, key) is not None, "the rebuilt cache is valid"
    assert (tmp_path / "again" / "summary.csv").read_bytes() == \
        (tmp_path / "ref" / "summary.csv").read_bytes()


def test_cache_path_that_is_a_file(rel, tmp_path):
    _scenario(rel, tmp_path)
    (tmp_path / "cfile").write_text("not a folder\n")
    res = rel.cli(*RUN, "--out", "o", env_extra={"MMSCHED_CACHE_DIR": str(tmp_path / "cfile")})
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    warn = [ln for ln in res.stderr.splitlines() if "WARNING" in ln]
    assert len(warn) == 1 and "cfile" in warn[0] and "not writable" in warn[0], res.stderr
    assert (tmp_path / "cfile").read_text() == "not a folder\n"
    assert (tmp_path / "o" / "summary.csv").is_file()


def test_cache_folder_that_cannot_be_created(rel, tmp_path):
    _scenario(rel, tmp_path)
    res = rel.cli(*RUN, "--out", "o", env_extra={"MMSCHED_CACHE_DIR": "/proc/mmsched-cache"})
    assert res.returncode == 0, res.stderr
    assert "not writable" in res.stderr and "Traceback" not in res.stderr


def test_profile_cache_dir_that_is_a_file(rel, tmp_path):
    _scenario(rel, tmp_path)
    (tmp_path / "cfile").write_text("x\n")
    before = rel.snapshot(tmp_path)
    rel.error(rel.cli("profile", "s.toml", "--cache-dir", "cfile"), "--cache-dir", "cfile")
    assert rel.snapshot(tmp_path) == before


@pytest.mark.parametrize("text", ["[1, 2]", "{\"dmg|0|tinya\": 5}", "\x00\xff", "{"])
def test_damaged_cache_index_is_ignored(rel, tmp_path, text):
    _scenario(rel, tmp_path)
    (rel.cache / "profile-index.json").write_text(text, encoding="latin-1")
    res = rel.cli(*RUN, "--out", "o")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
