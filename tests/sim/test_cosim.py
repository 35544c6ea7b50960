"""Co-simulation: whole workloads with the Dysta scheduler RTL in the loop.

Every RTL response is checked against the twin inside `RTLScheduler` (values and cycles);
these tests also check that the co-simulated run gives exactly the pure-Python ``dysta_hw``
run's per-request finish times.
"""

from __future__ import annotations

import shutil

import pytest

from mmsched.hw.spec import SchedulerConfig
from mmsched.sched.policy import PolicyContext, make_policy
from mmsched.sched.static import static_tables
from mmsched.sched.streams import poisson_workload
from mmsched.sched.synthetic import synthetic_tables
from mmsched.sim.backends.table import TableBackend
from mmsched.sim.cosim import CosimMismatch, RTLScheduler, run_cosim
from mmsched.sim.engine import simulate


def _inputs(name: str, n: int, rate: float, seed: int = 1):
    tables, clk = synthetic_tables(name)
    st = static_tables(tables, time_unit="cycles", clock_hz=clk)
    wl = poisson_workload(tables, rate=rate, num_requests=n, slo=10.0, seed=seed, clock_hz=clk,
                        static=st)
    return wl, TableBackend(tables, time_unit="cycles", clock_hz=clk), \
        PolicyContext(tables=(st,), clock_hz=clk, time_unit="cycles")


def _check_same_finishes(wl, be, ctx, res, **over):
    ref = simulate(wl, make_policy("dysta_hw", ctx, **over), be)
    assert [r.finish for r in res.run.requests] == [r.finish for r in ref.requests]
    assert all(r.finish is not None for r in res.run.requests)


@pytest.mark.rtl
def test_amaranth_cosim_equals_pure_python(tmp_path):
    wl, be, ctx = _inputs("attnn", 20, 30.0)
    res = run_cosim(wl, be, ctx, simulator="amaranth", run_dir=tmp_path,
                    policy_overrides={"slots": 5, "predictor": "last-one"})
    assert res.decisions >= 200
    _check_same_finishes(wl, be, ctx, res, slots=5, predictor="last-one")


@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_icarus_cosim_200_requests(tmp_path):
    wl, be, ctx = _inputs("attnn", 200, 30.0)
    res = run_cosim(wl, be, ctx, simulator="icarus", run_dir=tmp_path,
                    policy_overrides={"slots": 8})
    assert len(res.run.requests) == 200 and res.decisions > 2000
    _check_same_finishes(wl, be, ctx, res, slots=8)


@pytest.mark.rtl
@pytest.mark.usefixtures("needs_verilator")
def test_verilator_cosim_200_requests():
    wl, be, ctx = _inputs("attnn", 200, 30.0, seed=3)
    # the library is cached by its config and sources (a changed RTL rebuilds)
    res = run_cosim(wl, be, ctx, simulator="verilator",
                    policy_overrides={"slots": 8, "predictor": "last-one"})
    assert res.decisions > 2000
    _check_same_finishes(wl, be, ctx, res, slots=8, predictor="last-one")


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_icarus_cosim_1000_requests(tmp_path):
    wl, be, ctx = _inputs("attnn", 1000, 38.0, seed=2)
    res = run_cosim(wl, be, ctx, simulator="icarus", run_dir=tmp_path,
                    policy_overrides={"slots": 16})
    _check_same_finishes(wl, be, ctx, res, slots=16)


class _Corrupting:
    """A session that flips the value of its n-th DECIDE response."""

    name = "corrupting"

    def __init__(self, inner, n):
        self.inner, self.n = inner, n

    def issue(self, word, gap=0):
        r = self.inner.issue(word, gap)
        if r.op == 6 and r.status == 0:
            self.n -= 1
            if self.n == 0:
                return type(r)(r.accept_cycle, r.resp_cycle, r.op, r.status, r.slot,
                               r.value ^ 1)
        return r

    def close(self):
        self.inner.close()


@pytest.mark.rtl
def test_mismatch_is_reported_with_command_and_cycle():
    wl, be, ctx = _inputs("attnn", 4, 30.0)
    from mmsched.sched.policies.dysta_hw import DystaHW
    from mmsched.sim.rtl.amaranth import AmaranthSession

    def factory(hw: SchedulerConfig):
        return RTLScheduler(hw, _Corrupting(AmaranthSession(hw), 3))

    policy = DystaHW(ctx, DystaHW.Config(slots=2), scheduler_factory=factory)
    try:
        with pytest.raises(CosimMismatch, match=r"command \d+ .*accepted in cycle \d+"):
            simulate(wl, policy, be)
    finally:
        policy.scheduler.session.close()
