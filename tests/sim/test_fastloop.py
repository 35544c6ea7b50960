"""The compiled loop (sim/fastloop.c) gives the Python loop's records, bit for bit.

Random latency tables, under- and overloaded Poisson streams, every policy it covers (some
with non-default configs), fixed mode, the full Dysta-artifact compat mode and each engine/policy
compat switch alone, in cycles and in seconds: ``repr`` of the whole `RunResult` (every
record, every time's type) must be equal with ``MMSCHED_FASTLOOP=0`` and with the compiled
loop, and the compiled loop must have run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.policy import make_policy
from mmsched.sim import fastloop
from mmsched.sim.cli import main
from mmsched.sim.engine import simulate

CLOCK = 250e6

pytestmark = pytest.mark.skipif(not fastloop.available(),
                                reason="no C compiler: the compiled loop is not built")


def _tables(seed: int) -> list[LatencyTable]:
    rng = np.random.default_rng(seed)
    out = []
    for arch, layers in (("alpha", 7), ("beta", 3), ("gamma", 12)):
        for pat in ("u", "b"):
            lat = rng.uniform(2e-4, 4e-3, (8, layers))
            lat[rng.random(lat.shape) < 0.05] = 0.0  # zero-time layers: equal times
            sp = rng.uniform(0.0, 0.95, (8, layers))
            sp[rng.random(sp.shape) < 0.05] = 1.0   # all-zero inputs: density 0
            out.append(LatencyTable(key=f"{arch}_{pat}", arch=arch, pattern=pat,
                                    latency_s=lat, sparsity=sp))
    return out


POLICIES = [("dysta", {}), ("dysta", {"predictor": "last-one", "beta": 0.3}),
            ("dysta_naive", {}), ("dysta_oracle", {}), ("prema", {}), ("prema_sparse", {}),
            ("prema_sparse", {"predictor": "last-one"}), ("sdrm3", {}),
            ("sdrm3", {"alpha": 0.05}), ("sdrm3_sparse", {"alpha": 2.5}), ("sjf", {}),
            ("sjf_sparse", {"predictor": "last-one"}), ("fcfs", {}), ("edf", {}),
            ("planaria", {}), ("planaria", {"resources": 2.5}), ("rr", {})]


def test_every_covered_policy_is_tested():
    assert {name for name, _ in POLICIES} == set(fastloop.COVERED)

_ALL = CompatFlags.dysta_artifact()
MODES = {"fixed": CompatFlags(), "artifact": _ALL,
         **{f.name: CompatFlags(**{f.name: True}) for f in dataclasses.fields(CompatFlags)
            if f.name in ("clock_rewind", "strict_arrivals", "prema_shared_gamma",
                          "prema_cumulative_wait", "running_max_minus_one",
                          "sdrm3_fixed_alpha")}}


def _both(monkeypatch, table_run, tables, name, over, compat, load, seed, max_layers=None):
    iso_s = float(np.mean([t.latency_s.sum(axis=1).mean() for t in tables]))
    rate = max(1, round(load / iso_s)) if compat.integer_rates else load / iso_s
    wl, be, ctx = table_run(tables, rate=rate, requests=150, slo=3, seed=seed, compat=compat,
                            clock_hz=CLOCK)
    calls = []
    real = fastloop._call

    def spy(*args):
        got = real(*args)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(fastloop, "_call", spy)
    out = []
    for flag in ("0", "1"):
        monkeypatch.setenv("MMSCHED_FASTLOOP", flag)
        res = simulate(wl, make_policy(name, ctx, **over), be, compat=compat, keep_layers=True,
                       max_layers=max_layers)
        out.append(repr(res))
    assert calls == [True], "the compiled loop did not run"
    return out


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name,over", POLICIES)
def test_compiled_loop_equals_python_loop(monkeypatch, table_run, name, over, mode):
    compat = MODES[mode]
    for seed, load in ((1, 0.6), (2, 1.4)):
        py, c = _both(monkeypatch, table_run, _tables(seed), name, over, compat, load, seed)
        assert c == py


def test_max_layers_keeps_the_first_layers(monkeypatch, table_run):
    py, c = _both(monkeypatch, table_run, _tables(3), "dysta", {}, CompatFlags(), 0.9, 3,
                  max_layers=17)
    assert c == py
    assert py.count("LayerRecord(") == 17


def test_uncovered_runs_take_the_python_loop(monkeypatch, table_run):
    """The fixed-point dysta_hw, a subclass and a workload in float cycles are not covered:
    the Python loop runs them (same results as always)."""
    wl, be, ctx = table_run(_tables(4), rate=300, requests=40, slo=3, clock_hz=CLOCK)
    monkeypatch.setattr(fastloop, "_call", lambda *a: pytest.fail("compiled loop used"))
    simulate(wl, make_policy("dysta_hw", ctx), be)

    class Mine(type(make_policy("sdrm3", ctx))):
        pass

    simulate(wl, Mine(ctx), be)
    floats = dataclasses.replace(wl, requests=tuple(
        dataclasses.replace(r, arrival=float(r.arrival)) for r in wl.requests))
    simulate(floats, make_policy("dysta", ctx), be)


def test_failing_compiler_falls_back_with_one_warning(monkeypatch, tmp_path, caplog,
                                                     table_run):
    monkeypatch.setattr(fastloop, "_lib", None)
    monkeypatch.setattr(fastloop, "_tried", False)
    monkeypatch.setenv("MMSCHED_BUILD_DIR", str(tmp_path))
    monkeypatch.setenv("CC", "false")  # a compiler that always fails
    monkeypatch.setattr(fastloop.sysconfig, "get_config_var", lambda name: "false")
    monkeypatch.setattr(fastloop.shutil, "which",
                        lambda cmd: "/bin/false" if cmd == "false" else None)
    wl, be, ctx = table_run(_tables(5), rate=300, requests=40, slo=3, clock_hz=CLOCK)
    first = simulate(wl, make_policy("prema", ctx), be)
    again = simulate(wl, make_policy("prema", ctx), be)
    assert first == again
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "pure-Python loop" in caplog.records[0].message
    assert not list(tmp_path.rglob("*.so"))


def test_no_compiler_falls_back_quietly(monkeypatch, caplog, table_run):
    """No compiler at all: the Python loop, said at INFO level only (-v)."""
    monkeypatch.setattr(fastloop, "_lib", None)
    monkeypatch.setattr(fastloop, "_tried", False)
    monkeypatch.setattr(fastloop, "_compiler", lambda: None)
    wl, be, ctx = table_run(_tables(6), rate=300, requests=40, slo=3, clock_hz=CLOCK)
    with caplog.at_level("INFO", logger="mmsched.sim.fastloop"):
        simulate(wl, make_policy("sdrm3", ctx), be)
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert "no C compiler" in caplog.records[0].message


def test_unusable_build_folder_builds_privately(monkeypatch, tmp_path, caplog, table_run):
    monkeypatch.setattr(fastloop, "_lib", None)
    monkeypatch.setattr(fastloop, "_tried", False)
    (tmp_path / "file").write_text("not a folder\n")
    monkeypatch.setenv("MMSCHED_BUILD_DIR", str(tmp_path / "file"))
    assert fastloop.available()
    assert not caplog.records
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_scenario_runs_are_byte_identical(monkeypatch, tmp_path):
    """The default scenario (profiled backend: integer cycles, energies, real monitor
    counts) through the command line: every CSV equal with and without the compiled loop."""
    args = ["run", "--policies", ",".join(fastloop.COVERED), "--requests", "80", "--seeds",
            "2", "--no-plots", "--no-progress", "--jobs", "1"]
    for flag in ("0", "1"):
        monkeypatch.setenv("MMSCHED_FASTLOOP", flag)
        assert main([*args, "--out", str(tmp_path / flag)]) == 0
    names = sorted(p.name for p in (tmp_path / "0").glob("*.csv"))
    assert "layers.csv" in names and "requests.csv" in names
    for name in names:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "0" / name).read_bytes(), \
            name
