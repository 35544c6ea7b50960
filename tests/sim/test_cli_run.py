"""`mmsched run` end to end (subprocess): outputs, determinism, bad input -> exit 2, nothing
written."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mmsched.sched import synthetic

SMALL = ["--scenario", "cnn", "--requests", "40", "--seeds", "2", "--rates", "3,5",
         "--slo", "10,50",
         "--policies", "fcfs,sjf,dysta"]


def mmsched(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mmsched.sim", "run", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)


def _csv_dir(path, n_tables=3, samples=8):
    path.mkdir()
    for t in synthetic.cnn_tables(samples=samples)[:n_tables]:
        (path / f"{t.key}.csv").write_text(synthetic.eyeriss_csv_text(t))
    return path


def test_small_run_writes_table_and_plots(tmp_path):
    out = mmsched(*SMALL, "--jobs", "1", "--out", "res", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = tmp_path / "res"
    names = {p.name for p in res.iterdir()}
    assert {"summary.csv", "aggregate.csv", "per_model.csv", "requests.csv", "layers.csv",
            "run.json", "table.txt", "cnn_vs_rate.png", "cnn_vs_slo.png", "latency_cdf.png",
            "gantt.png"} <= names
    with (res / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {"policy", "rate", "slo", "seed", "violation_rate", "antt", "stp", "latency_p50",
            "latency_p99"} <= set(rows[0])
    assert len(rows) == 3 * 2 * 2 * 2  # policies x rates x SLOs x seeds
    assert {r["seed"] for r in rows} == {"0", "1"}
    for r in rows:
        assert 0.0 <= float(r["violation_rate"]) <= 1.0
        assert float(r["antt"]) >= 1.0 - 1e-9  # no request beats its isolated latency
    # the printed table is the saved one, plus a closing line
    table = (res / "table.txt").read_text()
    assert out.stdout.startswith(table)
    assert "amean" in table and "gmean" in table
    assert out.stdout.rstrip().endswith("results in res/")
    with (res / "per_model.csv").open() as f:
        models = {r["model"] for r in csv.DictReader(f)}
    assert models <= {t.key for t in synthetic.cnn_tables(samples=1)} and len(models) > 3


def test_same_seed_same_bytes_for_any_worker_count(tmp_path):
    a = mmsched(*SMALL, "--jobs", "1", "--out", "a", cwd=tmp_path)
    b = mmsched(*SMALL, "--jobs", "2", "--out", "b", cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    for name in ("summary.csv", "aggregate.csv", "per_model.csv", "requests.csv",
                 "layers.csv", "table.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    c = mmsched(*SMALL, "--jobs", "2", "--seed", "2", "--out", "c", cwd=tmp_path)
    assert c.returncode == 0
    assert (tmp_path / "c" / "summary.csv").read_bytes() != (
        tmp_path / "a" / "summary.csv").read_bytes()


def test_rerun_replaces_previous_output(tmp_path):
    assert mmsched(*SMALL, "--jobs", "1", "--out", "r", cwd=tmp_path).returncode == 0
    again = mmsched("--requests", "20", "--seeds", "1", "--rates", "4", "--slo", "10",
                    "--policies", "fcfs", "--jobs", "1", "--out", "r", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert "cnn_vs_rate.png" not in names  # the old run's files are gone
    assert len((tmp_path / "r" / "summary.csv").read_text().splitlines()) == 2


def test_csv_dir_both_modes_and_real_rate_in_compat(tmp_path):
    d = _csv_dir(tmp_path / "csvs")
    fixed = mmsched("--csv-dir", str(d), "--requests", "30", "--seeds", "1", "--rates", "6",
                    "--slo", "10", "--policies", "fcfs,dysta", "--out", "f", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    compat = mmsched("--csv-dir", str(d), "--compat", "dysta-artifact", "--requests", "30",
                     "--seeds", "1", "--rates", "6,2.5", "--slo", "10",
                     "--policies", "fcfs,dysta", "--out", "c", cwd=tmp_path)
    assert compat.returncode == 0, compat.stderr
    assert "only integer rates" in compat.stderr  # the documented warning for 2.5
    rows = list(csv.DictReader((tmp_path / "c" / "summary.csv").open()))
    assert {r["mode"] for r in rows} == {"dysta-artifact"}
    assert {float(r["rate"]) for r in rows} == {6.0, 2.5}
    assert {r["workload"] for r in rows} == {"csv:csvs"}


def _assert_bad(res, tmp_path, *needles, out="o"):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("mmsched run: error: "), lines[0]
    for n in needles:
        assert n in lines[0], lines[0]
    assert not (tmp_path / out).exists(), "nothing may be written"
    assert res.stdout == ""


@pytest.mark.parametrize(("args", "needles"), [
    (["--policies", "fcfs,nope"], ["--policies", "'nope'", "fcfs"]),
    (["--rates", "3,0"], ["--rates", "item 2", "positive", "'0'"]),
    (["--rates", "-1"], ["--rates", "'-1'"]),
    (["--rates", "three"], ["--rates", "'three'"]),
    (["--slo", "0"], ["--slo", "'0'"]),
    (["--requests", "0"], ["--requests", "positive integer"]),
    (["--seeds", "x"], ["--seeds"]),
    (["--jobs", "0"], ["--jobs"]),
    (["--scenario", "nosuch"], ["--scenario", "cnn"]),
    (["--csv-dir", "does/not/exist"], ["does/not/exist"]),
])
def test_bad_arguments(tmp_path, args, needles):
    _assert_bad(mmsched(*args, "--out", "o", cwd=tmp_path), tmp_path, *needles)


def test_empty_csv_dir(tmp_path):
    (tmp_path / "empty").mkdir()
    _assert_bad(mmsched("--csv-dir", "empty", "--out", "o", cwd=tmp_path), tmp_path, "empty",
                ".csv")


@pytest.mark.parametrize(("mutate", "needles"), [
    (lambda t: t.replace("sim_lat,", "latency,", 1), ["column", "sim_lat"]),
    (lambda t: "\n".join(ln for ln in t.splitlines() if not ln.endswith(",0,3")) + "\n",
     ["layer-indx", "no layer 3"]),
    (lambda t: t.replace("\n", "\n-0.5,0.1,0,0\n", 1), ["line 2", "sim_lat", ">= 0",
                                                           "'-0.5'"]),
    (lambda t: t.replace(",0,2\n", ",0,2x\n", 1), ["line 4", "layer-indx", "'2x'"]),
])
def test_malformed_csv(tmp_path, mutate, needles):
    d = _csv_dir(tmp_path / "csvs", n_tables=2)
    victim = sorted(d.iterdir())[1]
    victim.write_text(mutate(victim.read_text()))
    res = mmsched("--csv-dir", str(d), "--out", "o", cwd=tmp_path)
    _assert_bad(res, tmp_path, victim.name, *needles)


def test_foreign_out_folder_untouched(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine\n")
    res = mmsched(*SMALL, "--out", "o", cwd=tmp_path)
    assert res.returncode == 2 and "did not write" in res.stderr
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["notes.txt"]


def test_no_scheduler_without_dask(tmp_path):
    # the dev extra installs dask[distributed]: hide it in the child (None: ImportError)
    argv = ["run", *SMALL, "--scheduler-address", "tcp://127.0.0.1:1", "--out", "o"]
    code = ("import sys; sys.modules['dask.distributed'] = None; "
            f"from mmsched.sim.cli import main; sys.exit(main({argv!r}))")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=False, timeout=300)
    _assert_bad(res, tmp_path, "dask.distributed")


DATA = Path(__file__).resolve().parents[1] / "data" / "dysta_csv"


@pytest.mark.parametrize("kind", ["eyerissv2", "sanger"])
def test_compat_run_reproduces_the_artifact_golden_numbers(tmp_path, kind):
    # The whole pipeline (CLI parsing, seed indices, rate order, one stream per seed, report
    # columns) against the artifact's printed numbers; the artifact was given the CSV names
    # sorted, hence --compat-off listing_order.
    golden = json.loads((DATA / "golden_artifact.json").read_text())
    meta = golden["meta"]
    policies = list(dict.fromkeys(g["policy"] for g in golden["runs"][kind]))
    res = mmsched("--csv-dir", str(DATA / kind), "--compat", "dysta-artifact",
                  "--compat-off", "listing_order", "--policies", ",".join(policies),
                  "--rates", ",".join(str(r) for r in meta["rates"]),
                  "--slo", ",".join(str(s) for s in meta["slos"]),
                  "--requests", str(meta["num_requests"]), "--seeds", str(meta["seeds"]),
                  "--seed", str(meta["seed"]), "--jobs", "2", "--out", "g", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = {(r["policy"], float(r["rate"]), float(r["slo"]), int(r["seed"])): r
            for r in csv.DictReader((tmp_path / "g" / "summary.csv").open())}
    assert len(rows) == len(golden["runs"][kind])
    for g in golden["runs"][kind]:
        mine = rows[(g["policy"], float(g["rate"]), float(g["slo"]), g["seed_index"])]
        for k in ("violation_rate", "antt", "stp", "decisions"):
            assert float(mine[k]) == pytest.approx(g[k], rel=1e-9, abs=0), (g, k)


def test_compat_off_validation(tmp_path):
    _assert_bad(mmsched("--compat-off", "listing_order", "--out", "o", cwd=tmp_path),
                tmp_path, "--compat dysta-artifact")
    _assert_bad(mmsched("--compat", "dysta-artifact", "--compat-off", "nope", "--out", "o",
                        cwd=tmp_path), tmp_path, "'nope'", "clock_rewind")


@pytest.mark.slow
def test_no_arguments_runs_the_default_scenario(tmp_path):
    res = subprocess.run([sys.executable, "-m", "mmsched.sim", "run"], cwd=tmp_path,
                         capture_output=True, text=True, check=False, timeout=600)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "results" / "run"
    # the default scenario: zoo models with real sparsity profiles on the exact cycle model
    for name in ("summary.csv", "aggregate.csv", "dysta-cnn_vs_rate.png", "dysta-cnn_vs_slo.png",
                 "latency_cdf.png", "gantt.png"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 11 * 2 * 2 * 3
    assert "132 runs" in res.stdout


def test_workload_errors_fail_before_any_work(tmp_path):
    # compat mode draws sample ids 0..6: a 5-sample CSV is bad input for it, found while the
    # parent builds the first workload (not inside a worker)
    d = _csv_dir(tmp_path / "csvs", n_tables=2, samples=5)
    res = mmsched("--csv-dir", str(d), "--compat", "dysta-artifact", "--jobs", "2",
                  "--out", "o", cwd=tmp_path)
    _assert_bad(res, tmp_path, "batch-indx", "at least 7 samples", "found 5")


def test_attnn_scenario_and_clock_option(tmp_path):
    res = mmsched("--scenario", "attnn", "--requests", "30", "--seeds", "1", "--rates", "30",
                  "--slo", "10", "--policies", "fcfs,dysta", "--clock-mhz", "500",
                  "--jobs", "1", "--out", "a", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    models = {r["model"] for r in csv.DictReader((tmp_path / "a" / "per_model.csv").open())}
    assert models <= {"bart_seq128", "bert_seq384", "gpt2_seq128"} and len(models) >= 2
    sweep = json.loads((tmp_path / "a" / "run.json").read_text())["sweep"]
    assert sweep["recipes"][0]["source"] == {"kind": "synthetic", "name": "attnn", "path": "",
                                             "seed": 0, "samples": 100, "clock_hz": 500e6}
    _assert_bad(mmsched("--clock-mhz", "0", "--out", "o", cwd=tmp_path), tmp_path,
                "--clock-mhz")


def test_clock_option_does_not_apply_to_scenarios(tmp_path):
    _assert_bad(mmsched("--scenario", "dysta-cnn", "--clock-mhz", "100", "--out", "o",
                        cwd=tmp_path), tmp_path, "--clock-mhz", "scenario")


def test_policy_configs_are_a_sweep_dimension(tmp_path):
    res = mmsched("--policies", "dysta,dysta:beta=0.5,dysta:predictor=last-one", "--requests",
                  "40", "--seeds", "1", "--rates", "5", "--slo", "10", "--jobs", "1",
                  "--out", "p", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader((tmp_path / "p" / "summary.csv").open()))
    assert [r["policy"] for r in rows] == ["dysta", "dysta:beta=0.5", "dysta:predictor=last-one"]
    _assert_bad(mmsched("--policies", "dysta:gamma=1", "--out", "o", cwd=tmp_path), tmp_path,
                "unknown config field", "'gamma'")
    _assert_bad(mmsched("--policies", "dysta:estimator=bogus", "--out", "o", cwd=tmp_path),
                tmp_path, "dysta:estimator=bogus", "estimator = one of sparse, naive, oracle")


def test_default_run_is_the_default_scenario_file():
    """`mmsched run` with no arguments is exactly `--scenario dysta-cnn`: the scenario file
    holds the default axes, and axes on the command line replace them."""
    from mmsched.sim.cli import build_parser
    from mmsched.sim.cmd_run import build_sweep

    parser = build_parser()
    plain = build_sweep(parser.parse_args(["run"]))
    named = build_sweep(parser.parse_args(["run", "--scenario", "dysta-cnn"]))
    assert plain == named
    rec = plain.recipes[0]
    assert (rec.name, rec.rates, rec.slos, plain.requests, plain.seeds) == (
        "dysta-cnn", (4.0, 6.0), (10.0, 25.0), 500, 3)
    cli = build_sweep(parser.parse_args(["run", "--rates", "2", "--seeds", "1"]))
    assert (cli.recipes[0].rates, cli.recipes[0].slos, cli.seeds) == ((2.0,), (10.0, 25.0), 1)


def test_run_size_estimate_and_bound(capsys):
    """Item 11 of issue 13: long or large runs print an estimate first; beyond the memory
    bound they are refused unless --force (sched/limits.py)."""
    from mmsched.sched.errors import InputError
    from mmsched.sim.cli import build_parser
    from mmsched.sim.cmd_run import build_sweep, check_size

    parser = build_parser()

    def sweep(*extra):
        return build_sweep(parser.parse_args(["run", "--scenario", "cnn", "--rates", "3",
                                              "--slo", "10", "--policies", "fcfs", *extra]))

    check_size(sweep("--requests", "100", "--seeds", "1"), 1, False)
    assert capsys.readouterr().err == ""
    check_size(sweep("--requests", "300000", "--seeds", "3"), 1, False)
    err = capsys.readouterr().err
    assert err.startswith("mmsched run: estimate: 3 runs x 300,000 requests: about 1.5 min")
    big = sweep("--requests", "2000000", "--seeds", "3")
    with pytest.raises(InputError, match="MAX_RUN_MEMORY_BYTES; --force"):
        check_size(big, 2, False)
    check_size(big, 2, True)
    assert "GiB peak memory" in capsys.readouterr().err
    with pytest.raises(InputError, match="--rates: rate 1e-06: .*MAX_SPAN_S"):
        check_size(build_sweep(parser.parse_args(["run", "--scenario", "cnn", "--rates",
                                                  "0.000001", "--requests", "1000"])), 1,
                   False)
