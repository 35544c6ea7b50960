"""Moving a request's activations between accelerators of a multi-accelerator system.

When a request's next layer runs on a different accelerator than its last one, its input
activations move through the shared DRAM: the producer writes them, the consumer reads them.
`TransferCost` states the two figures of that model; `TransferModel` binds them to a system
and the engine's clock, and is what the engine charges and what policies may ask.

Model (docs/realtime.md, "Transfers"): ``bytes = M x K x groups x data_width / 8`` of the
layer's input activations on the destination accelerator; the transfer occupies the
destination for ``ceil(bytes / bandwidth x clock)`` cycles before the layer starts, and costs
``bytes x pj_per_byte``. DRAM contention between simultaneous transfers is not modelled.
Layers known only by a latency table (``kind == "table"``) have no shape and move nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mmsched.hw.spec import AcceleratorConfig

from .model import Layer

__all__ = ["TransferCost", "TransferModel"]


@dataclass(frozen=True)
class TransferCost:
    """DRAM transfer figures (validated at construction).

    Defaults: 16 GB/s, an LPDDR4X-4266 channel of 32 bits (17.1 GB/s peak) at ~94 %
    efficiency, the memory class of standalone XR headsets; 325 pJ per byte moved, one DRAM
    write plus one read at 162.5 pJ/byte each (M. Horowitz, ISSCC 2014, 45 nm, the low end of
    1.3-2.6 nJ per 64-bit access; the same figure as `EnergyTable.dram_pj_per_byte`).
    """

    bandwidth_bytes_per_s: float = 16e9
    pj_per_byte: float = 325.0

    def __post_init__(self) -> None:
        bw, e = self.bandwidth_bytes_per_s, self.pj_per_byte
        if isinstance(bw, bool) or not isinstance(bw, int | float) or not bw > 0 \
                or not math.isfinite(bw):
            raise ValueError(f"bandwidth_bytes_per_s must be a positive number, not {bw!r}")
        if isinstance(e, bool) or not isinstance(e, int | float) or not e >= 0 \
                or not math.isfinite(e):
            raise ValueError(f"pj_per_byte must be a number >= 0, not {e!r}")


class TransferModel:
    """`TransferCost` on a system: the cost of moving a layer's input to accelerator ``dst``.

    ``cycles`` are of the engine's clock ``clock_hz``.
    """

    __slots__ = ("clock_hz", "cost_figures", "system")

    def __init__(self, cost: TransferCost, system: Sequence[AcceleratorConfig],
                 clock_hz: float) -> None:
        if not clock_hz > 0:
            raise ValueError(f"clock_hz must be positive, not {clock_hz!r}")
        self.cost_figures = cost
        self.system = tuple(system)
        self.clock_hz = float(clock_hz)

    def input_bytes(self, layer: Layer, dst: int) -> float:
        """Bytes of the layer's input activations in ``dst``'s data width."""
        if layer.kind == "table":
            return 0.0
        return layer.m * layer.k * layer.groups * self.system[dst].data_width / 8

    def cost(self, layer: Layer, dst: int) -> tuple[int, float]:
        """``(cycles, picojoules)`` of moving ``layer``'s input to accelerator ``dst``."""
        b = self.input_bytes(layer, dst)
        if b == 0:
            return 0, 0.0
        cycles = math.ceil(b / self.cost_figures.bandwidth_bytes_per_s * self.clock_hz)
        return cycles, b * self.cost_figures.pj_per_byte
