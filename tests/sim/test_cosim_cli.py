"""``mmsched cosim`` end to end (Amaranth simulator, a short run) and bad input."""

from __future__ import annotations

import pytest

from mmsched.sim.cli import main


@pytest.mark.rtl
def test_cosim_cli_amaranth(tmp_path, capsys):
    vcd = tmp_path / "w.vcd"
    rc = main(["cosim", "--scenario", "attnn", "--requests", "12", "--sim", "amaranth",
               "--slots", "4", "--build-dir", str(tmp_path / "b"), "--vcd", str(vcd),
               "--wave-commands", "40"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "dysta_hw[rtl:amaranth]" in out and "all equal" in out
    assert "finish times equal to the pure-Python dysta_hw run: yes" in out
    assert vcd.stat().st_size > 1000 and not list(tmp_path.glob("*.tmp*"))


@pytest.mark.parametrize("argv,msg", [
    (["--requests", "0"], "--requests"),
    (["--slots", "x"], "--slots"),
    (["--scenario", "nonesuch"], "nonesuch"),
])
def test_cosim_cli_bad_input(tmp_path, capsys, argv, msg):
    rc = main(["cosim", "--sim", "amaranth", "--build-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and "error:" in err and msg in err
