"""The sparse systolic accelerator in Amaranth HDL (one block per module).

`Accelerator` (top.py) is the component to instantiate; its timing contract is written once in
`mmsched.hw.spec.accelerator` and reproduced exactly by `mmsched.hw.cyclemodel.cycles`.
"""

from .top import TOP_NAME, Accelerator, accelerator_verilog

__all__ = ["TOP_NAME", "Accelerator", "accelerator_verilog"]
