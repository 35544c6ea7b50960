"""Issue 13, items 1-4: inputs that used to give a silently wrong result.

Each case goes through the real CLI; a refused input must give exit 2, one ``error:`` line
naming the option or file, no traceback, and leave the files already there byte-identical.
"""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmsched.sched.policy import policy_class, policy_config

FUZZ = settings.get_profile("reliability")  # tests/reliability/conftest.py


def _system_scenario(rel, folder: Path, system: str) -> Path:
    """A Poisson scenario of the two cosim-tiny models on ``system`` (TOML text)."""
    return rel.tiny_scenario(folder, f"s{abs(hash(system))}.toml", name="het", system=system,
                             rate=300000.0, requests=40)


# --- 1. a system of different accelerators is simulated as itself --------------------------


def test_heterogeneous_system_is_not_copies_of_the_first(rel, tmp_path):
    big = '{name = "big", rows = 16, cols = 16, clock_hz = 1e8}'
    small = '{name = "small", rows = 4, cols = 4, clock_hz = 1e8}'
    summaries = {}
    for name, system in (("one", f"[{big}]"), ("two", f"[{big}, {small}]"),
                         ("same", f"[{big}, {big.replace('big', 'big2')}]")):
        res = rel.cli("run", "--scenario", str(_system_scenario(rel, tmp_path, system)), "--seeds",
                      "1", "--policies", "fcfs,dysta", "--jobs", "1", "--no-plots", "--out",
                      name)
        assert res.returncode == 0, res.stderr
        summaries[name] = (tmp_path / name / "summary.csv").read_bytes()
    # a 16x16 + 4x4 system is neither the 16x16 alone nor two 16x16s
    assert summaries["two"] != summaries["one"]
    assert summaries["two"] != summaries["same"]


def test_accelerators_option_is_refused_for_a_described_system(rel, tmp_path):
    scenario = _system_scenario(rel, tmp_path, '[{name = "big", rows = 16, cols = 16}]')
    rel.error(rel.cli("run", "--scenario", str(scenario), "--accelerators", "2", "--out", "o"),
              "--accelerators")
    assert not (tmp_path / "o").exists()


def test_accelerators_option_gives_identical_copies_of_a_table_workload(rel, tmp_path):
    rows = {}
    for n in ("1", "2"):
        res = rel.cli("run", *rel.B, "--policies", "fcfs", "--rates", "8", "--accelerators",
                      n, "--out", f"a{n}")
        assert res.returncode == 0, res.stderr
        rows[n] = next(csv.DictReader((tmp_path / f"a{n}" / "summary.csv").open()))
    assert float(rows["2"]["antt"]) < float(rows["1"]["antt"])  # twice the capacity


# --- 2. policy config values are parsed against their declared type and range -------------

_FIELDS = [(name, f) for name in ("sjf", "sdrm3", "dysta", "planaria", "dream", "herald")
           for f in policy_class(name).Config.__dataclass_fields__]
_TEXT = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-5", "0", "abc", "", "1e400", "no", "maybe", "2.5",
                     "1", "true", "last-one", "arch", "-0.0", "1e-300", "0x10"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="abc019.-+e", max_size=6))


@FUZZ
@given(field=st.sampled_from(_FIELDS), text=_TEXT)
def test_policy_values_run_as_parsed_or_are_refused(rel, tmp_path, field, text):
    name, key = field
    spec = f"{name}:{key}={text}"
    try:
        value = getattr(policy_config(name, **{key: text}), key)
    except ValueError:
        value = None
    shutil.rmtree(tmp_path / "o", ignore_errors=True)  # tmp_path is shared by the examples
    before = rel.snapshot(tmp_path)
    res = rel.cli("run", *rel.B, "--policies", spec, "--out", "o", "--rates", "3")
    if value is None:
        rel.error(res, "--policies", repr(spec), key)
        assert rel.snapshot(tmp_path) == before
        return
    assert isinstance(value, bool | str) or math.isfinite(value)
    if res.returncode != 0:  # a policy that cannot run this workload says so
        rel.error(res)
        return
    rows = list(csv.DictReader((tmp_path / "o" / "summary.csv").open()))
    assert [r["policy"] for r in rows] == [spec]


def test_sparse_no_runs_dense(rel, tmp_path):
    # `sjf:sparse=no` ran as sparse=True: compare against sjf and sjf_sparse
    res = rel.cli("run", *rel.B, "--rates", "8", "--policies", "sjf,sjf_sparse,sjf:sparse=no",
                  "--out", "o")
    assert res.returncode == 0, res.stderr
    rows = {r["policy"]: r for r in csv.DictReader((tmp_path / "o" / "summary.csv").open())}
    drop = ("policy",)
    same = {k: v for k, v in rows["sjf"].items() if k not in drop}
    assert same == {k: v for k, v in rows["sjf:sparse=no"].items() if k not in drop}
    assert same != {k: v for k, v in rows["sjf_sparse"].items() if k not in drop}


@pytest.mark.parametrize("spec", ["sdrm3:alpha=nan", "sdrm3:alpha=-5", "dysta:beta=inf",
                                  "dysta:beta=abc", "dysta:beta=", "planaria:resources=abc"])
def test_issue_policy_values_refused(rel, tmp_path, spec):
    line = rel.error(rel.cli("run", *rel.B, "--policies", spec, "--out", "o"), "--policies",
                     repr(spec), "valid keys")
    assert "Error" not in line.split(": error: ", 1)[1]  # no exception class names
    assert not (tmp_path / "o").exists()


# --- 3. duplicate axis values ----------------------------------------------------------------


@FUZZ
@given(key=st.sampled_from(["rates", "slos"]),
       values=st.lists(st.sampled_from(["3.0", "3", "3.00", "5.0", "3e0"]), min_size=2,
                       max_size=4))
def test_duplicate_axis_values_in_a_scenario_file(rel, tmp_path, key, values):
    src = Path(__file__).parents[2] / "sched" / "data" / "scenarios" / "cnn.toml"
    text = "\n".join(ln for ln in src.read_text().splitlines()
                     if not ln.startswith(("rates", "slos")))
    path = tmp_path / "dup.toml"
    shutil.rmtree(tmp_path / "o", ignore_errors=True)  # tmp_path is shared by the examples
    other = "slos" if key == "rates" else "rates"
    path.write_text(f"{text}\n{key} = [{', '.join(values)}]\n{other} = [10.0]\n")
    res = rel.cli("run", "--scenario", str(path), "--requests", "30", "--seeds", "1",
                  "--policies", "fcfs", "--jobs", "1", "--no-plots", "--out", "o")
    if len({float(v) for v in values}) < len(values):
        rel.error(res, "dup.toml", key, "distinct")
        assert not (tmp_path / "o").exists()
    else:
        assert res.returncode == 0, res.stderr
        rows = list(csv.DictReader((tmp_path / "o" / "summary.csv").open()))
        assert len(rows) == len(values)


@pytest.mark.parametrize(("option", "text"), [("--rates", "3,3"), ("--slo", "10,10.0"),
                                              ("--rates", "3,3e0")])
def test_duplicate_axis_values_on_the_command_line(rel, tmp_path, option, text):
    rel.error(rel.cli("run", *rel.B, option, text, "--out", "o"), option, "distinct")


# --- 4. report on a summary without a policy (or another needed) column --------------------


@pytest.mark.parametrize("column", ["policy", "recipe", "seed", "rate", "antt"])
def test_report_without_a_column(rel, tmp_path, column):
    res = rel.cli("run", *rel.B, "--policies", "fcfs,sjf", "--out", "r")
    assert res.returncode == 0, res.stderr
    path = tmp_path / "r" / "summary.csv"
    rows = list(csv.DictReader(path.open()))
    cols = [c for c in rows[0] if c != column]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    before = rel.snapshot(tmp_path / "r")
    rel.error(rel.cli("report", "r"), "summary.csv", column)
    assert rel.snapshot(tmp_path / "r") == before
