"""The numpy path of long queues makes exactly the decisions of the scalar loop.

Overloaded workloads (queues of tens to hundreds of tasks), every vectorised policy, fixed
and compat mode: forcing the columns on from 2 queued tasks, and forcing them off, must give
identical records (same decisions, same float results).
"""

from __future__ import annotations

import numpy as np
import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.policies._base import EstimatePolicy
from mmsched.sched.policies.prema import PREMA
from mmsched.sched.policy import make_policy
from mmsched.sched.static import static_tables
from mmsched.sim.engine import simulate

CLOCK = 200e6


def _tables():
    rng = np.random.default_rng(5)
    out = []
    for arch, layers in (("alpha", 6), ("beta", 9), ("gamma", 4)):
        for pat in ("u", "b"):
            lat = rng.uniform(1e-3, 5e-3, (9, layers))
            sp = rng.uniform(0.1, 0.9, (9, layers))
            out.append(LatencyTable(key=f"{arch}_{pat}", arch=arch, pattern=pat,
                                    latency_s=lat, sparsity=sp))
    return out


TABLES = _tables()


@pytest.fixture(autouse=True)
def _python_loop(monkeypatch):
    """The Python loop (the compiled one has no array path; tests/sim/test_fastloop.py)."""
    monkeypatch.setenv("MMSCHED_FASTLOOP", "0")


def _run(table_run, name, compat, seed):
    unit = "seconds" if compat.any else "cycles"
    st = static_tables(TABLES, time_unit=unit, clock_hz=CLOCK)
    iso = np.mean([p.isolated_latency for p in st.pattern.values()])
    iso_s = iso if unit == "seconds" else iso / CLOCK
    # Load 1.3 (compat: the artifact's integer rates).
    rate = round(1.3 / iso_s)
    wl, be, ctx = table_run(TABLES, rate=rate, requests=200, slo=4, seed=seed, compat=compat,
                            clock_hz=CLOCK)
    return simulate(wl, make_policy(name, ctx), be, compat=compat, keep_layers=True)


@pytest.mark.parametrize("name", ["dysta", "dysta_naive", "dysta_oracle", "sdrm3",
                                  "sdrm3_sparse", "planaria", "prema", "prema_sparse"])
@pytest.mark.parametrize("mode", ["fixed", "compat"])
def test_vector_path_equals_scalar_loop(name, mode, monkeypatch, table_run):
    compat = CompatFlags.dysta_artifact() if mode == "compat" else CompatFlags()
    for seed in (0, 1):
        for cls in (EstimatePolicy, PREMA):
            monkeypatch.setattr(cls, "VEC_ON", 10**9)
        scalar = _run(table_run, name, compat, seed)
        # Always on from 2 tasks; and switching on and off often (state handed back and forth).
        for on, off in ((2, 1), (5, 4), (9, 3)):
            for cls in (EstimatePolicy, PREMA):
                monkeypatch.setattr(cls, "VEC_ON", on)
                monkeypatch.setattr(cls, "VEC_OFF", off)
            vector = _run(table_run, name, compat, seed)
            assert vector == scalar, f"seed {seed}, columns on at {on}, off below {off}"
        # The workload really is overloaded (long queues), so the columns were used.
        assert max(r.finish - r.arrival for r in scalar.requests) > 20 * max(
            r.isolated for r in scalar.requests)
