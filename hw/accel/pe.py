"""One processing element of the output-stationary array."""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import check_config, element_layout
from .wbuf import buffer_address, entries_per_bank, words_per_bank


class ProcessingElement(wiring.Component):
    """A multiply-accumulate PE holding one output; it reads its weights from the column's
    double-buffered weight chunk (`mmsched.hw.accel.wbuf.WeightBuffer`).

    Parameters
    ----------
    config : AcceleratorConfig

    Ports
    -----
    a_in : In(element)
        Activation stream element from the left (`mmsched.hw.spec.element_fields`).
    a_out : Out(element)
        ``a_in`` registered: the element for the right neighbour, one cycle later.
    w_addr : Out, w_rdata : In
        Weight read (combinational, same cycle): the buffer entry of weight
        ``buffer[a_in.bank][a_in.k]`` (`mmsched.hw.accel.wbuf.buffer_address`) and that weight.
    shift : In(1)
        Drain: ``acc`` takes ``acc_in`` (the PE above) instead of accumulating.
    acc_in : In(signed(acc_width))
    acc : Out(signed(acc_width))
        The accumulator (register).

    Behaviour: at each clock edge ``product <= a_in.value * buffer[a_in.bank][a_in.k]`` (a
    pipeline register: the multiplier and the accumulator adder are in different cycles), and
    ``acc <= acc_in`` when ``shift``, else ``acc <= acc + product`` (wrapping to ``acc_width``
    bits). An invalid element carries value 0 (the streamer's invariant,
    `mmsched.hw.accel.streamer.ActivationStreamer`), so its product is 0 without a valid gate.
    The weight is read combinationally, so a weight written at edge t is used by an element
    presented from cycle t+1. ``latency``: ``a_in`` to ``a_out`` 1 cycle, to ``acc`` 2 cycles
    (`latency_acc`); the controller's flush of ``cols`` cycles covers both (the last column's
    element arrives cols - 1 cycles after the first column's). Datapath registers
    (accumulator, product, element payload) have no reset (initial value 0; the drain clears
    the accumulator): only ``a_out.valid`` is reset, which keeps the reset net small.

    The datapath is written for a fast compiled simulation (Verilator evaluates every PE every
    cycle, so its instructions per PE set the array's speed), with the same registers and
    timing: no data-dependent branch and no valid gate (the accumulator a single select), one
    weight per buffer entry (a load, no word select), the buffer address as bit fields of the
    element, a 32-bit wide multiplication and accumulation in unsigned machine words (see
    ``elaborate``), the element passed on as a plain register copy, and the weight buffer
    shared by the column (one write per column, not per PE).
    """

    latency = 1
    latency_acc = 2

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        el = element_layout(config)
        super().__init__({
            "a_in": In(el), "a_out": Out(el),
            "w_addr": Out(range(2 * entries_per_bank(config))),
            "w_rdata": In(signed(config.data_width)),
            "shift": In(1), "acc_in": In(signed(config.acc_width)),
            "acc": Out(signed(config.acc_width)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        m = Module()
        # The weight of the element: entry ``k % lw`` of word ``k // lw`` of bank ``bank`` of
        # the column's buffer (`WeightBuffer`, read combinationally): the bits of ``k`` when
        # ``lw`` is a power of two.
        lw, kc = cfg.load_rows_per_cycle, cfg.chunk_depth
        k = self.a_in.k
        if lw & (lw - 1) == 0:
            shift = lw.bit_length() - 1
            word, lane = k >> shift, k & (lw - 1)
        else:
            word = Array(Const(i // lw, range(words_per_bank(cfg))) for i in range(kc))[k]
            lane = Array(Const(i % lw, range(lw)) for i in range(kc))[k]
        m.d.comb += self.w_addr.eq(buffer_address(cfg, self.a_in.bank, word, lane))
        # The weight, sign-extended so that the product is computed 32 bits wide: a machine
        # word for a compiled simulator (one sign extension per operand, not two).
        weight = Signal(signed(max(cfg.data_width, 32 - cfg.data_width)))
        m.d.comb += weight.eq(self.w_rdata)
        # The element register: ``valid`` (bit 0 of the element, reset) and the other fields
        # (no reset), so the element passes to the right neighbour as a plain copy.
        el_bits = self.a_in.as_value()
        payload = Signal(len(el_bits) - 1, reset_less=True, name="a_payload")
        valid = Signal(name="a_valid")
        # The product register and the accumulator as ``acc_width``-bit unsigned words (two's
        # complement bits): the sum wraps by truncation, no sign extension per cycle in a
        # compiled simulator. Synthesis keeps the product 2*data_width bits wide (Yosys narrows
        # the signed multiplier and merges the flip-flops of its sign copies).
        aw = cfg.acc_width
        product = Signal(aw, reset_less=True)
        acc = Signal(aw, reset_less=True, name="acc_r")
        m.d.sync += [payload.eq(el_bits[1:]), valid.eq(self.a_in.valid),
                     product.eq((self.a_in.value * weight).as_unsigned()[:aw]),
                     acc.eq(Mux(self.shift, self.acc_in.as_unsigned(), acc + product))]
        m.d.comb += [self.a_out.eq(Cat(valid, payload)), self.acc.eq(acc.as_signed())]
        return m
