"""Engine invariants, the two loops' agreement, dependencies, dropping, compat clock."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable, table_models
from mmsched.sched.policies.fcfs import FCFS
from mmsched.sched.policy import PolicyContext, make_policy
from mmsched.sched.static import static_tables
from mmsched.sched.workload import Request, Workload
from mmsched.sim.backends.table import TableBackend
from mmsched.sim.engine import check_invariants, chrome_trace, idle_while_ready, simulate

CLOCK = 1e6


def _tables(seed=0, n_models=3, samples=6):
    rng = np.random.default_rng(seed)
    out = []
    for m in range(n_models):
        layers = int(rng.integers(2, 6))
        lat = rng.uniform(0.5e-3, 3e-3, (samples, layers))
        sp = rng.uniform(0.1, 0.8, (samples, layers))
        out.append(LatencyTable(key=f"m{m}_p", arch=f"m{m}", pattern="p", latency_s=lat,
                                sparsity=sp))
    return out


def _setup(table_run, seed=0, rate=300.0, n=60, slo=3.0, accs=1):
    return table_run(_tables(seed), rate=rate, requests=n, slo=slo, seed=seed, clock_hz=CLOCK,
                     accelerators=accs)


class _NoDrop(FCFS):
    """FCFS that overrides should_drop (never drops): forces the generic heap loop."""

    def should_drop(self, now, task):
        return False


POLICIES = ["fcfs", "sjf", "sjf_sparse", "prema", "prema_sparse", "planaria", "sdrm3",
            "sdrm3_sparse", "dysta", "dysta_naive", "dysta_oracle"]


@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("seed", [0, 1])
def test_invariants_and_work_conservation(name, seed, table_run):
    wl, be, ctx = _setup(table_run, seed)
    res = simulate(wl, make_policy(name, ctx), be, keep_layers=True)
    assert check_invariants(res, wl) == [], f"seed {seed}"
    assert idle_while_ready(res, wl) == [], f"seed {seed}"
    total_layers = sum(wl.models[r.model].num_layers for r in wl.requests)
    assert len(res.layers) == total_layers == res.decisions
    for rec in res.requests:
        assert rec.isolated == sum(be.layer(0, wl.models[rec.model], j, rec.sample).cycles
                                   for j in range(wl.models[rec.model].num_layers))
    starts = [lr.start for lr in res.layers]
    assert starts == sorted(starts), "time went backwards"


def test_fast_and_generic_loops_agree(table_run):
    wl, be, ctx = _setup(table_run, 3, rate=400.0, n=80)
    fast = simulate(wl, make_policy("fcfs", ctx), be, keep_layers=True)
    generic = simulate(wl, _NoDrop(ctx), be, keep_layers=True)
    strip = [dataclasses.replace(r) for r in fast.requests]
    assert strip == list(generic.requests)
    assert fast.layers == generic.layers


@pytest.mark.parametrize("name", ["fcfs", "dysta", "sdrm3", "prema"])
def test_two_accelerators(name, table_run):
    wl, be, ctx = _setup(table_run, 4, rate=700.0, n=80, accs=2)
    res = simulate(wl, make_policy(name, ctx), be, num_accelerators=2, keep_layers=True)
    assert check_invariants(res, wl, 2) == []
    assert idle_while_ready(res, wl, 2) == []
    assert {lr.accelerator for lr in res.layers} == {0, 1}
    # A request never runs two layers at once (checked by check_invariants) and the two
    # accelerators overlap in time somewhere.
    a0 = [(lr.start, lr.end) for lr in res.layers if lr.accelerator == 0]
    a1 = [(lr.start, lr.end) for lr in res.layers if lr.accelerator == 1]
    assert any(s0 < e1 and s1 < e0 for s0, e0 in a0[:50] for s1, e1 in a1[:50])


def test_determinism(table_run):
    wl, be, ctx = _setup(table_run, 5)
    a = simulate(wl, make_policy("dysta", ctx), be, keep_layers=True)
    b = simulate(wl, make_policy("dysta", ctx), be, keep_layers=True)
    assert a == b


def test_policy_context_must_match_accelerators(table_run):
    wl, be, ctx = _setup(table_run, 0)
    with pytest.raises(ValueError, match="accelerator"):
        simulate(wl, make_policy("fcfs", ctx), be, num_accelerators=2)
    with pytest.raises(ValueError, match="positive integer"):
        simulate(wl, make_policy("fcfs", ctx), be, num_accelerators=0)


def _tiny(reqs, lat=((1e-3, 1e-3),), clock=CLOCK, unit="cycles"):
    t = LatencyTable(key="m_p", arch="m", pattern="p", latency_s=np.array(lat),
                     sparsity=np.full(np.shape(lat), 0.5))
    wl = Workload(models=table_models([t]), requests=tuple(reqs), clock_hz=clock,
                  time_unit=unit)
    be = TableBackend([t], time_unit=unit, clock_hz=clock)
    st = static_tables([t], time_unit=unit, clock_hz=clock)
    return wl, be, PolicyContext(tables=(st,), clock_hz=clock, time_unit=unit)


def test_dependencies_wait_for_upstream():
    # Request 1 arrives first but depends on 0: it runs only after 0 finished (at 2000).
    reqs = [Request(id=1, model="m_p", sample=0, arrival=0, deadline=10**6, depends_on=(0,)),
            Request(id=0, model="m_p", sample=0, arrival=10, deadline=10**6)]
    wl, be, ctx = _tiny(sorted(reqs, key=lambda r: (r.arrival, r.id)))
    res = simulate(wl, make_policy("fcfs", ctx), be, keep_layers=True)
    r0, r1 = res.requests
    assert (r0.start, r0.finish) == (10, 2010)
    assert r1.start == 2010 and r1.finish == 4010


def test_unknown_dependency_and_cycle():
    wl, be, ctx = _tiny([Request(id=0, model="m_p", sample=0, arrival=0, deadline=9,
                                 depends_on=(7,))])
    with pytest.raises(ValueError, match="unknown request"):
        simulate(wl, make_policy("fcfs", ctx), be)
    wl, be, ctx = _tiny([Request(id=0, model="m_p", sample=0, arrival=0, deadline=9,
                                 depends_on=(1,)),
                         Request(id=1, model="m_p", sample=0, arrival=0, deadline=9,
                                 depends_on=(0,))])
    with pytest.raises(ValueError, match="cycle"):
        simulate(wl, make_policy("fcfs", ctx), be)


class _DropLate(FCFS):
    """Drops a queued task once its deadline has passed (frame dropping)."""

    def should_drop(self, now, task):
        return now > task.deadline


def test_frame_drop_propagates_to_dependents():
    # 0 runs two 1000-cycle layers from 0. At the boundary t = 1000, 1 (deadline 500) is late
    # -> dropped; 2 depends on 1 -> dropped at its arrival (2500); 3 is independent and runs
    # 2000..4000 after 0.
    reqs = [Request(id=0, model="m_p", sample=0, arrival=0, deadline=10**6),
            Request(id=1, model="m_p", sample=0, arrival=1, deadline=500),
            Request(id=3, model="m_p", sample=0, arrival=2, deadline=10**6),
            Request(id=2, model="m_p", sample=0, arrival=2500, deadline=10**6,
                    depends_on=(1,))]
    wl, be, ctx = _tiny(reqs)
    res = simulate(wl, _DropLate(ctx), be, keep_layers=True)
    by = {r.id: r for r in res.requests}
    assert by[1].dropped and by[1].finish == 1000 and by[1].start is None
    assert by[1].isolated == 2000  # true isolated latency, though it never ran
    assert by[2].dropped and by[2].finish == 2500
    assert not by[3].dropped and by[3].finish == 4000
    assert check_invariants(res, wl) == []


class _Idle(FCFS):
    def select(self, now, accelerator, ready):
        return None


class _Rogue(FCFS):
    def select(self, now, accelerator, ready):
        return "not a task"


def test_idle_forever_and_bad_pick_raise():
    wl, be, ctx = _tiny([Request(id=0, model="m_p", sample=0, arrival=0, deadline=9)])
    with pytest.raises(ValueError, match="idle"):
        simulate(wl, _Idle(ctx), be)
    with pytest.raises((ValueError, AttributeError)):
        simulate(wl, _Rogue(ctx), be)


def test_deliberate_idle_waits_for_next_arrival():
    # A policy that idles while only one task is queued: the engine waits for the second.
    class WaitForTwo(FCFS):
        def select(self, now, accelerator, ready):
            return ready[0] if len(ready) > 1 or now >= 500 else None

    reqs = [Request(id=0, model="m_p", sample=0, arrival=0, deadline=10**6),
            Request(id=1, model="m_p", sample=0, arrival=500, deadline=10**6)]
    wl, be, ctx = _tiny(reqs)
    res = simulate(wl, WaitForTwo(ctx), be, keep_layers=True)
    assert res.requests[0].start == 500


def test_compat_clock_rewind_and_strict_arrivals():
    # Request 0 runs 0..2 s; request 1 arrives at 1.5 s, during its last layer. Fixed: 1
    # starts at 2.0. With clock_rewind (artifact defect 2): the queue drained, so the clock
    # goes back to 1.5 and 1 starts there.
    reqs = [Request(id=0, model="m_p", sample=0, arrival=0.0, deadline=100.0),
            Request(id=1, model="m_p", sample=0, arrival=1.5, deadline=100.0)]
    wl, be, ctx = _tiny(reqs, lat=((1.0, 1.0),), clock=1.0, unit="seconds")
    fixed = simulate(wl, make_policy("fcfs", ctx), be)
    assert fixed.requests[1].start == 2.0 and fixed.requests[1].finish == 4.0
    rewind = simulate(wl, make_policy("fcfs", ctx), be, compat=CompatFlags(clock_rewind=True))
    assert rewind.requests[1].start == 1.5 and rewind.requests[1].finish == 3.5
    # A request arriving exactly at a layer boundary (t = 1.0) joins that decision in fixed
    # mode; with strict_arrivals it waits for the next boundary.
    reqs = [Request(id=0, model="m_p", sample=0, arrival=0.0, deadline=100.0),
            Request(id=1, model="m_p", sample=0, arrival=1.0, deadline=1.5)]
    wl, be, ctx = _tiny(reqs, lat=((1.0, 1.0),), clock=1.0, unit="seconds")
    fixed = simulate(wl, make_policy("planaria", ctx), be, keep_layers=True)
    assert [lr.request for lr in fixed.layers] == [0, 1, 1, 0]
    strict = simulate(wl, make_policy("planaria", ctx), be, keep_layers=True,
                      compat=CompatFlags(strict_arrivals=True))
    assert [lr.request for lr in strict.layers] == [0, 0, 1, 1]


def test_compat_switches_need_single_accelerator_loop():
    reqs = [Request(id=0, model="m_p", sample=0, arrival=0.0, deadline=100.0)]
    wl, be, ctx = _tiny(reqs, clock=1.0, unit="seconds")
    with pytest.raises(ValueError, match="one accelerator"):
        simulate(wl, _NoDrop(ctx), be, compat=CompatFlags(clock_rewind=True))


def test_layer_records_and_energy_fields(table_run):
    wl, be, ctx = _setup(table_run, 0, n=10)
    res = simulate(wl, make_policy("fcfs", ctx), be, keep_layers=True)
    lr = res.layers[0]
    assert lr.nnz / lr.total == 1.0 - be.tables[wl.requests[0].model].sparsity[
        wl.requests[0].sample, 0]
    assert res.time_unit == "cycles" and res.clock_hz == CLOCK
    assert all(r.seconds_per_unit == 1 / CLOCK for r in res.requests)
    assert sorted(r.finish_order for r in res.requests) == list(range(10))
    assert res.policy == "fcfs"


def test_chrome_trace(table_run):
    import json

    wl, be, ctx = _setup(table_run, 0, n=5)
    res = simulate(wl, make_policy("fcfs", ctx), be, keep_layers=True)
    tr = json.loads(json.dumps(chrome_trace(res)))
    spans = [e for e in tr["traceEvents"] if e["ph"] == "X"]
    assert len(spans) == len(res.layers)
    first = res.layers[0]
    assert spans[0]["ts"] == pytest.approx(first.start / CLOCK * 1e6)
    assert spans[0]["dur"] == pytest.approx((first.end - first.start) / CLOCK * 1e6)


def test_unsorted_workload_rejected():
    reqs = [Request(id=0, model="m_p", sample=0, arrival=10, deadline=10**6),
            Request(id=1, model="m_p", sample=0, arrival=0, deadline=10**6)]
    wl, be, ctx = _tiny(reqs)
    with pytest.raises(ValueError, match="sorted"):
        simulate(wl, make_policy("fcfs", ctx), be)


class _PerAcc:
    """A backend whose layer time depends on the accelerator: 100 cycles x (acc + 1)."""

    name = "per-acc"

    def layer(self, accelerator, model, layer_index, sample):
        from mmsched.sim.backends import LayerTiming

        return LayerTiming(100 * (accelerator + 1), 5, 10, 7.0 * (accelerator + 1))


class _Alternate(FCFS):
    """Runs a task only on the accelerator its layer index points to (layer j on j % 2)."""

    def select(self, now, accelerator, ready):
        for t in ready:
            if t.next_layer % 2 == accelerator:
                return t
        return None


def test_heterogeneous_timing_and_transfers_between_accelerators():
    from mmsched.hw.spec import AcceleratorConfig
    from mmsched.sched.model import Layer, Model
    from mmsched.sched.transfer import TransferCost, TransferModel

    layers = tuple(Layer(f"l{j}", "fc", m=4, n=8, k=16) for j in range(3))
    model = Model(key="x_d", arch="x", pattern="d", layers=layers)
    wl = Workload(models={"x_d": model}, clock_hz=1e9,
                  requests=(Request(id=0, model="x_d", sample=0, arrival=0, deadline=10**6),))
    st = static_tables([LatencyTable("x_d", "x", "d", np.full((1, 3), 1e-7),
                                     np.zeros((1, 3)))], time_unit="cycles", clock_hz=1e9)
    system = (AcceleratorConfig(rows=4, cols=4, clock_hz=1e9),) * 2
    # 4 x 16 int8 activations = 64 bytes at 1 byte per ns -> 64 cycles, 64 x 2 pJ
    xfer = TransferModel(TransferCost(bandwidth_bytes_per_s=1e9, pj_per_byte=2.0), system, 1e9)
    ctx = PolicyContext(tables=(st, st), num_accelerators=2, clock_hz=1e9, system=system,
                        transfer=xfer)
    res = simulate(wl, _Alternate(ctx), _PerAcc(), num_accelerators=2, keep_layers=True,
                   transfer=xfer)
    spans = [(lr.accelerator, lr.start, lr.end, lr.transfer) for lr in res.layers]
    assert spans == [(0, 0, 100, 0), (1, 100, 364, 64), (0, 364, 528, 64)]
    (rec,) = res.requests
    assert rec.accelerators == (0, 1) and rec.finish == 528
    assert rec.transfer_pj == 2 * 64 * 2.0
    assert rec.energy_pj == 7.0 + 14.0 + 7.0 + rec.transfer_pj
    assert rec.isolated == 100 + 200 + 100  # layer times only
    free = simulate(wl, _Alternate(ctx), _PerAcc(), num_accelerators=2)
    assert free.requests[0].finish == 400 and free.requests[0].transfer_pj == 0


class _Smallest(FCFS):
    """Runs every request as the last (smallest) of its sub-networks."""

    def variant(self, now, task):
        return task.model.variants[-1] if task.model.variants else None


def test_policy_runs_a_request_as_a_subnetwork():
    from mmsched.sched.model import Layer, Model

    big = Model(key="n_full", arch="n", pattern="full", layers=(Layer("a", "fc", 1, 1, 1),) * 3,
                variants=("nhalf_d",), accuracy=76.1, accuracy_source="test")
    half = Model(key="nhalf_d", arch="nhalf", pattern="d", layers=(Layer("a", "fc", 1, 1, 1),),
                 accuracy=70.0, accuracy_source="test")
    wl = Workload(models={"n_full": big, "nhalf_d": half}, clock_hz=1e6,
                  requests=(Request(id=0, model="n_full", sample=0, arrival=0, deadline=10**6),))
    be = TableBackend([LatencyTable(k, k.split("_")[0], k.split("_")[1], np.full((1, n), 1e-3),
                                    np.zeros((1, n))) for k, n in (("n_full", 3), ("nhalf_d", 1))],
                      clock_hz=1e6)
    st = static_tables(list(be.tables.values()), time_unit="cycles", clock_hz=1e6)
    ctx = PolicyContext(tables=(st,), clock_hz=1e6)
    (rec,) = simulate(wl, _Smallest(ctx), be).requests
    assert (rec.model, rec.variant, rec.layers_run, rec.finish) == ("n_full", "nhalf_d", 1, 1000)
    (rec,) = simulate(wl, FCFS(ctx), be).requests
    assert (rec.variant, rec.layers_run, rec.finish) == ("", 3, 3000)

    class _Wrong(FCFS):
        def variant(self, now, task):
            return "n_other"

    with pytest.raises(ValueError, match="not a sub-network"):
        simulate(wl, _Wrong(ctx), be)
