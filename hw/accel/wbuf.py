"""The double-buffered weight chunk of one array column, read by every PE of the column."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Value, signed
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import check_config


def words_per_bank(cfg: AcceleratorConfig) -> int:
    """Buffer words (``load_rows_per_cycle`` weights each) per bank: a chunk's load words,
    and at least ``pe_buffer_depth`` weights."""
    return max(cfg.words_per_chunk, -(-cfg.pe_buffer_depth // cfg.load_rows_per_cycle))


def buffer_word_layout(cfg: AcceleratorConfig) -> data.ArrayLayout:
    """One write word: ``load_rows_per_cycle`` weights, weight i at bits [i*dw, (i+1)*dw)."""
    return data.ArrayLayout(signed(cfg.data_width), cfg.load_rows_per_cycle)


def lane_bits(cfg: AcceleratorConfig) -> int:
    """Address bits of the weight within its word: ceil(log2(load_rows_per_cycle))."""
    return (cfg.load_rows_per_cycle - 1).bit_length()


def entries_per_bank(cfg: AcceleratorConfig) -> int:
    """Buffer entries per bank: ``words_per_bank`` words of ``2**lane_bits`` entries (the
    entries beyond ``load_rows_per_cycle`` in a word are never written or read)."""
    return words_per_bank(cfg) << lane_bits(cfg)


def buffer_address(cfg: AcceleratorConfig, bank: Value, word: Value, lane: Value) -> Value:
    """The buffer entry of weight ``lane`` of word ``word`` of bank ``bank``: the lane in the
    low ``lane_bits``, above it ``bank*words_per_bank + word`` (bit fields when the bank size
    is a power of two). The entries of one word differ only in the constant low bits, so the
    word's writes are one wide write port to Yosys."""
    per_bank = words_per_bank(cfg)
    if per_bank & (per_bank - 1) == 0:
        hi = Cat(word[:per_bank.bit_length() - 1], bank)
    else:
        hi = Mux(bank, per_bank + word, word)
    return Cat(lane[:lane_bits(cfg)], hi) if lane_bits(cfg) else hi


class WeightBuffer(wiring.Component):
    """Two banks of weights for the PEs of one column (all PEs of a column hold the same
    weights: their writes come down one bus), with one read port per PE.

    Parameters
    ----------
    config : AcceleratorConfig
    readers : int
        Read ports (the array's rows), a positive integer.

    Ports
    -----
    w_en, w_bank, w_word, w_data : In
        Weight write: weights ``w_word*load_rows_per_cycle + i`` of bank ``w_bank`` take
        ``w_data[i]`` at the clock edge (weights beyond ``pe_buffer_depth`` are never read).
    rd_addr : In(ArrayLayout(address, readers)), rd_data : Out(ArrayLayout(weight, readers))
        Asynchronous reads: ``rd_data[i]`` is the weight at entry ``rd_addr[i]``
        (`buffer_address`) in the same cycle, so a weight written at edge t is read from
        cycle t+1. ``latency`` = 0.

    A memory of single weights, written a word (``load_rows_per_cycle`` entries that differ
    only in the low address bits) per cycle and read asynchronously: Yosys merges the word's
    write ports into one wide port and maps LUT RAM on FPGAs (one copy per read port, as if
    every PE had its own), and a compiled simulator reads a PE's weight with one load (no
    word select and shift per PE).
    """

    latency = 0

    def __init__(self, *, config: AcceleratorConfig, readers: int = 1) -> None:
        check_config(self, config)
        if not isinstance(readers, int) or isinstance(readers, bool) or readers < 1:
            self._MustUse__silence = True  # Amaranth's unused-elaboratable check
            raise ValueError(f"readers must be a positive integer, not {readers!r}")
        self._cfg = config
        self._readers = readers
        addr = range(2 * entries_per_bank(config))
        super().__init__({
            "w_en": In(1), "w_bank": In(1), "w_word": In(range(max(2, config.words_per_chunk))),
            "w_data": In(buffer_word_layout(config)),
            "rd_addr": In(data.ArrayLayout(addr, readers)),
            "rd_data": Out(data.ArrayLayout(signed(config.data_width), readers)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    @property
    def readers(self) -> int:
        return self._readers

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        m = Module()
        # ``ram_style``: LUT RAM copied per read port, as when each PE had its own buffer
        # (without it Yosys maps a buffer with 8 or more readers to flip-flops and muxes)
        m.submodules.mem = mem = memory.Memory(
            shape=signed(cfg.data_width), depth=2 * entries_per_bank(cfg), init=[],
            attrs={"ram_style": "distributed"})
        lb = lane_bits(cfg)
        for i in range(cfg.load_rows_per_cycle):  # a port per weight of the word: one to Yosys
            wr = mem.write_port()
            m.d.comb += [wr.en.eq(self.w_en), wr.data.eq(self.w_data[i]),
                         wr.addr.eq(buffer_address(cfg, self.w_bank, self.w_word,
                                                   Const(i, max(1, lb))))]
        for i in range(self._readers):
            rd = mem.read_port(domain="comb")
            m.d.comb += [rd.addr.eq(self.rd_addr[i]), self.rd_data[i].eq(rd.data)]
        return m
