"""Specification of the Dysta hardware scheduler: formats, command and response records,
status codes and the frozen `SchedulerConfig`.

No Amaranth import: the RTL (``hw/dysta``), its bit-exact twin
(``hw/cyclemodel/dysta_sched.py``), the host and the tests all read these definitions. The
design is described in docs/dysta-scheduler.md.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from .fixedpoint import round_half_up, sat_u

__all__ = [
    "DYSTA_ARG_BITS",
    "DYSTA_ARG_FIELDS",
    "DYSTA_BETA_INV_BITS",
    "DYSTA_BETA_INV_FRAC",
    "DYSTA_CMD_FIELDS",
    "DYSTA_COUNT_BITS",
    "DYSTA_DENSITY_BITS",
    "DYSTA_DENSITY_FRAC",
    "DYSTA_LAYER_ID_BITS",
    "DYSTA_MODEL_ID_BITS",
    "DYSTA_OP_ARG",
    "DYSTA_OP_BITS",
    "DYSTA_PATTERN_ID_BITS",
    "DYSTA_RESP_FIELDS",
    "DYSTA_RESP_VALUE_MAX",
    "DYSTA_SEQ_BITS",
    "DYSTA_SLOT_ID_BITS",
    "DYSTA_STATUS_BITS",
    "DYSTA_WAIT_MANT_BITS",
    "DYSTA_WEIGHT_BITS",
    "DystaOp",
    "DystaStatus",
    "SchedulerConfig",
    "density_q",
    "dysta_shifts",
    "pack_dysta_cmd",
    "unpack_dysta_cmd",
    "unpack_dysta_resp",
]

# --- Dysta hardware scheduler ---------------------------------------------------------------
#
# The dynamic half of Dysta (MICRO'23) as hardware: a table of `slots` task slots, LUTs of
# per-(model, pattern, layer) remaining latency and average density plus a per-(model, pattern)
# fairness weight (1/isolated latency), a free-running cycle counter, one command stream in
# (host and accelerator commands), one response stream out. One command is in flight at a time:
# a command accepted in cycle c gets its response in cycle c + `SchedulerConfig.latency(op,
# status)`; the command stream is ready again in the cycle after the response is taken.
#
# The score is Dysta's software score `R + beta*(max(0, D - t - R) + (w/Iso_est)/N)`
# (docs/dysta-scheduler.md, "The score"),
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


def unpack_dysta_resp(word: int) -> dict[str, int]:
    return _unpack(DYSTA_RESP_FIELDS, word)


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
        Gamma predictor, ``"last-one"`` or ``"avg"`` (docs/scheduling.md).
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
