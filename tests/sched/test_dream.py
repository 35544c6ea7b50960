"""DREAM: MapScore terms worked by hand, greedy pair assignment, frame drop with cascades,
the weight tuner after a workload change, Supernet switching under load, mechanism switches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.model import Layer, Model
from mmsched.sched.policies.dream import WeightTuner
from mmsched.sched.policy import PolicyContext, Task, make_policy, policy_config
from mmsched.sched.static import static_tables
from mmsched.sched.workload import Request, Workload
from mmsched.sim.backends import LayerTiming
from mmsched.sim.engine import check_invariants, simulate

CLOCK = 1e6  # one cycle = one microsecond
SPEED = (1.0, 2.5)  # accelerator 1 is 2.5x slower


def _model(key: str, n: int, **kw) -> Model:
    arch, pattern = key.split("_")
    return Model(key=key, arch=arch, pattern=pattern,
                 layers=tuple(Layer(f"l{j}", "fc", m=4, n=8, k=16) for j in range(n)), **kw)


class _Stub:
    """Layer j of a model takes ``base[key][j] x SPEED[a]`` cycles on accelerator ``a``;
    energy 10 pJ per layer on accelerator 0, 4 pJ on accelerator 1; density 1."""

    name = "stub"

    def __init__(self, base: dict[str, list[int]], speed=SPEED) -> None:
        self.base, self.speed = base, speed

    def layer(self, accelerator, model, layer_index, sample):
        c = int(round(self.base[model.key][layer_index] * self.speed[accelerator]))
        return LayerTiming(c, 8, 8, 10.0 if accelerator == 0 else 4.0)


def _context(base: dict[str, list[int]], speed=SPEED, transfer=None) -> PolicyContext:
    tables = []
    for f in speed:
        lts = [LatencyTable(k, k.split("_")[0], k.split("_")[1],
                            np.asarray([v], dtype=float) * f / CLOCK, np.zeros((1, len(v))))
               for k, v in base.items()]
        tables.append(static_tables(lts, time_unit="cycles", clock_hz=CLOCK))
    return PolicyContext(tables=tuple(tables), num_accelerators=len(speed), clock_hz=CLOCK,
                         transfer=transfer)


def _task(rid, model, arrival, deadline, depends=()):
    return Task(Request(id=rid, model=model.key, sample=0, arrival=arrival, deadline=deadline,
                        depends_on=depends), model)


class _FixedTransfer:
    def cost(self, layer, dst):
        return 50, 1.0


def test_mapscore_terms_by_hand():
    m = _model("a_d", 2)
    pol = make_policy("dream", _context({"a_d": [100, 200]}))
    t = _task(0, m, 0, 1000)
    pol.on_arrival(0, t)
    # on accelerator 0: remaining 100 + 200 = 300 over slack 900; waited 100 of a best-path
    # isolated latency of 300; next layer 100 is the best -> preference 1
    u, f, p, score = pol.terms(100, t, 0)
    assert (u, f, p) == pytest.approx((300 / 900, 100 / 300, 1.0))
    assert score == pytest.approx(u + f + p)
    # on accelerator 1 (2.5x slower): remaining 750 / 900, preference 100 / 250
    u, f, p, _ = pol.terms(100, t, 1)
    assert (u, f, p) == pytest.approx((750 / 900, 100 / 300, 0.4))
    # urgency clamps at 1, and is 1 once late
    assert pol.terms(500, t, 1)[0] == 1.0 and pol.terms(1000, t, 0)[0] == 1.0
    # weights scale the terms
    pol = make_policy("dream", _context({"a_d": [100, 200]}), a_u=2.0, a_f=0.5, a_p=0.0)
    pol.on_arrival(0, t)
    u, f, p, score = pol.terms(100, t, 1)
    assert score == pytest.approx(2 * 750 / 900 + 0.5 * 100 / 300)


def test_transfer_counts_on_another_accelerator():
    m = _model("a_d", 2)
    pol = make_policy("dream", _context({"a_d": [100, 200]}, transfer=_FixedTransfer()))
    t = _task(0, m, 0, 1000)
    pol.on_arrival(0, t)
    assert pol.terms(0, t, 1)[2] == pytest.approx(0.4)   # first layer: nothing to move
    t.next_layer, t.last_acc, t.last_run = 1, 0, 100     # layer 0 ran on accelerator 0
    pol.on_layer_done(100, t, 0, 8, 8)
    u0, _, p0, _ = pol.terms(100, t, 0)
    u1, _, p1, _ = pol.terms(100, t, 1)
    assert (u0, p0) == pytest.approx((200 / 900, 1.0))
    assert (u1, p1) == pytest.approx((550 / 900, 200 / 550))   # 500 + 50 transfer cycles
    off = make_policy("dream", _context({"a_d": [100, 200]}, transfer=_FixedTransfer()),
                      transfer=False)
    t2 = _task(0, m, 0, 1000)
    off.on_arrival(0, t2)
    t2.next_layer, t2.last_acc, t2.last_run = 1, 0, 100
    off.on_layer_done(100, t2, 0, 8, 8)
    assert off.terms(100, t2, 1)[2] == pytest.approx(0.4)


def test_greedy_pairs_send_a_job_to_the_accelerator_it_prefers():
    # "fast" runs 10x faster on accelerator 1; "even" runs alike on both. Both free at 0:
    # accelerator 0 is offered first, but "fast"'s best pair is (fast, 1), so accelerator 0
    # takes "even" and "fast" goes to accelerator 1.
    base = {"fast_d": [1000], "even_d": [400]}
    speed = {"fast_d": (10.0, 1.0), "even_d": (1.0, 1.0)}

    class _PerModel(_Stub):
        def layer(self, accelerator, model, layer_index, sample):
            c = int(self.base[model.key][layer_index] * speed[model.key][accelerator])
            return LayerTiming(c, 8, 8, 1.0)

    tables = []
    for a in range(2):
        lts = [LatencyTable(k, k.split("_")[0], "d",
                            np.asarray([v], dtype=float) * speed[k][a] / CLOCK, np.zeros((1, 1)))
               for k, v in base.items()]
        tables.append(static_tables(lts, time_unit="cycles", clock_hz=CLOCK))
    ctx = PolicyContext(tables=tuple(tables), num_accelerators=2, clock_hz=CLOCK)
    models = {"fast_d": _model("fast_d", 1), "even_d": _model("even_d", 1)}
    wl = Workload(models=models, clock_hz=CLOCK, requests=(
        Request(0, "fast_d", 0, 0, 100_000), Request(1, "even_d", 0, 0, 100_000)))
    res = simulate(wl, make_policy("dream", ctx, drop=False), _PerModel(base), num_accelerators=2,
                   keep_layers=True)
    placed = {lr.request: lr.accelerator for lr in res.layers}
    assert placed == {0: 1, 1: 0}
    # FCFS gives the first arrival the first accelerator offered
    fcfs = simulate(wl, make_policy("fcfs", ctx), _PerModel(base), num_accelerators=2,
                    keep_layers=True)
    assert {lr.request: lr.accelerator for lr in fcfs.layers} == {0: 0, 1: 1}


def test_drop_cascades_to_dependent_frames():
    base = {"up_d": [300, 300], "down_d": [100]}
    models = {"up_d": _model("up_d", 2), "down_d": _model("down_d", 1)}
    reqs = (Request(0, "up_d", 0, 0, 10_000), Request(1, "up_d", 0, 0, 500),
            Request(2, "down_d", 0, 0, 10_000, depends_on=(1,)),
            Request(3, "down_d", 0, 0, 10_000, depends_on=(0,)))
    wl = Workload(models=models, requests=reqs, clock_hz=CLOCK)
    ctx = _context(base)
    res = simulate(wl, make_policy("dream", ctx), _Stub(base), num_accelerators=2,
                   keep_layers=True)
    rec = {r.id: r for r in res.requests}
    # request 1 needs 600 cycles on its fastest accelerator but has 500: dropped at once,
    # and request 2 (its dependent) with it; the others complete
    assert rec[1].dropped and rec[1].layers_run == 0 and rec[1].finish == 0
    assert rec[2].dropped and rec[2].layers_run == 0
    assert not rec[0].dropped and not rec[3].dropped and rec[3].start >= rec[0].finish
    assert not check_invariants(res, wl, 2)
    keep = simulate(wl, make_policy("dream", ctx, drop="off"), _Stub(base), num_accelerators=2)
    assert not any(r.dropped for r in keep.requests)
    assert {r.id for r in keep.requests if r.finish > r.deadline} == {1}


def test_a_frame_that_falls_behind_is_dropped_before_it_runs():
    base = {"a_d": [400, 400]}
    models = {"a_d": _model("a_d", 2)}
    # three frames on one accelerator, served in arrival order (only the constant preference
    # term scores): the third would start at 1600, after its last useful start 1700 - 800;
    # it is dropped at the first event past 900 (the layer end at 1200), unrun
    reqs = tuple(Request(i, "a_d", 0, 0, 1700 if i == 2 else 5000) for i in range(3))
    wl = Workload(models=models, requests=reqs, clock_hz=CLOCK)
    ctx = _context(base, speed=(1.0,))
    res = simulate(wl, make_policy("dream", ctx, a_u=0.0, a_f=0.0), _Stub(base, (1.0,)))
    rec = {r.id: r for r in res.requests}
    assert rec[2].dropped and rec[2].finish == 1200 and rec[2].layers_run == 0
    assert not rec[0].dropped and not rec[1].dropped


def test_a_started_frame_is_finished_unless_drop_started():
    # the tables say 100 + 100 cycles, the first layer really takes 950: at its end (950) the
    # frame cannot meet its deadline (1000) any more; it has spent energy, so by default it
    # finishes (late, at 1050); drop_started drops it there
    models = {"a_d": _model("a_d", 2)}
    wl = Workload(models=models, requests=(Request(0, "a_d", 0, 0, 1000),), clock_hz=CLOCK)
    ctx = _context({"a_d": [100, 100]}, speed=(1.0,))
    truth = _Stub({"a_d": [950, 100]}, (1.0,))
    kept = simulate(wl, make_policy("dream", ctx), truth).requests[0]
    assert not kept.dropped and kept.layers_run == 2 and kept.finish == 1050
    cut = simulate(wl, make_policy("dream", ctx, drop_started="on"), truth).requests[0]
    assert cut.dropped and cut.layers_run == 1


def test_stretch_drops_a_frame_its_model_would_run_late():
    # the tables say 100 + 100 cycles, the layers really take 300 each: the first frame
    # (0 -> 600) gives the model a stretch of 3. The second (1000, due 1500) passes the bound
    # (1000 + 200) but would end at 1000 + 3 x 200 = 1600: dropped on arrival by "stretch",
    # run late by "bound". The drop cut the stretch to 1 + 2 x 0.9 = 2.8, so the third (2000,
    # due 3000; 2000 + 2.8 x 200 <= 3000) runs, on time
    models = {"a_d": _model("a_d", 2)}
    reqs = (Request(0, "a_d", 0, 0, 5000), Request(1, "a_d", 0, 1000, 1500),
            Request(2, "a_d", 0, 2000, 3000))
    wl = Workload(models=models, requests=reqs, clock_hz=CLOCK)
    ctx = _context({"a_d": [100, 100]}, speed=(1.0,))
    truth = _Stub({"a_d": [300, 300]}, (1.0,))
    rec = simulate(wl, make_policy("dream", ctx, tuner="off"), truth).requests
    assert [r.dropped for r in rec] == [False, True, False]
    assert rec[1].layers_run == 0 and rec[1].finish == 1000 and rec[2].finish == 2600
    old = simulate(wl, make_policy("dream", ctx, tuner="off", drop_rule="bound"),
                   truth).requests
    assert not any(r.dropped for r in old) and old[1].finish == 1600
    # a margin of 3 on the bound alone drops it too
    wide = simulate(wl, make_policy("dream", ctx, tuner="off", drop_rule="bound",
                                    drop_margin=3.0), truth).requests
    assert [r.dropped for r in wide] == [False, True, False]
    with pytest.raises(ValueError):
        policy_config("dream", drop_rule="maybe")


def test_a_job_waits_for_a_busy_accelerator_that_ends_its_layer_sooner():
    # request 0 holds the fast accelerator 0 until 200; request 1 arrives at 100 and takes
    # 100 cycles there or 250 on the free, slower accelerator 1: waiting ends it at 300,
    # sooner than 350, so it waits; with wait=off it takes accelerator 1 at once
    base = {"a_d": [200], "b_d": [100]}
    models = {"a_d": _model("a_d", 1), "b_d": _model("b_d", 1)}
    wl = Workload(models=models, requests=(Request(0, "a_d", 0, 0, 10_000),
                                           Request(1, "b_d", 0, 100, 10_000)), clock_hz=CLOCK)
    ctx = _context(base)
    for cfg, acc, finish in (({}, 0, 300), ({"wait": "off"}, 1, 350)):
        res = simulate(wl, make_policy("dream", ctx, **cfg), _Stub(base), num_accelerators=2,
                       keep_layers=True)
        (layer,) = [lr for lr in res.layers if lr.request == 1]
        assert (layer.accelerator, layer.end) == (acc, finish), cfg
        assert not check_invariants(res, wl, 2)


def _run_tuner(tuner: WeightTuner, cost, windows: int) -> list[tuple[float, ...]]:
    out = []
    for _ in range(windows):
        tuner.update(cost(tuner.w))
        out.append(tuner.accepted)
    return out


def test_tuner_follows_a_workload_change_and_settles_within_five_windows():
    before = lambda w: abs(w[0] - 1.0) + abs(w[1] - 1.0) + 3.0          # noqa: E731
    after = lambda w: abs(w[0] - 2.0) + 0.5 * abs(w[1] - 1.0) + 3.0    # noqa: E731
    tuner = WeightTuner((1.0, 1.0, 1.0), step=0.5)
    settled = _run_tuner(tuner, before, 12)
    assert set(settled[2:]) == {(1.0, 1.0, 1.0)}     # at the optimum: every step undone
    trace = _run_tuner(tuner, after, 25)
    # urgency's weight goes up (the direction that lowers the cost), one step at a time,
    # each accepted step lowering the cost, and stays at the new optimum from window 5 on
    costs = [after(w) for w in trace]
    assert all(b <= a for a, b in zip(costs, costs[1:], strict=False))
    assert trace[4] == (2.0, 1.0, 1.0) and set(trace[4:]) == {(2.0, 1.0, 1.0)}
    assert all(0.0 <= x <= 4.0 for w in trace for x in w)


def test_tuner_weights_stay_in_bounds():
    tuner = WeightTuner((3.9, 0.1, 1.0), step=0.5)
    trace = _run_tuner(tuner, lambda w: -w[0] + w[1], 40)   # pushes a_u up, a_f down
    assert trace[-1][0] == 4.0 and trace[-1][1] == 0.0
    assert all(0.0 <= x <= 4.0 for w in trace for x in w)


def _poisson(base, rate_hz, n, slo, seed, models):
    rng = np.random.default_rng(seed)
    t, reqs = 0, []
    keys = sorted(base)
    for i in range(n):
        t += int(rng.exponential(CLOCK / rate_hz))
        k = keys[int(rng.integers(len(keys)))]
        reqs.append(Request(i, k, 0, t, t + int(slo * sum(base[k]))))
    return Workload(models=models, requests=tuple(reqs), clock_hz=CLOCK)


def test_tuner_in_a_run_records_a_trace_within_bounds():
    base = {"a_d": [300, 200, 100], "b_d": [50, 50]}
    models = {k: _model(k, len(v)) for k, v in base.items()}
    wl = _poisson(base, 2500, 300, 2.5, 7, models)
    ctx = _context(base)
    pol = make_policy("dream", ctx, window=10)
    res = simulate(wl, pol, _Stub(base), num_accelerators=2)
    tr = pol.trace()
    assert len(tr) == 1 + len(res.requests) // 10
    assert [r["time_s"] for r in tr] == sorted(r["time_s"] for r in tr)
    assert len({(r["a_u"], r["a_f"], r["a_p"]) for r in tr}) > 1
    assert all(0 <= r[k] <= 4 for r in tr for k in ("a_u", "a_f", "a_p"))
    assert all(r["window_uxcost"] >= 1.0 for r in tr[1:])  # energy >= reference, factor >= 1
    off = make_policy("dream", ctx, window=10, tuner="off")
    simulate(wl, off, _Stub(base), num_accelerators=2)
    (row,) = off.trace()
    assert {k: row[k] for k in ("time_s", "a_u", "a_f", "a_p")} == \
        {"time_s": 0.0, "a_u": 1.0, "a_f": 1.0, "a_p": 1.0}
    assert set(row) == set(tr[1]) and math.isnan(row["window_uxcost"])


def test_supernet_switches_under_load_and_back():
    base = {"net_full": [100] * 10, "netsmall_d": [100, 100]}
    models = {"net_full": _model("net_full", 10, variants=("netsmall_d",), accuracy=80.0,
                                 accuracy_source="test"),
              "netsmall_d": _model("netsmall_d", 2, accuracy=70.0, accuracy_source="test")}
    reqs, t = [], 0
    for i, gap in enumerate([5000] * 30 + [850] * 60 + [5000] * 30):
        t += gap
        reqs.append(Request(i, "net_full", 0, t, t + 3000))
    wl = Workload(models=models, requests=tuple(reqs), clock_hz=CLOCK)
    ctx = _context(base, speed=(1.0,))
    res = simulate(wl, make_policy("dream", ctx, window=10), _Stub(base, (1.0,)))
    small = [r.id for r in res.requests if r.variant == "netsmall_d"]
    # only in the loaded phase (ids 30-89), once the load window holds mostly loaded arrivals
    assert small and min(small) >= 35 and max(small) < 100 and len(small) > 40
    assert all(r.variant == "" for r in res.requests[100:])   # back to the full model
    assert all(r.layers_run == 2 for r in res.requests if r.variant and not r.dropped)
    off = simulate(wl, make_policy("dream", ctx, window=10, supernet="off"),
                   _Stub(base, (1.0,)))
    assert not any(r.variant for r in off.requests)
    assert sum(r.dropped or r.finish > r.deadline for r in off.requests) > \
        sum(r.dropped or r.finish > r.deadline for r in res.requests)


def test_on_off_switches_and_bad_config():
    cfg = policy_config("dream", tuner="off", drop="on", supernet="False")
    assert (cfg.tuner, cfg.drop, cfg.supernet) == (False, True, False)
    with pytest.raises(ValueError, match="on/off"):
        policy_config("dream", drop="maybe")
    ctx = _context({"a_d": [1]})
    with pytest.raises(ValueError, match="a_u must be in"):
        make_policy("dream", ctx, a_u=5.0)
    with pytest.raises(ValueError, match="window"):
        make_policy("dream", ctx, window=1)
    assert policy_config("dream_sparse").sparse and not policy_config("dream").sparse
