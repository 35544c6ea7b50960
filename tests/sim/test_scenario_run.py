"""``mmsched run --scenario FILE``: zoo models on the exact cycle model, end to end."""

import csv

from mmsched.sched import zoo
from mmsched.sched.model import Layer
from mmsched.sim.cli import main


@zoo.register("tinyrun", family="cnn", engine="eyeriss_v2_like", input="8x8x3",
              published_macs=None, macs_source="test-only model")
def _tiny():
    return (Layer("c1", "conv", m=64, n=16, k=27, act_sparse=False),
            Layer("c2", "conv", m=64, n=32, k=144),
            Layer("fc", "fc", m=1, n=10, k=32))


SCENARIO = """
name = "tinyrun-set"
system = ["eyeriss_v2_like"]
rates = [2000.0]
slos = [5.0]
requests = 60
samples = 4
profile_samples = 2
[[models]]
arch = "tinyrun"
patterns = ["dense", "nm2of4"]
"""


def test_run_scenario_file_uses_exact_cycle_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "s.toml").write_text(SCENARIO)
    rc = main(["run", "--scenario", "s.toml", "--policies", "fcfs,dysta", "--seeds", "1",
               "--jobs", "1", "--out", "out", "--no-progress"])
    assert rc == 0
    with open(tmp_path / "out" / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["policy"] for r in rows} == {"fcfs", "dysta"}
    assert list((tmp_path / "cache").glob("profile-*.npz"))  # profiled and cached


def test_run_unknown_scenario_is_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--scenario", "nosuch", "--out", "out"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scenario" in err[0] and "dysta-cnn" in err[0]
    assert not (tmp_path / "out").exists()


def test_periodic_scenario_without_variant_runs_every_variant(tmp_path):
    from mmsched.sim.experiment import make_sweep

    sweep = make_sweep(scenario="xr-vr-gaming", policies=("fcfs",))
    assert [r.name for r in sweep.recipes] == [
        "xr-vr-gaming:4k", "xr-vr-gaming:2x2k", "xr-vr-gaming:3k+1k", "xr-vr-gaming:4x2k",
        "xr-vr-gaming:wide+square"]
    assert all(r.periodic and r.fps_scales == (1.0,) for r in sweep.recipes)
    one = make_sweep(scenario="xr-vr-gaming:3k+1k", policies=("fcfs",), loads=(0.5, 1.3))
    assert [r.name for r in one.recipes] == ["xr-vr-gaming:3k+1k"]
    assert one.recipes[0].loads == (0.5, 1.3)
