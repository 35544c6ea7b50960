"""The contract every registered policy meets, including ones registered later (dysta_hw).

For each name in `policy_names()`: build it with its default config on a small Dysta-style
workload, run it in fixed mode (one accelerator) and in compat mode, and check the engine
invariants, that every request completes, determinism (same inputs, same records), and that
``select`` only ever returns a task from ``ready`` (the engine raises otherwise). Policies
that drop frames or choose sub-networks (real-time policies) run compat mode without the
artifact's clock switches (the engine's single-accelerator loop alone has them).

Multi-accelerator contract: every policy also runs on two accelerators of different speed
(accelerator 1 is 2.5x slower, its own static tables) with cascaded requests (every third
request depends on the one before it), fixed mode: invariants on both accelerators, every
request closed (finished, or dropped by a policy that drops frames), dependencies respected
and determinism.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.metrics import summarize
from mmsched.sched.policy import Policy, PolicyContext, make_policy, policy_class, policy_names
from mmsched.sched.static import static_tables
from mmsched.sched.workload import Workload
from mmsched.sim.backends import LayerTiming
from mmsched.sim.engine import check_invariants, simulate

CLOCK = 200e6
COMPAT = CompatFlags.dysta_artifact()


def _tables():
    rng = np.random.default_rng(11)
    out = []
    for arch, layers in (("alpha", 4), ("beta", 3)):
        for pat in ("u20", "b20"):
            lat = rng.uniform(1e-3, 4e-3, (8, layers))
            sp = rng.uniform(0.2, 0.8, (8, layers))
            out.append(LatencyTable(key=f"{arch}_{pat}", arch=arch, pattern=pat,
                                    latency_s=lat, sparsity=sp))
    return out


TABLES = _tables()


def _realtime(name) -> bool:
    cls = policy_class(name)
    return cls.should_drop is not Policy.should_drop or cls.variant is not Policy.variant


def _run(table_run, name, compat):
    if compat.any and _realtime(name):
        compat = replace(compat, clock_rewind=False, strict_arrivals=False)
    wl, be, ctx = table_run(TABLES, rate=80, requests=40, slo=3, seed=3, compat=compat,
                            clock_hz=CLOCK)
    res = simulate(wl, make_policy(name, ctx), be, compat=compat, keep_layers=True)
    return wl, res


def test_registry_has_every_published_policy():
    assert {"fcfs", "sjf", "sjf_sparse", "prema", "prema_sparse", "planaria", "sdrm3",
            "sdrm3_sparse", "dysta", "dysta_naive", "dysta_oracle"} <= set(policy_names())


@pytest.mark.parametrize("name", policy_names())
@pytest.mark.parametrize("mode", ["fixed", "compat"])
def test_policy_contract(name, mode, table_run):
    compat = COMPAT if mode == "compat" else CompatFlags()
    wl, res = _run(table_run, name, compat)
    assert len(res.requests) == len(wl.requests)
    assert all(r.finish is not None for r in res.requests)
    if not _realtime(name):
        assert not any(r.dropped for r in res.requests)
    bad = check_invariants(res, wl)
    assert not bad, bad[:5]
    m = summarize(res.requests)
    assert 0.0 <= m["violation_rate"] <= 1.0 and m["antt"] >= 1.0 - 1e-12
    _, again = _run(table_run, name, compat)
    assert again == res, "not deterministic"


@pytest.mark.parametrize("name", policy_names())
def test_policy_docstring_and_config(name):
    cls = policy_class(name)
    assert cls.__doc__ and cls.__module__
    import importlib

    mod = importlib.import_module(cls.__module__)
    assert mod.__doc__ and len(mod.__doc__) > 200, "module docstring must cite the paper"
    import dataclasses

    assert dataclasses.is_dataclass(cls.Config) and cls.Config.__dataclass_params__.frozen


SLOW = (1.0, 2.5)   # accelerator 1 runs every layer 2.5x slower


class _TwoSpeeds:
    """Timing of two accelerators: the table backend's times scaled per accelerator, energy
    per accelerator (the slow one spends less per layer)."""

    name = "two-speeds"

    def __init__(self, backend) -> None:
        self.backend = backend

    def layer(self, accelerator, model, layer_index, sample):
        t = self.backend.layer(0, model, layer_index, sample)
        return LayerTiming(int(round(t.cycles * SLOW[accelerator])), t.nnz, t.total,
                           (2.0 - accelerator) * 10.0)


def _two_accelerators(table_run):
    wl, be, _ = table_run(TABLES, rate=120, requests=40, slo=4, seed=5, clock_hz=CLOCK)
    reqs = tuple(replace(r, depends_on=(r.id - 1,)) if r.id % 3 == 2 else r
                 for r in wl.requests)
    wl = Workload(models=wl.models, requests=reqs, clock_hz=wl.clock_hz, name="cascade")
    tables = tuple(static_tables([LatencyTable(t.key, t.arch, t.pattern, t.latency_s * f,
                                               t.sparsity) for t in TABLES],
                                 time_unit="cycles", clock_hz=CLOCK) for f in SLOW)
    ctx = PolicyContext(tables=tables, num_accelerators=2, clock_hz=CLOCK)
    return wl, _TwoSpeeds(be), ctx


@pytest.mark.parametrize("name", policy_names())
def test_policy_contract_two_accelerators(name, table_run):
    wl, be, ctx = _two_accelerators(table_run)
    res = simulate(wl, make_policy(name, ctx), be, num_accelerators=2, keep_layers=True)
    assert len(res.requests) == len(wl.requests)
    assert all(r.finish is not None for r in res.requests)
    if not _realtime(name):
        assert not any(r.dropped for r in res.requests)
    bad = check_invariants(res, wl, 2)
    assert not bad, bad[:5]
    recs = {r.id: r for r in res.requests}
    for r in wl.requests:
        for d in r.depends_on:
            up = recs[d]
            if recs[r.id].start is not None:
                assert not up.dropped and recs[r.id].start >= up.finish
            if up.dropped:
                assert recs[r.id].dropped
    assert {lr.accelerator for lr in res.layers} <= {0, 1}
    again = simulate(wl, make_policy(name, ctx), be, num_accelerators=2, keep_layers=True)
    assert again == res, "not deterministic"
