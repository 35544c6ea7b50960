"""Specification of the sparse systolic accelerator: configuration, timing rules, layouts.

No Amaranth import: the RTL (``hw/accel``), the exact cycle model (``hw/cyclemodel``), the
backends and the tests all read these definitions, so no constant or bit offset is written
twice. The design is described in docs/accelerator.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "AcceleratorConfig",
    "COUNTER_WIDTH",
    "DONE_FIELDS",
    "EYERISS_V2_LIKE",
    "EnergyTable",
    "JOB_OVERHEAD_CYCLES",
    "Job",
    "LOAD_LATENCY_CYCLES",
    "MAX_CLOCK_HZ",
    "MIN_CLOCK_HZ",
    "NAMED_CONFIGS",
    "SANGER_LIKE",
    "act_write_fields",
    "command_fields",
    "element_fields",
    "plan_jobs",
    "plan_split",
    "wt_write_fields",
]

# --- Sparse systolic accelerator -----------------------------------------------------------
#
# One definition of the accelerator's micro-architecture, shared by the RTL (hw/accel/), the
# exact cycle model (hw/cyclemodel/) and the backends. The timing rules below are the contract; the
# docstrings of hw/accel/controller.py and hw/cyclemodel/cycles.py restate them with the RTL view.
#
# A *job* is one GEMM C[M, N] = A[M, K] . B[K, N] whose operands fit the on-chip memories; a
# layer that does not fit is split by the host into jobs (`plan_jobs`, aligned to whole tiles
# and chunks). A job runs tile by tile (m-tile major, n-tile minor); a tile is R output rows x C
# output columns, computed over the job's K chunks of `chunk_depth` rows:
#
#   PRELOAD  L(0) cycles: load chunk 0's weights into PE bank 0, fetch chunk 0's activations
#   PHASE c  P(c) = max(S(c), L(c+1), 1) cycles: stream chunk c (bank c % 2) while loading
#            chunk c+1 into the other bank (L(last+1) = 0: nothing to load)
#   FLUSH    `cols` cycles: the last element reaches the last column (cols - 1) and is
#            accumulated there (+1: the PE's product register)
#   DRAIN    `rows` cycles: one output row (C accumulators) per cycle to the output memory
#
# S(c) = the busiest row's stream length: for each row, the number of k in the chunk with a
# non-zero activation AND a live weight row (a weight row is live when any of the tile's C
# weights of that k is non-zero); dense mode streams every k < K of the chunk (S = chunk rows).
# L(c) = ceil(chunk rows / load_rows_per_cycle) + LOAD_LATENCY_CYCLES. A job adds
# JOB_OVERHEAD_CYCLES (command decode and the done record).

LOAD_LATENCY_CYCLES = 2
"""Weight-chunk load: 1 cycle weight-memory read latency + 1 cycle to register the live mask."""

JOB_OVERHEAD_CYCLES = 2
"""Per job: one cycle to decode the command, one to present the done record."""

COUNTER_WIDTH = 48
"""Bits of every counter of the done record (cycles, nnz, total, MACs, memory accesses)."""

MIN_CLOCK_HZ = 1e3
"""Slowest clock (`AcceleratorConfig.clock_hz`, ``--clock-mhz``): below it latency tables
round to zero cycles. Re-exported by ``mmsched.sched.limits`` with the other limits."""

MAX_CLOCK_HZ = 1e12
"""Fastest clock (`AcceleratorConfig.clock_hz`, ``--clock-mhz``): 1 THz."""


def _is_real(v: object) -> bool:
    """An int or float, not a bool (``True`` is an int to Python, never a size or a rate)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _bits(n: int) -> int:
    """Bits of an unsigned field holding 0..n."""
    return max(1, int(n).bit_length())


@dataclass(frozen=True)
class EnergyTable:
    """Energy per action in picojoules (45 nm, 8-bit data, 32-bit accumulation).

    Defaults from M. Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm): 8-bit integer
    multiply 0.2 pJ + 32-bit add 0.1 pJ per MAC; 8 KB SRAM 64-bit read 10 pJ (1.25 pJ/byte);
    DRAM 1.3-2.6 nJ per 64 bits (low end, 162.5 pJ/byte); register-file access equal to one MAC,
    the ratio of Eyeriss (Chen et al., ISCA 2016, Fig. 6: RF 1x, global buffer 6x, DRAM 200x).
    Override any field for another technology.
    """

    mac_pj: float = 0.3
    rf_access_pj: float = 0.3
    sram_pj_per_byte: float = 1.25
    dram_pj_per_byte: float = 162.5

    def __post_init__(self) -> None:
        for name in ("mac_pj", "rf_access_pj", "sram_pj_per_byte", "dram_pj_per_byte"):
            v = getattr(self, name)
            if not _is_real(v) or not 0 <= v < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, not {v!r}")


@dataclass(frozen=True)
class AcceleratorConfig:
    """Parameters of one sparse systolic accelerator (validated at construction).

    Attributes
    ----------
    rows, cols : int
        PE array shape R x C (output rows x output columns of a tile).
    chunk_depth : int
        K rows per weight chunk (the double-buffered unit), <= ``pe_buffer_depth``.
    pe_buffer_depth : int
        Entries of each of the two banks of a PE's local weight buffer.
    load_rows_per_cycle : int
        Weight rows (of C weights) the loader reads per cycle: one weight-memory word.
    data_width, acc_width : int
        Signed activation/weight bits and accumulator bits (two's complement, wrapping).
    max_k : int
        Largest K of one job; ``acc_width`` must hold 2*data_width + ceil(log2(max_k)) bits.
        Larger layers are split along K by the host and the partial sums added.
    act_mem_words : int
        Words per activation-memory bank (``rows`` banks; a word = one row's chunk of
        ``chunk_depth`` activations).
    wt_mem_words : int
        Weight-memory words (a word = ``load_rows_per_cycle`` rows of ``cols`` weights).
    out_mem_words : int
        Output-memory words (a word = ``cols`` accumulators of one output row).
    dense : bool
        Dense mode: stream every activation (no zero or dead-weight-row skipping).
    clock_hz : float
        Clock frequency in Hz, in [`MIN_CLOCK_HZ`, `MAX_CLOCK_HZ`] (seconds at the edges
        only).
    energy : EnergyTable
        Energy per action.
    layer_kinds : tuple of str
        The layer kinds (``mmsched.sched.model.LAYER_KINDS``) this accelerator runs in its
        system; empty (the default): every kind. A scheduling constraint of a heterogeneous
        system, not a hardware parameter: it changes no timing, so it is left out of the
        ``repr`` that profile-cache keys are made of.
    """

    name: str = "custom"
    rows: int = 8
    cols: int = 8
    chunk_depth: int = 16
    pe_buffer_depth: int = 16
    load_rows_per_cycle: int = 4
    data_width: int = 8
    acc_width: int = 32
    max_k: int = 4096
    act_mem_words: int = 256
    wt_mem_words: int = 1024
    out_mem_words: int = 1024
    dense: bool = False
    clock_hz: float = 200e6
    energy: EnergyTable = field(default_factory=EnergyTable)
    layer_kinds: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        # Every field is checked here, once: the CLI, scenario and experiment files rely on it
        # (they add the option or file and field to the message, not checks of their own).
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, not {self.name!r}")
        for f in ("rows", "cols", "chunk_depth", "pe_buffer_depth", "load_rows_per_cycle",
                  "data_width", "acc_width", "max_k", "act_mem_words", "wt_mem_words",
                  "out_mem_words"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{f} must be a positive integer, not {v!r}")
        if not isinstance(self.dense, bool):
            raise ValueError(f"dense must be a bool, not {self.dense!r}")
        # ints are compared exactly (no float conversion to overflow); NaN and inf fail
        if not _is_real(self.clock_hz) or not MIN_CLOCK_HZ <= self.clock_hz <= MAX_CLOCK_HZ:
            raise ValueError(f"clock_hz must be a number of Hz in [{MIN_CLOCK_HZ:g}, "
                             f"{MAX_CLOCK_HZ:g}] (MIN_CLOCK_HZ, MAX_CLOCK_HZ), not "
                             f"{self.clock_hz!r}")
        if not isinstance(self.energy, EnergyTable):
            raise ValueError(f"energy must be an EnergyTable, not {type(self.energy).__name__}")
        kinds = self.layer_kinds
        if not isinstance(kinds, tuple) or not all(isinstance(k, str) and k for k in kinds) \
                or len(set(kinds)) != len(kinds):
            raise ValueError(f"layer_kinds must be a tuple of distinct layer kind names, not "
                             f"{kinds!r}")
        # relations between fields, each field of the right type by now
        if self.chunk_depth > self.pe_buffer_depth:
            raise ValueError(f"chunk_depth {self.chunk_depth} is larger than the PE weight "
                             f"buffer (pe_buffer_depth {self.pe_buffer_depth} entries per bank)")
        if self.load_rows_per_cycle > self.chunk_depth:
            raise ValueError(f"load_rows_per_cycle {self.load_rows_per_cycle} is larger than "
                             f"chunk_depth {self.chunk_depth}")
        if self.data_width < 2:
            raise ValueError(f"data_width must be at least 2 (signed), not {self.data_width}")
        if self.max_k < self.chunk_depth:
            raise ValueError(f"max_k {self.max_k} is smaller than one chunk "
                             f"(chunk_depth {self.chunk_depth})")
        need = 2 * self.data_width + math.ceil(math.log2(self.max_k))
        if self.acc_width < need:
            raise ValueError(f"acc_width {self.acc_width} is too narrow for K up to max_k "
                             f"{self.max_k}: needs 2*data_width + ceil(log2(max_k)) = {need} bits")
        if self.out_mem_words < self.rows:
            raise ValueError(f"out_mem_words {self.out_mem_words} cannot hold one tile "
                             f"({self.rows} output rows)")
        if self.wt_mem_words < self.words_per_chunk:
            raise ValueError(f"wt_mem_words {self.wt_mem_words} cannot hold one chunk "
                             f"({self.words_per_chunk} words)")

    # --- derived sizes (one place) ---
    def runs(self, kind: str) -> bool:
        """Whether this accelerator runs layers of ``kind`` (`layer_kinds`)."""
        return not self.layer_kinds or kind in self.layer_kinds

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def words_per_chunk(self) -> int:
        """Weight-memory words per chunk (the address stride of one chunk)."""
        return -(-self.chunk_depth // self.load_rows_per_cycle)

    @property
    def max_chunks_per_job(self) -> int:
        return min(self.max_k // self.chunk_depth, self.act_mem_words,
                   self.wt_mem_words // self.words_per_chunk)

    @property
    def m_width(self) -> int:
        """Bits of the command's M field (M <= act_mem_words * rows)."""
        return _bits(self.act_mem_words * self.rows)

    @property
    def n_width(self) -> int:
        return _bits(self.wt_mem_words * self.cols)

    @property
    def k_width(self) -> int:
        return _bits(self.max_k)

    @property
    def act_addr_width(self) -> int:
        return _bits(self.act_mem_words - 1)

    @property
    def wt_addr_width(self) -> int:
        return _bits(self.wt_mem_words - 1)

    @property
    def out_addr_width(self) -> int:
        return _bits(self.out_mem_words - 1)

    @property
    def k_local_width(self) -> int:
        """Bits of a k index within a chunk (the ``k`` of a (value, k) stream element)."""
        return _bits(self.chunk_depth - 1)

    @property
    def act_word_bytes(self) -> float:
        return self.chunk_depth * self.data_width / 8

    @property
    def wt_word_bytes(self) -> float:
        return self.load_rows_per_cycle * self.cols * self.data_width / 8

    @property
    def out_word_bytes(self) -> float:
        return self.cols * self.acc_width / 8

    def to_dict(self) -> dict:
        """Plain-data form (JSON for cocotb testbenches and the Verilator harness)."""
        from dataclasses import asdict
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AcceleratorConfig:
        d = dict(d)
        if isinstance(d.get("energy"), dict):
            d["energy"] = EnergyTable(**d["energy"])
        if isinstance(d.get("layer_kinds"), list):
            d["layer_kinds"] = tuple(d["layer_kinds"])
        return cls(**d)


def command_fields(cfg: AcceleratorConfig) -> dict[str, int]:
    """Layout of the accelerator's command (name -> bits, LSB first, in this order).

    ``m, n, k``: job GEMM dimensions (1 <= k <= max_k); ``act_base, wt_base, out_base``: word
    addresses of the job's operands; ``monitor``: 1 to count non-zeros (the host sets it on the
    first N-piece of a layer only, so a layer's activations are counted once).
    """
    return {"m": cfg.m_width, "n": cfg.n_width, "k": cfg.k_width,
            "act_base": cfg.act_addr_width, "wt_base": cfg.wt_addr_width,
            "out_base": cfg.out_addr_width, "monitor": 1}


def element_fields(cfg: AcceleratorConfig) -> dict[str, tuple[int, bool]]:
    """One compressed activation-stream element (name -> (bits, signed), LSB first).

    ``valid``; ``value``: the non-zero activation; ``k``: its index within the chunk (selects
    the weight in the PE's buffer); ``bank``: the weight-buffer bank of its chunk (chunk index
    within the tile, mod 2), carried with the element so each PE switches banks when the new
    chunk's first element reaches it (no barrier to drain the array between chunks).
    """
    return {"valid": (1, False), "value": (cfg.data_width, True),
            "k": (cfg.k_local_width, False), "bank": (1, False)}


def act_write_fields(cfg: AcceleratorConfig) -> dict[str, int]:
    """The host's activation-memory write port (name -> bits, LSB first): one word into
    bank ``bank`` at ``addr`` when ``en``; ``data`` = `act_word` (k-th activation at bits
    [k*data_width, ...))."""
    return {"en": 1, "bank": _bits(max(1, cfg.rows - 1)), "addr": cfg.act_addr_width,
            "data": cfg.chunk_depth * cfg.data_width}


def wt_write_fields(cfg: AcceleratorConfig) -> dict[str, int]:
    """The host's weight-memory write port (LSB first); ``data``: weight (row i, column j) of
    the word at bits [(i*cols + j)*data_width, ...)."""
    return {"en": 1, "addr": cfg.wt_addr_width,
            "data": cfg.load_rows_per_cycle * cfg.cols * cfg.data_width}


DONE_FIELDS = ("cycles", "nnz", "total", "macs", "act_reads", "wt_reads", "out_writes")
"""The done record, each field `COUNTER_WIDTH` bits, LSB first: cycles from command accept to
done valid; non-zero and total activations seen by the monitor; MACs issued (stream elements x
valid columns); activation-, weight-memory word reads; output-memory word writes."""


@dataclass(frozen=True)
class Job:
    """One host-issued job: the sub-GEMM ``[m0:m1] x [n0:n1]`` over ``[k0:k1]`` of a layer."""

    m0: int
    m1: int
    n0: int
    n1: int
    k0: int
    k1: int

    @property
    def monitor(self) -> bool:
        """Count non-zeros on the first N-piece only (a layer's activations counted once)."""
        return self.n0 == 0


def plan_split(cfg: AcceleratorConfig, m: int, n: int, k: int
               ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Job boundaries of an ``m x k`` by ``k x n`` GEMM: (M cuts, N cuts, K cuts).

    Each tuple starts at 0 and ends at the dimension; pieces are whole tiles/chunks (except the
    last). K pieces hold at most `max_chunks_per_job` chunks; N pieces fill the weight memory
    with those chunks (and R rows of outputs); M pieces fill the activation and output memories.
    """
    kc, r, c = cfg.chunk_depth, cfg.rows, cfg.cols
    nc = -(-k // kc)
    ncj = min(nc, cfg.max_chunks_per_job)
    nt = -(-n // c)
    ntj = max(1, min(nt, cfg.wt_mem_words // (ncj * cfg.words_per_chunk),
                     cfg.out_mem_words // r))
    mt = -(-m // r)
    mtj = max(1, min(mt, cfg.act_mem_words // ncj, cfg.out_mem_words // (r * ntj)))

    def cuts(total: int, step: int) -> tuple[int, ...]:
        return tuple(range(0, total, step)) + (total,)

    return cuts(m, mtj * r), cuts(n, ntj * c), cuts(k, ncj * kc)


def plan_jobs(cfg: AcceleratorConfig, m: int, n: int, k: int) -> list[Job]:
    """The jobs of one GEMM, K-piece major, then N, then M (the order backends issue them)."""
    mc, nc_, kc = plan_split(cfg, m, n, k)
    return [Job(m0, m1, n0, n1, k0, k1)
            for k0, k1 in zip(kc[:-1], kc[1:], strict=True)
            for n0, n1 in zip(nc_[:-1], nc_[1:], strict=True)
            for m0, m1 in zip(mc[:-1], mc[1:], strict=True)]


EYERISS_V2_LIKE = AcceleratorConfig(
    name="eyeriss_v2_like", rows=12, cols=16, chunk_depth=16, pe_buffer_depth=16,
    load_rows_per_cycle=4, data_width=8, acc_width=32, max_k=8192,
    act_mem_words=512, wt_mem_words=2048, out_mem_words=2048, clock_hz=200e6)
"""192 PEs at 200 MHz (Eyeriss v2: 192 PEs; array shape, chunking and memory sizes are ours)."""

SANGER_LIKE = AcceleratorConfig(
    name="sanger_like", rows=64, cols=64, chunk_depth=16, pe_buffer_depth=16,
    load_rows_per_cycle=16, data_width=8, acc_width=32, max_k=4096,
    act_mem_words=256, wt_mem_words=1024, out_mem_words=4096, clock_hz=1e9)
"""64 x 64 PEs at 1 GHz (Sanger's array; chunking and memory sizes are ours)."""

NAMED_CONFIGS = {c.name: c for c in (EYERISS_V2_LIKE, SANGER_LIKE)}
