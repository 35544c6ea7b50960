"""Co-simulation with the accelerator in RTL too: the integrated system top (scheduler and
accelerator in one simulation, the monitor wired to the scheduler) against the co-simulation
with the accelerator on the exact model and the pure-Python ``dysta_hw`` run.

Inside the run every scheduler response is checked against the twin, every layer's result
against numpy and its counters against the exact model (`SystemHost`); these tests check the
per-request finish times and the monitor counts the scheduler was sent.
"""

from __future__ import annotations

import shutil

import pytest

from mmsched.sched.policy import PolicyContext, make_policy
from mmsched.sched.scenario import find_scenario
from mmsched.sim.cosim import (
    CosimMismatch,
    HeldoutMasks,
    estimate_rtl_seconds,
    run_cosim,
    run_system_cosim,
)
from mmsched.sim.engine import simulate
from mmsched.sim.profiled import mask_source, profile_scenario


def _tiny(requests: int, seed: int = 1, rate: float | None = None):
    """The cosim-tiny scenario's workload (default rate: load 0.8)."""
    sc = find_scenario("cosim-tiny")
    loaded = profile_scenario(sc, cache_dir=False)
    wl = loaded.workloads(rates=[rate or sc.rates[0]], slo=sc.slos[0], requests=requests,
                          seed=seed)[0]
    ctx = PolicyContext(tables=(loaded.static[0],), clock_hz=wl.clock_hz,
                        time_unit=wl.time_unit)
    masks = HeldoutMasks(mask_source(sc)[0], sc.heldout_samples, sc.model_list())
    return sc, wl, loaded.backend(), ctx, masks


def _check(sc, wl, backend, ctx, res, over, model_cosim=None):
    """Finish times equal the pure-Python run's (and the exact-model cosim's); each layer's
    counts as the scheduler saw them equal the exact model's for that request's sample."""
    pure = simulate(wl, make_policy("dysta_hw", ctx, **over), backend)
    fin = [r.finish for r in res.run.requests]
    assert fin == [r.finish for r in pure.requests]
    assert all(f is not None for f in fin)
    if model_cosim is not None:
        assert fin == [r.finish for r in model_cosim.run.requests]
    by_id = {r.id: r for r in wl.requests}
    layers = res.run.layers
    assert len(layers) == len(res.events) == sum(
        len(wl.models[r.model].layers) for r in wl.requests)
    for rec, ev in zip(layers, res.events, strict=True):
        req = by_id[rec.request]
        ref = backend.layer(0, wl.models[req.model], rec.layer, req.sample)
        assert (ev.nnz, ev.total, ev.now) == (ref.nnz, ref.total, rec.end), (rec, ev)
        assert 0 < ev.nnz <= ev.total
    assert res.accel_cycles == sum(r.isolated for r in res.run.requests)
    # layers of several jobs (M and N tiles, K pieces) ran: the boundary is the last one's
    assert res.jobs > 1.5 * len(res.events)


@pytest.mark.rtl
def test_amaranth_system_cosim_equals_model_cosim_and_python(tmp_path):
    sc, wl, be, ctx, masks = _tiny(5, seed=2)
    over = {"slots": 3, "predictor": "last-one"}
    res = run_system_cosim(wl, masks, ctx, sc.system[0], simulator="amaranth",
                           policy_overrides=over)
    model = run_cosim(wl, be, ctx, simulator="amaranth", run_dir=tmp_path,
                      policy_overrides=over)
    _check(sc, wl, be, ctx, res, over, model)
    # the table filled up (a request waited in the host FIFO) and the order is not FCFS
    assert len({ev.slot for ev in res.events}) == 3
    fcfs = simulate(wl, make_policy("fcfs", ctx), be)
    assert [r.finish for r in res.run.requests] != [r.finish for r in fcfs.requests]


@pytest.mark.rtl
@pytest.mark.usefixtures("needs_verilator")
def test_verilator_system_cosim_60_requests():
    sc, wl, be, ctx, masks = _tiny(60, seed=4)
    over = {"slots": 8}
    res = run_system_cosim(wl, masks, ctx, sc.system[0], simulator="verilator",
                           policy_overrides=over, seed=3)
    # the scheduler-only library is cached by its config and sources (as the system's is)
    model = run_cosim(wl, be, ctx, simulator="verilator", policy_overrides=over)
    _check(sc, wl, be, ctx, res, over, model)
    # the scheduler did not simply serve in arrival order
    fcfs = simulate(wl, make_policy("fcfs", ctx), be)
    assert [r.finish for r in res.run.requests] != [r.finish for r in fcfs.requests]


@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_icarus_system_cosim_equals_model_cosim_and_python(tmp_path):
    sc, wl, be, ctx, masks = _tiny(4, seed=2)
    over = {"slots": 3}
    res = run_system_cosim(wl, masks, ctx, sc.system[0], simulator="icarus",
                           policy_overrides=over, run_dir=tmp_path / "system")
    model = run_cosim(wl, be, ctx, simulator="icarus", run_dir=tmp_path / "sched",
                      policy_overrides=over)
    _check(sc, wl, be, ctx, res, over, model)


class _LyingMonitor:
    """A session whose n-th layer event reports one more non-zero than the scheduler got."""

    def __init__(self, inner, n):
        self.inner, self.n = inner, n

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def release(self):
        r = self.inner.release()
        self.n -= 1
        if self.n == 0:
            count, slot, nnz, total = r.sent
            return type(r)(r.resp_cycle, r.now, r.op, r.status, r.slot, r.value,
                           (count, slot, nnz + 1, total))
        return r


@pytest.mark.rtl
def test_monitor_count_mismatch_is_caught(monkeypatch):
    from mmsched.sim import cosim

    sc, wl, be, ctx, masks = _tiny(2)
    real = cosim.make_system_session
    monkeypatch.setattr(cosim, "make_system_session",
                        lambda *a, **k: _LyingMonitor(real(*a, **k), 2))
    with pytest.raises(CosimMismatch, match=r"the scheduler saw LAYER_DONE\(slot \d+, nnz"):
        run_system_cosim(wl, masks, ctx, sc.system[0], simulator="amaranth")


def test_estimate_grows_with_requests_array_and_slots():
    sc, wl, be, ctx, _ = _tiny(12)
    acc = sc.system[0]
    cycles, s_tiny = estimate_rtl_seconds(wl, be, acc, "amaranth", slots=4)
    assert cycles == sum(be.layer(0, wl.models[r.model], j, r.sample).cycles
                         for r in wl.requests for j in range(len(wl.models[r.model].layers)))
    assert 1 < s_tiny < 60
    _, s_many = estimate_rtl_seconds(_tiny(240)[1], be, acc, "amaranth", slots=4)
    assert s_many > 10 * s_tiny
    assert estimate_rtl_seconds(wl, be, acc, "amaranth", slots=64)[1] > 2 * s_tiny
    from dataclasses import replace

    big = replace(acc, rows=8, cols=16)
    assert estimate_rtl_seconds(wl, be, big, "amaranth", slots=4)[1] > 1.5 * s_tiny
    _, s_vl = estimate_rtl_seconds(wl, be, acc, "verilator", slots=4)
    assert s_vl < s_tiny / 10


def test_workload_clock_must_be_the_accelerators():
    sc, wl, be, ctx, masks = _tiny(2)
    from dataclasses import replace

    with pytest.raises(ValueError, match="cycles of the accelerator's clock"):
        run_system_cosim(replace(wl, clock_hz=2 * wl.clock_hz), masks, ctx, sc.system[0],
                         simulator="amaranth")
    with pytest.raises(ValueError, match="integrated system runs on"):
        run_system_cosim(wl, masks, ctx, sc.system[0], simulator="questa")
