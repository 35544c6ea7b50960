"""The ``amaranth`` timing backend: the accelerator RTL on Amaranth's simulator
(`mmsched.sim.rtl.amaranth`). Slow (about a thousand cycles per second at 8x8): for unit tests
and small checks; use ``verilator`` for whole layers."""

from mmsched.sim.rtl.backend import RtlBackend

from . import register_backend

register_backend("amaranth")(lambda **kwargs: RtlBackend("amaranth", **kwargs))
