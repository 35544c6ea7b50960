"""Helpers of the reliability tests (issue 13): the real ``mmsched`` command in a subprocess,
and what every bad input must give: its exit code, one ``error:`` line naming the option or
file, no traceback, and files that existed before left byte-identical."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "reliability", max_examples=5, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture])
"""Hypothesis settings of these modules (``settings.get_profile("reliability")``): few
examples (each starts the CLI, about 0.3-2 s), no deadline, the same examples every run."""

B = ("--scenario", "cnn", "--requests", "50", "--seeds", "1", "--rates", "3", "--slo", "10",
     "--jobs", "1", "--no-plots")
"""A small, fast run (the issue's ``$B``)."""


TINY = Path(__file__).parents[2] / "sched" / "data" / "scenarios" / "cosim-tiny"
"""The cosim-tiny models' topology CSVs."""


def tiny_scenario(folder: Path, file: str, *, name: str, system: str, rate: float,
                  requests: int) -> Path:
    """A Poisson scenario file ``folder/file`` of the two cosim-tiny models (their CSVs copied
    beside it) on ``system`` (a TOML array of accelerator tables); returns its path."""
    for f in TINY.glob("*.csv"):
        shutil.copy(f, folder / f.name)
    path = folder / file
    path.write_text(f'name = "{name}"\narrivals = "poisson"\nrates = [{rate!r}]\n'
                    f'slos = [10.0]\nrequests = {requests}\nsamples = 4\nprofile_samples = 2\n'
                    f'system = {system}\n'
                    '[[models]]\nfile = "tinya.csv"\n[[models]]\nfile = "tinyb.csv"\n')
    return path


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300,
            stdin: str | None = None) -> subprocess.CompletedProcess:
    """``mmsched ARGS`` in a subprocess (text output captured)."""
    return subprocess.run([sys.executable, "-m", "mmsched.sim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=timeout,
                          input=stdin)


def assert_error(res: subprocess.CompletedProcess, *needles: str, code: int = 2) -> str:
    """Exit ``code``, exactly one ``error:`` line on stderr naming every needle, no traceback
    anywhere; returns that line."""
    out = res.stdout + res.stderr
    assert "Traceback" not in out, out
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if "error:" in ln]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("mmsched") and ": error: " in lines[0], lines[0]
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def snapshot(*folders: Path) -> dict[str, bytes]:
    """Every file under ``folders`` (relative path -> bytes), symlinks as their target."""
    out: dict[str, bytes] = {}
    for folder in folders:
        if not folder.exists():
            continue
        for p in sorted(folder.rglob("*")):
            key = str(p)
            if p.is_symlink():
                out[key] = b"-> " + os.fsencode(os.readlink(p))
            elif p.is_file():
                out[key] = p.read_bytes()
            else:
                out[key] = b"<dir>"
    return out


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A fresh profile cache folder of this test (``MMSCHED_CACHE_DIR``)."""
    d = tmp_path / "cache"
    d.mkdir()
    return d


@pytest.fixture
def rel(tmp_path: Path, cache: Path) -> SimpleNamespace:
    """The helpers, for test modules (which cannot import this file): ``rel.cli(*args,
    cwd=tmp_path, env_extra=None, **kw)`` (`run_cli` with this test's cache), ``rel.error``
    (`assert_error`), ``rel.snapshot``, ``rel.tiny_scenario`` (`tiny_scenario`), ``rel.B``,
    ``rel.cache`` and ``rel.env`` (the environment with this test's cache)."""
    env = {**os.environ, "MMSCHED_CACHE_DIR": str(cache)}

    def call(*args: str, cwd: Path | None = None, env_extra: dict[str, str] | None = None,
             **kw) -> subprocess.CompletedProcess:
        return run_cli(*args, cwd=cwd or tmp_path, env={**env, **(env_extra or {})}, **kw)

    return SimpleNamespace(cli=call, error=assert_error, snapshot=snapshot,
                           tiny_scenario=tiny_scenario, B=B, cache=cache, env=env)
