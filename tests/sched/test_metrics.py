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


# --- real-time metrics -----------------------------------------------------------------------


def _frame(i, model, arrival, finish, deadline, energy_pj, dropped=False, transfer_pj=0.0):
    return RequestRecord(id=i, model=model, arch=model, priority=1, sample=0, arrival=arrival,
                         deadline=deadline, start=arrival, finish=finish, isolated=1,
                         dropped=dropped, energy_pj=energy_pj, finish_order=i,
                         seconds_per_unit=1e-3, transfer_pj=transfer_pj)


FRAMES = [
    # id model arrival finish deadline energy (pJ)        (times in ms)
    _frame(0, "es", 0, 10, 16, 300e9),                    # on time, 300 mJ
    _frame(1, "es", 16, 33, 33, 600e9, transfer_pj=50e9),  # finishes at its deadline: on time
    _frame(2, "es", 33, 52, 50, 450e9),                   # 2 ms late
    _frame(3, "ht", 0, 5, 22, 0.0, dropped=True),          # dropped (partial energy 0)
    _frame(4, "ht", 22, 40, 44, 1500e9),                  # on time, at the energy maximum
]
REF = [200e9, 200e9, 300e9, 100e9, 1000e9]  # E_ref shares (pJ), the dropped frame included


def test_uxcost_hand_computed_with_dropped_frames():
    from mmsched.sched.metrics import uxcost

    e = 300e9 + 600e9 + 450e9 + 1500e9  # 2850 mJ, the transfer inside frame 1's energy
    delivered = 200e9 + 200e9 + 300e9 + 1000e9  # E_ref: the dropped frame's 100 mJ left out
    out = uxcost(e, delivered, frames=5, missed=1, dropped=1)
    assert out["energy_ratio"] == pytest.approx(2850 / 1700)
    assert out["miss_rate"] == 0.2 and out["drop_rate"] == 0.2
    assert out["deadline_factor"] == pytest.approx(1.4)
    assert out["uxcost"] == pytest.approx(2850 / 1700 * 1.4)
    assert math.isnan(uxcost(0.0, 0.0, 1, 0, 0)["energy_ratio"])  # no energy figures
    # every frame dropped after some work: nothing delivered, the worst UXCost
    assert uxcost(5.0, 0.0, frames=2, missed=0, dropped=2)["uxcost"] == math.inf
    with pytest.raises(ValueError, match="inconsistent counts"):
        uxcost(1.0, 1.0, frames=2, missed=2, dropped=1)
    with pytest.raises(ValueError, match="at least one frame"):
        uxcost(1.0, 1.0, frames=0, missed=0, dropped=0)


def test_xrbench_score_hand_computed_with_dropped_frames():
    from mmsched.sched.metrics import xrbench_score

    model = ["es", "es", "es", "ht", "ht"]
    deadline = [0.016, 0.033, 0.050, 0.022, 0.044]
    finish = [0.010, 0.033, 0.052, math.nan, 0.040]
    dropped = [False, False, False, True, False]
    energy = [0.3, 0.6, 0.45, 123.0, 1.5]  # J; the dropped frame's is ignored
    s = xrbench_score(model, deadline, finish, dropped, energy)

    def rt(delay_ms):
        return 1 / (1 + math.exp(15 * delay_ms))

    rt_es = [rt(-6), rt(0), rt(2)]  # 0.5 exactly at the deadline
    en_es = [(1500 - 300) / 1500, (1500 - 600) / 1500, (1500 - 450) / 1500]
    es = sum(a * b for a, b in zip(rt_es, en_es, strict=True)) / 3 * 1.0
    ht = (rt(-4) * 0.0) / 2 * 0.5  # its kept frame used the whole energy budget
    assert s.score["es"] == pytest.approx(es)
    assert s.score["ht"] == pytest.approx(ht) and s.score["ht"] == 0.0
    assert s.rt["es"] == pytest.approx(sum(rt_es) / 3)
    assert s.en["ht"] == 0.0 and s.rt["ht"] == pytest.approx(rt(-4))
    assert s.qoe == {"es": 1.0, "ht": 0.5}
    assert s.frames == {"es": 3, "ht": 2}
    assert s.overall == pytest.approx(100 * (es + ht) / 2)
    # every frame of a model dropped: that model scores 0
    all_dropped = xrbench_score(["a", "b"], [1, 1], [0.5, math.nan], [False, True], [0, 0])
    assert all_dropped.score["b"] == 0 and all_dropped.rt["b"] == 0
    assert all_dropped.overall == pytest.approx(100 * (1 / (1 + math.exp(-7500))) / 2)


def test_xrbench_score_guards_overflow_and_bad_input():
    import warnings

    from mmsched.sched.metrics import xrbench_score

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from exp
        s = xrbench_score(["a", "a"], [0.0, 0.0], [1e6, -1e6], [False, False], [0.0, 0.0])
    assert s.rt["a"] == pytest.approx(0.5)  # one frame scores 0, the other 1
    with pytest.raises(ValueError, match="one entry per frame"):
        xrbench_score(["a"], [0.0, 1.0], [0.0], [False], [0.0])
    with pytest.raises(ValueError, match="no finite finish"):
        xrbench_score(["a"], [0.0], [math.nan], [False], [0.0])
    with pytest.raises(ValueError, match="positive"):
        xrbench_score(["a"], [0.0], [0.0], [False], [0.0], k_per_ms=0)


def test_realtime_summary_and_per_model():
    from mmsched.sched.metrics import (
        REALTIME_COUNT_KEYS,
        REALTIME_KEYS,
        realtime_per_model,
        realtime_summary,
    )

    names = [r.model for r in FRAMES]
    m = realtime_summary(FRAMES, names, REF)
    assert list(m) == list(REALTIME_KEYS + REALTIME_COUNT_KEYS)
    assert (m["frames"], m["missed"], m["dropped"]) == (5, 1, 1)
    assert m["energy_mj"] == pytest.approx(2850.0)
    assert m["energy_ref_mj"] == pytest.approx(1700.0)  # the delivered frames'
    assert m["energy_ref_all_mj"] == pytest.approx(1800.0)
    assert m["transfer_mj"] == pytest.approx(50.0)
    assert m["energy_per_frame_mj"] == pytest.approx(570.0)
    assert m["uxcost"] == pytest.approx(2850 / 1700 * 1.4)
    assert m["uxcost_allref"] == pytest.approx(2850 / 1800 * 1.4)
    assert m["latency_mean"] == pytest.approx((10 + 17 + 19 + 18) / 4 * 1e-3)
    per = realtime_per_model(FRAMES, names)
    assert per["es"]["miss_rate"] == pytest.approx(1 / 3) and per["es"]["drop_rate"] == 0
    assert per["ht"]["drop_rate"] == 0.5 and per["ht"]["miss_rate"] == 0
    assert per["ht"]["energy_per_frame_mj"] == pytest.approx(750.0)
    assert (per["es"]["xrbench_score"] + per["ht"]["xrbench_score"]) / 2 == pytest.approx(
        m["xrbench_score"])


def test_geomean_and_estimated_reference_energy():
    from mmsched.sched.metrics import estimated_reference_energy_pj, geomean
    from mmsched.sched.static import ModelProfile, StaticTables

    assert geomean([1.0, 4.0]) == pytest.approx(2.0)
    assert geomean([0.0, 3.0]) == 0.0 and math.isnan(geomean([]))

    def tables(energy):
        p = ModelProfile(key="m_dense", layer_latency=(1.0, 1.0), layer_density=(1.0, 1.0),
                         isolated_latency=2.0, samples=1, layer_energy=energy)
        return StaticTables(pattern={"m_dense": p}, arch={"m": p}, arch_of={"m_dense": "m"})

    assert estimated_reference_energy_pj([tables((5.0, 1.0)), tables((2.0, 3.0))],
                                         "m_dense") == 3.0
    with pytest.raises(ValueError, match="no layer energies"):
        estimated_reference_energy_pj([tables(())], "m_dense")
