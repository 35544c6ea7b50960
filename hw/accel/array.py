"""The R x C output-stationary PE array with skewed weight-column buses and a drain chain."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import check_config, element_layout, wt_word_layout
from .pe import ProcessingElement
from .wbuf import WeightBuffer


class SystolicArray(wiring.Component):
    """``rows x cols`` PEs: activations flow left to right, outputs drain downwards.

    Parameters
    ----------
    config : AcceleratorConfig

    Ports
    -----
    a_in : In(ArrayLayout(element, rows))
        Element entering PE (r, 0) of each row r; it reaches column j j cycles later.
    w_en, w_bank, w_word : In
        Weight write, into every column's weight buffer (`mmsched.hw.accel.wbuf.WeightBuffer`,
        read by the column's ``rows`` PEs).
    w_data : In(weight-memory word)
        ``load_rows_per_cycle`` rows of ``cols`` weights; column j takes ``w_data[i][j]``.
        The write of column j is delayed j cycles (a register chain along the top), the same
        skew as the activations, so every column sees the same write/read order as column 0.
    shift : In(1)
        Drain: every PE's accumulator moves one row down; row 0 takes 0, so after ``rows``
        shift cycles the array is cleared.
    out_row : Out(ArrayLayout(signed(acc_width), cols))
        The bottom row's accumulators (row rows-1-d during drain cycle d).

    ``latency`` = ``cols``: an element presented on ``a_in`` at cycle t has been accumulated
    by every column of its row after the edge ending cycle t + cols (it reaches column j at
    t + j; the PE's product register adds one cycle).
    """

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        el = element_layout(config)
        super().__init__({
            "a_in": In(data.ArrayLayout(el, config.rows)),
            "w_en": In(1), "w_bank": In(1), "w_word": In(range(max(2, config.words_per_chunk))),
            "w_data": In(wt_word_layout(config)),
            "shift": In(1),
            "out_row": Out(data.ArrayLayout(signed(config.acc_width), config.cols)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    @property
    def latency(self) -> int:
        return self._cfg.cols

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        m = Module()
        R, C, lw = cfg.rows, cfg.cols, cfg.load_rows_per_cycle
        col_layout = data.ArrayLayout(signed(cfg.data_width), lw)
        # Weight bus of column j: (en, bank, word, data[:, j]) delayed j cycles. One register
        # chain carries (en, bank, word) and column j taps its stage j; each column's data has
        # its own chain, whose registers load only with an enable (a word is written to the
        # PEs only with it, so the data of disabled stages is never used).
        ctl = [(self.w_en, self.w_bank, self.w_word)]
        for d in range(C - 1):  # only the enable is reset (datapath registers need none)
            en, bank, word = ctl[-1]
            en_d = Signal(name=f"wbus_en_d{d}")
            bank_d = Signal(name=f"wbus_bank_d{d}", reset_less=True)
            word_d = Signal.like(self.w_word, name=f"wbus_word_d{d}", reset_less=True)
            m.d.sync += en_d.eq(en)
            with m.If(en):
                m.d.sync += [bank_d.eq(bank), word_d.eq(word)]
            ctl.append((en_d, bank_d, word_d))
        buses = []
        for j in range(C):
            wd = Signal(col_layout, name=f"wcol{j}_data_in")
            m.d.comb += [wd[i].eq(self.w_data[i][j]) for i in range(lw)]
            for d in range(j):
                wd_d = Signal(col_layout, name=f"wcol{j}_data_d{d}", reset_less=True)
                with m.If(ctl[d][0]):
                    m.d.sync += wd_d.eq(wd)
                wd = wd_d
            buses.append((*ctl[j], wd))
        bufs = []
        for j, (en, bank, word, wd) in enumerate(buses):
            buf = WeightBuffer(config=cfg, readers=R)
            m.submodules[f"wbuf_{j}"] = buf
            m.d.comb += [buf.w_en.eq(en), buf.w_bank.eq(bank), buf.w_word.eq(word),
                         buf.w_data.eq(wd)]
            bufs.append(buf)
        pes = [[ProcessingElement(config=cfg) for _ in range(C)] for _ in range(R)]
        for r in range(R):
            for j in range(C):
                pe = pes[r][j]
                m.submodules[f"pe_{r}_{j}"] = pe
                m.d.comb += [
                    pe.a_in.eq(self.a_in[r] if j == 0 else pes[r][j - 1].a_out),
                    bufs[j].rd_addr[r].eq(pe.w_addr), pe.w_rdata.eq(bufs[j].rd_data[r]),
                    pe.shift.eq(self.shift),
                    pe.acc_in.eq(0 if r == 0 else pes[r - 1][j].acc),
                ]
        m.d.comb += [self.out_row[j].eq(pes[R - 1][j].acc) for j in range(C)]
        return m
