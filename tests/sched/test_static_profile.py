"""Static Dysta tables from the exact cycle model: agree with a direct average over the
profiling samples; held-out samples serve the runs; the disk cache round-trips."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mmsched.sched import zoo
from mmsched.sched.errors import InputError
from mmsched.sched.model import Layer
from mmsched.sched.scenario import parse_scenario
from mmsched.sched.static_profile import load_static_tables, save_static_tables
from mmsched.sim import profiled
from mmsched.sim.backends.analytic import AnalyticBackend


@zoo.register("tinytest", family="cnn", engine="eyeriss_v2_like", input="16x16x3",
              published_macs=None, macs_source="test-only model")
def _tiny():
    return (Layer("c1", "conv", m=64, n=16, k=27, act_sparse=False),
            Layer("c2", "conv", m=64, n=24, k=144),
            Layer("dw", "dwconv", m=16, n=1, k=9, groups=24),
            Layer("fc", "fc", m=1, n=10, k=24))


def tiny_scenario(system="eyeriss_v2_like"):
    doc = {"name": "tiny", "system": [system], "samples": 5, "profile_samples": 3,
           "rates": [50.0], "requests": 40,
           "models": [{"arch": "tinytest", "patterns": ["unstructured20", "block4-50"]}]}
    return parse_scenario(doc, "<test>")


def test_static_tables_equal_direct_average(tmp_path):
    sc = tiny_scenario()
    ls = profiled.profile_scenario(sc, cache_dir=tmp_path)
    masks, _ = profiled.mask_source(sc)
    direct = AnalyticBackend(system=sc.system[0], masks=masks, memoise=False)
    for m in sc.model_list():
        prof = ls.static[0].pattern[m.key]
        per = np.array([[direct.layer(0, m, j, s).cycles for j in range(m.num_layers)]
                        for s in sc.profiling_samples], dtype=float)
        dens = np.array([[direct.layer(0, m, j, s).nnz / direct.layer(0, m, j, s).total
                          for j in range(m.num_layers)] for s in sc.profiling_samples])
        assert prof.samples == len(sc.profiling_samples)
        assert np.allclose(prof.layer_latency, per.mean(axis=0), rtol=1e-12)
        assert np.allclose(prof.layer_density, dens.mean(axis=0), rtol=1e-12)
        assert prof.isolated_latency == pytest.approx(per.sum(axis=1).mean(), rel=1e-12)
    # architecture level: the sample-weighted mean over its two pattern keys
    a = ls.static[0].arch["tinytest"]
    keys = [m.key for m in sc.model_list()]
    want = np.mean([ls.static[0].pattern[k].layer_latency for k in keys], axis=0)
    assert np.allclose(a.layer_latency, want)


def test_heldout_samples_serve_the_runs(tmp_path):
    sc = tiny_scenario()
    ls = profiled.profile_scenario(sc, cache_dir=tmp_path)
    masks, _ = profiled.mask_source(sc)
    direct = AnalyticBackend(system=sc.system[0], masks=masks)
    be = ls.backend()
    (wl,) = ls.workloads(rates=[50.0], slo=10.0, seed=3)
    assert len(wl.requests) == 40
    models = {m.key: m for m in sc.model_list()}
    for r in wl.requests[:10]:
        real_sample = sc.heldout_samples[r.sample]
        for j in range(models[r.model].num_layers):
            got = be.layer(0, wl.models[r.model], j, r.sample)
            want = direct.layer(0, models[r.model], j, real_sample)
            assert got.cycles == want.cycles
            assert got.nnz / got.total == pytest.approx(want.nnz / want.total, rel=1e-12)


def test_cache_round_trip_and_invalidation(tmp_path, monkeypatch):
    sc = tiny_scenario()
    first = profiled.profile_accelerator(sc, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("profile-*.npz"))) == 1

    def boom(*a, **k):
        raise AssertionError("cache miss")

    monkeypatch.setattr(profiled, "run_profile", boom)
    again = profiled.profile_accelerator(sc, cache_dir=tmp_path)
    for a, b in zip(first, again, strict=True):
        assert a.key == b.key and np.array_equal(a.cycles, b.cycles)
        assert np.array_equal(a.nnz, b.nnz) and np.allclose(a.energy_pj, b.energy_pj)
    # another scenario with the same arch, patterns and accelerator shares the cache
    same = parse_scenario({**_doc(sc), "name": "other", "rates": [7.0]}, "<test>")
    assert profiled.profile_accelerator(same, cache_dir=tmp_path)[0].key == first[0].key
    other = parse_scenario({**_doc(sc), "mask_seed": 1}, "<test>")
    with pytest.raises(AssertionError, match="cache miss"):
        profiled.profile_accelerator(other, cache_dir=tmp_path)


def _doc(sc):
    return {"name": sc.name, "system": ["eyeriss_v2_like"], "samples": sc.samples,
            "profile_samples": sc.profile_samples,
            "models": [{"arch": "tinytest", "patterns": list(sc.models[0].patterns)}]}


def test_static_file_round_trip_and_errors(tmp_path):
    ls = profiled.profile_scenario(tiny_scenario(), cache_dir=tmp_path)
    f = tmp_path / "st.json"
    save_static_tables(ls.static[0], f, meta={"time_unit": "cycles"})
    st, meta = load_static_tables(f)
    assert meta == {"time_unit": "cycles"}
    assert st.pattern == ls.static[0].pattern and st.arch_of == ls.static[0].arch_of
    doc = json.loads(f.read_text())
    del doc["pattern"][next(iter(doc["pattern"]))]["layer_density"]
    f.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"st.json: pattern\.tinytest_"):
        load_static_tables(f)


def test_profile_command_bad_scenario_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nsystem = ["eyeriss_v2_like"]\n[[models]]\narch = "nosuch"\n')
    p = subprocess.run([sys.executable, "-m", "mmsched.sim", "profile", str(bad), "--out",
                        str(tmp_path / "o.json")], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "bad.toml: models[0].arch" in p.stderr and not (tmp_path / "o.json").exists()


TINY_TOML = """
name = "tiny"
system = ["eyeriss_v2_like"]
samples = 5
profile_samples = 3
rates = [50.0]
[[models]]
arch = "tinytest"
patterns = ["unstructured20", "block4-50"]
"""


def test_profile_and_scenarios_commands(tmp_path, capsys):
    from mmsched.sim.cli import main

    (tmp_path / "s.toml").write_text(TINY_TOML)
    out = tmp_path / "st.json"
    assert main(["profile", str(tmp_path / "s.toml"), "--out", str(out), "--cache-dir",
                 str(tmp_path / "cache")]) == 0
    st, meta = load_static_tables(out)
    ls = profiled.profile_scenario(str(tmp_path / "s.toml"), cache_dir=tmp_path / "cache")
    assert st.pattern == ls.static[0].pattern
    assert meta["profiling_samples"] == [0, 1, 2] and meta["heldout_samples"] == [3, 4]
    capsys.readouterr()
    assert main(["scenarios", str(tmp_path / "s.toml"), "--rate", "100", "--cache-dir",
                 str(tmp_path / "cache")]) == 0
    text = capsys.readouterr().out
    assert f"100/s: {ls.load(100.0):.2f}" in text and "tiny" in text


@zoo.register("tinytest2", family="cnn", engine="eyeriss_v2_like", input="16x16x3",
              published_macs=None, macs_source="test-only model")
def _tiny2():
    return (Layer("c1", "conv", m=49, n=8, k=27, act_sparse=False),
            Layer("c2", "conv", m=49, n=16, k=72))


def test_parallel_profiling_gives_the_sequential_counters(monkeypatch):
    """Architectures profiled in worker processes give the counters of one process (masks
    depend only on seed, arch, layer and sample)."""
    doc = {"name": "tiny2", "system": ["eyeriss_v2_like"], "samples": 3, "profile_samples": 2,
           "rates": [50.0], "models": [{"arch": "tinytest", "patterns": ["block4-50"]},
                                       {"arch": "tinytest2", "patterns": ["dense"]}]}
    sc = parse_scenario(doc, "<test>")
    monkeypatch.setattr(profiled, "_cpus", lambda: 2)
    par = profiled.profile_accelerator(sc, cache_dir=False)
    monkeypatch.setattr(profiled, "_cpus", lambda: 1)
    seq = profiled.profile_accelerator(sc, cache_dir=False)
    assert [r.key for r in par] == [r.key for r in seq] == ["tinytest_block4-50",
                                                            "tinytest2_dense"]
    for a, b in zip(par, seq, strict=True):
        for name in ("cycles", "nnz", "total", "energy_pj"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (a.key, name)


def test_damaged_cache_files_raise_damaged_cache(tmp_path):
    from mmsched.sched.static_profile import DamagedCache, ProfileRun, load_runs, save_runs

    a = np.ones((2, 3))
    run = ProfileRun("m_dense", "m", "dense", (0, 1), a * 10, a * 2, a * 4, a, 1e8)
    path = tmp_path / "profile-x.npz"
    save_runs([run], path, "key")
    assert load_runs(path, "other key") is None
    assert load_runs(tmp_path / "absent.npz", "key") is None
    assert load_runs(path, "key")[0].cycles.tolist() == (a * 10).tolist()
    data = path.read_bytes()
    bad_runs = [ProfileRun("m_dense", "m", "dense", (0, 1), -a, a, a, a, 1e8),
                ProfileRun("m_dense", "m", "dense", (0, 1), a, a * 5, a, a, 1e8),
                ProfileRun("m_dense", "m", "dense", (0,), a, a, a, a, 1e8),
                ProfileRun("m_dense", "m", "dense", (0, 1), a, a, a, a * np.nan, 1e8)]
    for damaged in (data[: len(data) // 2], b"", b"\x00" * len(data)):
        path.write_bytes(damaged)
        with pytest.raises(DamagedCache, match="profile-x.npz"):
            load_runs(path, "key")
    for bad in bad_runs:
        save_runs([bad], path, "key")
        with pytest.raises(DamagedCache):
            load_runs(path, "key")
