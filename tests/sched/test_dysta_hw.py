"""The dysta_hw policy: the hardware scheduler's twin driven through the policy API."""

from __future__ import annotations

import pytest

from mmsched.sched.metrics import summarize
from mmsched.sched.policy import make_policy
from mmsched.sched.shadow import Shadow
from mmsched.sched.synthetic import synthetic_tables
from mmsched.sim.engine import simulate


def _setup(table_run, name="cnn", rate=5.0, n=300, slo=10.0, seed=3):
    tables, clk = synthetic_tables(name)
    return table_run(tables, rate=rate, requests=n, slo=slo, seed=seed, clock_hz=clk)


@pytest.mark.parametrize("predictor", ["avg", "last-one"])
def test_decisions_agree_with_float_dysta(predictor, table_run):
    wl, be, ctx = _setup(table_run, rate=6.0)
    shadow = Shadow(make_policy("dysta_hw", ctx, predictor=predictor),
                    make_policy("dysta", ctx, predictor=predictor))
    res = simulate(wl, shadow, be)
    assert shadow.total > 1000
    assert shadow.same / shadow.total > 0.97, (shadow.same, shadow.total)
    fl = summarize(simulate(wl, make_policy("dysta", ctx, predictor=predictor), be).requests)
    hw = summarize(res.requests)
    assert abs(hw["antt"] - fl["antt"]) <= 0.01 * fl["antt"]
    assert abs(hw["violation_rate"] - fl["violation_rate"]) <= 0.01


def test_full_table_backpressure_finishes_every_request(table_run):
    wl, be, ctx = _setup(table_run, rate=20.0, n=120)
    p = make_policy("dysta_hw", ctx, slots=2)
    res = simulate(wl, p, be)
    assert p.refused_full > 0
    assert all(r.finish is not None and not r.dropped for r in res.requests)
    assert len(res.requests) == 120


def test_deterministic_and_slots_one(table_run):
    wl, be, ctx = _setup(table_run, name="attnn", rate=30.0, n=150)
    a = simulate(wl, make_policy("dysta_hw", ctx), be)
    b = simulate(wl, make_policy("dysta_hw", ctx), be)
    assert [r.finish for r in a.requests] == [r.finish for r in b.requests]
    one = simulate(wl, make_policy("dysta_hw", ctx, slots=1), be)
    fcfs = simulate(wl, make_policy("fcfs", ctx), be)
    # one slot: the table holds one request at a time, admitted in arrival order = FCFS
    assert [r.finish for r in one.requests] == [r.finish for r in fcfs.requests]


def test_bad_config(table_run):
    _, _, ctx = _setup(table_run, n=5)
    with pytest.raises(ValueError, match="fairness"):
        make_policy("dysta_hw", ctx, fairness="minutes")
    with pytest.raises(ValueError, match="slots"):
        make_policy("dysta_hw", ctx, slots=0)
    with pytest.raises(ValueError, match="predictor"):
        make_policy("dysta_hw", ctx, predictor="median")


def test_seconds_fairness_weighs_waiting(table_run):
    # with the paper's seconds-based fairness term (the default), the schedule differs from
    # the one-cycle-per-unit term (clock_hz times smaller: only near-ties), yet stays complete
    wl, be, ctx = _setup(table_run, rate=6.0, n=200)
    sec = simulate(wl, make_policy("dysta_hw", ctx), be)
    cyc = simulate(wl, make_policy("dysta_hw", ctx, fairness="time-unit"), be)
    assert all(r.finish is not None for r in sec.requests)
    assert [r.finish for r in sec.requests] != [r.finish for r in cyc.requests]
