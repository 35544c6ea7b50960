"""Cycle-exact Python models of the accelerator's blocks (numpy only; no Amaranth).

Each model mirrors one block of `mmsched.hw.accel` at its ports, one `step` per clock edge,
outputs read before the edge; the block's Amaranth unit test drives both with the same
seeded random inputs and compares them cycle by cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmsched.hw.spec import AcceleratorConfig


def _wrap(v: int, width: int) -> int:
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


@dataclass
class Element:
    """A stream element (`mmsched.hw.spec.element_fields`)."""

    valid: int = 0
    value: int = 0
    k: int = 0
    bank: int = 0


class PEModel:
    """`mmsched.hw.accel.pe.ProcessingElement`."""

    def __init__(self, cfg: AcceleratorConfig) -> None:
        self.cfg = cfg
        self.buf = [[0] * cfg.pe_buffer_depth for _ in range(2)]
        self.acc = 0
        self.a_out = Element()
        self.product = 0

    def step(self, a_in: Element, *, w_en=0, w_bank=0, w_word=0, w_data=(), shift=0,
             acc_in=0) -> None:
        cfg = self.cfg
        if a_in.value and not a_in.valid:
            raise ValueError("an invalid element carries value 0 (the streamer's invariant)")
        new_acc = acc_in if shift else _wrap(self.acc + self.product, cfg.acc_width)
        self.product = a_in.value * self.buf[a_in.bank][a_in.k]
        if w_en:
            for i, v in enumerate(w_data):
                e = w_word * cfg.load_rows_per_cycle + i
                if e < cfg.pe_buffer_depth:
                    self.buf[w_bank][e] = v
        self.acc = new_acc
        self.a_out = Element(a_in.valid, a_in.value, a_in.k, a_in.bank)


class StreamerModel:
    """`mmsched.hw.accel.streamer.ActivationStreamer` (``out``/``last`` read before `step`)."""

    def __init__(self, cfg: AcceleratorConfig) -> None:
        self.cfg = cfg
        self.values = [0] * cfg.chunk_depth
        self.pending: list[int] = []  # ascending k
        self.bank = 0

    @property
    def out(self) -> Element:
        if not self.pending:
            return Element(0, 0, 0, self.bank)
        k = self.pending[0]
        return Element(1, self.values[k], k, self.bank)

    @property
    def last(self) -> int:
        return int(len(self.pending) <= 1)

    def nnz(self, word, kvalid: int, row_valid: int) -> int:
        return sum(1 for i, v in enumerate(word) if v and kvalid >> i & 1) if row_valid else 0

    def step(self, *, load=0, word=(), live=0, kvalid=0, row_valid=0, bank=0) -> None:
        if load:
            kc = self.cfg.chunk_depth
            self.values = list(word)
            self.bank = bank
            keep = [i for i in range(kc) if kvalid >> i & 1 and row_valid
                    and (self.cfg.dense or (word[i] != 0 and live >> i & 1))]
            self.pending = keep
        elif self.pending:
            self.pending = self.pending[1:]


class LoaderModel:
    """`mmsched.hw.accel.loader.WeightLoader`: reads ``nwords`` words from ``base``.

    ``outputs(mem_data)`` gives (mem_en, mem_addr, w_en, w_word, idle) before the edge;
    ``mem_data`` is the word read in the previous cycle (rows of ``cols`` weights).
    """

    def __init__(self, cfg: AcceleratorConfig) -> None:
        self.cfg = cfg
        self.left = 0
        self.addr = 0
        self.word = 0
        self.bank = 0
        self.pend = 0
        self.pend_word = 0
        self.live = 0

    def outputs(self, *, start=0, base=0) -> dict:
        if start:
            en, addr = 1, base
        elif self.left:
            en, addr = 1, self.addr
        else:
            en, addr = 0, 0
        return {"mem_en": en, "mem_addr": addr if en else None, "w_en": self.pend,
                "w_word": self.pend_word, "w_bank": self.bank,
                "idle": int(self.left == 0 and not self.pend), "live": self.live}

    def step(self, *, start=0, base=0, nwords=1, bank=0, mem_data=()) -> None:
        cfg = self.cfg
        en = self.outputs(start=start, base=base)["mem_en"]
        if self.pend and not start:
            for i, row in enumerate(mem_data):
                e = self.pend_word * cfg.load_rows_per_cycle + i
                if e < cfg.chunk_depth and any(v != 0 for v in row):
                    self.live |= 1 << e
        if start:
            self.left, self.addr, self.word = nwords - 1, base + 1, 1
            self.bank, self.pend_word, self.live = bank, 0, 0
        elif self.left:
            self.pend_word = self.word
            self.left, self.addr, self.word = self.left - 1, self.addr + 1, self.word + 1
        self.pend = en
