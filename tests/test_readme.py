"""The README's example commands run and exit as the README says.

Convention (stated in the README too): in a fenced block marked ```console, a line starting
with ``$ `` is a command and the lines after it, up to the next ``$ `` line, are its output
(not compared: timings and paths differ between machines). Only ``mmsched`` commands are run.
A trailing comment changes what is expected:

- ``# slow``: not run here (a full sweep, a first-time profiling run, an RTL build);
- ``# exit N``: the command must exit with code N (default 0).

Commands run in order, in one temporary working folder (so ``--out results/...`` and a later
``mmsched report results/...`` see the same files), with ``MMSCHED_CACHE_DIR`` and
``MMSCHED_BUILD`` pointing into it: the commands kept here need no profiling cache and no RTL
build, and nothing is written into the checkout.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TIMEOUT_S = 60
"""Per command; the whole file is meant to stay well under a minute."""

_FENCE = re.compile(r"^```console[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_TAIL = re.compile(r"\s+#\s*(slow|exit\s+(\d+))\s*$")


def readme_commands(text: str) -> list[tuple[str, str | None, int]]:
    """(command, skip reason or None, expected exit code) of every ``$ `` line of the
    README's console blocks, in order."""
    out = []
    for block in _FENCE.findall(text):
        for line in block.splitlines():
            if not line.startswith("$ "):
                continue
            cmd, skip, code = line[2:].strip(), None, 0
            m = _TAIL.search(cmd)
            if m:
                cmd = cmd[:m.start()].rstrip()
                if m.group(1) == "slow":
                    skip = "marked slow in the README"
                else:
                    code = int(m.group(2))
            out.append((cmd, skip, code))
    return out


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def test_readme_has_commands():
    run = [c for c, skip, _ in COMMANDS if skip is None]
    assert len(run) >= 4, f"expected runnable ```console commands in the README, found {run}"
    assert all(shlex.split(c)[0] == "mmsched" for c, _, _ in COMMANDS), COMMANDS


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize(("cmd", "skip", "code"), COMMANDS,
                         ids=[c[:60] for c, _, _ in COMMANDS])
def test_readme_command(cmd: str, skip: str | None, code: int, workdir: Path):
    if skip:
        pytest.skip(skip)
    exe = shutil.which("mmsched")
    if exe is None:
        pytest.skip("the mmsched command is not installed (pip install -e .)")
    env = dict(os.environ, MMSCHED_CACHE_DIR=str(workdir / "cache"),
               MMSCHED_BUILD=str(workdir / "build"), MPLBACKEND="Agg")
    args = shlex.split(cmd)
    run = subprocess.run([exe, *args[1:]], cwd=workdir, env=env, capture_output=True,
                         text=True, timeout=TIMEOUT_S, check=False)
    assert run.returncode == code, (
        f"`{cmd}` exited {run.returncode}, expected {code}\n"
        f"stdout:\n{run.stdout[-2000:]}\nstderr:\n{run.stderr[-2000:]}")
    if code == 2:
        errors = [ln for ln in run.stderr.splitlines() if ": error: " in ln]
        assert len(errors) == 1, run.stderr
