"""Sweeps as data and their fan-out: job order, validation, worker-count independence."""

import dataclasses
import os
import sys
import time

import pytest

from mmsched.sched.errors import InputError
from mmsched.sim import experiment as ex


def _sweep(**kw):
    src = ex.WorkloadSource(kind="synthetic", name="cnn", samples=8)
    recipes = kw.pop("recipes", (ex.Recipe("r", src, rates=(4.0, 2.0), slos=(10.0, 50.0)),))
    return ex.Sweep(recipes=recipes, **{"policies": ("fcfs", "sjf"), "seeds": 3,
                                        "requests": 20, **kw})


def fake_runner(job):
    """A stand-in for `run_point`: a deterministic function of the job key, slower for low rates
    so completion order differs from key order under several workers."""
    time.sleep(0.02 / job.rate)
    res = ex.PointResult(key=job.key)
    for p in job.sweep.policies:
        res.summary.append({"recipe": job.recipe.name, "policy": p, "rate": job.rate,
                            "slo": job.slo, "seed": job.seed_index,
                            "violation_rate": (job.rate * job.slo + job.seed_index) / 1e3,
                            "pid": os.getpid()})
    res.decisions = 10
    return res


def test_jobs_cover_every_point_once_in_key_order():
    sweep = _sweep()
    js = ex.run_points(sweep)
    assert len(js) == 2 * 2 * 3
    assert [j.key for j in js] == sorted(j.key for j in js)
    assert {(j.rate, j.slo, j.seed_index) for j in js} == {
        (r, s, i) for r in (2.0, 4.0) for s in (10.0, 50.0) for i in range(3)}
    assert sweep.runs == 2 * 2 * 3 * 2


def test_defaults_detail_point_and_gantt_policy():
    sweep = _sweep(policies=("fcfs", "dysta", "sjf"))
    assert sweep.detail == ("r", 4.0, 10.0)  # highest rate, lowest SLO of the first recipe
    assert sweep.gantt_policy == "dysta"
    assert _sweep().gantt_policy == "fcfs"
    detail = [j for j in ex.run_points(sweep) if j.is_detail]
    assert len(detail) == 3 and all(j.rate == 4.0 and j.slo == 10.0 for j in detail)


def test_results_independent_of_worker_count_and_completion_order():
    sweep = _sweep()
    one = ex.run_sweep(sweep, workers=1, runner=fake_runner)
    two = ex.run_sweep(sweep, workers=2, runner=fake_runner)
    strip = [[{k: v for k, v in row.items() if k != "pid"} for row in r.summary] for r in one]
    assert strip == [[{k: v for k, v in row.items() if k != "pid"} for row in r.summary]
                     for r in two]
    assert [r.key for r in two] == [j.key for j in ex.run_points(sweep)]
    assert len({row["pid"] for r in two for row in r.summary}) == 2, "two workers were used"


def test_quick_sweeps_run_in_this_process(monkeypatch):
    """Without a worker count, a sweep estimated under QUICK_S runs here (starting workers
    would cost more); a longer one, or an explicit count, uses the pool."""
    from mmsched.sim import _pool, fastloop

    src = ex.WorkloadSource(kind="synthetic", name="cnn", samples=8)
    policies = ("dysta", "prema", "sdrm3")
    sweep = _sweep(recipes=(ex.Recipe("r", src, rates=(4.0, 6.0), slos=(10.0,)),),
                   policies=policies, seeds=2, requests=100)
    monkeypatch.setattr(ex, "default_workers", lambda: 2)
    pools = []
    real_pool = _pool.process_pool
    monkeypatch.setattr(_pool, "process_pool", lambda n: pools.append(n) or real_pool(n))
    ex.run_sweep(sweep)
    assert pools == ([] if fastloop.available() else [2])
    ex.run_sweep(dataclasses.replace(sweep, requests=2000))  # 4 x 2000 x 45 us > 0.25 s
    ex.run_sweep(sweep, workers=2)
    assert pools[-2:] == [2, 2]


def test_few_points_split_by_policy_give_the_same_results(monkeypatch):
    """Fewer points than 4 per worker: each point runs as one part per policy, on both
    workers, joined in policy order (everything equal to one process running it whole)."""
    src = ex.WorkloadSource(kind="synthetic", name="cnn", samples=8)
    sweep = _sweep(recipes=(ex.Recipe("r", src, rates=(4.0,), slos=(10.0,)),),
                   policies=("fcfs", "dysta", "prema", "sdrm3"), seeds=1, requests=30)
    one = ex.run_sweep(sweep, workers=1)
    joined = []
    real = ex._joined
    monkeypatch.setattr(ex, "_joined", lambda parts: joined.append(len(parts)) or real(parts))
    two = ex.run_sweep(sweep, workers=2)
    assert joined == [4], "one point, joined from one part per policy"
    assert [dataclasses.asdict(r) for r in one] == [dataclasses.asdict(r) for r in two]
    assert [row["policy"] for row in two[0].summary] == list(sweep.policies)


def test_progress_reports_runs():
    calls = []
    ex.run_sweep(_sweep(seeds=1), workers=1, runner=fake_runner,
                 progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 8), (4, 8), (6, 8), (8, 8)]


@pytest.mark.parametrize(("change", "match"), [
    ({"seeds": 0}, "seeds must be a positive integer, not 0"),
    ({"requests": -5}, "requests must be a positive integer, not -5"),
    ({"policies": ()}, "at least one policy"),
    ({"policies": ("fcfs", "fcfs")}, "distinct"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"compat": "bogus"}, "unknown compat mode"),
])
def test_sweep_validation(change, match):
    with pytest.raises(ValueError, match=match):
        _sweep(**change)


@pytest.mark.parametrize("rates", [(0.0,), (-1.0,), (float("nan"),), ()])
def test_recipe_rejects_bad_rates(rates):
    with pytest.raises(ValueError):
        ex.Recipe("x", ex.WorkloadSource(), rates=rates, slos=(10.0,))


@pytest.mark.parametrize("axes", [{"rates": (3.0, 3.0), "slos": (10.0,)},
                                  {"rates": (3.0,), "slos": (10.0, 5.0, 10)},
                                  {"fps_scales": (1.0, 1)}, {"loads": (0.5, 0.7, 0.5)}])
def test_recipe_rejects_duplicate_axis_values(axes):
    # duplicates gave duplicated rows and "means over 2 seeds" (issue 13, item 3)
    with pytest.raises(ValueError, match="distinct"):
        ex.Recipe("x", ex.WorkloadSource(), **axes)


def test_source_validation_and_labels():
    assert ex.WorkloadSource().label == "synthetic:cnn"
    assert ex.WorkloadSource(kind="csv", path="/a/b/eyeriss/").label == "csv:eyeriss"
    with pytest.raises(ValueError, match="needs a path"):
        ex.WorkloadSource(kind="csv")
    with pytest.raises(ValueError, match="source kind"):
        ex.WorkloadSource(kind="onnx")


def test_missing_csv_dir_is_input_error(tmp_path):
    src = ex.WorkloadSource(kind="csv", path=str(tmp_path / "nope"))
    with pytest.raises(InputError, match="no such folder"):
        ex.load_tables(src, ex.CompatFlags())


def test_bad_jobs_count():
    with pytest.raises(ValueError, match="workers must be a positive integer, not 0"):
        ex.run_sweep(_sweep(), workers=0, runner=fake_runner)


def test_dask_missing_gives_clear_error(monkeypatch):
    # the dev extra installs dask[distributed]: hide it (None in sys.modules: ImportError)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(InputError, match="dask.distributed"):
        ex.run_sweep(_sweep(), scheduler_address="tcp://127.0.0.1:1", runner=fake_runner)


def test_sweep_is_plain_data():
    d = _sweep().to_dict()
    assert d["policies"] == ("fcfs", "sjf")
    assert d["recipes"][0]["source"]["name"] == "cnn"
    assert dataclasses.replace(_sweep(), seeds=1).runs == 8


def test_identical_jobs_of_two_recipes_run_once_in_fixed_mode():
    src = ex.WorkloadSource(kind="synthetic", name="cnn", samples=8)
    recipes = (ex.Recipe("by_rate", src, rates=(2.0, 3.0, 4.0), slos=(10.0,)),
               ex.Recipe("by_slo", src, rates=(3.0,), slos=(10.0, 50.0)))
    seen = []

    def counting(job):
        seen.append(job.key)
        return fake_runner(job)

    sweep = _sweep(recipes=recipes, seeds=2)
    out = ex.run_sweep(sweep, workers=1, runner=counting)
    assert len(out) == len(ex.run_points(sweep)) == 3 * 2 + 2 * 2
    assert len(seen) == len(out) - 2  # (rate 3, SLO 10) x 2 seeds shared
    shared = [r for r in out if r.reused]
    assert len(shared) == 2 and {row["recipe"] for r in shared for row in r.summary} == {
        "by_slo"}
    twin = {(r.key[1:], tuple(row["violation_rate"] for row in r.summary)) for r in out
            if r.key[1] == 3.0 and r.key[2] == 10.0}
    assert len(twin) == 2  # the same numbers under both recipes, per seed
    # compat mode: a seed's rates come from one stream in recipe order, so rate 3 after rate 2
    # is a different workload from rate 3 first: nothing is shared
    seen.clear()
    ex.run_sweep(_sweep(recipes=recipes, seeds=2, compat="dysta-artifact"), workers=1,
                 runner=counting)
    assert len(seen) == 10


def test_dask_cluster_gives_the_same_results():
    distributed = pytest.importorskip("dask.distributed")
    sweep = _sweep(seeds=2)
    local = ex.run_sweep(sweep, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = ex.run_sweep(sweep, scheduler_address=cluster.scheduler_address)
    assert [r.key for r in remote] == [r.key for r in local]
    assert [r.summary for r in remote] == [r.summary for r in local]
    assert [r.layers for r in remote] == [r.layers for r in local]


def failing_runner(job):
    raise InputError("x.csv", f"line {job.seed_index + 2}", "a number", "'?'")


def test_worker_input_errors_arrive_intact():
    with pytest.raises(InputError, match=r"x.csv: line \d: expected a number, found '\?'"):
        ex.run_sweep(_sweep(), workers=2, runner=failing_runner)


def test_policy_specs():
    assert ex.parse_policy_spec("fcfs") == ("fcfs", {})
    # values stay text: policy_config parses them against the fields' declared types
    assert ex.parse_policy_spec("dysta:beta=0.1:predictor=last-one:n=3:x=true") == (
        "dysta", {"beta": "0.1", "predictor": "last-one", "n": "3", "x": "true"})
    for bad in (":beta=1", "dysta:beta", "dysta:=1", "dysta:beta=1:beta=2"):
        with pytest.raises(ValueError, match="policy spec"):
            ex.parse_policy_spec(bad)
