"""One processing element of the output-stationary array."""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import check_config, element_layout
from .wbuf import buffer_address, buffer_word_layout, words_per_bank


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
        Weight read (combinational, same cycle): the buffer word holding weight
        ``buffer[a_in.bank][a_in.k]`` (`mmsched.hw.accel.wbuf.buffer_address`) and that word.
    shift : In(1)
        Drain: ``acc`` takes ``acc_in`` (the PE above) instead of accumulating.
    acc_in : In(signed(acc_width))
    acc : Out(signed(acc_width))
        The accumulator (register).

    Behaviour: at each clock edge ``product <= a_in.value * buffer[a_in.bank][a_in.k]`` for a
    valid element, else 0 (a pipeline register: the multiplier and the accumulator adder are
    in different cycles), and ``acc <= acc_in`` when ``shift``, else ``acc <= acc + product``
    (wrapping to ``acc_width`` bits; an invalid element adds 0). The weight is read
    combinationally, so a weight written at edge t is used by an element presented from cycle
    t+1. ``latency``: ``a_in`` to
    ``a_out`` 1 cycle, to ``acc`` 2 cycles (`latency_acc`); the controller's flush of
    ``cols`` cycles covers both (the last column's element arrives cols - 1 cycles after the
    first column's). Datapath registers (accumulator, product, element payload) have no reset
    (initial value 0; the drain clears the accumulator): only ``a_out.valid`` is reset, which
    keeps the reset net small.

    The datapath is written for a fast compiled simulation (Verilator evaluates every PE every
    cycle, so its cost per PE sets the array's speed), with the same registers and timing: no
    data-dependent branch (the invalid product is 0, the accumulator a single select), the
    buffer address as bit fields when the bank size is a power of two, a 32-bit wide
    multiplication (see ``elaborate``), the element passed on as a plain register copy, and
    the weight buffer shared by the column (one write per column, not per PE).
    """

    latency = 1
    latency_acc = 2

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        el = element_layout(config)
        super().__init__({
            "a_in": In(el), "a_out": Out(el),
            "w_addr": Out(range(2 * words_per_bank(config))),
            "w_rdata": In(buffer_word_layout(config)),
            "shift": In(1), "acc_in": In(signed(config.acc_width)),
            "acc": Out(signed(config.acc_width)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        m = Module()
        lw, kc = cfg.load_rows_per_cycle, cfg.chunk_depth
        # The weight of the element: word ``k // lw`` of bank ``bank`` of the column's buffer
        # (`WeightBuffer`, read combinationally), lane ``k % lw`` of that word.
        k = self.a_in.k
        if lw & (lw - 1) == 0:  # power of two: word and lane are bit fields of k
            shift = lw.bit_length() - 1
            word, lane = k >> shift, k & (lw - 1)
        else:
            word = Array(Const(i // lw, range(words_per_bank(cfg))) for i in range(kc))[k]
            lane = Array(Const(i % lw, range(lw)) for i in range(kc))[k]
        m.d.comb += self.w_addr.eq(buffer_address(cfg, self.a_in.bank, word))
        # The weight, sign-extended so that the product is computed 32 bits wide: a machine
        # word for a compiled simulator (one sign extension per operand, not two); synthesis
        # removes the copies of the sign bit, and the product register keeps 2*data_width bits.
        weight = Signal(signed(max(cfg.data_width, 32 - cfg.data_width)))
        m.d.comb += weight.eq((self.w_rdata[0] if lw == 1 else self.w_rdata.as_value()
                               .word_select(lane, cfg.data_width)).as_signed())
        # The element register: ``valid`` (bit 0 of the element, reset) and the other fields
        # (no reset), so the element passes to the right neighbour as a plain copy.
        el_bits = self.a_in.as_value()
        payload = Signal(len(el_bits) - 1, reset_less=True, name="a_payload")
        valid = Signal(name="a_valid")
        # ``product`` is 0 for an invalid element, so the accumulator adds it unconditionally
        # (no branch per PE in a compiled simulator; a synchronous reset of the product
        # register on an FPGA).
        product = Signal(signed(2 * cfg.data_width), reset_less=True)
        acc = Signal.like(self.acc, reset_less=True, name="acc_r")
        m.d.sync += [payload.eq(el_bits[1:]), valid.eq(self.a_in.valid),
                     product.eq(Mux(self.a_in.valid, self.a_in.value * weight, 0)),
                     acc.eq(Mux(self.shift, self.acc_in, acc + product))]
        m.d.comb += [self.a_out.eq(Cat(valid, payload)), self.acc.eq(acc)]
        return m
