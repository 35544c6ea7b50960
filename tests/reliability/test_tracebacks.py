"""Issue 13, items 10-17: bad inputs that used to end in a Python traceback.

Every case runs the real CLI: exit 2, one ``error:`` line naming the option or file, no
traceback, and no file written (pre-existing files byte-identical). A closed standard output
ends quietly.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = settings.get_profile("reliability")  # tests/reliability/conftest.py
SCENARIOS = Path(__file__).parents[2] / "sched" / "data" / "scenarios"


# --- 10. sizes nobody can simulate ----------------------------------------------------------


@FUZZ
@given(m=st.integers(1, 10**12), n=st.integers(1, 10**7), k=st.integers(1, 10**7))
def test_layer_cycles_sizes(rel, tmp_path, m, n, k):
    res = rel.cli("layer-cycles", "--m", str(m), "--n", str(n), "--k", str(k), "--rows", "4",
                  "--cols", "4", "--json", timeout=60)
    if max(m, n, k) > 1 << 22 or max(m * k, k * n, m * n) > 1 << 28:
        rel.error(res, "--m/--n/--k", "MAX_LAYER_")
    else:
        assert res.returncode in (0, 2), res.stderr
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize(("row", "needle"), [
    ("gemm1, 100000000000, 8, 8,", "MAX_LAYER_DIM"),
    ("gemm1, 1000000, 1000, 1000,", "MAX_LAYER_ELEMENTS"),
])
def test_topology_layer_beyond_the_limits(rel, tmp_path, row, needle):
    (tmp_path / "big.csv").write_text("Layer, M, N, K,\n" + row + "\n")
    (tmp_path / "s.toml").write_text(
        'name = "big"\narrivals = "poisson"\nrates = [10.0]\nslos = [10.0]\n'
        'system = [{name = "a", rows = 4, cols = 4}]\n[[models]]\nfile = "big.csv"\n')
    before = rel.snapshot(tmp_path)
    rel.error(rel.cli("run", "--scenario", "s.toml", "--out", "o", timeout=60), "big.csv",
              "line 2", needle)
    assert rel.snapshot(tmp_path) == before


@FUZZ
@given(lat=st.sampled_from(["1e308", "1e30", "1001", "inf", "-1", "nan", "1e-400x"]))
def test_csv_latency_beyond_the_limit(rel, tmp_path, lat):
    shutil.rmtree(tmp_path / "c", ignore_errors=True)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "resnet50_dense.csv").write_text(
        "sim_lat,overall-sparsity,batch-indx,layer-indx\n0.001,0.5,0,0\n"
        f"{lat},0.5,1,0\n")
    rel.error(rel.cli("run", "--csv-dir", "c", "--out", "o"), "resnet50_dense.csv", "line 3",
              "sim_lat")
    assert not (tmp_path / "o").exists()


@FUZZ
@given(rate=st.sampled_from(["1e-10", "1e-300", "5e-8"]),
       requests=st.sampled_from(["50", "1000"]))
def test_rates_too_low_for_the_clock(rel, tmp_path, rate, requests):
    res = rel.cli("run", *rel.B, "--rates", rate, "--requests", requests, "--out", "o")
    rel.error(res, "--rates", "MAX_SPAN_S")


# --- 11. huge runs: an estimate, and a bound unless --force ---------------------------------


@pytest.mark.parametrize(("option", "value"), [("--requests", "10000000"),
                                               ("--seeds", "1000000")])
def test_huge_runs_refused_with_an_estimate(rel, tmp_path, option, value):
    res = rel.cli("run", *rel.B, option, value, "--out", "o", timeout=60)
    line = rel.error(res, "--requests/--seeds", "MAX_RUN_MEMORY_BYTES", "--force", "GiB",
                     "min")
    assert "runs x" in line
    assert not (tmp_path / "o").exists()


def test_huge_run_names_the_scenario_that_set_its_size(rel, tmp_path):
    res = rel.cli("run", "--scenario", "cnn", "--requests", "900000", "--out", "o",
                  timeout=60)
    line = rel.error(res, "--requests/--seeds", "--seeds not given: from scenario cnn",
                     "MAX_RUN_MEMORY_BYTES")
    assert not (tmp_path / "o").exists(), line


def test_bad_out_is_refused_before_the_estimate_and_small_runs_stay_quiet(rel, tmp_path):
    res = rel.cli("run", "--scenario", "cnn", "--requests", "200000", "--seeds", "3",
                  "--rates", "3", "--slo", "10", "--policies", "fcfs", "--out", "/proc/o",
                  timeout=60)
    rel.error(res, "--out")  # refused before the estimate: nothing ran
    assert "estimate" not in res.stderr
    res = rel.cli("run", "--scenario", "cnn", "--requests", "100", "--seeds", "1", "--rates",
                  "3", "--slo", "10", "--policies", "fcfs", "--jobs", "1", "--no-plots",
                  "--out", "o")
    assert res.returncode == 0 and "estimate" not in res.stderr  # small runs stay quiet


# --- 12. mmsched verilog --------------------------------------------------------------------


@FUZZ
@given(name=st.one_of(st.sampled_from(["bad name;", "../../x", "a/b", "", "1abc", "x" * 200,
                                       "top$", "-o"]),
                      st.text(alphabet="ab/.; $-", min_size=1, max_size=8).filter(
                          lambda s: not re.fullmatch(r"[A-Za-z_]\w*", s))))
def test_verilog_bad_names(rel, tmp_path, name):
    res = rel.cli("verilog", "accelerator", "--rows", "4", "--cols", "4", "--name", name,
                  "-o", "v")
    rel.error(res, "--name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_verilog_out_file_or_unwritable(rel, tmp_path):
    (tmp_path / "f").write_text("mine\n")
    for out in ("f", "f/sub", "/proc/v"):
        rel.error(rel.cli("verilog", "accelerator", "-o", out), "-o/--out")
    assert (tmp_path / "f").read_text() == "mine\n"


# --- 13. mmsched profile --------------------------------------------------------------------


def test_profile_out_and_cache_dir(rel, tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x\n")
    before = rel.snapshot(tmp_path)
    for args, needle in ((("--out", "folder"), "--out"), (("--out", "/proc/p.json"), "--out"),
                         (("--out", "file/x.json"), "--out"),
                         (("--cache-dir", "file"), "--cache-dir")):
        rel.error(rel.cli("profile", "cosim-tiny", *args), needle)
    assert rel.snapshot(tmp_path) == before


# --- 14. mmsched report ---------------------------------------------------------------------


@FUZZ
@given(column=st.sampled_from(["antt", "stp", "latency_p99", "violation_rate", "slo", "mode"]),
       encoding=st.sampled_from(["utf-8", "latin-1", "binary"]))
def test_report_missing_columns_and_encodings(rel, tmp_path, column, encoding):
    shutil.rmtree(tmp_path / "r", ignore_errors=True)
    if not (tmp_path / "base").exists():
        assert rel.cli("run", *rel.B, "--out", "base").returncode == 0
    shutil.copytree(tmp_path / "base", tmp_path / "r")
    path = tmp_path / "r" / "summary.csv"
    lines = path.read_text().splitlines()
    drop = lines[0].split(",").index(column)
    text = "\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != drop)
                     for ln in lines) + "\n"
    if encoding == "latin-1":
        text = text.replace("cnn", "cnn\u00e9")
    data = (text.encode(encoding) if encoding != "binary"
            else b"\x00\xff\xfe" + text.encode())
    path.write_bytes(data)
    before = rel.snapshot(tmp_path / "r")
    rel.error(rel.cli("report", "r"), "summary.csv")
    assert rel.snapshot(tmp_path / "r") == before


def test_report_on_a_file(rel, tmp_path):
    (tmp_path / "f.csv").write_text("a,b\n")
    rel.error(rel.cli("report", "f.csv"), "f.csv", "a file")


# --- 15. a closed pipe ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [("scenarios",), ("scenarios", "--no-load"),
                                  ("layer-cycles", "--m", "64", "--n", "64", "--k", "64")])
def test_closed_stdout_is_quiet(rel, tmp_path, args):

    env = rel.env
    p = subprocess.Popen([sys.executable, "-m", "mmsched.sim", *args], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # like `| head -0`: the reader is gone before the first line
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err and "Error" not in err, err
    assert p.returncode == 141, (p.returncode, err)


# --- 16. FILE.toml:VARIANT everywhere --------------------------------------------------------


def test_file_variant_accepted_by_run_and_scenarios(rel, tmp_path):
    shutil.copy(SCENARIOS / "xr-vr-gaming.toml", tmp_path / "xr.toml")
    assert rel.cli("scenarios", "xr.toml:4k", "--no-load").returncode == 0
    res = rel.cli("run", "--scenario", "xr.toml:4k", "--seeds", "1", "--fps-scale", "1",
                  "--policies", "fcfs", "--jobs", "1", "--no-plots", "--out", "o", timeout=600)
    assert res.returncode == 0, res.stderr
    rel.error(rel.cli("run", "--scenario", "xr.toml:nope", "--out", "o2"), "xr.toml", "nope")


# --- 17. messages ---------------------------------------------------------------------------


def test_messages(rel, tmp_path):
    rel.error(rel.cli("cosim", "--rate", "-1"), "--rate")
    line = rel.error(rel.cli("scenarios", "--rate", "inf"), "--rate")
    assert "load" not in line
    (tmp_path / "n.toml").write_text((SCENARIOS / "cnn.toml").read_text().replace(
        "rates = [3.0, 5.0]", "rates = [nan]"))
    line = rel.error(rel.cli("run", "--scenario", "n.toml", "--out", "o"), "n.toml", "rates")
    assert "a number nan" not in line and "finite" in line
    (tmp_path / "mix").mkdir()
    (tmp_path / "mix" / "a_dense.csv").write_text(
        "sim_lat,overall-sparsity,batch-indx,layer-indx\n0.001,0.5,0,0\n")
    (tmp_path / "mix" / "bert_dense.csv").write_text(
        "overall-sparsity,50%-skip,batch-indx,layer-indx\n0.5,0.5,0,0\n")
    line = rel.error(rel.cli("run", "--csv-dir", "mix", "--out", "o"), "bert_dense.csv")
    assert " a eyeriss" not in line.lower() and "an Eyeriss CSV" in line


@pytest.mark.parametrize(("files", "needle"), [
    ({"resnet50_dense.csv": "0,0.5,0,0\n0,0.5,1,0\n"}, "resnet50_dense.csv"),
    ({"resnet50_dense.csv": "0.001,0.5,0,0\n0.001,0.5,0,1\n",
      "resnet50_sparse.csv": "0.001,0.5,0,0\n"}, "resnet50_sparse.csv"),
])
def test_csv_folders_name_the_file(rel, tmp_path, files, needle):
    (tmp_path / "c").mkdir()
    for name, rows in files.items():
        (tmp_path / "c" / name).write_text(
            "sim_lat,overall-sparsity,batch-indx,layer-indx\n" + rows)
    rel.error(rel.cli("run", "--csv-dir", "c", "--out", "o"), needle)


# --- any option, any text ---------------------------------------------------------------------

_WEIRD = st.sampled_from(["0", "-1", "1e400", "nan", "inf", "-inf", "1e-300", "abc", "", "3,3",
                          "1,", ",", "0x10", "1e6", " 4 ", "2.5", "1e9", "\u00e9", "-0"])


@FUZZ
@given(option=st.sampled_from(["--rates", "--slo", "--requests", "--seeds", "--seed",
                               "--accelerators", "--clock-mhz", "--jobs", "--fps-scale",
                               "--load", "--compat-off", "--policies"]),
       value=_WEIRD)
def test_run_option_values(rel, tmp_path, option, value):
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
    args = [a for a in rel.B if a != "--jobs" and a != "1"] if option == "--jobs" else rel.B
    res = rel.cli("run", *args, option, value, "--out", "o", timeout=120)
    if res.returncode == 0:
        assert (tmp_path / "o" / "summary.csv").is_file()
    else:
        rel.error(res, option.split("-", 2)[-1].replace("-", "_") if option == "--policies"
                  else option)


@FUZZ
@given(option=st.sampled_from(["--rows", "--cols", "--chunk-depth", "--pe-buffer-depth",
                               "--load-rows-per-cycle", "--data-width", "--acc-width",
                               "--max-k", "--act-mem-words", "--out-mem-words", "--clock-mhz",
                               "--groups", "--act-density", "--weight-pattern", "--seed"]),
       value=st.sampled_from(["0", "-1", "nan", "100000", "abc"]))
def test_layer_cycles_option_values(rel, tmp_path, option, value):
    res = rel.cli("layer-cycles", "--m", "16", "--n", "16", "--k", "16", option, value)
    if res.returncode != 0:
        rel.error(res, option)


@pytest.mark.parametrize("clock", [("--clock-mhz", "inf"), ("--clock-mhz=-inf",),
                                   ("--clock-mhz", "nan"), ("--clock-mhz", "0"),
                                   ("--clock-mhz", "-5"), ("--clock-mhz", "0.0009"),
                                   ("--clock-mhz", "1000001"), ("--clock-mhz", "1e300")])
def test_layer_cycles_clock_beyond_the_limits(rel, tmp_path, clock):
    """The accelerator's clock check (`AcceleratorConfig`), named as the option typed."""
    res = rel.cli("layer-cycles", *clock, "--m", "8", "--n", "8", "--k", "8")
    line = rel.error(res, "--clock-mhz", "clock_hz", "(MIN_CLOCK_HZ, MAX_CLOCK_HZ)")
    assert line.startswith("mmsched layer-cycles: error: --clock-mhz: ") and not res.stdout


@pytest.mark.parametrize(("mhz", "seconds"), [("0.001", 0.001), ("1000000", 1e-12)])
def test_layer_cycles_clock_bounds_accepted(rel, tmp_path, mhz, seconds):
    res = rel.cli("layer-cycles", "--clock-mhz", mhz, "--m", "8", "--n", "8", "--k", "8",
                  "--dense", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["seconds"] == pytest.approx(out["cycles"] * seconds)


@pytest.mark.parametrize("mhz", ["0.0009", "1000001", "1e300"])
@pytest.mark.parametrize("command", [
    ("run", "--scenario", "cnn", "--requests", "5", "--seeds", "1", "--out", "o"),
    ("cosim", "--scenario", "cnn", "--requests", "5")])
def test_engine_clock_beyond_the_limits(rel, tmp_path, command, mhz):
    """The engine clock of latency-table workloads has an accelerator clock's bounds."""
    res = rel.cli(*command, "--clock-mhz", mhz)
    line = rel.error(res, "--clock-mhz", "(MIN_CLOCK_HZ, MAX_CLOCK_HZ)", f"{float(mhz)!r} MHz")
    assert line.startswith(f"mmsched {command[0]}: error: --clock-mhz: ") and not res.stdout
    assert not (tmp_path / "o").exists()


def test_verilog_clock_beyond_the_limits(rel, tmp_path):
    res = rel.cli("verilog", "accelerator", "--clock-mhz", "inf", "--out", "a.v")
    rel.error(res, "--clock-mhz", "MIN_CLOCK_HZ")
    assert not (tmp_path / "a.v").exists() and not res.stdout


@pytest.mark.parametrize(("name", "column", "value"), [
    ("layers.csv", "accelerator", "inf"), ("layers.csv", "request", "-1"),
    ("requests.csv", "seed", "0.5"), ("summary.csv", "seed", "nan"),
])
def test_report_index_columns(rel, tmp_path, name, column, value):
    assert rel.cli("run", *rel.B, "--out", "r").returncode == 0
    path = tmp_path / "r" / name
    lines = path.read_text().splitlines()
    i = lines[0].split(",").index(column)
    cells = lines[1].split(",")
    cells[i] = value
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    before = rel.snapshot(tmp_path / "r")
    rel.error(rel.cli("report", "r"), name, "line 2", column)
    assert rel.snapshot(tmp_path / "r") == before


@pytest.mark.parametrize(("line", "needle"), [
    ("samples = 100000000", "MAX_SAMPLES"),
    ("system = [{name = \"a\", rows = 4, cols = 4, clock_hz = inf}]",
     "system[0].clock_hz: expected a number of Hz in [1000, 1e+12]"),
    ("system = [{name = \"a\", rows = 4, cols = 4, clock_hz = -inf}]", "system[0].clock_hz"),
    ("system = [{name = \"a\", rows = 4, cols = 4, clock_hz = 5e16}]",
     "system[0].clock_hz: expected a number of Hz in [1000, 1e+12] (MIN_CLOCK_HZ, "
     "MAX_CLOCK_HZ), found 5e+16"),
    ("system = [{name = \"a\", rows = 4, cols = 4, clock_hz = 10.0}]", "MIN_CLOCK_HZ"),
    ("system = [{name = 3, rows = 4, cols = 4}]", "system[0].name: expected a string, found 3"),
    ("system = [{name = \"a\", rows = \"abc\", cols = 4}]", "rows"),
])
def test_scenario_file_sizes_and_fields(rel, tmp_path, line, needle):
    text = (SCENARIOS / "cosim-tiny.toml").read_text()
    key = line.split(" =")[0]
    if key == "system":
        text = text[:text.index("[[system]]")] + line + "\n" + text[text.index("[[models]]"):]
    else:
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith(key)) + "\n"
        text = line + "\n" + text
    shutil.copytree(SCENARIOS / "cosim-tiny", tmp_path / "cosim-tiny")
    (tmp_path / "s.toml").write_text(text)
    before = rel.snapshot(tmp_path)
    rel.error(rel.cli("run", "--scenario", "s.toml", "--out", "o", timeout=60), "s.toml",
              needle)
    assert rel.snapshot(tmp_path) == before  # no partial output


def test_unreachable_dask_scheduler(rel, tmp_path):
    pytest.importorskip("distributed")
    res = rel.cli("run", *rel.B, "--scheduler-address", "tcp://127.0.0.1:1", "--out", "o",
                  env_extra={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}, timeout=120)
    rel.error(res, "--scheduler-address")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("args", "needle"), [
    (("--samples", "1000000000"), "--samples"), (("--seed", "-1"), "--seed"),
    (("--out", "/proc/x.json"), "--out"), (("--out", "f/x.json"), "--out"),
    (("--name", "../x"), "--name"), (("--input-shapes", "X=99999999999x64"), "MAX_LAYER_DIM"),
])
def test_profile_sparsity_options(rel, tmp_path, args, needle):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((64, 16), np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Relu", ["X"], ["R"], name="r"),
         helper.make_node("MatMul", ["R", "W"], ["Y"], name="mm")], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", 64])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    (tmp_path / "f").write_text("mine\n")
    before = rel.snapshot(tmp_path)
    shapes = () if args[0] == "--input-shapes" else ("--input-shapes", "X=8x64")
    res = rel.cli("profile-sparsity", "--onnx", "m.onnx", "--random-inputs", *shapes, *args)
    rel.error(res, needle)
    assert rel.snapshot(tmp_path) == before
