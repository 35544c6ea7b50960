"""Every published policy on hand-worked 3-task queues, in fixed and Dysta-artifact compat mode.

The static tables, task states and expected picks below were computed by hand; the
arithmetic is written next to each case. Times are unit-free numbers, used as integer cycles
in fixed mode and as float seconds in compat mode.

Static tables (all pattern densities 0.5):

=========  =====================  ==========================
key/arch   per-layer averages     remaining[j] (j = 0, 1, 2)
=========  =====================  ==========================
a_p        10, 20, 30             60, 50, 30
b_p         5,  5, 40             50, 45, 40
c_p        30, 10, 10             50, 20, 10
a (arch)   30, 10, 20             60, 30, 20
b (arch)   10, 10, 10             30, 20, 10
c (arch)   40, 40, 40             120, 80, 40
=========  =====================  ==========================

True layer times (oracle, sample 0): a 12, 18, 26; b 6, 6, 50; c 28, 9, 11.

Scenario M, decision at t = 50, every task has run layer 0 (next layer j = 1):

====  ===  =======  ========  ====  ======================  ========  ===========
task  key  arrival  deadline  prio  density of layer 0      last run  w = 50 - last
====  ===  =======  ========  ====  ======================  ========  ===========
T0    a_p  0        200       1     0.25 -> gamma 0.25/0.5 = 0.5   35        15
T1    b_p  5        100       3     0.5  -> gamma 1                45         5
T2    c_p  8        90        9     1.0  -> gamma 2                30        20
====  ===  =======  ========  ====  ======================  ========  ===========

Slack D - t: 150, 50, 40. N = 3.
"""

from __future__ import annotations

import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.model import Layer, Model
from mmsched.sched.policy import PolicyContext, Task, make_policy
from mmsched.sched.static import ModelProfile, StaticTables
from mmsched.sched.workload import Request
from mmsched.sim.backends import LayerTiming

PATTERN = {"a_p": (10, 20, 30), "b_p": (5, 5, 40), "c_p": (30, 10, 10)}
ARCH = {"a": (30, 10, 20), "b": (10, 10, 10), "c": (40, 40, 40)}
TRUE = {"a_p": (12, 18, 26), "b_p": (6, 6, 50), "c_p": (28, 9, 11)}
DENSITY = {0.25: (1, 4), 0.5: (1, 2), 1.0: (1, 1)}  # density -> (nnz, total)

FIXED = CompatFlags()
COMPAT = CompatFlags.dysta_artifact()
MODES = {"fixed": FIXED, "compat": COMPAT}


def _tables() -> StaticTables:
    def prof(key, lat):
        return ModelProfile(key=key, layer_latency=tuple(float(x) for x in lat),
                            layer_density=(0.5,) * len(lat),
                            isolated_latency=float(sum(lat)), samples=1)

    return StaticTables(pattern={k: prof(k, v) for k, v in PATTERN.items()},
                        arch={k: prof(k, v) for k, v in ARCH.items()},
                        arch_of={k: k[0] for k in PATTERN})


class _Oracle:
    name = "oracle"

    def layer(self, accelerator, model, layer_index, sample):
        return LayerTiming(TRUE[model.key][layer_index], 1, 1)


_MODELS = {k: Model(key=k, arch=k[0], pattern="p",
                    layers=tuple(Layer(f"l{j}", "table", 0, 0, 0) for j in range(3)))
           for k in PATTERN}


def _t(x, mode):
    return float(x) if mode == "compat" else int(x)


def _policy(name, mode, **overrides):
    ctx = PolicyContext(tables=(_tables(),), time_unit="seconds" if mode == "compat" else
                        "cycles", compat=MODES[mode], oracle=_Oracle())
    return make_policy(name, ctx, **overrides)


def _task(tid, key, arrival, deadline, prio, mode):
    return Task(Request(id=tid, model=key, sample=0, arrival=_t(arrival, mode),
                        deadline=_t(deadline, mode), priority=prio), _MODELS[key])


def _run_layer(policy, task, end, density, mode):
    """What the engine does when a layer of ``task`` ends at ``end``."""
    task.next_layer += 1
    task.last_run = _t(end, mode)
    nnz, total = DENSITY[density]
    policy.on_layer_done(_t(end, mode), task, 0, nnz, total)


def _scenario_m(name, mode, now=50, **overrides):
    p = _policy(name, mode, **overrides)
    t0 = _task(0, "a_p", 0, 200, 1, mode)
    t1 = _task(1, "b_p", 5, 100, 3, mode)
    t2 = _task(2, "c_p", 8, 90, 9, mode)
    for t in (t0, t1, t2):
        p.on_arrival(t.arrival, t)
    _run_layer(p, t2, 30, 1.0, mode)
    _run_layer(p, t0, 35, 0.25, mode)
    _run_layer(p, t1, 45, 0.5, mode)
    ready = [t0, t1, t2]
    return p.select(_t(now, mode), 0, ready), ready


BOTH = ["fixed", "compat"]


@pytest.mark.parametrize("mode", BOTH)
def test_fcfs(mode):
    # min arrival: T0 (0) < T1 (5) < T2 (8).
    pick, ready = _scenario_m("fcfs", mode)
    assert pick is ready[0]


@pytest.mark.parametrize("mode", BOTH)
def test_sjf(mode):
    # Architecture remaining at j = 1: a 30, b 20, c 80 -> T1.
    pick, ready = _scenario_m("sjf", mode)
    assert pick is ready[1]


@pytest.mark.parametrize("mode", BOTH)
def test_sjf_sparse(mode):
    # gamma x pattern remaining: 0.5 x 50 = 25, 1 x 45 = 45, 2 x 20 = 40 -> T0.
    pick, ready = _scenario_m("sjf_sparse", mode)
    assert pick is ready[0]


@pytest.mark.parametrize("mode", BOTH)
def test_sjf_tie_goes_to_earliest_arrival(mode):
    # At t = 50 before any layer ran: arch remaining j = 0: a 60, b 30, c 120; a second
    # b task arriving later (id 3, arrival 9) ties T1 at 30 -> T1 (earlier arrival) wins.
    p = _policy("sjf", mode)
    tasks = [_task(0, "a_p", 0, 200, 1, mode), _task(1, "b_p", 5, 100, 3, mode),
             _task(3, "b_p", 9, 100, 3, mode)]
    for t in tasks:
        p.on_arrival(t.arrival, t)
    assert p.select(_t(50, mode), 0, tasks) is tasks[1]


@pytest.mark.parametrize("mode", BOTH)
def test_dysta(mode):
    # R = gamma x pattern remaining = 25, 45, 40; Iso_est (pattern) = 60, 50, 50.
    # T0: 25 + 0.01 x (max(0, 200-50-25)=125 + (15/60)/3=0.0833) = 26.2508
    # T1: 45 + 0.01 x (max(0, 100-50-45)=5 + (5/50)/3=0.0333)   = 45.0503
    # T2: 40 + 0.01 x (max(0, 90-50-40)=0 + (20/50)/3=0.1333)   = 40.0013  -> T0
    pick, ready = _scenario_m("dysta", mode)
    assert pick is ready[0]


@pytest.mark.parametrize("mode", BOTH)
def test_dysta_beta_one(mode):
    # beta = 1: T0 25 + 125.0833 = 150.08; T1 45 + 5.0333 = 50.03; T2 40 + 0.1333 -> T2.
    pick, ready = _scenario_m("dysta", mode, beta=1.0)
    assert pick is ready[2]


@pytest.mark.parametrize("mode", BOTH)
def test_dysta_last_one_predictor(mode):
    # Only one layer ran per task, so "last-one" equals "avg" here: same pick as test_dysta.
    pick, ready = _scenario_m("dysta", mode, predictor="last-one")
    assert pick is ready[0]


@pytest.mark.parametrize("mode", BOTH)
def test_dysta_naive(mode):
    # gamma = 1, architecture tables: R = 30, 20, 80; Iso_est = 60, 30, 120.
    # T0: 30 + 0.01 x (200-50-30=120 + (15/60)/3=0.0833) = 31.2008
    # T1: 20 + 0.01 x (100-50-20=30 + (5/30)/3=0.0556)   = 20.3006
    # T2: 80 + 0.01 x (0 + (20/120)/3=0.0556)            = 80.0006  -> T1
    pick, ready = _scenario_m("dysta_naive", mode)
    assert pick is ready[1]


@pytest.mark.parametrize("mode", BOTH)
def test_dysta_oracle(mode):
    # True remaining at j = 1: a 18+26 = 44, b 6+50 = 56, c 9+11 = 20; Iso_true 56, 62, 48.
    # T0: 44 + 0.01 x (200-50-44=106 + (15/56)/3=0.0893) = 45.0609
    # T1: 56 + 0.01 x (max(0, -6)=0 + (5/62)/3=0.0269)   = 56.0003
    # T2: 20 + 0.01 x (90-50-20=20 + (20/48)/3=0.1389)   = 20.2014  -> T2
    pick, ready = _scenario_m("dysta_oracle", mode)
    assert pick is ready[2]


@pytest.mark.parametrize("mode", BOTH)
def test_planaria_before_deadlines(mode):
    # prio / (D - t): 1/150 = 0.0067, 3/50 = 0.06, 9/40 = 0.225 -> T2 in both modes.
    pick, ready = _scenario_m("planaria", mode)
    assert pick is ready[2]


@pytest.mark.parametrize(("mode", "expected"), [("fixed", 2), ("compat", 1)])
def test_planaria_past_a_deadline(mode, expected):
    # t = 95: slack 105, 5, -5 -> scores 1/105 = 0.0095, 3/5 = 0.6, 9/-5 = -1.8.
    # fixed: T2 is late, a late task outranks every task on time -> T2.
    # compat (running max from -1): T0 sets 0.0095, T1 0.6 >= it, T2 -1.8 is neither
    # below 0 as a running max nor >= 0.6 -> T1.
    pick, ready = _scenario_m("planaria", mode, now=95)
    assert pick is ready[expected]


@pytest.mark.parametrize("mode", BOTH)
def test_planaria_all_late(mode):
    # t = 210: slack -10, -110, -120 -> scores -0.1, -0.0273, -0.075.
    # fixed: all late -> highest priority T2. compat: the running max stays negative, so
    # every task replaces it and the last in arrival order, T2, wins.
    pick, ready = _scenario_m("planaria", mode, now=210)
    assert pick is ready[2]


@pytest.mark.parametrize(("mode", "expected"), [("fixed", 2), ("compat", 0)])
def test_sdrm3(mode, expected):
    # Architecture tables: E = 30, 20, 80; next layer a[1] = 10, b[1] = 10, c[1] = 40;
    # Iso_est 60, 30, 120; w = 15, 5, 20; slack 150, 50, 40.
    # urgency: 30/150 = 0.2, 20/50 = 0.4, min(1, 80/40) = 1.
    # compat (fairness w / next layer): 0.2 + 1.5 = 1.7, 0.4 + 0.5 = 0.9, 1 + 0.5 = 1.5 -> T0
    # fixed (fairness w / Iso_est): 0.2 + 0.25 = 0.45, 0.4 + 0.167 = 0.567,
    #                                1 + 0.167 = 1.167 -> T2
    pick, ready = _scenario_m("sdrm3", mode)
    assert pick is ready[expected]


@pytest.mark.parametrize("mode", BOTH)
def test_sdrm3_sparse(mode):
    # gamma x pattern: E = 25, 45, 40; next layer 0.5x20 = 10, 1x5 = 5, 2x10 = 20;
    # gamma x Iso_est = 30, 50, 100; urgency 25/150 = 0.167, 45/50 = 0.9, 40/40 = 1.
    # compat: 0.167 + 15/10 = 1.667, 0.9 + 5/5 = 1.9, 1 + 20/20 = 2 -> T2
    # fixed:  0.167 + 15/30 = 0.667, 0.9 + 5/50 = 1.0, 1 + 20/100 = 1.2 -> T2
    pick, ready = _scenario_m("sdrm3_sparse", mode)
    assert pick is ready[2]


@pytest.mark.parametrize("mode", BOTH)
def test_sdrm3_past_deadline(mode):
    # t = 95: slack 105, 5, -5; w = 60, 50, 65.
    # fixed: urgency 30/105 = 0.286, min(1, 20/5) = 1, late -> 1; fairness /Iso:
    #   0.286 + 1.0 = 1.286, 1 + 1.667 = 2.667, 1 + 0.542 = 1.542 -> T1
    # compat: urgency 0.286, 1, 80/-5 = -16; fairness /next layer:
    #   0.286 + 6 = 6.286, 1 + 5 = 6, -16 + 1.625 = -14.4 -> T0 (T1 is below the max)
    pick, ready = _scenario_m("sdrm3", mode, now=95)
    assert pick is ready[1 if mode == "fixed" else 0]


@pytest.mark.parametrize("mode", BOTH)
def test_prema_first_decision(mode):
    # All tasks seen for the first time: token = prio (1, 3, 9); the threshold uses only
    # tasks seen before (none: max token 0) -> threshold 1, all qualify; min architecture
    # remaining 30, 20, 80 -> T1.
    pick, ready = _scenario_m("prema", mode)
    assert pick is ready[1]


@pytest.mark.parametrize(("mode", "expected"), [("fixed", 0), ("compat", 2)])
def test_prema_sparse_shared_gamma(mode, expected):
    # First decision, threshold 1, every task qualifies; E = gamma x pattern remaining.
    # fixed (own gamma): 0.5 x 50 = 25, 1 x 45 = 45, 2 x 20 = 40 -> T0
    # compat (gamma of the token loop's last task, T2: 2): 100, 90, 40 -> T2
    pick, ready = _scenario_m("prema_sparse", mode)
    assert pick is ready[expected]


@pytest.mark.parametrize(("mode", "expected"), [("fixed", 2), ("compat", 0)])
def test_prema_tokens_accrue(mode, expected):
    # T0 a_p prio 3 arrives 0; T1 b_p prio 1 arrives 5; T2 b_p prio 3 arrives 60.
    # Decision 1 (t = 50, [T0, T1]): first seen, tokens 3 and 1, threshold 1; architecture
    # remaining a 60, b 30 -> T1, which runs layer 0 from 50 to 130.
    # Decision 2 (t = 130, [T0, T1, T2]); Iso_est a 60, b 30; T2 is new (token 3).
    #   fixed: T0 3 + 3 x (130-50)/60 = 7; T1 1 + 1 x 0/30 = 1; max 7 -> threshold 3 ->
    #          {T0 (E 60), T2 (E 30)} -> T2
    #   compat (whole idle time re-added): T0 3 + 3 x 130/60 = 9.5 -> threshold 9 -> {T0}
    p = _policy("prema", mode)
    t0 = _task(0, "a_p", 0, 1000, 3, mode)
    t1 = _task(1, "b_p", 5, 1000, 1, mode)
    t2 = _task(2, "b_p", 60, 1000, 3, mode)
    p.on_arrival(t0.arrival, t0)
    p.on_arrival(t1.arrival, t1)
    assert p.select(_t(50, mode), 0, [t0, t1]) is t1
    p.on_arrival(t2.arrival, t2)
    _run_layer(p, t1, 130, 0.5, mode)
    assert p.select(_t(130, mode), 0, [t0, t1, t2]) is [t0, t1, t2][expected]


def test_prema_tokens_values():
    # The token arithmetic itself (fixed mode, the scenario of test_prema_tokens_accrue).
    p = _policy("prema", "fixed")
    t0 = _task(0, "a_p", 0, 1000, 3, "fixed")
    t1 = _task(1, "b_p", 5, 1000, 1, "fixed")
    for t in (t0, t1):
        p.on_arrival(t.arrival, t)
    p.select(50, 0, [t0, t1])
    _run_layer(p, t1, 130, 0.5, "fixed")
    p.select(130, 0, [t0, t1])
    assert p._states[0].token == pytest.approx(7.0)
    assert p._states[1].token == pytest.approx(1.0)


def test_unknown_config_field_lists_known():
    with pytest.raises(ValueError, match="known"):
        _policy("dysta", "fixed", gamma=3)


def test_bad_predictor_rejected():
    with pytest.raises(ValueError, match="predictor"):
        _policy("dysta", "fixed", predictor="psychic")


def test_gamma_predictors():
    from mmsched.sched.gamma import Gamma

    # Densities 0.25 then 1.0 against averages 0.5: ratios 0.5 and 2.
    avg, last = Gamma("avg"), Gamma("last-one")
    assert avg.value == last.value == 1.0
    for g in (avg, last):
        g.update(0.25, 0.5)
        g.update(1.0, 0.5)
    assert avg.value == (0.5 + 2.0) / 2 and last.value == 2.0
    with pytest.raises(ValueError, match="predictor"):
        Gamma("median")


@pytest.mark.parametrize(("predictor", "expected"), [("avg", 0), ("last-one", 1)])
def test_sjf_sparse_predictors_differ(predictor, expected):
    # T0 (a_p) ran layers 0 and 1 at densities 0.25 and 1.0 (ratios 0.5 and 2); T1 (b_p) ran
    # layer 0 at 0.5 (gamma 1). Pattern remaining: a_p j=2: 30, b_p j=1: 45.
    # avg: T0 gamma (0.5 + 2)/2 = 1.25 -> 37.5 < 45 -> T0.
    # last-one: T0 gamma 2 -> 60 > 45 -> T1.
    p = _policy("sjf_sparse", "fixed", predictor=predictor)
    t0 = _task(0, "a_p", 0, 200, 1, "fixed")
    t1 = _task(1, "b_p", 5, 100, 3, "fixed")
    for t in (t0, t1):
        p.on_arrival(t.arrival, t)
    _run_layer(p, t0, 10, 0.25, "fixed")
    _run_layer(p, t0, 20, 1.0, "fixed")
    _run_layer(p, t1, 30, 0.5, "fixed")
    assert p.select(30, 0, [t0, t1]) is [t0, t1][expected]


# --- config values: parsed against the declared type and range (issue 13, item 2) ----------


@pytest.mark.parametrize(("name", "field_name", "text", "value"), [
    ("sjf", "sparse", "no", False), ("sjf", "sparse", "off", False), ("sjf", "sparse", "1", True),
    ("dysta", "beta", "0.1", 0.1), ("dysta", "beta", "0", 0.0), ("dream", "window", "5", 5),
    ("dream", "window", "5.0", 5), ("dysta", "predictor", "last-one", "last-one"),
])
def test_config_text_parsed_as_declared_type(name, field_name, text, value):
    from mmsched.sched.policy import policy_config

    got = getattr(policy_config(name, **{field_name: text}), field_name)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("name", "field_name", "value"), [
    ("sdrm3", "alpha", "nan"), ("sdrm3", "alpha", "-5"), ("dysta", "beta", "inf"),
    ("dysta", "beta", "abc"), ("dysta", "beta", ""), ("planaria", "resources", "abc"),
    ("planaria", "resources", "0"), ("sjf", "sparse", "maybe"), ("sjf", "sparse", 2),
    ("dream", "window", "2.5"), ("dream", "window", "1"), ("dream", "tolerance", "1"),
    ("herald", "level", "foo"), ("dysta_hw", "slots", "0"), ("dysta", "beta", True),
    ("dysta", "beta", float("nan")), ("sdrm3", "alpha", -1.0),
])
def test_config_bad_value_named(name, field_name, value):
    from mmsched.sched.policy import ConfigValueError, policy_config

    with pytest.raises(ConfigValueError, match=f"^{field_name}: expected") as e:
        policy_config(name, **{field_name: value})
    assert e.value.field_name == field_name


def test_config_checked_when_built_directly():
    from mmsched.sched.policy import ConfigValueError, policy_class

    with pytest.raises(ConfigValueError, match="alpha"):
        policy_class("sdrm3").Config(alpha=float("nan"))


def test_every_config_field_declares_a_checkable_type():
    from dataclasses import fields

    from mmsched.sched.policy import describe_field, policy_class, policy_names

    for name in policy_names():
        cfg = policy_class(name).Config
        cfg()  # the defaults pass their own ranges
        for f in fields(cfg):
            assert describe_field(f)
