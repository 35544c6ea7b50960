"""Property tests of the engine on random small workloads (hypothesis, derandomised).

For random latency tables, arrival times (with ties), accelerator counts, dependencies and
policies: every invariant of `check_invariants` holds, no accelerator idles while a task is
ready (fixed mode, no dependencies), and the fast single-accelerator loop and the generic heap
loop give identical records.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mmsched.sched.latency_table import LatencyTable, table_models
from mmsched.sched.policies.dysta import Dysta
from mmsched.sched.policy import PolicyContext, make_policy, policy_config
from mmsched.sched.static import static_tables
from mmsched.sched.workload import Request, Workload
from mmsched.sim.backends.table import TableBackend
from mmsched.sim.engine import check_invariants, idle_while_ready, simulate

NAMES = ["fcfs", "sjf", "sjf_sparse", "prema", "prema_sparse", "planaria", "sdrm3",
         "sdrm3_sparse", "dysta", "dysta_naive", "dysta_oracle"]
CLOCK = 1e3  # 1 cycle = 1 ms: small integers, many ties


@st.composite
def workloads(draw, deps=False):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_models = draw(st.integers(1, 3))
    tables = []
    for m in range(n_models):
        layers = int(rng.integers(1, 5))
        lat = rng.integers(0, 6, (3, layers)) * 1e-3  # 0..5 cycles, zero-time layers too
        tables.append(LatencyTable(key=f"m{m}_p", arch=f"m{m}", pattern="p", latency_s=lat,
                                   sparsity=rng.uniform(0, 1, (3, layers))))
    if all(t.latency_s.sum(axis=1).min() == 0 for t in tables):
        tables[0] = LatencyTable(key="m0_p", arch="m0", pattern="p",
                                 latency_s=tables[0].latency_s + 1e-3,
                                 sparsity=tables[0].sparsity)
    n = draw(st.integers(1, 14))
    arrivals = sorted(int(a) for a in rng.integers(0, 25, n))
    reqs = []
    for i, a in enumerate(arrivals):
        dep = ()
        if deps and i and rng.random() < 0.3:
            dep = (int(rng.integers(0, i)),)
        m = int(rng.integers(0, n_models))
        reqs.append(Request(id=i, model=f"m{m}_p", sample=int(rng.integers(0, 3)), arrival=a,
                            deadline=a + int(rng.integers(0, 40)),
                            priority=int(rng.choice([1, 3, 9])), depends_on=dep))
    try:
        st_ = static_tables(tables, time_unit="cycles", clock_hz=CLOCK)
    except ValueError:  # a key whose mean isolated latency is 0
        tables = [LatencyTable(key=t.key, arch=t.arch, pattern=t.pattern,
                               latency_s=t.latency_s + 1e-3, sparsity=t.sparsity)
                  for t in tables]
        st_ = static_tables(tables, time_unit="cycles", clock_hz=CLOCK)
    wl = Workload(models=table_models(tables), requests=tuple(reqs), clock_hz=CLOCK)
    return wl, TableBackend(tables, "cycles", CLOCK), st_


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=workloads(), name=st.sampled_from(NAMES), accs=st.integers(1, 3))
def test_invariants_and_work_conservation(case, name, accs):
    wl, be, tables = case
    ctx = PolicyContext(tables=(tables,) * accs, num_accelerators=accs, clock_hz=CLOCK)
    res = simulate(wl, make_policy(name, ctx), be, num_accelerators=accs, keep_layers=True)
    assert check_invariants(res, wl, accs) == []
    assert idle_while_ready(res, wl, accs) == []
    assert not any(r.dropped for r in res.requests)


class _GenericDysta(Dysta):
    """Dysta forced onto the generic heap loop (overrides should_drop, never drops)."""

    def should_drop(self, now, task):
        return False


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=workloads())
def test_fast_loop_equals_generic_loop(case):
    wl, be, tables = case
    ctx = PolicyContext(tables=(tables,), clock_hz=CLOCK)
    fast = simulate(wl, make_policy("dysta", ctx), be, keep_layers=True)
    generic = simulate(wl, _GenericDysta(ctx, policy_config("dysta")), be, keep_layers=True)
    assert fast.requests == generic.requests
    assert fast.layers == generic.layers


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=workloads(deps=True), name=st.sampled_from(NAMES), accs=st.integers(1, 2))
def test_dependencies_respected(case, name, accs):
    wl, be, tables = case
    ctx = PolicyContext(tables=(tables,) * accs, num_accelerators=accs, clock_hz=CLOCK)
    res = simulate(wl, make_policy(name, ctx), be, num_accelerators=accs, keep_layers=True)
    assert check_invariants(res, wl, accs) == []
    recs = {r.id: r for r in res.requests}
    first_start = {}
    for lr in res.layers:
        first_start.setdefault(lr.request, lr.start)
    for r in wl.requests:
        for d in r.depends_on:
            if r.id in first_start:
                assert first_start[r.id] >= recs[d].finish, (r.id, d)
