"""The weight-chunk loader: weight memory -> PE weight buffers, and the chunk's live-row mask."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import LOAD_LATENCY_CYCLES, AcceleratorConfig

from .layouts import check_config, wt_word_layout


class WeightLoader(wiring.Component):
    """Loads one weight chunk into one bank of the PE buffers while the other bank computes.

    Parameters
    ----------
    config : AcceleratorConfig

    Ports
    -----
    start : In(1)
        Begin a chunk (one cycle): read ``nwords`` words from ``base``, into bank ``bank``.
        The first read is issued in the ``start`` cycle itself.
    base : In(weight address), nwords : In, bank : In(1)
        Sampled with ``start`` (``nwords`` >= 1).
    mem_addr, mem_en : Out
        Weight-memory read port (synchronous: data one cycle after ``mem_en``).
    mem_data : In(weight word)
    w_en, w_bank, w_word, w_data : Out
        To the array (`SystolicArray` ports of the same names): one word per cycle, in the
        cycle after its read.
    live : Out(chunk_depth)
        Register: bit k set when weight row k of the chunk has a non-zero among the columns;
        cleared by ``start``, complete once ``idle`` rises.
    idle : Out(1)
        No read left to issue and no data pending (registers only; it does not see a
        ``start`` of the same cycle, the controller does).

    Timing: ``start`` at cycle 0 -> reads at cycles 0..nwords-1, buffer writes and live-mask
    updates at the edges ending cycles 1..nwords, ``idle`` again from cycle nwords + 1 =
    nwords + LOAD_LATENCY_CYCLES - 1, so the load occupies L = nwords + ``latency`` cycles.
    """

    latency = LOAD_LATENCY_CYCLES

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        wpc = max(2, config.words_per_chunk)
        super().__init__({
            "start": In(1), "base": In(config.wt_addr_width), "nwords": In(range(wpc + 1)),
            "bank": In(1),
            "mem_addr": Out(config.wt_addr_width), "mem_en": Out(1),
            "mem_data": In(wt_word_layout(config)),
            "w_en": Out(1), "w_bank": Out(1), "w_word": Out(range(wpc)),
            "w_data": Out(wt_word_layout(config)),
            "live": Out(config.chunk_depth), "idle": Out(1),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        m = Module()
        lw, kc, C = cfg.load_rows_per_cycle, cfg.chunk_depth, cfg.cols
        left = Signal.like(self.nwords)  # reads still to issue after this cycle's
        addr = Signal.like(self.base)
        word = Signal.like(self.w_word)  # index of the word being read this cycle
        bank = Signal()
        pend = Signal()  # a read was issued last cycle: its data is on mem_data
        pend_word = Signal.like(self.w_word)
        with m.If(self.start):
            m.d.comb += [self.mem_en.eq(1), self.mem_addr.eq(self.base)]
            m.d.sync += [left.eq(self.nwords - 1), addr.eq(self.base + 1), word.eq(1),
                         bank.eq(self.bank), pend_word.eq(0), self.live.eq(0)]
        with m.Elif(left != 0):
            m.d.comb += [self.mem_en.eq(1), self.mem_addr.eq(addr)]
            m.d.sync += [left.eq(left - 1), addr.eq(addr + 1), word.eq(word + 1),
                         pend_word.eq(word)]
        m.d.sync += pend.eq(self.mem_en)
        m.d.comb += [self.w_en.eq(pend), self.w_bank.eq(bank), self.w_word.eq(pend_word),
                     self.w_data.eq(self.mem_data),
                     self.idle.eq((left == 0) & ~pend)]
        # live rows of the word on mem_data: rows pend_word*lw + i
        row_live = Signal(lw)
        m.d.comb += row_live.eq(Cat(*(Cat(*(self.mem_data[i][j] != 0 for j in range(C))).any()
                                      for i in range(lw))))
        with m.If(pend & ~self.start):
            for e in range(kc):
                with m.If(pend_word == e // lw):
                    m.d.sync += self.live[e].eq(self.live[e] | row_live[e % lw])
        return m
