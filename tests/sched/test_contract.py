"""The contract every registered policy meets, including ones registered later (dysta_hw).

For each name in `policy_names()`: build it with its default config on a small Dysta-style
workload, run it in fixed mode (one accelerator) and in compat mode, and check the engine
invariants, that every request completes, determinism (same inputs, same records), and that
``select`` only ever returns a task from ``ready`` (the engine raises otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.metrics import summarize
from mmsched.sched.policy import make_policy, policy_class, policy_names
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


def _run(table_run, name, compat):
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
