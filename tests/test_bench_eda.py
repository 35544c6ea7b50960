"""The synthesis benchmarks' report parsing (`bench/eda.py`): Yosys `stat` cell counts in the
current and the older report layout, and the LFE5U-85F fit check."""

import importlib.util
from pathlib import Path

# loaded from its file: bench/ is not a package and must stay off sys.path (bench/run.py)
_spec = importlib.util.spec_from_file_location(
    "_bench_eda", Path(__file__).resolve().parents[1] / "bench" / "eda.py")
eda = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eda)
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
