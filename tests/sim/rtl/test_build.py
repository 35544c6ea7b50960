"""`mmsched.sim.rtl.build`: the one cache key, the one Icarus time-0 fix, build folders under
the build folder, and the Verilator harness's reset-free wrapper (`no_reset_wrapper`: exactly
the top's ports; a function's input declarations inside the module are not ports)."""

import dataclasses
import re

import pytest

from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig
from mmsched.sim.rtl import build

VERILOG = """
module top(clk, rst, a, y);
  input clk;
  wire clk;
  input rst;
  input [7:0] a;
  output [3:0] y;
  function [3:0] _pick_;
    input [3:0] d;
    input [1:0] s;
    _pick_ = d >> s;
  endfunction
  assign y = _pick_(a[3:0], a[5:4]);
endmodule
"""

SCHED = SchedulerConfig(slots=2, models=1, patterns=1, layers=2)
ACC = AcceleratorConfig(rows=1, cols=2, chunk_depth=2, pe_buffer_depth=2, load_rows_per_cycle=1,
                        max_k=8, act_mem_words=4, wt_mem_words=4, out_mem_words=4)


def test_wrapper_ports_are_the_module_header():
    w = build.no_reset_wrapper(VERILOG, "top")
    assert "module top_no_reset(clk, a, y);" in w
    assert "input [7:0] a;" in w and "output [3:0] y;" in w
    assert " d;" not in w and " s;" not in w
    assert "top core (.clk(clk), .a(a), .y(y), .rst(1'b0));" in w


def test_wrapper_names_an_undeclared_port():
    with pytest.raises(RuntimeError, match=r"ports \['y'\]"):
        build.no_reset_wrapper(VERILOG.replace("  output [3:0] y;\n", ""), "top")


def test_icarus_fix_toggles_every_trigger_at_time_zero_on_icarus_only():
    text = build.verilog_text("scheduler", SCHED)
    triggers = re.findall(r"reg (\\\$auto\$verilog_backend\S+ )= 0;", text)
    assert triggers
    for t in triggers:
        assert f"`ifdef __ICARUS__\n  initial #0 {t}= 1;\n  `endif" in text
    assert text.count("initial #") == len(triggers)  # nothing else is delayed


def test_one_key_covers_config_simulator_and_sources(monkeypatch):
    key = build.cache_key("scheduler", SCHED)
    assert key == build.cache_key("scheduler", SCHED) and len(key) == 16
    assert key != build.cache_key("scheduler", dataclasses.replace(SCHED, slots=3))
    assert key != build.cache_key("scheduler", SCHED, "icarus")
    assert "cocotb" in build.simulator_version("icarus")
    sys_cfg = build.SystemConfig(SCHED, (ACC,))
    assert build.cache_key("system", sys_cfg) != build.cache_key("accelerator", ACC)
    # the ingredients: every elaborating hw module (spec included, not the Python models),
    # this package's build code and harnesses, the Amaranth version
    names = {p.relative_to(build.HW_DIR).as_posix() for p in build._rtl_sources()}
    assert {"system.py", "accel/top.py", "dysta/scheduler.py", "spec/accelerator.py"} <= names
    assert not any(n.startswith("cyclemodel/") for n in names) and "paths.py" not in names
    plumbing = {p.name for p in build._plumbing_files()}
    assert {"build.py", "ports.h", "accelerator_harness.cpp", "scheduler_harness.cpp",
            "system_harness.cpp"} <= plumbing
    build._sources_digest.cache_clear()
    import amaranth

    monkeypatch.setattr(amaranth, "__version__", "0.0-other")
    try:
        assert build.cache_key("scheduler", SCHED) != key
    finally:
        monkeypatch.undo()
        build._sources_digest.cache_clear()
    assert build.cache_key("scheduler", SCHED) == key
    with pytest.raises(TypeError, match="SchedulerConfig"):
        build.cache_key("scheduler", ACC)
    with pytest.raises(ValueError, match="unknown RTL top"):
        build.cache_key("gpu", ACC)


def test_verilog_cache_lives_in_the_build_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSCHED_BUILD_DIR", str(tmp_path))
    v = build.verilog_file("scheduler", SCHED)
    assert v == tmp_path / "verilog" / f"scheduler-{build.cache_key('scheduler', SCHED)}" / \
        "dysta_sched.v"
    assert v.read_text() == build.verilog_text("scheduler", SCHED)
    assert (v.parent / "dysta_sched.json").exists()
    mtime = v.stat().st_mtime_ns
    assert build.verilog_file("scheduler", SCHED) == v and v.stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob("verilog/*.tmp*"))
