"""One processing element of the output-stationary array."""

from __future__ import annotations

from amaranth.hdl import Array, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import check_config, element_layout


class ProcessingElement(wiring.Component):
    """A multiply-accumulate PE holding one output and a double-buffered weight chunk.

    Parameters
    ----------
    config : AcceleratorConfig

    Ports
    -----
    a_in : In(element)
        Activation stream element from the left (`mmsched.hw.spec.element_fields`).
    a_out : Out(element)
        ``a_in`` registered: the element for the right neighbour, one cycle later.
    w_en, w_bank, w_word, w_data : In
        Weight write: entries ``w_word*load_rows_per_cycle + i`` of bank ``w_bank`` take
        ``w_data[i]`` at the clock edge (entries beyond ``pe_buffer_depth`` are dropped).
    shift : In(1)
        Drain: ``acc`` takes ``acc_in`` (the PE above) instead of accumulating.
    acc_in : In(signed(acc_width))
    acc : Out(signed(acc_width))
        The accumulator (register).

    Behaviour: at each clock edge, ``acc <= acc_in`` when ``shift``, else
    ``acc <= acc + a_in.value * buffer[a_in.bank][a_in.k]`` when ``a_in.valid`` (wrapping to
    ``acc_width`` bits). The weight is read combinationally, so a weight written at edge t is
    used by an element presented from cycle t+1. ``latency`` = 1 (``a_in`` to ``a_out`` and
    to ``acc``). Datapath registers (weights, accumulator, element payload) have no reset
    (initial value 0; the drain clears the accumulator): only ``a_out.valid`` is reset, which
    keeps the reset net small and the Verilated model fast.
    """

    latency = 1

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        el = element_layout(config)
        super().__init__({
            "a_in": In(el), "a_out": Out(el),
            "w_en": In(1), "w_bank": In(1), "w_word": In(range(max(2, config.words_per_chunk))),
            "w_data": In(data.ArrayLayout(signed(config.data_width),
                                          config.load_rows_per_cycle)),
            "shift": In(1), "acc_in": In(signed(config.acc_width)),
            "acc": Out(signed(config.acc_width)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        m = Module()
        depth, lw = cfg.pe_buffer_depth, cfg.load_rows_per_cycle
        banks = [[Signal(signed(cfg.data_width), name=f"w{b}_{e}", reset_less=True)
                  for e in range(depth)] for b in range(2)]
        for b in range(2):
            for e in range(depth):
                with m.If(self.w_en & (self.w_bank == b) & (self.w_word == e // lw)):
                    m.d.sync += banks[b][e].eq(self.w_data[e % lw])
        weight = Signal(signed(cfg.data_width))
        m.d.comb += weight.eq(Array(Array(bank) for bank in banks)[self.a_in.bank][self.a_in.k])
        payload = Signal.like(self.a_out, reset_less=True, name="a_payload")
        valid = Signal(name="a_valid")
        acc = Signal.like(self.acc, reset_less=True, name="acc_r")
        m.d.sync += [payload.eq(self.a_in), valid.eq(self.a_in.valid)]
        m.d.comb += [self.a_out.eq(payload), self.a_out.valid.eq(valid), self.acc.eq(acc)]
        with m.If(self.shift):
            m.d.sync += acc.eq(self.acc_in)
        with m.Elif(self.a_in.valid):
            m.d.sync += acc.eq(acc + self.a_in.value * weight)
        return m
