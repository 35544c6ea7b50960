"""The three folders install as mmsched.*; the standard library's `sched` is not shadowed."""

import subprocess
import sys


def test_stdlib_sched_not_shadowed():
    # Fails when the repo root is on sys.path (`python -m pytest` from the root does that:
    # run the `pytest` script, as the Makefile does).
    import sched

    assert hasattr(sched, "scheduler"), sched.__file__
    import mmsched.sched

    assert mmsched.sched.__file__ != sched.__file__


def test_cli_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "mmsched.sim", "--help"], capture_output=True,
                         text=True, check=False, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "mmsched" in out.stdout


def test_unknown_policy_lists_known():
    import pytest

    from mmsched.sched.policy import PolicyContext, make_policy

    with pytest.raises(ValueError, match="known policies"):
        make_policy("no-such-policy", PolicyContext(tables=()))
