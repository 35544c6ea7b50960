"""Comparator tree: the minimum (score, sequence number) among valid candidates."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import DYSTA_SEQ_BITS


class ComparatorTree(wiring.Component):
    """Picks the winner among ``count`` candidates in ceil(log2 count) registered levels.

    Tie-break (`mmsched.hw.spec.scheduler`; Python model
    `mmsched.hw.cyclemodel.dysta_sched.beats`): a valid candidate beats an invalid one;
    between valid ones the smaller score wins, and equal scores go to the smaller sequence
    number. At each level candidates are paired (0, 1), (2, 3), ...;
    an odd one out is registered unchanged.

    Ports
    -----
    valid : In(count)
    score : In(ArrayLayout(score_bits, count))
    seq : In(ArrayLayout(32, count))
    o_valid, o_index, o_score, o_seq : Out
        The winner, `latency` cycles after its inputs (combinational for ``count == 1``).
        ``o_valid`` is 0 when no input is valid (``o_index`` then meaningless).

    Parameters
    ----------
    count : int
        Number of candidates (positive, keyword-only).
    score_bits : int
        Score width (positive).
    """

    def __init__(self, *, count: int, score_bits: int) -> None:
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive integer, not {count!r}")
        if not isinstance(score_bits, int) or score_bits < 1:
            raise ValueError(f"score_bits must be a positive integer, not {score_bits!r}")
        self._count, self._score_bits = count, score_bits
        super().__init__({
            "valid": In(count),
            "score": In(data.ArrayLayout(score_bits, count)),
            "seq": In(data.ArrayLayout(DYSTA_SEQ_BITS, count)),
            "o_valid": Out(1), "o_index": Out(range(max(2, count))),
            "o_score": Out(score_bits), "o_seq": Out(DYSTA_SEQ_BITS)})

    @property
    def count(self) -> int:
        return self._count

    @property
    def latency(self) -> int:
        return (self._count - 1).bit_length()

    def elaborate(self, platform):
        m = Module()
        ib = max(1, (self._count - 1).bit_length())
        node = data.StructLayout({"valid": 1, "index": ib, "score": self._score_bits,
                                  "seq": DYSTA_SEQ_BITS})
        level = []
        for i in range(self._count):
            v = Signal(node, name=f"leaf_{i}")
            m.d.comb += [v.valid.eq(self.valid[i]), v.index.eq(i), v.score.eq(self.score[i]),
                         v.seq.eq(self.seq[i])]
            level.append(v)
        depth = 0
        while len(level) > 1:
            depth += 1
            nxt = []
            for j in range(0, len(level) - 1, 2):
                a, b = level[j], level[j + 1]
                a_wins = Signal(name=f"l{depth}_n{j // 2}_a_wins")
                # (score, seq) lexicographically: one wide comparison, seq in the low bits
                m.d.comb += a_wins.eq(a.valid & (~b.valid | (Cat(a.seq, a.score) <
                                                             Cat(b.seq, b.score))))
                o = Signal(node, name=f"l{depth}_n{j // 2}")
                m.d.sync += o.eq(Mux(a_wins, a, b))
                nxt.append(o)
            if len(level) % 2:
                o = Signal(node, name=f"l{depth}_n{len(level) // 2}")
                m.d.sync += o.eq(level[-1])
                nxt.append(o)
            level = nxt
        win = level[0]
        m.d.comb += [self.o_valid.eq(win.valid), self.o_index.eq(win.index),
                     self.o_score.eq(win.score), self.o_seq.eq(win.seq)]
        return m
