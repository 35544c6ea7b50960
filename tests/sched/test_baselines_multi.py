"""The real-time baselines on two accelerators: EDF, round-robin over streams, Herald's
offline layer assignment, and per-accelerator estimates of the estimate-based policies."""

from __future__ import annotations

import numpy as np

from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.model import Layer, Model
from mmsched.sched.policies.herald import assign_layers
from mmsched.sched.policy import PolicyContext, Task, make_policy
from mmsched.sched.static import static_tables
from mmsched.sched.workload import Request, Workload
from mmsched.sim.backends import LayerTiming
from mmsched.sim.engine import simulate

CLOCK = 1e6


def _tables(base: dict[str, list[float]], speed: dict[str, tuple[float, ...]], n: int = 2):
    out = []
    for a in range(n):
        lts = [LatencyTable(k, k.split("_")[0], "d",
                            np.asarray([v], dtype=float) * speed[k][a] / CLOCK,
                            np.zeros((1, len(v)))) for k, v in base.items()]
        out.append(static_tables(lts, time_unit="cycles", clock_hz=CLOCK))
    return tuple(out)


def _model(key, n):
    return Model(key=key, arch=key.split("_")[0], pattern="d",
                 layers=tuple(Layer(f"l{j}", "fc", 4, 8, 16) for j in range(n)))


class _Backend:
    name = "per-model-speed"

    def __init__(self, base, speed):
        self.base, self.speed = base, speed

    def layer(self, a, model, j, sample):
        return LayerTiming(int(self.base[model.key][j] * self.speed[model.key][a]), 1, 1, 1.0)


def _task(rid, key, n, arrival, deadline, stream=-1):
    return Task(Request(rid, key, 0, arrival, deadline, stream=stream), _model(key, n))


def test_edf_takes_the_earliest_deadline_on_each_accelerator():
    ctx = PolicyContext(tables=_tables({"a_d": [1]}, {"a_d": (1, 1)}), num_accelerators=2)
    pol = make_policy("edf", ctx)
    ready = [_task(0, "a_d", 1, 0, 900), _task(1, "a_d", 1, 5, 300), _task(2, "a_d", 1, 6, 300)]
    assert pol.select(10, 1, ready).id == 1          # tie on 300: the earlier arrival


def test_rr_rotates_over_streams():
    ctx = PolicyContext(tables=_tables({"a_d": [1]}, {"a_d": (1, 1)}), num_accelerators=2)
    pol = make_policy("rr", ctx)
    ready = [_task(i, "a_d", 1, i, 100, stream=s) for i, s in enumerate([0, 0, 1, 2, 1])]
    for t in ready:
        pol.on_arrival(t.arrival, t)
    picks = []
    for _ in range(4):
        t = pol.select(10, 0, ready)
        picks.append((t.id, t.request.stream))
    # stream 0 (its first frame), 1, 2, then 0 again: always the first ready frame of a stream
    assert picks == [(0, 0), (2, 1), (3, 2), (0, 0)]


def test_herald_assigns_layers_offline_with_load_balancing():
    base = {"a_d": [100, 100, 100, 100], "b_d": [400]}
    speed = {"a_d": (1.0, 1.0), "b_d": (1.0, 1.0)}
    tables = _tables(base, speed)
    got = assign_layers(tables)
    # the 400-cycle layer first (to accelerator 0), then the four 100-cycle layers to the
    # less loaded accelerator: all on 1 (1's load stays below 0's until 400)
    assert got == {"a_d": (1, 1, 1, 1), "b_d": (0,)}
    # a layer much faster on accelerator 1 goes there
    fast = assign_layers(_tables({"c_d": [100, 100]}, {"c_d": (5.0, 1.0)}))
    assert fast == {"c_d": (1, 1)}
    ctx = PolicyContext(tables=tables, num_accelerators=2)
    pol = make_policy("herald", ctx)
    t = _task(0, "b_d", 1, 0, 10_000)
    assert pol.select(0, 1, [t]) is None and pol.select(0, 0, [t]) is t
    models = {k: _model(k, len(v)) for k, v in base.items()}
    wl = Workload(models=models, clock_hz=CLOCK, requests=(
        Request(0, "a_d", 0, 0, 10**6), Request(1, "b_d", 0, 0, 10**6)))
    res = simulate(wl, make_policy("herald", ctx), _Backend(base, speed), num_accelerators=2,
                   keep_layers=True)
    assert {(lr.request, lr.accelerator) for lr in res.layers} == {(0, 1), (1, 0)}


def test_estimate_policies_use_the_offered_accelerators_tables():
    # "x" is 4x slower on accelerator 1, "y" runs alike: on accelerator 1 SJF prefers y
    # (its estimate there is smaller), on accelerator 0 x (100 < 200)
    base = {"x_d": [100], "y_d": [200]}
    speed = {"x_d": (1.0, 4.0), "y_d": (1.0, 1.0)}
    ctx = PolicyContext(tables=_tables(base, speed), num_accelerators=2)
    for name in ("sjf", "dysta_naive"):
        pol = make_policy(name, ctx)
        x, y = _task(0, "x_d", 1, 0, 10_000), _task(1, "y_d", 1, 0, 10_000)
        pol.on_arrival(0, x)
        pol.on_arrival(0, y)
        assert pol.select(0, 0, [x, y]) is x, name
        assert pol.select(0, 1, [x, y]) is y, name
    # identical tables: the single-accelerator path (no binding)
    same = PolicyContext(tables=_tables(base, {"x_d": (1, 1), "y_d": (1, 1)}),
                         num_accelerators=2)
    assert not make_policy("sjf", same)._multi and make_policy("sjf", ctx)._multi
