"""``mmsched cosim`` end to end (Amaranth simulator, a short run) and bad input."""

from __future__ import annotations

import pytest

from mmsched.sim.cli import main


@pytest.mark.rtl
def test_cosim_cli_amaranth(tmp_path, capsys):
    vcd = tmp_path / "w.vcd"
    rc = main(["cosim", "--scenario", "attnn", "--requests", "12", "--sim", "amaranth",
               "--slots", "4", "--run-dir", str(tmp_path / "b"), "--vcd", str(vcd),
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
    rc = main(["cosim", "--sim", "amaranth", "--run-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and "error:" in err and msg in err


@pytest.mark.rtl
def test_cosim_cli_accelerator_in_rtl(tmp_path, capsys):
    vcd = tmp_path / "sys.vcd"
    rc = main(["cosim", "--scenario", "cosim-tiny", "--accel", "rtl", "--sim", "amaranth",
               "--requests", "4", "--slots", "3", "--run-dir", str(tmp_path / "b"),
               "--vcd", str(vcd)])
    out = capsys.readouterr().out
    assert rc == 0, out
    rows = [line.split()[1] for line in out.splitlines() if line.startswith("cosim-tiny ")]
    assert rows == ["dysta_hw[rtl:amaranth,accel:rtl]", "dysta_hw[rtl:amaranth]", "dysta_hw",
                    "dysta"]
    # the same table as mmsched run: its header, one row per policy
    assert out.splitlines()[0].split()[:4] == ["recipe", "policy", "rate", "slo"]
    assert "monitor counts the scheduler saw equal to the exact model's: yes" in out
    assert ("finish times equal to the exact-model co-simulation and the pure-Python "
            "dysta_hw run: yes") in out
    assert vcd.stat().st_size > 10_000 and not list(tmp_path.glob("*.tmp*"))


@pytest.mark.parametrize("argv,msg", [
    (["--accel", "fpga"], "--accel: expected model or rtl, found 'fpga'"),
    (["--accel", "rtl", "--sim", "icarus", "--scenario", "cosim-tiny", "--vcd", "x.vcd"],
     "--vcd: with --accel rtl"),
    (["--accel", "rtl", "--scenario", "attnn"], "a scenario of GEMM layers"),
    (["--accel", "rtl", "--scenario", "cosim-tiny", "--requests", "5000"],
     "--rtl-budget-s 300"),
    (["--accel", "rtl", "--scenario", "cosim-tiny", "--rtl-budget-s", "0"], "s on amaranth"),
    (["--accel", "rtl", "--scenario", "cosim-tiny", "--rtl-budget-s", "-1"],
     "--rtl-budget-s"),
    (["--accel", "rtl", "--scenario", "cosim-tiny", "--sim", "verilator", "--vcd", "x.vcd"],
     "--vcd"),
    (["--scenario", "cosim-tiny", "--clock-mhz", "50"], "--clock-mhz"),
])
def test_cosim_cli_accel_bad_input(tmp_path, capsys, argv, msg):
    rc = main(["cosim", "--sim", "amaranth", "--run-dir", str(tmp_path), *argv])
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "error:" in lines[0] and msg in lines[0], cap.err
    assert cap.out == "" and not list(tmp_path.iterdir())


@pytest.mark.rtl
def test_cosim_cli_accelerator_in_rtl_scenario_file(tmp_path, capsys):
    """A user scenario (TOML + SCALE-Sim GEMM topology) through the sweep path."""
    (tmp_path / "net.csv").write_text("Layer, M, N, K\ng0, 8, 4, 9\ng1, 8, 8, 12\n")
    (tmp_path / "s.toml").write_text(
        'name = "usertiny"\narrivals = "poisson"\n'
        'system = [{name = "t3x4", rows = 3, cols = 4, chunk_depth = 4, pe_buffer_depth = 4, '
        'load_rows_per_cycle = 2, max_k = 32, acc_width = 24, act_mem_words = 8, '
        'wt_mem_words = 16, out_mem_words = 16, clock_hz = 1e8}]\n'
        'rates = [400000.0]\nslos = [10.0]\nrequests = 6\nsamples = 4\nprofile_samples = 2\n'
        '[[models]]\nfile = "net.csv"\npatterns = ["dense", "unstructured50"]\n')
    rc = main(["cosim", "--scenario", str(tmp_path / "s.toml"), "--accel", "rtl", "--sim",
               "amaranth", "--requests", "6", "--slots", "2",
               "--run-dir", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "monitor counts the scheduler saw equal to the exact model's: yes" in out
    assert ("finish times equal to the exact-model co-simulation and the pure-Python "
            "dysta_hw run: yes") in out


MID16_NETS = {"neta.csv": "Layer, M, N, K\ng0, 64, 32, 27\ng1, 64, 32, 96\ng2, 32, 64, 96\n",
              "netb.csv": "Layer, M, N, K\nh0, 32, 32, 48\nh1, 32, 48, 64\nh2, 32, 32, 128\n"
                          "h3, 16, 16, 64\n"}
MID16_TOML = (
    'name = "mid16"\n'
    'description = "two small GEMM nets on a 16x16 array (RTL-accelerator cosim)"\n'
    'arrivals = "poisson"\n'
    'system = [{base = "eyeriss_v2_like", name = "mid16", rows = 16, cols = 16, '
    'act_mem_words = 64, wt_mem_words = 256, out_mem_words = 256, max_k = 1024}]\n'
    'rates = [90000.0]\nslos = [10.0]\nrequests = 400\nsamples = 6\nprofile_samples = 3\n'
    'mask_seed = 0\n'
    '[[models]]\nfile = "neta.csv"\npatterns = ["dense", "unstructured50"]\n'
    '[[models]]\nfile = "netb.csv"\n')
"""The 16x16 measurement scenario of docs/cosim.md (400 requests at load ~0.8)."""


@pytest.mark.rtl
@pytest.mark.slow
def test_cosim_cli_accelerator_in_rtl_16x16_verilator(tmp_path, capsys):
    for name, text in MID16_NETS.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "mid16.toml").write_text(MID16_TOML)
    rc = main(["cosim", "--scenario", str(tmp_path / "mid16.toml"), "--accel", "rtl",
               "--requests", "400", "--slots", "16", "--run-dir", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "monitor counts the scheduler saw equal to the exact model's: yes" in out
    assert ("finish times equal to the exact-model co-simulation and the pure-Python "
            "dysta_hw run: yes") in out


def test_default_simulator_is_verilator_when_installed(monkeypatch):
    from mmsched.sim import rtl

    monkeypatch.setattr(rtl, "available", lambda sim: True)
    assert rtl.default_simulator() == "verilator"
    monkeypatch.setattr(rtl, "available", lambda sim: sim != "verilator")
    assert rtl.default_simulator() == "icarus"


@pytest.mark.rtl
def test_cosim_cli_says_which_simulator_it_picked(tmp_path, capsys, monkeypatch):
    from mmsched.sim import rtl

    monkeypatch.setattr(rtl, "default_simulator", lambda: "amaranth")  # fast, always there
    rc = main(["cosim", "--scenario", "attnn", "--requests", "3", "--slots", "2"])
    cap = capsys.readouterr()
    assert rc == 0, cap.out
    assert cap.err.splitlines()[0].startswith("mmsched cosim: simulator amaranth (")
    assert "dysta_hw[rtl:amaranth]" in cap.out
    rc = main(["cosim", "--scenario", "attnn", "--requests", "3", "--slots", "2",
               "--sim", "amaranth"])
    assert rc == 0 and "mmsched cosim: simulator" not in capsys.readouterr().err
