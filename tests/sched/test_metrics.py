"""Metrics on hand-made records."""

from __future__ import annotations

import math

import pytest

from mmsched.sched.metrics import aggregate, per_model, summarize
from mmsched.sim.engine import RequestRecord


def _rec(i, model, arrival, finish, deadline, iso, order, dropped=False, spu=1e-3):
    return RequestRecord(id=i, model=model, arch=model, priority=1, sample=0, arrival=arrival,
                         deadline=deadline, start=arrival, finish=finish, isolated=iso,
                         dropped=dropped, energy_pj=0.0, finish_order=order,
                         seconds_per_unit=spu)


RECS = [
    # id model arrival finish deadline isolated order   NTT
    _rec(0, "a", 0, 10, 20, 10, 0),                     # 1.0, on time
    _rec(1, "b", 5, 40, 30, 5, 2),                      # 7.0, late
    _rec(2, "a", 10, 30, 100, 10, 1),                   # 2.0, on time
    _rec(3, "b", 20, 25, 100, 5, 3, dropped=True),      # dropped: violation, no NTT
]


def test_summarize_hand_computed():
    m = summarize(RECS)
    assert m["requests"] == 4 and m["dropped"] == 1
    assert m["violation_rate"] == 2 / 4                 # late request 1 + dropped 3
    assert m["antt"] == pytest.approx((1 + 7 + 2) / 3)
    assert m["ntt_p50"] == pytest.approx(2.0)
    # Latencies (ms -> s): 10, 35, 20 -> mean 21.667 ms, median 20 ms.
    assert m["latency_mean"] == pytest.approx(65 / 3 * 1e-3)
    assert m["latency_p50"] == pytest.approx(20e-3)
    # STP: 4 requests / (last finish 40 - first arrival 0) ms = 100 per second.
    assert m["stp"] == pytest.approx(100.0)


def test_per_model():
    pm = per_model(RECS)
    assert list(pm) == ["a", "b"]
    assert pm["a"]["violation_rate"] == 0.0 and pm["b"]["violation_rate"] == 1.0


def test_summarize_rejects_empty_and_mixed_scales():
    with pytest.raises(ValueError):
        summarize([])
    with pytest.raises(ValueError, match="time scales"):
        summarize([RECS[0], _rec(9, "a", 0, 1, 2, 1, 4, spu=1.0)])


def test_aggregate():
    rows = [{"antt": 2.0, "stp": 1.0, "violation_rate": 0.0},
            {"antt": 8.0, "stp": 4.0, "violation_rate": 0.5}]
    ar = aggregate(rows, "arith")
    assert ar == {"antt": 5.0, "stp": 2.5, "violation_rate": 0.25}
    geo = aggregate(rows, "geo")
    assert geo["antt"] == pytest.approx(4.0) and geo["stp"] == pytest.approx(2.0)
    assert geo["violation_rate"] == 0.0
    assert math.isnan(aggregate([{"x": float("nan")}, {"x": 1.0}], "geo")["x"])
    with pytest.raises(ValueError, match="how"):
        aggregate(rows, "median")
    with pytest.raises(ValueError, match=">= 0"):
        aggregate([{"x": -1.0}], "geo")
