"""Compat mode reproduces the Dysta artifact's own numbers (golden values).

``tests/data/dysta_csv/golden_artifact.json`` holds the violation rate, ANTT, STP and number
of decisions of every policy, rate, SLO multiplier and seed index, as printed by the
artifact's simulator (commit and command in the file's ``meta``) on the CSVs of
``tests/data/dysta_csv/`` (made by ``tests/data/make_dysta_csv.py``). mmsched in
``--compat dysta-artifact`` mode must agree to 1e-9 relative. The artifact was given the
file names sorted, so ``listing_order`` is off here.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.dysta_csv import load_csv_dir
from mmsched.sched.metrics import summarize
from mmsched.sched.policy import PolicyContext, make_policy
from mmsched.sched.static import static_tables
from mmsched.sched.streams import poisson_workloads
from mmsched.sim.backends.table import TableBackend
from mmsched.sim.engine import simulate

DATA = Path(__file__).resolve().parents[1] / "data" / "dysta_csv"
GOLDEN = json.loads((DATA / "golden_artifact.json").read_text())
COMPAT = dataclasses.replace(CompatFlags.dysta_artifact(), listing_order=False)


def _mine(kind: str, compat: CompatFlags = COMPAT, data: Path = DATA,
          golden: dict = GOLDEN) -> dict:
    meta = golden["meta"]
    runs = golden["runs"][kind]
    policies = list(dict.fromkeys(r["policy"] for r in runs))
    tables = load_csv_dir(data / kind, compat=compat)
    st = static_tables(tables, time_unit="seconds")
    backend = TableBackend(tables, time_unit="seconds", clock_hz=1.0)
    out = {}
    for r in range(meta["seeds"]):
        for slo in meta["slos"]:
            wls = poisson_workloads(tables, rates=meta["rates"], num_requests=meta["num_requests"],
                                  slo=slo, seed=meta["seed"], seed_index=r, compat=compat,
                                  static=st)
            for rate, wl in zip(meta["rates"], wls, strict=True):
                for name in policies:
                    ctx = PolicyContext(tables=(st,), time_unit="seconds", compat=compat)
                    res = simulate(wl, make_policy(name, ctx), backend, compat=compat)
                    m = summarize(res.requests)
                    m["decisions"] = res.decisions
                    out[(name, rate, slo, r)] = m
    return out


def _compare(kind: str, data: Path, golden: dict) -> None:
    mine = _mine(kind, data=data, golden=golden)
    bad = []
    for g in golden["runs"][kind]:
        m = mine[(g["policy"], g["rate"], g["slo"], g["seed_index"])]
        for k in ("violation_rate", "antt", "stp", "decisions"):
            if abs(m[k] - g[k]) > 1e-9 * abs(g[k]):
                bad.append(f"{g['policy']} rate={g['rate']} slo={g['slo']} "
                           f"seed={g['seed_index']} {k}: artifact {g[k]!r}, mmsched {m[k]!r}")
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:20])


@pytest.mark.parametrize("kind", ["eyerissv2", "sanger"])
def test_compat_matches_artifact(kind):
    _compare(kind, DATA, GOLDEN)


@pytest.mark.slow
def test_compat_matches_artifact_long_runs():
    # 1000 requests of 12-24 layers at loads ~0.8 and ~1.25 (queues of hundreds of tasks: the
    # policies' numpy path), SLO x3 and x10, every policy (golden file: commit and command).
    medium = DATA.parent / "dysta_csv_medium"
    golden = json.loads((medium / "golden_artifact.json").read_text())
    _compare("eyerissv2", medium, golden)


def test_golden_covers_every_published_policy():
    names = {r["policy"] for r in GOLDEN["runs"]["eyerissv2"]}
    assert names == {"fcfs", "sjf", "sjf_sparse", "prema", "prema_sparse", "planaria", "sdrm3",
                     "sdrm3_sparse", "dysta", "dysta_naive", "dysta_oracle"}


# Not in this list: strict_arrivals (needs an arrival exactly at a layer boundary, which float
# seconds never produce here; tested in test_engine.py), integer_rates (input validation only;
# test_dysta_csv.py) and listing_order (the golden run used sorted names; test_dysta_csv.py).
@pytest.mark.parametrize("flag", ["sample_ids_0_to_6", "clock_rewind", "prema_shared_gamma",
                                  "prema_cumulative_wait", "running_max_minus_one",
                                  "sdrm3_fixed_alpha", "attnn_seq512"])
def test_each_defect_switch_matters(flag):
    # Turning one defect switch off must break agreement somewhere: the golden test would
    # catch a switch that does nothing.
    kind = "sanger" if flag == "attnn_seq512" else "eyerissv2"
    mine = _mine(kind, dataclasses.replace(COMPAT, **{flag: False}))
    differs = any(abs(mine[(g["policy"], g["rate"], g["slo"], g["seed_index"])][k] - g[k])
                  > 1e-9 * abs(g[k])
                  for g in GOLDEN["runs"][kind] for k in ("violation_rate", "antt", "stp"))
    assert differs, f"turning {flag} off changed nothing"
