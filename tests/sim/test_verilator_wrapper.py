"""The Verilator harness's reset-free wrapper (`_no_reset_wrapper`) keeps exactly the top's
ports: a function's input declarations inside the module are not ports."""

import pytest

from mmsched.sim.backends.verilator import _no_reset_wrapper

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


def test_wrapper_ports_are_the_module_header():
    w = _no_reset_wrapper(VERILOG, "top")
    assert "module top_no_reset(clk, a, y);" in w
    assert "input [7:0] a;" in w and "output [3:0] y;" in w
    assert " d;" not in w and " s;" not in w
    assert "top core (.clk(clk), .a(a), .y(y), .rst(1'b0));" in w


def test_wrapper_names_an_undeclared_port():
    with pytest.raises(RuntimeError, match=r"ports \['y'\]"):
        _no_reset_wrapper(VERILOG.replace("  output [3:0] y;\n", ""), "top")
