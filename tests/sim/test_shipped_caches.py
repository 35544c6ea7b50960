"""Profile caches shipped with the package (sim/data/profile_cache, `make caches`): a fresh
install runs the shipped scenarios without profiling, and a change to anything a cache
depends on (cycle model, zoo, masks, patterns, scenarios, sparsity profiles) fails here until
the caches are regenerated."""

import json
import logging

import pytest

from mmsched.sched.scenario import parse_scenario
from mmsched.sched.static_profile import cache_path, load_runs
from mmsched.sim import profiled

REGENERATE = "the shipped profile caches are stale: run `make caches` (mmsched profile --ship)"


def _manifest() -> dict:
    path = profiled.SHIPPED_DIR / profiled.MANIFEST
    assert path.is_file(), f"no {path}: {REGENERATE}"
    return json.loads(path.read_text())["entries"]


def test_manifest_covers_every_shipped_scenario_and_variant():
    want = set(profiled.shipped_entries())
    have = set(_manifest())
    assert have == want, (f"missing {sorted(want - have)[:5]}, extra {sorted(have - want)[:5]}: "
                          f"{REGENERATE}")


def test_every_shipped_cache_matches_its_current_key():
    entries = _manifest()
    stale = []
    for ident, (sc, acc, arch) in profiled.shipped_entries().items():
        key = profiled.cache_key(sc, acc, arch)
        path = cache_path(profiled.SHIPPED_DIR, key)
        if entries.get(ident, {}).get("file") != path.name or load_runs(path, key) is None:
            stale.append(ident)
    assert not stale, f"{len(stale)} stale, e.g. {stale[:3]}: {REGENERATE}"
    used = {e["file"] for e in entries.values()}
    files = {p.name for p in profiled.SHIPPED_DIR.glob("profile-*.npz")}
    assert files == used, f"unused shipped files {sorted(files - used)[:3]}: {REGENERATE}"


def test_fresh_install_runs_the_default_scenario_without_profiling(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("profiled although a shipped cache exists")

    monkeypatch.setattr(profiled, "run_profile", boom)
    ls = profiled.profile_scenario("dysta-cnn", cache_dir=tmp_path / "empty-user-cache")
    assert len(ls.tables) == 12 and ls.load(4.0) > 0
    assert not (tmp_path / "empty-user-cache").exists()  # nothing copied or written


@pytest.fixture
def tiny():
    from mmsched.sched import zoo
    from mmsched.sched.model import Layer

    if "shiptiny" not in zoo.arch_names():
        @zoo.register("shiptiny", family="cnn", engine="eyeriss_v2_like", input="8x8x3",
                      published_macs=None, macs_source="test-only model")
        def _model():
            return (Layer("c1", "conv", m=16, n=8, k=27, act_sparse=False),
                    Layer("c2", "conv", m=16, n=8, k=72))

    def make(mask_seed=0):
        return parse_scenario({"name": "shiptiny", "system": ["eyeriss_v2_like"], "samples": 3,
                               "profile_samples": 2, "rates": [5.0], "mask_seed": mask_seed,
                               "models": [{"arch": "shiptiny", "patterns": ["dense"]}]},
                              "<test>")

    return make


def test_reprofiling_says_what_and_why_once(tiny, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="mmsched.sim.profiled")
    first = profiled.profile_accelerator(tiny(), cache_dir=tmp_path)
    assert [r.levelname for r in caplog.records] == ["INFO"]  # first profile: not stale
    assert "not cached yet" in caplog.records[0].getMessage()
    caplog.clear()
    profiled.profile_accelerator(tiny(), cache_dir=tmp_path)  # cached: silent
    assert caplog.records == []
    profiled.profile_accelerator(tiny(mask_seed=1), cache_dir=tmp_path)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("profiling shiptiny on eyeriss_v2_like (shiptiny, 3 samples)")
    assert "the cached profile is stale: the mask seed changed" in warnings[0]
    assert len(list(tmp_path.glob("profile-*.npz"))) == 2 and first[0].key == "shiptiny_dense"


def test_scenarios_lists_without_profiling(tmp_path, monkeypatch, capsys):
    """`mmsched scenarios` never profiles: shipped caches give the exact load, anything else
    an estimate marked (est.) from the dense cycle formula and the profiles' mean density."""
    from mmsched.sim.cli import main

    def boom(*a, **k):
        raise AssertionError("mmsched scenarios profiled")

    monkeypatch.setattr(profiled, "run_profile", boom)
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "fresh"))
    (tmp_path / "s.toml").write_text(
        'name = "t"\nsystem = ["eyeriss_v2_like"]\nrates = [4.0]\nsamples = 4\n'
        'profile_samples = 2\n[[models]]\narch = "resnet50"\npatterns = ["unstructured20"]\n')
    assert main(["scenarios", "dysta-cnn", str(tmp_path / "s.toml"), "--rate", "4"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    exact = float(rows["dysta-cnn"].rsplit("4/s: ", 1)[1])
    est = rows["t"].rsplit("4/s: ", 1)[1]
    assert est.startswith("~") and est.endswith(" (est.)")
    # the estimate is of the right size: within 40 % of the exact load of the same model
    ls = profiled.profile_scenario("dysta-cnn", cache_dir=tmp_path / "fresh", only_cached=True)
    iso = {k: p.isolated_latency / ls.clock_hz for k, p in ls.static[0].pattern.items()}
    assert float(est[1:-7]) == pytest.approx(4 * iso["resnet50_unstructured20"], rel=0.4)
    assert exact == pytest.approx(ls.load(4.0), abs=0.006)
