"""The one spec module: configurations, fixed-point formats, command and record layouts.

No Amaranth import: the RTL, its Python models, the cocotb scoreboards and the policies all
import this module, so no constant or bit offset is written twice.

Sections: (1) the sparse systolic accelerator; (2) the Dysta hardware scheduler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# --- (1) Sparse systolic accelerator -----------------------------------------------------------
#
# One definition of the accelerator's micro-architecture, shared by the RTL (hw/accel/), the
# exact cycle model (hw/model/) and the backends. The timing rules below are the contract; the
# docstrings of hw/accel/controller.py and hw/model/cycles.py restate them with the RTL view.
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
            if not isinstance(v, int | float) or v < 0 or math.isnan(v):
                raise ValueError(f"{name} must be a number >= 0, not {v!r}")


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
        Clock frequency (seconds at the edges only).
    energy : EnergyTable
        Energy per action.
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

    def __post_init__(self) -> None:
        for f in ("rows", "cols", "chunk_depth", "pe_buffer_depth", "load_rows_per_cycle",
                  "data_width", "acc_width", "max_k", "act_mem_words", "wt_mem_words",
                  "out_mem_words"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{f} must be a positive integer, not {v!r}")
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
        if not isinstance(self.dense, bool):
            raise ValueError(f"dense must be a bool, not {self.dense!r}")
        if not self.clock_hz > 0:
            raise ValueError(f"clock_hz must be > 0, not {self.clock_hz!r}")
        if not isinstance(self.energy, EnergyTable):
            raise ValueError(f"energy must be an EnergyTable, not {type(self.energy).__name__}")

    # --- derived sizes (one place) ---
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

# --- (2) Dysta hardware scheduler ---------------------------------------------------------------
#
# The dynamic half of Dysta (MICRO'23) as hardware: a table of `slots` task slots, LUTs of
# per-(model, pattern, layer) remaining latency and average density plus a per-(model, pattern)
# fairness weight (1/isolated latency), a free-running cycle counter, one command stream in
# (host and accelerator commands), one response stream out. One command is in flight at a time:
# a command accepted in cycle c gets its response in cycle c + `SchedulerConfig.latency(op,
# status)`; the command stream is ready again in the cycle after the response is taken.
#
# The score is Dysta's `R + beta*(max(0, D - t - R) + (w/Iso_est)/N)` (REFERENCE.md section 2),
# R = gamma*E, held divided by beta (the order is unchanged because beta > 0):
#
#   score = R/beta + max(0, P - t) + F * w / (Iso_est * N),     P = D - R
#
# everything in cycles. F (`fairness_cycles`) is how many cycles one unit of the dimensionless
# normalised wait w/Iso/N is worth: F = 1 is what the float `dysta` policy adds on integer-cycle
# workloads (the workload's time unit); the paper and the artifact add it to a score in seconds,
# which F = the clock frequency in Hz reproduces.
#
# N-scaled comparison. All candidates of one decision share N, so the hardware compares N times
# the score (same order, and exact: no 1/N rounding):
#
#   score_N = N*rb + max(0, N*P - N*t) + F * w / Iso_est
#
# Per slot, R/beta (`rb`) and P are recomputed only at that slot's admission and layer
# boundaries (one shared divider and multiplier), together with N*rb and N*P (N after the
# event, the same shared multiplier). When N changes by +-1 (ADMIT, DECIDE, LAYER_DONE of the
# running slot, RETIRE of a waiting slot) every other slot adds +-rb and +-P to its N*rb and
# N*P in the same cycle, so they always equal N times rb and P. A decision multiplies N*t once
# (shared) and then does per slot a subtraction and a clamp, one 18 x 16-bit multiply (the
# fairness: wq's 18-bit mantissa x K, one MULT18X18D), two saturating adds, and a comparator
# tree of ceil(log2 S) registered levels.
#
# Formats (u = unsigned integer, UQa.b = unsigned fixed point with b fractional bits). Rounding
# and saturation rules are the functions below; hardware arithmetic truncates (floor) unless a
# rule says otherwise, and every saturating result is clamped to its format's maximum.
#   time, deadline, arrival, last run   u48 cycles (`time_bits`): 2.8e5 s at 1 GHz, so a
#                                       1000-request run of 500 s at 1 GHz uses 0.2% of it
#   remaining latency E (LUT)           u40 cycles (`remaining_bits`), host rounds to nearest
#   average density d_avg (LUT)         UQ1.15 (16 bits), host rounds to nearest, max 2 - 2^-15
#   nnz, total (monitor)                u32 each
#   layer ratio r, gamma                UQ4.12 (`gamma_bits`, `gamma_frac`), floor, saturating
#   fairness weight K (LUT)             u16: round(F / Iso_est * 2^(wait_shift - fair_shift))
#   waiting time wq                     u24 (`wait_bits`) in quanta of 2^wait_shift cycles,
#                                       floor, saturating (2^24 quanta: overloaded runs wait
#                                       1000s of Iso_min); multiplied as an 18-bit mantissa
#                                       m = wq >> e, e = 0 if wq < 2^18 else wait_bits - 18
#   1/beta                              UQ16.8 (24 bits): round(2^8 / beta)
#   R                                   u44 cycles (gamma * E >> gamma_frac, floor: no overflow)
#   P = D - R                           s49 cycles
#   rb = R/beta                         UQ40.8 (`score_bits` = 48, `score_frac` = 8), saturating
#   N (candidates)                      u(`n_bits`) = bit length of S
#   N*rb, N*P, N*t                      exact integers (48 + n_bits, s49 + n_bits, 48 + n_bits)
#   score_N (N x the beta-scaled score) UQ(40 + n_bits).8 (`nscore_bits`), saturating: the
#                                       fractional bits keep the small fairness term, which
#                                       breaks near-ties as in `dysta`
#   admission sequence number           u32, wraps after 2^32 admissions
#
# Gamma unit, at LAYER_DONE of layer j (0-based) with monitor counts (nnz, total):
#   r = floor(nnz * 2^(gamma_frac + 15) / (total * d_avg[j]))   saturating at 2^gamma_bits - 1;
#   r = 1.0 (2^gamma_frac) when total == 0 or d_avg[j] == 0 (no evidence: neutral ratio).
#   predictor "last-one": gamma = r; "avg": gsum += r, gamma = floor(gsum / (j + 1)).
#   E = remaining[j + 1] (0 after the last layer); R = floor(gamma * E / 2^gamma_frac);
#   rb = min(shift(R * beta_inv, score_frac - 8), 2^score_bits - 1); P = D - R;
#   last_run = now.
# At ADMIT: gamma = 1.0, gsum = 0, E = remaining[0], R = E, last_run = the command's arrival.
# Decision at t = now (the counter in the cycle DECIDE is accepted), N = the number of
# candidates, per candidate slot:
#   sl = max(0, N*P - N*t) * 2^score_frac; wq = min(max(t - last_run, 0) >> wait_shift,
#   2^wait_bits - 1); e = 0 if wq < 2^18 else wait_bits - 18; f = shift((wq >> e) * K,
#   fair_shift + score_frac + e), where shift(x, s) = x << s for s >= 0 and floor(x / 2^-s)
#   otherwise; score_N = min(N*rb + sl + f, 2^nscore_bits - 1) (one saturation, at the end).
#   DECIDE answers the winner's min(score_N, 2^48 - 1).
# Tie-break (`beats`): the smaller score wins; equal scores -> the smaller admission sequence
#   number (earlier admitted: arrival order when the host admits in arrival order).
# Candidates: valid slots not marked running. DECIDE marks the winner running (N - 1);
#   LAYER_DONE clears it (N + 1); RETIRE frees the slot (N - 1 if it was not running).
#
# Bad input, specified (status codes `DystaStatus`):
#   ADMIT into a full table -> FULL, nothing changes (backpressure: the host must retire first
#   or hold the request; it is never dropped silently). Model/pattern id >= models/patterns
#   (ADMIT, LOAD_LUT, LOAD_ISO) or layer >= layers (LOAD_LUT) -> BAD_ID, nothing changes.
#   RETIRE / LAYER_DONE of slot >= slots or of a free slot -> BAD_ID; LAYER_DONE of a slot that
#   already completed `layers` layers -> BAD_ID (answered one cycle later: the layer index is
#   read from the task memory). ADMIT with a deadline already past (deadline < now) -> admitted,
#   status LATE (the slack term is 0: the task competes on R/beta and fairness alone). DECIDE
#   with no candidate -> IDLE. An unknown op code -> BAD_OP.

import enum  # noqa: E402  (section (2) keeps its imports with its code)

DYSTA_MODEL_ID_BITS = 8
DYSTA_PATTERN_ID_BITS = 8
DYSTA_LAYER_ID_BITS = 12
DYSTA_SLOT_ID_BITS = 16
"""Command id fields are wider than any configuration so out-of-range ids are representable."""
DYSTA_COUNT_BITS = 32
DYSTA_DENSITY_BITS = 16
DYSTA_DENSITY_FRAC = 15
DYSTA_WEIGHT_BITS = 16
DYSTA_WAIT_MANT_BITS = 18
"""Mantissa of the waiting time multiplied by the 16-bit weight in a score lane."""
DYSTA_BETA_INV_BITS = 24
DYSTA_BETA_INV_FRAC = 8
DYSTA_SEQ_BITS = 32
DYSTA_OP_BITS = 3
DYSTA_STATUS_BITS = 3
DYSTA_ARG_BITS = 96


class DystaOp(enum.IntEnum):
    """Command op codes (3 bits)."""

    LOAD_LUT = 0    # host: remaining[m, p, j] and d_avg[m, p, j]
    LOAD_ISO = 1    # host: fairness weight K[m, p]
    ADMIT = 2       # host: new request (model, pattern, deadline, arrival) -> slot
    RETIRE = 3      # host: free a slot (request finished or dropped)
    SET_TIME = 4    # host: set the free-running cycle counter
    LAYER_DONE = 5  # accelerator: a layer of `slot` finished, monitor counts (nnz, total)
    DECIDE = 6      # accelerator/host: which slot runs next -> slot or IDLE


class DystaStatus(enum.IntEnum):
    """Response status codes (3 bits)."""

    OK = 0
    IDLE = 1     # DECIDE: no candidate
    FULL = 2     # ADMIT: no free slot; nothing changed
    BAD_ID = 3   # model/pattern/layer/slot id out of range, or slot free; nothing changed
    LATE = 4     # ADMIT: admitted, but the deadline is already past
    BAD_OP = 5   # unknown op code; nothing changed


DYSTA_CMD_FIELDS: tuple[tuple[str, int], ...] = (
    ("op", DYSTA_OP_BITS), ("slot", DYSTA_SLOT_ID_BITS), ("model", DYSTA_MODEL_ID_BITS),
    ("pattern", DYSTA_PATTERN_ID_BITS), ("layer", DYSTA_LAYER_ID_BITS), ("arg", DYSTA_ARG_BITS))
"""Command record, LSB first. ``arg`` is viewed per op as `DYSTA_ARG_FIELDS`."""

DYSTA_ARG_FIELDS: dict[str, tuple[tuple[str, int], ...]] = {
    "lut": (("remaining", 40), ("density", DYSTA_DENSITY_BITS)),
    "iso": (("weight", DYSTA_WEIGHT_BITS),),
    "admit": (("deadline", 48), ("arrival", 48)),
    "time": (("value", 48),),
    "done": (("nnz", DYSTA_COUNT_BITS), ("total", DYSTA_COUNT_BITS)),
}
"""Per-op views of the command's ``arg`` field, LSB first (LOAD_LUT -> lut, LOAD_ISO -> iso,
ADMIT -> admit, SET_TIME -> time, LAYER_DONE -> done; RETIRE and DECIDE use no argument)."""

DYSTA_OP_ARG = {DystaOp.LOAD_LUT: "lut", DystaOp.LOAD_ISO: "iso", DystaOp.ADMIT: "admit",
                DystaOp.SET_TIME: "time", DystaOp.LAYER_DONE: "done"}

DYSTA_RESP_FIELDS: tuple[tuple[str, int], ...] = (
    ("op", DYSTA_OP_BITS), ("status", DYSTA_STATUS_BITS), ("slot", DYSTA_SLOT_ID_BITS),
    ("value", 48))
"""Response record, LSB first. ``slot``: the admitted slot (ADMIT), the winner (DECIDE), the
command's slot (RETIRE, LAYER_DONE), else 0. ``value``: the winner's N-scaled score score_N
saturated to 48 bits (DECIDE), the new gamma (LAYER_DONE), the admission sequence number
(ADMIT), else 0. Refusals carry slot 0 and value 0."""

DYSTA_RESP_VALUE_MAX = (1 << dict(DYSTA_RESP_FIELDS)["value"]) - 1
"""DECIDE answers the winner's min(score_N, DYSTA_RESP_VALUE_MAX)."""


def _pack(fields: tuple[tuple[str, int], ...], values: dict[str, int]) -> int:
    word, offset = 0, 0
    for name, width in fields:
        v = int(values.get(name, 0))
        if not 0 <= v < (1 << width):
            raise ValueError(f"field {name!r} must fit {width} unsigned bits, not {v}")
        word |= v << offset
        offset += width
    return word


def _unpack(fields: tuple[tuple[str, int], ...], word: int) -> dict[str, int]:
    out, offset = {}, 0
    for name, width in fields:
        out[name] = (word >> offset) & ((1 << width) - 1)
        offset += width
    return out


def dysta_cmd_bits() -> int:
    return sum(w for _, w in DYSTA_CMD_FIELDS)


def dysta_resp_bits() -> int:
    return sum(w for _, w in DYSTA_RESP_FIELDS)


def pack_dysta_cmd(op: int, *, slot: int = 0, model: int = 0, pattern: int = 0, layer: int = 0,
                   **args: int) -> int:
    """The command word (LSB first as `DYSTA_CMD_FIELDS`); ``args`` are the op's arg fields."""
    arg = 0
    view = DYSTA_OP_ARG.get(op)
    if view is not None:
        known = {n for n, _ in DYSTA_ARG_FIELDS[view]}
        if set(args) - known:
            raise ValueError(f"op {op}: unknown argument(s) {sorted(set(args) - known)}; "
                             f"known: {sorted(known)}")
        arg = _pack(DYSTA_ARG_FIELDS[view], args)
    elif args:
        raise ValueError(f"op {op} takes no argument, got {sorted(args)}")
    return _pack(DYSTA_CMD_FIELDS, {"op": op, "slot": slot, "model": model, "pattern": pattern,
                                    "layer": layer, "arg": arg})


def unpack_dysta_cmd(word: int) -> dict[str, int]:
    """Inverse of `pack_dysta_cmd`: header fields plus the op's arg fields."""
    out = _unpack(DYSTA_CMD_FIELDS, word)
    view = DYSTA_OP_ARG.get(out["op"])
    if view is not None:
        out.update(_unpack(DYSTA_ARG_FIELDS[view], out["arg"]))
    return out


def pack_dysta_resp(op: int, status: int, slot: int = 0, value: int = 0) -> int:
    return _pack(DYSTA_RESP_FIELDS, {"op": op, "status": status, "slot": slot, "value": value})


def unpack_dysta_resp(word: int) -> dict[str, int]:
    return _unpack(DYSTA_RESP_FIELDS, word)


def round_half_up(x: float) -> int:
    """The one host-side rounding rule: to nearest, halves up (x >= 0)."""
    return int(math.floor(x + 0.5))


def sat_u(x: int, bits: int) -> int:
    """Saturate an integer to the unsigned range [0, 2^bits - 1]."""
    return 0 if x < 0 else min(x, (1 << bits) - 1)


def shift_floor(x: int, s: int) -> int:
    """``x * 2^s`` for s >= 0, else ``floor(x / 2^-s)`` (x >= 0)."""
    return x << s if s >= 0 else x >> -s


def density_q(density: float) -> int:
    """Host quantisation of an average density into UQ1.15 (round to nearest, saturate)."""
    if not density >= 0:
        raise ValueError(f"density must be a number >= 0, not {density!r}")
    return sat_u(round_half_up(density * (1 << DYSTA_DENSITY_FRAC)), DYSTA_DENSITY_BITS)


@dataclass(frozen=True)
class SchedulerConfig:
    """Parameters of the Dysta hardware scheduler (validated at construction).

    Attributes
    ----------
    slots : int
        Task table size S (>= 1).
    models, patterns, layers : int
        LUT dimensions: model ids 0..models-1, pattern ids 0..patterns-1, layers per
        (model, pattern) 0..layers-1 (LUT depth models * patterns * layers).
    predictor : str
        Gamma predictor, ``"last-one"`` or ``"avg"`` (REFERENCE.md section 1).
    beta : float
        The score's beta (> 0; the paper's 0.01). Held as round(2^8 / beta) in 24 bits.
    wait_shift : int
        Waiting-time quantum: ``wq = (t - last_run) >> wait_shift``, saturating.
    wait_bits : int
        Width of ``wq``. The lane multiplies an 18-bit mantissa of it (`wait_exp`) by the
        16-bit weight: one ECP5 MULT18X18D.
    fair_shift : int
        Scale of the fairness weight K (see `fair_weight_q`).
    time_bits, remaining_bits, gamma_bits, gamma_frac, score_bits, score_frac : int
        Widths of the formats listed in this section's header comment.
    """

    slots: int = 16
    models: int = 8
    patterns: int = 4
    layers: int = 64
    predictor: str = "avg"
    beta: float = 0.01
    wait_shift: int = 10
    wait_bits: int = 24
    fair_shift: int = 0
    time_bits: int = 48
    remaining_bits: int = 40
    gamma_bits: int = 16
    gamma_frac: int = 12
    score_bits: int = 48
    score_frac: int = 8

    def __post_init__(self) -> None:
        limits = {"slots": (1, 1 << 12), "models": (1, 1 << DYSTA_MODEL_ID_BITS),
                  "patterns": (1, 1 << DYSTA_PATTERN_ID_BITS),
                  "layers": (1, (1 << DYSTA_LAYER_ID_BITS) - 1), "wait_shift": (0, 40),
                  "wait_bits": (4, 40),
                  "fair_shift": (-40, 40), "time_bits": (16, 48), "remaining_bits": (8, 40),
                  "gamma_bits": (8, 24), "gamma_frac": (4, 16), "score_bits": (16, 48),
                  "score_frac": (0, 16)}
        for name, (lo, hi) in limits.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], not {v!r}")
        if self.predictor not in ("last-one", "avg"):
            raise ValueError(f"predictor must be 'last-one' or 'avg', not {self.predictor!r}")
        if not isinstance(self.beta, int | float) or not self.beta > 0 or \
                not 0 < self.beta_inv_q < (1 << DYSTA_BETA_INV_BITS):
            raise ValueError(f"beta must be a number with 2^-8 * 2^24 > 1/beta > 0 (the 1/beta "
                             f"register is UQ16.8), not {self.beta!r}")
        if self.gamma_frac >= self.gamma_bits:
            raise ValueError(f"gamma_frac must be < gamma_bits ({self.gamma_bits}), "
                             f"not {self.gamma_frac}")

    # --- derived constants (the RTL elaborates these; the twin computes with them) ---------
    @property
    def slot_bits(self) -> int:
        """Bits of a slot index (at least 1)."""
        return max(1, (self.slots - 1).bit_length())

    @property
    def tree_levels(self) -> int:
        """Registered levels of the comparator tree: ceil(log2 S)."""
        return (self.slots - 1).bit_length()

    @property
    def lut_depth(self) -> int:
        return self.models * self.patterns * self.layers

    def lut_address(self, model: int, pattern: int, layer: int) -> int:
        return (model * self.patterns + pattern) * self.layers + layer

    @property
    def gamma_one(self) -> int:
        return 1 << self.gamma_frac

    @property
    def gamma_max(self) -> int:
        return (1 << self.gamma_bits) - 1

    @property
    def gsum_bits(self) -> int:
        """The avg predictor's running sum of ratios (one per executed layer)."""
        return self.gamma_bits + DYSTA_LAYER_ID_BITS

    @property
    def r_bits(self) -> int:
        """Bits of R = gamma * E >> gamma_frac."""
        return self.remaining_bits + self.gamma_bits - self.gamma_frac

    @property
    def score_max(self) -> int:
        """Saturation of rb = R/beta."""
        return (1 << self.score_bits) - 1

    @property
    def n_bits(self) -> int:
        """Bits of N, the number of candidates (0..slots)."""
        return self.slots.bit_length()

    @property
    def nscore_bits(self) -> int:
        """Bits of the N-scaled score ``score_N`` (the comparator tree's key)."""
        return self.score_bits + self.n_bits

    @property
    def nscore_max(self) -> int:
        return (1 << self.nscore_bits) - 1

    @property
    def wait_max(self) -> int:
        return (1 << self.wait_bits) - 1

    @property
    def wait_exp(self) -> int:
        """Exponent of ``wq``'s mantissa when ``wq >= 2^18``: ``wait_bits - 18`` (0 when
        ``wait_bits <= 18``): the lane multiplies ``wq >> wait_exp``, then shifts back."""
        return max(0, self.wait_bits - DYSTA_WAIT_MANT_BITS)

    @property
    def beta_inv_q(self) -> int:
        return round_half_up((1 << DYSTA_BETA_INV_FRAC) / self.beta)

    @property
    def div_cycles(self) -> int:
        """Cycles of one restoring division: one per quotient bit plus the overflow bit."""
        return self.gamma_bits + 1

    @property
    def decide_latency(self) -> int:
        """DECIDE: 4 score stages + ceil(log2 S) tree levels (the ceil(log2 S) + 4 target)."""
        return 4 + self.tree_levels

    @property
    def gamma_latency(self) -> int:
        """GammaUnit, LAYER_DONE mode: operand latch, total x density, divisions, ratio
        select, R, R/beta and P, N x (R/beta) and N x P."""
        if self.predictor == "last-one":
            return 6 + self.div_cycles
        return 6 + 2 * self.div_cycles

    ADMIT_GAMMA_LATENCY = 4
    """GammaUnit, ADMIT mode: operand latch, R, R/beta and P, N x (R/beta) and N x P."""

    def latency(self, op: int, status: int, *, layer_checked: bool = False) -> int:
        """Cycles from command acceptance to its response (the twin and the RTL agree).

        ``layer_checked``: a LAYER_DONE refusal came from the layer-range check (the slot was
        valid), answered after the task-memory read.
        """
        if status in (DystaStatus.FULL, DystaStatus.BAD_OP):
            return 1
        if op == DystaOp.DECIDE:
            return self.decide_latency
        if op == DystaOp.ADMIT:
            return 1 if status == DystaStatus.BAD_ID else 2 + self.ADMIT_GAMMA_LATENCY
        if op == DystaOp.LAYER_DONE:
            # slot checks answer at 1; the layer-range check needs the task-memory read
            if status == DystaStatus.BAD_ID:
                return self.LAYER_RANGE_REFUSAL_LATENCY if layer_checked else 1
            return 3 + self.gamma_latency
        return 1

    LAYER_RANGE_REFUSAL_LATENCY = 2
    """LAYER_DONE refused because the slot already completed `layers` layers."""

    # --- host-side quantisation --------------------------------------------------------------
    def remaining_q(self, cycles: float) -> int:
        """Remaining-latency LUT entry: round to nearest cycle, saturate to remaining_bits."""
        if not cycles >= 0:
            raise ValueError(f"remaining latency must be a number >= 0, not {cycles!r}")
        return sat_u(round_half_up(cycles), self.remaining_bits)

    def fair_weight_q(self, isolated_cycles: float, fairness_cycles: float) -> int:
        """Fairness-weight LUT entry K for a model of estimated isolated latency ``Iso``.

        The N-scaled score's fairness term is ``wq * K * 2^fair_shift`` (cycles), which
        approximates ``F * w / Iso`` (N times the paper's ``F * w / (Iso * N)``) when ``K =
        round(F / Iso * 2^(wait_shift - fair_shift))`` (saturated to 16 bits).
        """
        if not isolated_cycles > 0:
            raise ValueError(f"isolated latency must be > 0 cycles, not {isolated_cycles!r}")
        if not fairness_cycles >= 0:
            raise ValueError(f"fairness_cycles must be >= 0, not {fairness_cycles!r}")
        k = fairness_cycles / isolated_cycles * 2.0 ** (self.wait_shift - self.fair_shift)
        return sat_u(round_half_up(k), DYSTA_WEIGHT_BITS)


def dysta_shifts(isolated_cycles: list[float] | tuple[float, ...],
                 fairness_cycles: float) -> tuple[int, int]:
    """Choose (wait_shift, fair_shift) for a workload's isolated latencies.

    wait_shift: the quantum is at most 1/256 of the shortest isolated latency, so the
    normalised wait w/Iso keeps >= 8 fractional bits (while wq < 2^18) and saturates at
    >= 65536 x that Iso (``wait_bits`` = 24).
    fair_shift: the largest weight K (shortest Iso) lands in [2^15, 2^16).
    """
    iso_min = min(isolated_cycles)
    if not iso_min > 0:
        raise ValueError(f"isolated latencies must be > 0, found {iso_min!r}")
    wait_shift = max(0, int(math.floor(math.log2(iso_min))) - 8)
    k_max = fairness_cycles / iso_min * 2.0 ** wait_shift if fairness_cycles > 0 else 1.0
    fair_shift = int(math.floor(math.log2(k_max))) - 15
    return min(wait_shift, 40), max(-40, min(40, fair_shift))
