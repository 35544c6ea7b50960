"""The ``verilator`` timing backend: the generated Verilog compiled by Verilator and driven
through ctypes (`mmsched.sim.rtl.verilator`; needs the ``rtl`` extra)."""

from mmsched.sim.rtl.backend import RtlBackend

from . import register_backend

register_backend("verilator")(lambda **kwargs: RtlBackend("verilator", **kwargs))
