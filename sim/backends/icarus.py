"""The ``icarus`` timing backend: the generated Verilog on Icarus under cocotb
(`mmsched.sim.rtl.icarus`), one simulation per layer. Slow: for checks, not experiments."""

from mmsched.sim.rtl.backend import RtlBackend

from . import register_backend

register_backend("icarus")(lambda **kwargs: RtlBackend("icarus", **kwargs))
