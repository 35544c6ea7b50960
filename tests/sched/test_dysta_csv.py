"""Dysta CSV import, static tables and request tables."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.dysta_csv import load_csv, load_csv_dir, sanger_latency_s
from mmsched.sched.errors import InputError
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.static import static_tables
from mmsched.sched.streams import poisson_workload, poisson_workloads

DATA = Path(__file__).resolve().parents[1] / "data" / "dysta_csv"
COMPAT = CompatFlags.dysta_artifact()


def test_load_eyeriss_dir_sorted_with_archs():
    tables = load_csv_dir(DATA / "eyerissv2")
    assert [t.key for t in tables] == ["alexnet_block", "alexnet_unstructured", "lenet_filter",
                                       "lenet_unstructured"]
    assert [t.arch for t in tables] == ["alexnet", "alexnet", "lenet", "lenet"]
    assert tables[0].pattern == "block"
    assert tables[0].latency_s.shape == (10, 5)
    # The first data row of the file, read back.
    first = (DATA / "eyerissv2" / "alexnet_block.csv").read_text().splitlines()[1].split(",")
    assert tables[0].latency_s[0, 0] == float(first[0])
    assert tables[0].sparsity[0, 0] == float(first[1])


def test_load_sanger_density_and_latency():
    t = load_csv(DATA / "sanger" / "bert.csv")
    d, u, b, j = (DATA / "sanger" / "bert.csv").read_text().splitlines()[1].split(",")
    assert (b, j) == ("0", "0")
    assert t.arch == t.key == "bert"
    assert t.sparsity[0, 0] == 1 - float(d)
    assert t.latency_s[0, 0] == sanger_latency_s(float(d), float(u), 384)
    t512 = load_csv(DATA / "sanger" / "bert.csv", compat=COMPAT)
    assert t512.latency_s[0, 0] == sanger_latency_s(float(d), float(u), 512)


def test_sanger_formula_matches_reference_text():
    # docs/workloads.md, evaluated in the text's order (equal up to rounding).
    d, u, s = 0.3, 0.7, 384
    n = d / u / 0.25 * s
    cycles = (n / 64) * ((768 + 64) + (n + 64)) * (s / 64)
    t = s * 768 * 768 * 2 * 3 / 1e9 / 2048 + s * 768 * 768 * 2 * d / (u * 2048e9) + cycles / 1e9
    assert sanger_latency_s(d, u, s) == pytest.approx(t, rel=1e-12)


def test_sanger_needs_known_seq_len(tmp_path):
    shutil.copy(DATA / "sanger" / "bert.csv", tmp_path / "mystery.csv")
    with pytest.raises(InputError, match="seq_len"):
        load_csv(tmp_path / "mystery.csv")
    assert load_csv(tmp_path / "mystery.csv", seq_len=128).layers == 4


def test_listing_order_flag(tmp_path):
    for name in ("b_x.csv", "a_x.csv"):
        shutil.copy(DATA / "eyerissv2" / "lenet_filter.csv", tmp_path / name)
    import os

    listed = [n.split(".")[0] for n in os.listdir(tmp_path)]
    assert [t.key for t in load_csv_dir(tmp_path)] == ["a_x", "b_x"]
    assert [t.key for t in load_csv_dir(tmp_path, compat=COMPAT)] == listed


def _write(tmp_path, text, name="net_p.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = ("sim_lat,overall-sparsity,batch-indx,layer-indx\n"
        "1e-3,0.5,0,0\n2e-3,0.4,0,1\n1e-3,0.6,1,0\n2e-3,0.3,1,1\n")


@pytest.mark.parametrize(("text", "where", "found"), [
    (GOOD.replace("sim_lat,", "latency,"), "header", "latency"),
    (GOOD.replace(",layer-indx", ",layer"), "column layer-indx", "no column 'layer-indx'"),
    (GOOD.replace("2e-3,0.4,0,1", "2e-3,0.4,0,2"), "column layer-indx", "no layer 1 for sample 0"),
    (GOOD.replace("1e-3,0.6,1,0\n2e-3,0.3,1,1", "1e-3,0.6,2,0\n2e-3,0.3,2,1"),
     "column batch-indx", "no rows for sample 1"),
    (GOOD.replace("2e-3,0.4,0,1", "-2e-3,0.4,0,1"), "line 3, column sim_lat", "'-2e-3'"),
    (GOOD.replace("2e-3,0.4,0,1", "2e-3,abc,0,1"), "line 3, column overall-sparsity", "'abc'"),
    (GOOD.replace("2e-3,0.4,0,1", "2e-3,1.4,0,1"), "line 3, column overall-sparsity", "'1.4'"),
    (GOOD.replace("2e-3,0.4,0,1", "2e-3,0.4,0,1.5"), "line 3, column layer-indx", "'1.5'"),
    (GOOD.replace("2e-3,0.4,0,1", "2e-3,nan,0,1"), "line 3, column overall-sparsity", "'nan'"),
    (GOOD + "1e-3,0.6,1,0\n", "line 6", "a second row for sample 1, layer 0"),
    ("sim_lat,overall-sparsity,batch-indx,layer-indx\n", "line 2", "none"),
    ("", "line 1", "an empty file"),
])
def test_bad_csv_names_file_line_column(tmp_path, text, where, found):
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_csv(p)
    msg = str(e.value)
    assert msg.startswith(str(p)), msg
    assert where in msg and found in msg and "expected" in msg, msg


# One case per class of bad CSV input: each error names the file, the line and the column.
@pytest.mark.parametrize(("text", "where", "expected", "found"), [
    (GOOD.replace("1e-3,0.6,1,0", "1e-3,0.6,x1,0"), "line 4, column batch-indx", "a number",
     "'x1'"),
    (GOOD.replace("2e-3,0.3,1,1", "NaN,0.3,1,1"), "line 5, column sim_lat", "a finite number",
     "'NaN'"),
    (GOOD.replace("2e-3,0.3,1,1", "inf,0.3,1,1"), "line 5, column sim_lat", "a finite number",
     "'inf'"),
    (GOOD.replace("1e-3,0.6,1,0", "1e-3,0.6,-1,0"), "line 4, column batch-indx",
     "an integer >= 0", "'-1'"),
    (GOOD.replace("1e-3,0.6,1,0", "1e-3,-0.6,1,0"), "line 4, column overall-sparsity",
     "a fraction in [0, 1]", "'-0.6'"),
    (GOOD.replace("1e-3,0.6,1,0", "1e-3,0.6,1"), "line 4", "4 cells", "3"),
    (GOOD.replace("1e-3,0.6,1,0", "1e-3,,1,0"), "line 4, column overall-sparsity", "a number",
     "''"),
    (GOOD.replace("1e-3,0.6,1,0\n2e-3,0.3,1,1\n", "1e-3,0.6,3,0\n2e-3,0.3,3,1\n"),
     "column batch-indx", "sample indices 0..3 without gaps", "no rows for sample 1"),
    (GOOD.replace("2e-3,0.3,1,1", "2e-3,0.3,1,4"), "column layer-indx",
     "layer indices 0..4 for every sample", "no layer 2 for sample 0"),
    ("sim_lat,overall-sparsity,batch-indx,layer-indx\n\n\n", "line 2", "at least one data row",
     "none"),
    ("\n", "line 1", "a header row", "an empty file"),
    (GOOD.replace("2e-3,0.3,1,1", "1e308,0.3,1,1"), "line 5, column sim_lat",
     "a latency <= 1000 s (MAX_LAYER_LATENCY_S", "'1e308'"),
    (GOOD.replace("2e-3,0.3,1,1", "1e-3,0.3,1e308,1"), "column batch-indx",
     "sample indices 0..1e+308 without gaps", "no rows for sample 2"),
    (GOOD.replace("2e-3,0.3,1,1", "1e-3,0.3,1,1e300"), "column layer-indx",
     "layer indices 0..1e+300 for every sample", "no layer 2 for sample 0"),
    # the first bad cell in file order wins, whichever column the column checks meet first
    (GOOD.replace("2e-3,0.3,1,1", "-2e-3,0.3,1,1").replace("1e-3,0.6,1,0", "1e-3,0.6,1.5,0"),
     "line 4, column batch-indx", "an integer >= 0", "'1.5'"),
    (GOOD.replace("2e-3,0.3,1,1", "2e-3,0.3,0,1").replace("1e-3,0.6,1,0", "1e-3,0.6,0,0"),
     "line 4", "one row per (batch-indx, layer-indx)", "a second row for sample 0, layer 0"),
])
def test_each_csv_error_class(tmp_path, text, where, expected, found):
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_csv(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: {where}"), msg
    assert f"expected {expected}" in msg and f"found {found}" in msg, msg


def test_binary_and_non_utf8_files(tmp_path):
    p = tmp_path / "net_p.csv"
    p.write_bytes(GOOD.encode()[:30] + b"\0\x01\x02" + GOOD.encode()[30:])
    with pytest.raises(InputError, match=r"net_p.csv: byte 30: expected a UTF-8 text CSV "
                                         r"file, found binary data"):
        load_csv(p)
    p.write_bytes(GOOD.encode().replace(b"0.5", b"0.\xff"))
    with pytest.raises(InputError, match=r"byte \d+: expected a UTF-8 text CSV file, found "
                                         r"bytes that are not UTF-8"):
        load_csv(p)


def test_sanger_latency_limit(tmp_path):
    text = "overall-sparsity,50%-skip,batch-indx,layer-indx\n0.3,1e-12,0,0\n"
    with pytest.raises(InputError, match=r"line 2, column 50%-skip: expected a utilisation "
                                         r"giving a layer latency <= 1000 s"):
        load_csv(_write(tmp_path, text, "bert.csv"))


def test_exact_path_reads_what_numpy_refuses(tmp_path):
    # numpy's parser refuses blank rows, extra cells, padded or Python-only number spellings
    # (2_000e-6); the csv-module path reads them, giving the same table as a plain file
    plain = load_csv(_write(tmp_path, GOOD, "a_p.csv"))
    odd = ("sim_lat,overall-sparsity,batch-indx,layer-indx\r\n"
           "1e-3,0.5,0,0\r\n\r\n,,,\r\n 2e-3 ,0.4,0,1,x\r\n"
           '"1e-3",0.6,1,0\r\n2_000e-6,0.3,1,1\r\n')
    got = load_csv(_write(tmp_path, odd, "a_q.csv"))
    assert got.latency_s.tobytes() == plain.latency_s.tobytes()
    assert got.sparsity.tobytes() == plain.sparsity.tobytes()
    with pytest.raises(InputError, match=r"line 8, column sim_lat: expected a latency >= 0"):
        load_csv(_write(tmp_path, odd + "-1,0.3,2,0\r\n", "a_r.csv"))


def test_large_file_values_bit_exact_and_error_line(tmp_path):
    rng = np.random.default_rng(5)
    lat, sp = rng.uniform(1e-5, 1e-2, (300, 40)), rng.uniform(0, 1, (300, 40))
    lat_l, sp_l = lat.tolist(), sp.tolist()
    rows = [f"{lat_l[b][j]!r},{sp_l[b][j]!r},{b},{j}" for b in range(300) for j in range(40)]
    head = "sim_lat,overall-sparsity,batch-indx,layer-indx\n"
    t = load_csv(_write(tmp_path, head + "\n".join(rows) + "\n"))
    assert t.latency_s.tobytes() == lat.tobytes() and t.sparsity.tobytes() == sp.tobytes()
    rows[11_000] = rows[11_000].replace(",", ",x", 1)
    with pytest.raises(InputError, match=r"line 11002, column overall-sparsity: expected a "
                                         r"number, found 'x"):
        load_csv(_write(tmp_path, head + "\n".join(rows) + "\n"))


def test_bad_sanger_cells(tmp_path):
    text = "overall-sparsity,50%-skip,batch-indx,layer-indx\n0.3,0,0,0\n"
    with pytest.raises(InputError, match=r"line 2, column 50%-skip: expected a utilisation"):
        load_csv(_write(tmp_path, text, "bert.csv"))


def test_empty_and_missing_dir(tmp_path):
    with pytest.raises(InputError, match="expected at least one .csv file, found none"):
        load_csv_dir(tmp_path)
    with pytest.raises(InputError, match="expected a directory"):
        load_csv_dir(tmp_path / "nope")


def test_mixed_kinds_rejected(tmp_path):
    shutil.copy(DATA / "eyerissv2" / "lenet_filter.csv", tmp_path)
    shutil.copy(DATA / "sanger" / "bert.csv", tmp_path)
    with pytest.raises(InputError, match="one kind per directory"):
        load_csv_dir(tmp_path)


def _table(key, arch, lat, sp):
    return LatencyTable(key=key, arch=arch, pattern=key.split("_")[1], latency_s=np.array(lat),
                        sparsity=np.array(sp))


def test_static_tables_hand_computed():
    # x_p1: 2 samples [[1, 3], [3, 5]] -> layer means 2, 4; isolated mean (4 + 8) / 2 = 6.
    # x_p2: 1 sample [[5, 9]] -> 5, 9; isolated 14.
    # arch x: sample-count weighted: layers (2x2 + 1x5)/3 = 3, (2x4 + 9)/3 = 17/3;
    #         isolated (2x6 + 14)/3 = 26/3.
    t1 = _table("x_p1", "x", [[1.0, 3.0], [3.0, 5.0]], [[0.5, 0.2], [0.3, 0.4]])
    t2 = _table("x_p2", "x", [[5.0, 9.0]], [[0.0, 0.1]])
    st = static_tables([t1, t2], time_unit="seconds")
    p1 = st.pattern["x_p1"]
    assert p1.layer_latency == (2.0, 4.0)
    assert p1.isolated_latency == 6.0
    assert p1.layer_density == pytest.approx((0.6, 0.7))
    assert p1.remaining == (6.0, 4.0, 0.0)
    a = st.arch["x"]
    assert a.layer_latency == pytest.approx((3.0, 17 / 3))
    assert a.isolated_latency == pytest.approx(26 / 3)
    assert st.profile("x_p2", "arch") is a
    # Cycles: each layer rounded to whole cycles first (clock 1 Hz here: identity).
    stc = static_tables([t1, t2], time_unit="cycles", clock_hz=10.0)
    assert stc.pattern["x_p1"].layer_latency == (20.0, 40.0)


def test_compat_request_stream_is_the_artifacts():
    tables = load_csv_dir(DATA / "eyerissv2", compat=COMPAT)
    st = static_tables(tables, time_unit="seconds")
    wl_a, wl_b = poisson_workloads(tables, rates=[30, 40], num_requests=5, slo=10, seed=1,
                                 seed_index=2, compat=COMPAT, static=st)
    # The stream by hand: random.seed(1 + 2); per request expovariate, model, priority, sample.
    gen = random.Random(3)
    t = 0.0
    for rate, wl in ((30, wl_a), (40, wl_b)):
        t = 0.0
        for r in wl.requests:
            t += gen.expovariate(rate)
            key = tables[gen.randint(0, 3)].key
            prio = (1, 3, 9)[gen.randint(0, 2)]
            sample = gen.randint(0, 6)
            target = st.arch[key.split("_")[0]].isolated_latency
            assert (r.arrival, r.model, r.priority, r.sample) == (t, key, prio, sample)
            assert r.deadline == t + target * 10
    assert wl_a.time_unit == "seconds"
    # A single rate equals the artifact run with only that rate.
    single = poisson_workload(tables, rate=30, num_requests=5, slo=10, seed=1, seed_index=2,
                            compat=COMPAT, static=st)
    assert single.requests == wl_a.requests


def test_fixed_requests_deterministic_and_every_sample_drawable():
    tables = load_csv_dir(DATA / "eyerissv2")
    kw = dict(rate=2.5, num_requests=400, slo=10, seed=7, seed_index=1, clock_hz=200e6)
    a = poisson_workload(tables, **kw)
    b = poisson_workload(tables, **kw)
    assert a.requests == b.requests
    assert a.time_unit == "cycles"
    assert a.requests[0].arrival == 0
    assert all(isinstance(r.arrival, int) and isinstance(r.deadline, int) for r in a.requests)
    assert max(r.sample for r in a.requests) >= 7  # 10-sample tables: ids 7..9 appear
    c = poisson_workload(tables, **{**kw, "seed_index": 2})
    assert c.requests != a.requests


@pytest.mark.parametrize("rate", [0, -3, float("nan"), float("inf")])
def test_non_positive_rate(rate):
    tables = load_csv_dir(DATA / "eyerissv2")
    with pytest.raises(InputError, match="expected a positive number of requests per second"):
        poisson_workload(tables, rate=rate, num_requests=10, slo=10)


def test_compat_integer_rates():
    tables = load_csv_dir(DATA / "eyerissv2", compat=COMPAT)
    with pytest.raises(InputError, match="integer"):
        poisson_workload(tables, rate=2.5, num_requests=10, slo=10, compat=COMPAT)
    # Real rates are fine in fixed mode, and in compat mode without the switch.
    relaxed = CompatFlags(**{**COMPAT.__dict__, "integer_rates": False})
    assert len(poisson_workload(tables, rate=2.5, num_requests=10, slo=10,
                              compat=relaxed).requests) == 10


def test_compat_needs_seven_samples(tmp_path):
    text = "sim_lat,overall-sparsity,batch-indx,layer-indx\n1e-3,0.5,0,0\n1e-3,0.5,1,0\n"
    t = load_csv(_write(tmp_path, text))
    with pytest.raises(InputError, match="at least 7 samples"):
        poisson_workload([t], rate=3, num_requests=5, slo=10, compat=COMPAT)


def test_cycle_tables_agree_with_table_backend():
    # Fixed mode: the static averages are the means of exactly the cycles the backend serves.
    from mmsched.sim.backends.table import TableBackend, table_models

    tables = load_csv_dir(DATA / "eyerissv2")
    clock = 200e6
    st = static_tables(tables, time_unit="cycles", clock_hz=clock)
    be = TableBackend(tables, "cycles", clock)
    models = table_models(tables)
    for t in tables:
        m = models[t.key]
        cyc = np.array([[be.layer(0, m, j, s).cycles for j in range(t.layers)]
                        for s in range(t.samples)])
        assert cyc.dtype.kind == "i"
        assert st.pattern[t.key].layer_latency == pytest.approx(tuple(cyc.mean(axis=0)),
                                                                rel=1e-12)
        assert st.pattern[t.key].isolated_latency == pytest.approx(cyc.sum(axis=1).mean(),
                                                                   rel=1e-12)
