"""Real-time (periodic) runs on heterogeneous systems: per-accelerator timing, transfers,
determinism, the CLI end to end, the trace hook and bad input.

Tiny test-only models keep the exact-cycle-model profiling fast (a temporary cache)."""

import csv
import dataclasses
import json
import math
import re

import pytest

from mmsched.sched import zoo
from mmsched.sched.model import Layer
from mmsched.sched.policies.fcfs import FCFS
from mmsched.sched.policy import PolicyContext, make_policy
from mmsched.sched.transfer import TransferModel
from mmsched.sim import experiment as ex
from mmsched.sim.cli import main
from mmsched.sim.engine import check_invariants, simulate


@zoo.register("rta", family="cnn", engine="eyeriss_v2_like", input="16x16x8",
              published_macs=None, macs_source="test-only model")
def _rta():
    # many output pixels, few channels: prefers a tall array
    return (Layer("c1", "conv", m=256, n=16, k=72, act_sparse=False),
            Layer("c2", "conv", m=256, n=16, k=144),
            Layer("c3", "conv", m=64, n=32, k=144))


@zoo.register("rtb", family="cnn", engine="eyeriss_v2_like", input="vector 64",
              published_macs=None, macs_source="test-only model")
def _rtb():
    # one output row, many channels: prefers a wide array
    return (Layer("fc1", "fc", m=1, n=256, k=64, act_sparse=False),
            Layer("fc2", "fc", m=1, n=128, k=256))


SCENARIO = """
name = "rt-tiny"
arrivals = "periodic"
duration_s = 0.004
samples = 4
profile_samples = 2
seeds = 2
system = [{name = "big", rows = 16, cols = 16}]

[variants]
"big" = [{name = "big", rows = 16, cols = 16}]
"big+little" = [{name = "big", rows = 16, cols = 16}, {name = "little", rows = 4, cols = 4}]

[[models]]
arch = "rta"
fps = 2000.0

[[models]]
arch = "rtb"
fps = 2000.0
after = "rta"
probability = 0.5
"""


@pytest.fixture
def scenario_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "rt.toml"
    path.write_text(SCENARIO)
    ex._scenario.cache_clear()  # per-process caches keyed by file name
    ex.load_tables.cache_clear()
    ex._static.cache_clear()
    ex._backend.cache_clear()
    return path


def _profiled(path, variant):
    from mmsched.sim.profiled import profile_scenario

    return profile_scenario(f"{path}:{variant}")


def _run(ps, policy="fcfs", scale=40.0, seed=1, keep=True):
    wl = ps.frames(seed=seed, fps_scale=scale)
    system = ps.scenario.system
    transfer = TransferModel(ps.scenario.transfer, system, ps.clock_hz)
    ctx = PolicyContext(tables=ps.static, num_accelerators=len(system), clock_hz=ps.clock_hz,
                        system=system, transfer=transfer)
    pol = make_policy(policy, ctx) if isinstance(policy, str) else policy(ctx)
    res = simulate(wl, pol, ps.backend(), num_accelerators=len(system), keep_layers=keep,
                   transfer=transfer)
    return wl, res


class _Mover(FCFS):
    """Oldest task first on accelerator 0, newest on the others: requests move between the
    accelerators (and pay transfers)."""

    def select(self, now, accelerator, ready):
        return ready[0] if accelerator == 0 else ready[-1]


def test_each_layer_is_timed_by_the_accelerator_it_runs_on(scenario_file):
    from mmsched.sim.backends.analytic import AnalyticBackend
    from mmsched.sim.profiled import mask_source

    ps = _profiled(scenario_file, "big+little")
    big, little = ps.scenario.system
    assert (big.rows, little.rows) == (16, 4)
    # the static tables of each accelerator are its own
    key = "rta_dense"
    assert ps.static[1].pattern[key].isolated_latency > ps.static[0].pattern[key].isolated_latency
    assert all(e > 0 for e in ps.static[1].pattern[key].layer_energy)
    wl, res = _run(ps, _Mover)
    assert check_invariants(res, wl, 2) == []
    assert {lr.accelerator for lr in res.layers} == {0, 1}
    exact = AnalyticBackend(system=ps.scenario.system, masks=mask_source(ps.scenario)[0])
    held = ps.scenario.heldout_samples
    reqs = {r.id: r for r in wl.requests}
    moved = 0
    for lr in res.layers:
        r = reqs[lr.request]
        t = exact.layer(lr.accelerator, wl.models[r.model], lr.layer, held[r.sample])
        assert lr.end - lr.start - lr.transfer == t.cycles
        assert lr.energy_pj == pytest.approx(t.energy_pj, rel=1e-12)
        assert (lr.nnz, lr.total) == (t.nnz, t.total)  # exact monitor counts
        if lr.transfer:
            moved += 1
            layer = wl.models[r.model].layers[lr.layer]
            size = layer.m * layer.k * layer.groups  # 8-bit activations
            assert lr.transfer == math.ceil(size / 16e9 * ps.clock_hz)  # 16 GB/s
            assert lr.transfer_pj == pytest.approx(size * 325.0)
    assert moved > 0, "some request moved between the accelerators and paid a transfer"
    energy = {r.id: r.energy_pj for r in res.requests}
    for rid in energy:
        spent = sum(lr.energy_pj + lr.transfer_pj for lr in res.layers if lr.request == rid)
        assert energy[rid] == pytest.approx(spent, rel=1e-12)


def test_heterogeneous_system_differs_from_its_big_accelerator_alone(scenario_file):
    _, alone = _run(_profiled(scenario_file, "big"), keep=False)
    _, pair = _run(_profiled(scenario_file, "big+little"), keep=False)
    assert [r.id for r in alone.requests] == [r.id for r in pair.requests]
    assert [(r.finish, r.energy_pj) for r in alone.requests] != [
        (r.finish, r.energy_pj) for r in pair.requests]
    assert {a for r in alone.requests for a in r.accelerators} == {0}
    assert {a for r in pair.requests for a in r.accelerators} == {0, 1}


def test_one_accelerator_generic_loop_equals_fast_loop_with_profiled_counters(scenario_file):
    class NoDrop(FCFS):
        def should_drop(self, now, task):  # forces the generic heap loop
            return False

    ps = _profiled(scenario_file, "big")
    sc = dataclasses.replace(ps.scenario, models=ps.scenario.models[:1])  # no cascade
    ps = dataclasses.replace(ps, scenario=sc)
    wl = ps.frames(seed=3, fps_scale=20.0)
    assert not any(r.depends_on for r in wl.requests)
    ctx = PolicyContext(tables=ps.static, clock_hz=ps.clock_hz)
    fast = simulate(wl, make_policy("fcfs", ctx), ps.backend(), keep_layers=True)
    generic = simulate(wl, NoDrop(ctx), ps.backend(), keep_layers=True)
    assert fast.requests == generic.requests
    assert fast.layers == generic.layers
    assert all(r.energy_pj > 0 for r in fast.requests)


def test_load_axis_and_frame_rules(scenario_file):
    ps = _profiled(scenario_file, "big+little")
    base = ps.periodic_load(1.0)
    iso = {a: min(ps.isolated_s(a, acc) for acc in (0, 1)) for a in ("rta", "rtb")}
    assert base == pytest.approx((2000 * iso["rta"] + 2000 * 0.5 * iso["rtb"]) / 2)
    assert ps.periodic_load(3.0) == pytest.approx(3 * base)
    wl = ps.frames(seed=1, fps_scale=2.0)
    clock = ps.clock_hz
    index = wl.meta["frame_index"]
    for r, k in zip(wl.requests, index, strict=True):
        fps = 4000.0
        assert r.arrival == round(k / fps * clock) and r.deadline == round((k + 1) / fps * clock)
    n_a = sum(1 for r in wl.requests if r.stream == 0)
    assert n_a == 16  # 0.004 s x 4000 fps
    # seeds vary the cascade draws and the samples, deterministically
    again = ps.frames(seed=1, fps_scale=2.0)
    assert again.requests == wl.requests
    other = ps.frames(seed=1, seed_index=1, fps_scale=2.0)
    assert other.requests != wl.requests


def _sweep(path, **kw):
    return ex.make_sweep(scenario=str(path), policies=("fcfs", "planaria"),
                         **{"fps_scales": (1.0, 40.0), **kw})


def test_realtime_sweep_covers_every_variant_and_is_worker_independent(scenario_file, tmp_path):
    from mmsched.sim.cmd_run import write_run

    sweep = _sweep(scenario_file)
    assert [r.name for r in sweep.recipes] == ["rt-tiny:big", "rt-tiny:big+little"]
    assert sweep.runs == 2 * 2 * 2 * 2  # recipes x scales x seeds x policies
    ex.validate_sources(sweep)
    one = ex.run_sweep(sweep, workers=1)
    two = ex.run_sweep(sweep, workers=2)
    for name, res in (("one", one), ("two", two)):
        (tmp_path / name).mkdir()
        write_run(tmp_path / name, sweep, res)
    for name in ("summary.csv", "per_model.csv", "requests.csv", "layers.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    rows = [row for r in one for row in r.summary]
    assert {"fps_scale", "load", "uxcost", "energy_ratio", "deadline_factor", "miss_rate",
            "drop_rate", "xrbench_score", "energy_per_frame_mj"} <= set(rows[0])
    assert "rate" not in rows[0] and "slo" not in rows[0]
    for row in rows:
        assert row["uxcost"] == pytest.approx(row["energy_ratio"] * row["deadline_factor"])
        assert row["energy_ratio"] >= 1.0 - 1e-12  # E_ref is a lower bound without sub-nets
        assert 0 <= row["xrbench_score"] <= 100
    # the one-accelerator system spends exactly its lower bound (no choice, no transfers)
    big = [row for row in rows if row["recipe"] == "rt-tiny:big"]
    assert all(row["energy_ratio"] == pytest.approx(1.0) for row in big)
    hot = [row for row in big if row["fps_scale"] == 40.0]
    assert any(row["miss_rate"] > 0 for row in hot), "overload misses deadlines"
    # the load column follows the FPS scale
    loads = {(row["recipe"], row["fps_scale"]): row["load"] for row in rows}
    for (recipe, scale), load in loads.items():
        assert load == pytest.approx(scale * loads[(recipe, 1.0)])


def test_geomean_over_systems_is_written_without_plots(scenario_file, tmp_path):
    from mmsched.sim.cmd_run import write_run
    from mmsched.sim.report import read_csv, write_report

    sweep = _sweep(scenario_file, seeds=1)
    write_run(tmp_path, sweep, ex.run_sweep(sweep, workers=1))
    table, written = write_report(tmp_path, plots=False)
    assert sorted(p.name for p in written) == ["aggregate.csv", "geomean.csv", "table.txt"]
    gm = read_csv(tmp_path / "geomean.csv")
    assert {r["recipes"] for r in gm} == {2.0} and "geometric mean over systems" in table
    assert not list(tmp_path.glob("*.png"))


def test_load_axis_sets_the_fps_scale(scenario_file):
    sweep = _sweep(scenario_file, fps_scales=None, loads=(0.5,), seeds=1)
    out = ex.run_sweep(sweep, workers=1)
    for r in out:
        for row in r.summary:
            assert row["load"] == 0.5
            ps = _profiled(scenario_file, row["recipe"].split(":")[1])
            assert row["fps_scale"] == pytest.approx(0.5 / ps.periodic_load(1.0))


def test_cli_end_to_end_writes_tables_frames_plots_and_trace(scenario_file, monkeypatch):
    from mmsched.sched import policy as pol

    class Probe(FCFS):
        def __init__(self, context, config=None):
            super().__init__(context, config)
            self.done = []

        def on_finish(self, now, task):
            self.done.append(now / self.context.clock_hz)

        def trace(self):
            return [{"time_s": t, "weight_u": 1.0 + i, "weight_f": 0.5}
                    for i, t in enumerate(self.done[::4])]

    class Dropper(FCFS):
        def should_drop(self, now, task):  # a late frame still waiting is dropped
            return now > task.deadline and task.next_layer == 0

    for name, cls in (("rt_probe", Probe), ("rt_dropper", Dropper)):
        monkeypatch.setitem(pol._REGISTRY, name, cls)
        monkeypatch.setitem(pol._PRESETS, name, {})
    rc = main(["run", "--scenario", "rt.toml:big+little", "--policies",
               "fcfs,rt_probe,rt_dropper", "--fps-scale", "1,40", "--jobs", "1", "--out", "out",
               "--no-progress"])
    assert rc == 0
    out = scenario_file.parent / "out"
    names = {p.name for p in out.iterdir()}
    assert {"summary.csv", "aggregate.csv", "per_model.csv", "requests.csv", "layers.csv",
            "trace.csv", "run.json", "table.txt", "uxcost.png", "xrbench_score.png",
            "miss_drop.png", "realtime_vs_fps_scale.png", "gantt_rt-tiny_big_little.png",
            "trace.png"} <= names
    with (out / "requests.csv").open() as f:
        frames = list(csv.DictReader(f))
    assert {"model", "frame", "accelerators", "arrival_s", "deadline_s", "finish_s",
            "dropped", "missed", "energy_mj"} <= set(frames[0])
    assert {r["fps_scale"] for r in frames} == {"40.0"}  # the detail point: largest scale
    assert {r["model"] for r in frames} == {"rta", "rtb"}
    for r in frames:
        k = int(r["frame"])
        assert math.isclose(float(r["arrival_s"]), k / 80000.0, abs_tol=1e-8)
        if r["dropped"] == "0":
            assert set(r["accelerators"].split(";")) <= {"0", "1"}
            assert float(r["energy_mj"]) > 0
        else:  # dropped before it started (the dropper drops waiting frames only)
            assert r["accelerators"] == "" and float(r["energy_mj"]) == 0
    dropped = [r for r in frames if r["dropped"] == "1"]
    assert dropped and {r["policy"] for r in dropped} == {"rt_dropper"}
    ids = {(r["seed"], r["request"]): r for r in frames if r["policy"] == "rt_dropper"}
    for r in frames:  # a frame whose upstream frame was dropped is dropped with it
        if r["policy"] == "rt_dropper" and r["depends_on"] and \
                ids[(r["seed"], r["depends_on"])]["dropped"] == "1":
            assert r["dropped"] == "1"
    with (out / "summary.csv").open() as f:
        summary = list(csv.DictReader(f))
    for row in summary:
        factor = 1 + float(row["miss_rate"]) + float(row["drop_rate"])
        assert float(row["deadline_factor"]) == pytest.approx(factor)
        assert (float(row["drop_rate"]) > 0) == (row["policy"] == "rt_dropper"
                                                 and row["fps_scale"] == "40.0")
    with (out / "per_model.csv").open() as f:
        per = list(csv.DictReader(f))
    assert {r["model"] for r in per} == {"rta", "rtb"}
    assert {"miss_rate", "drop_rate", "energy_per_frame_mj", "xrbench_score"} <= set(per[0])
    with (out / "trace.csv").open() as f:
        trace = list(csv.DictReader(f))
    assert trace and {r["policy"] for r in trace} == {"rt_probe"}
    assert {"time_s", "weight_u", "weight_f", "fps_scale", "seed"} <= set(trace[0])
    table = (out / "table.txt").read_text()
    assert "uxcost" in table and "xrbench" in table
    meta = json.loads((out / "run.json").read_text())["realtime"]
    rec = meta["recipes"]["rt-tiny:big+little"]
    assert [a["name"] for a in rec["system"]] == ["big", "little"]
    assert rec["transfer"] == {"bandwidth_bytes_per_s": 16e9, "pj_per_byte": 325.0}
    with (out / "summary.csv").open() as f:
        first = next(csv.DictReader(f))
    assert float(first["load"]) == pytest.approx(rec["load_at_fps_scale_1"] *
                                                 float(first["fps_scale"]))
    # the report step rebuilds the same table from the CSV files alone
    (out / "uxcost.png").unlink()
    assert main(["report", "out"]) == 0
    assert (out / "table.txt").read_text() == table and (out / "uxcost.png").is_file()


@pytest.mark.parametrize(("args", "match"), [
    (["--scenario", "rt.toml:big", "--slo", "10"], "--slo: expected no --slo"),
    (["--scenario", "rt.toml:big", "--rates", "3"], "--rates: expected no --rates"),
    (["--scenario", "rt.toml:big", "--requests", "30"], "--requests"),
    (["--scenario", "rt.toml:big", "--accelerators", "2"], "rt-tiny:big+little"),
    (["--scenario", "rt.toml:big", "--fps-scale", "0"], "--fps-scale: item 1: expected a "
                                                         "positive number"),
    (["--scenario", "rt.toml:big", "--load", "-1"], "--load: item 1"),
    (["--scenario", "rt.toml:big", "--load", "1", "--fps-scale", "1"], "either --fps-scale"),
    (["--scenario", "rt.toml:big", "--compat", "dysta-artifact"], "--compat"),
    (["--scenario", "rt.toml:huge"], "found 'huge'"),
    (["--scenario", "cnn", "--load", "0.5"], "--load: expected a periodic"),
    (["--scenario", "cnn", "--fps-scale", "2"], "--fps-scale: expected a periodic"),
    (["--csv-dir", "x", "--fps-scale", "2"], "--fps-scale: expected a periodic"),
    (["--scenario", "dysta-cnn", "--accelerators", "2"], "--accelerators: expected no "
                                                         "--accelerators"),
])
def test_bad_realtime_input_is_one_error_line(scenario_file, capsys, args, match):
    assert main(["run", *args, "--out", "out", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mmsched run: error:"), err
    assert match in err[0]
    assert not (scenario_file.parent / "out").exists()


@pytest.mark.parametrize(("edit", "match"), [
    (('arch = "rta"\nfps = 2000.0', 'arch = "rta"\nfps = 2000.0\nafter = "rtb"'),
     r"models\[0\]\.after: expected a cascade without cycles"),
    (('fps = 2000.0\n\n[[models]]\narch = "rtb"', 'fps = 0.0\n\n[[models]]\narch = "rtb"'),
     r"models\[0\]\.fps: expected a number > 0"),
    (("duration_s = 0.004", "duration_s = -1.0"), "duration_s: expected a number > 0"),
    (("probability = 0.5\n", "probability = 0.5\n[transfer]\nbandwidth_gb_s = 0\n"),
     r"transfer\.bandwidth_gb_s: expected a number > 0"),
])
def test_bad_scenario_files_fail_the_run_cleanly(scenario_file, capsys, edit, match):
    text = SCENARIO.replace(*edit)
    assert text != SCENARIO
    scenario_file.write_text(text)
    assert main(["run", "--scenario", "rt.toml", "--out", "out", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rt.toml" in err[0], err
    assert re.search(match, err[0]), err[0]
    assert not (scenario_file.parent / "out").exists()
    assert not (scenario_file.parent / "cache").exists()  # nothing profiled either


@pytest.mark.slow
def test_wide_and_square_arrays_each_win_some_layers():
    """The shipped wide+square system is heterogeneous in shape: on the XR models some layers
    run faster on the 16x256 array and others on the 64x64 one (profiles the models on first
    use: minutes; later runs read the cache)."""
    import numpy as np

    from mmsched.sim.profiled import profile_scenario

    ps = profile_scenario("xr-social-a:wide+square")
    wide_wins = square_wins = 0
    for rw, rs in zip(ps.runs[0], ps.runs[1], strict=True):
        w, s = rw.cycles.mean(axis=0), rs.cycles.mean(axis=0)
        wide_wins += int(np.sum(w < s))
        square_wins += int(np.sum(s < w))
    assert wide_wins > 50 and square_wins > 50
    # and so E_ref (the cheaper array per layer) is below either array alone
    key = "xrge_dense"
    alone = [float(sum(t.pattern[key].layer_energy)) for t in ps.static]
    from mmsched.sched.metrics import estimated_reference_energy_pj

    assert estimated_reference_energy_pj(ps.static, key) < min(alone)
