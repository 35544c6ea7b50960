"""The report step: tidy CSV round trip, aggregation over seeds, the table, the plots."""

import math

import numpy as np
import pytest

from mmsched.sched.errors import InputError
from mmsched.sim import report


def _summary_rows():
    rows = []
    for pol, base in (("fcfs", 0.4), ("dysta", 0.1)):
        for rate in (2.0, 4.0):
            for slo in (10.0, 50.0):
                for seed, f in enumerate((1.0, 2.0, 4.0)):
                    rows.append({"recipe": "cnn", "workload": "synthetic:cnn", "mode": "fixed",
                                 "policy": pol, "rate": rate, "slo": slo, "seed": seed,
                                 "violation_rate": base * f * rate / slo,
                                 "antt": 1.0 + f * rate, "stp": rate * 0.99,
                                 "latency_p99": 0.01 * f, "decisions": 100})
    return rows


def test_csv_round_trip_is_exact(tmp_path):
    rows = [{"policy": "dysta", "rate": 0.1, "antt": 1 / 3, "seed": 2, "lat": math.nan}]
    text = report.csv_text(rows)
    assert text.splitlines()[0] == "policy,rate,antt,seed,lat"
    (tmp_path / "x.csv").write_text(text)
    back = report.read_csv(tmp_path / "x.csv")
    assert back[0]["policy"] == "dysta" and back[0]["rate"] == 0.1
    assert back[0]["antt"] == 1 / 3  # repr round-trips floats exactly
    assert math.isnan(back[0]["lat"])


def test_read_csv_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        report.read_csv(tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("policy,antt\nfcfs,1.5\nsjf,fast\n")
    with pytest.raises(InputError, match=r"line 3, column antt: expected a number, found 'fast'"):
        report.read_csv(tmp_path / "bad.csv")


def test_aggregate_arith_and_geo_means():
    agg = report.aggregate_rows(_summary_rows())
    assert len(agg) == 2 * 2 * 2
    a = next(x for x in agg if x["policy"] == "fcfs" and x["rate"] == 4.0 and x["slo"] == 10.0)
    assert a["seeds"] == 3
    # antt = 1 + f*4 for f = 1, 2, 4: 5, 9, 17
    assert a["antt_amean"] == pytest.approx((5 + 9 + 17) / 3)
    assert a["antt_gmean"] == pytest.approx((5 * 9 * 17) ** (1 / 3))
    v = [0.4 * f * 4 / 10 for f in (1, 2, 4)]
    assert a["violation_rate_amean"] == pytest.approx(np.mean(v))
    assert a["violation_rate_gmean"] == pytest.approx(np.prod(v) ** (1 / 3))
    assert "decisions_amean" not in a  # only metrics are aggregated
    # groups keep first-seen order
    assert [x["policy"] for x in agg[:4]] == ["fcfs"] * 4


def test_table_text():
    text = report.format_table(report.aggregate_rows(_summary_rows()))
    lines = text.splitlines()
    assert lines[0].split() == ["recipe", "policy", "rate", "slo", "viol%amean", "viol%gmean",
                                "antt_amean", "antt_gmean", "stp_amean", "p99ms_amean"]
    assert len(lines) == 1 + 8 + 1
    assert "arithmetic" in lines[-1] and "geometric" in lines[-1]
    first = lines[1].split()
    assert first[:4] == ["cnn", "fcfs", "2", "10"]
    assert first[4] == f"{100 * np.mean([0.4 * f * 2 / 10 for f in (1, 2, 4)]):.2f}"


def _request_rows():
    rng = np.random.default_rng(0)
    out = []
    for pol in ("fcfs", "dysta"):
        for i in range(50):
            lat = float(rng.exponential(0.1))
            out.append({"recipe": "cnn", "policy": pol, "rate": 4.0, "slo": 10.0, "seed": 0,
                        "request": i, "model": "m", "latency_s": lat})
    return out


def _layer_rows():
    out, t = [], 0.0
    for i in range(30):
        out.append({"recipe": "cnn", "policy": "dysta", "rate": 4.0, "slo": 10.0, "seed": 0,
                    "request": i % 4, "model": f"m{i % 2}", "layer": i // 4, "accelerator": 0,
                    "start_s": t, "end_s": t + 0.002})
        t += 0.002
    return out


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000


def test_write_report_writes_table_and_plots(tmp_path):
    (tmp_path / "summary.csv").write_text(report.csv_text(_summary_rows()))
    (tmp_path / "requests.csv").write_text(report.csv_text(_request_rows()))
    (tmp_path / "layers.csv").write_text(report.csv_text(_layer_rows()))
    table, written = report.write_report(tmp_path)
    names = sorted(p.name for p in written)
    assert names == ["aggregate.csv", "cnn_vs_rate.png", "cnn_vs_slo.png", "gantt.png",
                     "latency_cdf.png", "table.txt"]
    for p in written:
        if p.suffix == ".png":
            assert _is_png(p), p
    assert (tmp_path / "table.txt").read_text() == table
    agg = report.read_csv(tmp_path / "aggregate.csv")
    assert len(agg) == 8 and "antt_gmean" in agg[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp files left"


def test_single_point_sweep_has_no_line_plots(tmp_path):
    rows = [r for r in _summary_rows() if r["rate"] == 2.0 and r["slo"] == 10.0]
    (tmp_path / "summary.csv").write_text(report.csv_text(rows))
    _, written = report.write_report(tmp_path)
    assert sorted(p.name for p in written) == ["aggregate.csv", "table.txt"]


def test_empty_summary_is_input_error(tmp_path):
    (tmp_path / "summary.csv").write_text(report.csv_text(_summary_rows()).splitlines()[0]
                                          + "\n")
    with pytest.raises(InputError, match="at least one result row"):
        report.write_report(tmp_path)


@pytest.mark.parametrize("column", ["policy", "recipe", "rate", "antt", "violation_rate"])
def test_summary_without_a_column_is_refused_before_writing(tmp_path, column):
    # without a policy column every row was merged into one "None" policy (issue 13, item 4)
    rows = [{k: v for k, v in r.items() if k != column} for r in _summary_rows()]
    (tmp_path / "summary.csv").write_text(report.csv_text(rows))
    with pytest.raises(InputError, match=f"summary.csv: line 1: .*found no column {column}"):
        report.write_report(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]


@pytest.mark.parametrize(("name", "text"), [
    ("layers.csv", "recipe,policy\ncnn,fcfs\n"),
    ("layers.csv", "\x00\x01binary"),
    ("requests.csv", "recipe,policy,rate,slo,latency_s\ncnn,fcfs,2,10,oops\n"),
])
def test_bad_optional_file_writes_nothing(tmp_path, name, text):
    # a bad layers.csv used to fail only after the table and plots were rewritten (item 7)
    (tmp_path / "summary.csv").write_text(report.csv_text(_summary_rows()))
    (tmp_path / name).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(InputError, match=name):
        report.write_report(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_latin1_summary_names_the_file(tmp_path):
    (tmp_path / "summary.csv").write_bytes(
        report.csv_text(_summary_rows()).replace("fcfs", "fcfs\u00e9").encode("latin-1"))
    with pytest.raises(InputError, match="summary.csv: expected UTF-8 CSV text"):
        report.write_report(tmp_path)


def test_gantt_draws_one_collection_per_lane(tmp_path, monkeypatch):
    from mmsched.sim import report

    figs = []
    monkeypatch.setattr(report, "_save", lambda fig, path: figs.append(fig))
    layers = [{"request": q, "model": f"m{q % 2}", "layer": j, "accelerator": 0,
               "start_s": 0.01 * (3 * q + j), "end_s": 0.01 * (3 * q + j) + 0.008,
               "arrival_s": 0.0, "recipe": "r", "policy": "p", "rate": 1.0, "slo": 10.0}
              for q in range(5) for j in range(3)]
    report.plot_gantt(layers, tmp_path)
    ax = figs[0].axes[0]
    bars = [c for c in ax.collections if len(c.get_paths()) == 3]
    assert len(bars) == 5  # one BrokenBarHCollection per request, three bars each
    assert not ax.patches  # no per-bar Rectangle artists
