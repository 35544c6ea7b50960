"""One processing element of the output-stationary array."""

from __future__ import annotations

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed
from amaranth.lib import data, memory, wiring
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
        ``w_data[i]`` at the clock edge (the buffer is a memory of such words; entries beyond
        ``pe_buffer_depth`` are never read).
    shift : In(1)
        Drain: ``acc`` takes ``acc_in`` (the PE above) instead of accumulating.
    acc_in : In(signed(acc_width))
    acc : Out(signed(acc_width))
        The accumulator (register).

    Behaviour: at each clock edge ``product <= a_in.value * buffer[a_in.bank][a_in.k]`` (a
    pipeline register: the multiplier and the accumulator adder are in different cycles), and
    ``acc <= acc_in`` when ``shift``, else ``acc <= acc + product`` when the product is valid
    (wrapping to ``acc_width`` bits). The weight is read combinationally, so a weight written
    at edge t is used by an element presented from cycle t+1. ``latency``: ``a_in`` to
    ``a_out`` 1 cycle, to ``acc`` 2 cycles (`latency_acc`); the controller's flush of
    ``cols`` cycles covers both (the last column's element arrives cols - 1 cycles after the
    first column's). Datapath registers (weight memory, accumulator, element payload) have no reset
    (initial value 0; the drain clears the accumulator): only ``a_out.valid`` is reset, which
    keeps the reset net small and the Verilated model fast.
    """

    latency = 1
    latency_acc = 2

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
        depth, lw, kc = cfg.pe_buffer_depth, cfg.load_rows_per_cycle, cfg.chunk_depth
        # The two banks as one small memory of load words (``lw`` weights each), written a
        # whole word at a time and read asynchronously: LUT RAM on FPGAs, an array (not a mux
        # tree) in simulators.
        per_bank = max(cfg.words_per_chunk, -(-depth // lw))
        m.submodules.wbuf = wbuf = memory.Memory(
            shape=data.ArrayLayout(signed(cfg.data_width), lw), depth=2 * per_bank, init=[])
        wr = wbuf.write_port()
        rd = wbuf.read_port(domain="comb")
        m.d.comb += [wr.en.eq(self.w_en), wr.data.eq(self.w_data),
                     wr.addr.eq(Mux(self.w_bank, per_bank + self.w_word, self.w_word))]
        k = self.a_in.k
        if lw & (lw - 1) == 0:  # power of two: word and lane are bit fields of k
            shift = lw.bit_length() - 1
            word, lane = k >> shift, k & (lw - 1)
        else:
            word = Array(Const(i // lw, range(per_bank)) for i in range(kc))[k]
            lane = Array(Const(i % lw, range(lw)) for i in range(kc))[k]
        m.d.comb += rd.addr.eq(Mux(self.a_in.bank, per_bank + word, word))
        weight = Signal(signed(cfg.data_width))
        m.d.comb += weight.eq(rd.data[0] if lw == 1 else
                              rd.data.as_value().word_select(lane, cfg.data_width))
        payload = Signal.like(self.a_out, reset_less=True, name="a_payload")
        valid = Signal(name="a_valid")
        product = Signal(signed(2 * cfg.data_width), reset_less=True)
        product_valid = Signal()
        acc = Signal.like(self.acc, reset_less=True, name="acc_r")
        m.d.sync += [payload.eq(self.a_in), valid.eq(self.a_in.valid),
                     product.eq(self.a_in.value * weight), product_valid.eq(self.a_in.valid)]
        m.d.comb += [self.a_out.eq(payload), self.a_out.valid.eq(valid), self.acc.eq(acc)]
        with m.If(self.shift):
            m.d.sync += acc.eq(self.acc_in)
        with m.Elif(product_valid):
            m.d.sync += acc.eq(acc + product)
        return m
