"""The synthesis benchmarks' report parsing (`bench/eda.py`): Yosys `stat` cell counts in the
current and the older report layout, and the LFE5U-85F fit check; how `bench/synth.py` keeps
earlier place-and-route figures in results.json."""

import importlib.util
import sys
from pathlib import Path


def _load(name: str, stem: str):
    # loaded from its file: bench/ is not a package and must stay off sys.path (bench/run.py)
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parents[1] / "bench" / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


eda = _load("_bench_eda", "eda")
_saved = sys.modules.get("eda")
sys.modules["eda"] = eda  # what synth.py imports
try:
    synth = _load("_bench_synth", "synth")
finally:
    if _saved is None:
        del sys.modules["eda"]
    else:
        sys.modules["eda"] = _saved
ECP5_CELLS, XC7_CELLS, cells, ecp5_overflow = eda.ECP5_CELLS, eda.XC7_CELLS, eda.cells, \
    eda.ecp5_overflow

STAT_070 = """
5. Printing statistics.

=== accelerator ===
     1111 wires
       13 ports
       99   LUT4
6. Printing statistics.

=== accelerator ===

        +----------Local Count, excluding submodules.
        |
    17322 wires
    17322 public wires
       13 ports
    20014 cells
       84   $scopeinfo
     1475   CCU2C
       62   DP16KD
     8440   LUT4
       66   MULT18X18D
      512   TRELLIS_DPR16X4
     7761   TRELLIS_FF
"""

STAT_OLD = """
Printing statistics.

=== accelerator ===

   Number of wires:              18913
   Number of cells:              31741
     DSP48E1                       258
     FDRE                        13488
     FDSE                           12
     LUT2                          993
     LUT6                         2917
     RAM32M                       1536
     RAMB18E1                       58
     RAMB36E1                       32
     SRL16E                        416
"""


def test_cells_reads_the_last_report_only():
    c = cells(STAT_070, ECP5_CELLS)
    assert c == {"LUT4": 8440, "CCU2C": 1475, "FF": 7761, "MULT18": 66, "BRAM": 62,
                 "LUTRAM": 512, "PFUMX": 0, "L6MUX21": 0}


def test_cells_older_layout_sums_matching_types():
    c = cells(STAT_OLD, XC7_CELLS)
    assert c == {"LUT": 993 + 2917, "FF": 13488 + 12, "DSP": 258, "BRAM": 58 + 32,
                 "LUTRAM": 1536 + 416}


def test_ecp5_overflow_counts_carry_and_lutram_as_two_sites():
    c = {"LUT4": 83_640 - 2 * 10 - 2 * 5, "CCU2C": 10, "LUTRAM": 5, "FF": 1, "MULT18": 156,
         "BRAM": 208}
    assert ecp5_overflow(c) == []
    assert ecp5_overflow(dict(c, LUT4=c["LUT4"] + 1)) == ["COMB 83,641 > 83,640"]
    assert ecp5_overflow(dict(c, MULT18=157, FF=90_000)) == ["FF 90,000 > 83,640",
                                                            "MULT18 157 > 156"]


def test_synth_keeps_earlier_pnr_figures_of_the_same_verilog_only():
    pnr = {"fmax_mhz": 52.65, "fmax_placed_mhz": 43.58, "pnr_seconds": 434.0,
           "pnr_util": {"TRELLIS_COMB": [1, 2]}, "router": "router1"}
    earlier = {"config": "8x8", "verilog_sha256": "aa", "ecp5": {"LUT4": 1}, **pnr}
    no_pnr = {"config": "8x8", "verilog_sha256": "aa", "ecp5": {"LUT4": 2}}
    kept = synth.merge_entry(no_pnr, earlier)
    assert kept == {**no_pnr, **pnr, "pnr_from_earlier_run": True}
    assert "earlier run, same Verilog" in synth._fmax(kept)
    assert synth.merge_entry(dict(no_pnr, verilog_sha256="bb"), earlier) == \
        dict(no_pnr, verilog_sha256="bb")
    assert synth.merge_entry(no_pnr, None) == no_pnr
    fresh = dict(no_pnr, fmax_mhz=None, fmax_placed_mhz=30.0, pnr_seconds=9.0, pnr_util={},
                 router="router2", pnr_error="timed out")
    assert synth.merge_entry(fresh, earlier) == fresh  # a new place and route replaces it
    assert synth.merge_entry(no_pnr, dict(earlier, pnr_error="x"))["pnr_error"] == "x"
