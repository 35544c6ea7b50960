"""examples/testbench against freshly generated Verilog, the way docs/testbenches.md runs it:
``mmsched verilog accelerator|scheduler``, then cocotb's Python runner (``run.py``) and
cocotb's Makefile flow (``make VERILOG=...``). Each passes, and fails when a deliberately
wrong expected value is given (``TB_EXPECT_OFFSET=1``: every expected cycle count one too
many)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.rtl,
              pytest.mark.skipif(shutil.which("iverilog") is None,
                                 reason="Icarus Verilog not installed (make deps-system)")]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "testbench"
TOPS = {
    "accelerator": ["--rows", "2", "--cols", "3", "--chunk-depth", "4", "--pe-buffer-depth", "4",
                    "--load-rows-per-cycle", "2", "--max-k", "16", "--act-mem-words", "8",
                    "--wt-mem-words", "16", "--out-mem-words", "16"],
    "scheduler": ["--slots", "4", "--models", "2", "--patterns", "1", "--layers", "3"],
}
MODULE = {"accelerator": "accelerator", "scheduler": "dysta_sched"}


@pytest.fixture(scope="module")
def verilog(tmp_path_factory) -> dict[str, Path]:
    """The two tops as ``mmsched verilog`` writes them."""
    out = tmp_path_factory.mktemp("verilog")
    paths = {}
    for top, argv in TOPS.items():
        run = subprocess.run([sys.executable, "-m", "mmsched.sim", "verilog", top, *argv,
                              "-o", str(out / top)], capture_output=True, text=True,
                             check=False, cwd=out)
        assert run.returncode == 0, run.stderr
        paths[top] = out / top / f"{MODULE[top]}.v"
        assert paths[top].with_suffix(".json").exists()
    return paths


def _env(offset: int) -> dict[str, str]:
    env = dict(os.environ, TB_SEED="3", TB_EXPECT_OFFSET=str(offset))
    env.pop("PYTEST_CURRENT_TEST", None)  # as a user runs it (cocotb's runner exits under pytest)
    # cocotb-config and the interpreter of this environment first (the Makefile flow)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.mark.parametrize("top", ["accelerator", "scheduler"])
@pytest.mark.parametrize("offset", [0, 1], ids=["right", "wrong-expectation"])
def test_python_runner(verilog, tmp_path, top, offset):
    run = subprocess.run([sys.executable, str(EXAMPLE / "run.py"), str(verilog[top]),
                          "--build-dir", str(tmp_path / "build")], capture_output=True,
                         text=True, check=False, env=_env(offset), cwd=tmp_path)
    out = run.stdout + run.stderr
    if offset == 0:
        assert run.returncode == 0, out[-3000:]
        assert "2 tests (a test of the other kind of top skips itself), 0 failed" in out
        assert "PASS=1 FAIL=0 SKIP=1" in out
    else:
        assert run.returncode == 1, out[-3000:]
        assert "1 failed" in out and "AssertionError" in out
        assert ("done record differs from the exact cycle model" in out if top == "accelerator"
                else "RTL TwinResponse" in out)


def _make_works() -> bool:
    """make, and cocotb-config beside this interpreter or on PATH (the Makefile calls it)."""
    cocotb_config = (Path(sys.executable).parent / "cocotb-config").exists() or \
        shutil.which("cocotb-config") is not None
    return shutil.which("make") is not None and cocotb_config


@pytest.mark.skipif(not _make_works(), reason="make or cocotb-config not available")
@pytest.mark.parametrize(("top", "offset"), [("accelerator", 0), ("scheduler", 0),
                                             ("accelerator", 1)])
def test_makefile_flow(verilog, tmp_path, top, offset):
    run = subprocess.run(["make", "-C", str(EXAMPLE), f"VERILOG={verilog[top]}",
                          f"SIM_BUILD={tmp_path / 'sim_build'}",
                          f"COCOTB_RESULTS_FILE={tmp_path / 'results.xml'}"],
                         capture_output=True, text=True, check=False, env=_env(offset),
                         cwd=tmp_path)
    out = run.stdout + run.stderr
    if offset == 0:
        assert run.returncode == 0, out[-3000:]
        assert "PASS=1 FAIL=0 SKIP=1" in out
    else:
        assert run.returncode != 0, out[-3000:]
        assert "FAIL=1" in out and "AssertionError" in out
