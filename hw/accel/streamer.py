"""The activation streamer/compressor of one array row: a dense chunk word in, (value, k) out."""

from __future__ import annotations

import operator
from functools import reduce

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import act_word_layout, check_config, element_layout


class ActivationStreamer(wiring.Component):
    """Compresses one row's activation chunk into a stream of (value, k) elements.

    Parameters
    ----------
    config : AcceleratorConfig
        ``dense`` selects dense mode (every valid k streamed, zeros included).

    Ports
    -----
    word : In(activation word)
        The row's chunk (``chunk_depth`` activations), sampled at ``load``.
    live : In(chunk_depth)
        Live weight rows of the chunk (from the weight loader), sampled at ``load``.
    kvalid : In(chunk_depth)
        Bit k set when ``k`` < the chunk's rows (the last chunk of K may be short).
    row_valid : In(1)
        The row exists (m < M); an invalid row streams nothing.
    bank : In(1)
        Weight bank of the chunk being loaded.
    load : In(1)
        At this clock edge take a new chunk: ``pending <= kvalid & row_valid &
        (dense ? 1 : (word != 0) & live)``.
    out : Out(element)
        The lowest pending k, combinationally (``valid`` = any pending; with nothing pending
        ``value`` is 0, which the PEs rely on: an invalid element adds 0); each edge without
        ``load`` clears it. A chunk of S pending elements streams in the S cycles after its
        load edge (``latency`` = 1).
    last : Out(1)
        At most one element pending (this cycle is the lane's last of the chunk, or it is idle).
    nnz : Out(range(chunk_depth + 1))
        Non-zero valid activations of ``word`` (0 for an invalid row; combinational; the
        monitor's count).
    """

    latency = 1

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        kc = config.chunk_depth
        super().__init__({
            "word": In(act_word_layout(config)), "live": In(kc), "kvalid": In(kc),
            "row_valid": In(1), "bank": In(1), "load": In(1),
            "out": Out(element_layout(config)), "last": Out(1), "nnz": Out(range(kc + 1)),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        kc = cfg.chunk_depth
        m = Module()
        values = Signal(act_word_layout(cfg), reset_less=True)  # only ``pending`` is reset
        pending = Signal(kc)
        bank = Signal(reset_less=True)

        def nonzero():
            """The non-zero valid activations of ``word``, a fresh expression per use (the
            load edge, the monitor's count) rather than one named signal: 4 % fewer
            instructions per cycle in the Verilated 16x16 array (callgrind); synthesis merges
            the copies."""
            return (Cat(*(self.word[i] != 0 for i in range(kc))) & self.kvalid
                    & self.row_valid.replicate(kc))

        nz = nonzero()
        m.d.comb += self.nnz.eq(sum(nz[i] for i in range(kc)))
        keep = self.kvalid if cfg.dense else nonzero() & self.live
        with m.If(self.load):
            m.d.sync += [values.eq(self.word), bank.eq(self.bank),
                         pending.eq(keep & self.row_valid.replicate(kc))]
        with m.Else():
            m.d.sync += pending.eq(pending & (pending - 1))
        # priority encoder: the lowest pending index, by halving (per level: is the lower half
        # empty? then the index bit is 1 and the upper half goes on), no chain of kc
        # conditions; with nothing pending k is 2**levels - 1 (out.valid is 0 then)
        k = Signal(range(kc))
        levels = (kc - 1).bit_length()
        rest, bits = Cat(pending, Const(0, (1 << levels) - kc)), []
        for lv in reversed(range(levels)):
            half = 1 << lv
            upper = Signal(name=f"enc_upper{lv}")
            m.d.comb += upper.eq(rest[:half] == 0)
            bits.insert(0, upper)
            rest = Mux(upper, rest[half:2 * half], rest[:half])
        m.d.comb += k.eq(Cat(*bits))
        # values[k] without a mux tree on k (which a compiled simulator turns into
        # data-dependent branches, every cycle in every lane): the 32-bit group holding
        # element k by an AND-OR with decoded group enables, then a shift within the group
        dw = cfg.data_width
        per_group = max(1, 32 // dw)
        ngroups = -(-kc // per_group)
        flat = values.as_value()
        if per_group & (per_group - 1) == 0:
            g_of_k, i_in_g = k >> (per_group.bit_length() - 1), k & (per_group - 1)
        else:
            g_of_k = Array(Const(i // per_group, range(ngroups)) for i in range(kc))[k]
            i_in_g = Array(Const(i % per_group, range(per_group)) for i in range(kc))[k]
        group = Signal(per_group * dw)
        m.d.comb += group.eq(reduce(operator.or_, (
            flat[g * per_group * dw:(g + 1) * per_group * dw]
            & (g_of_k == g).replicate(per_group * dw) for g in range(ngroups))))
        m.d.comb += [
            self.out.valid.eq(pending.any()),
            self.out.k.eq(k),
            self.out.value.eq(group.word_select(i_in_g, dw) & pending.any().replicate(dw)),
            self.out.bank.eq(bank),
            self.last.eq((pending & (pending - 1)) == 0),
        ]
        return m
