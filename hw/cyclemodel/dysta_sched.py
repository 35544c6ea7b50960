"""Bit-exact, cycle-aware Python twin of the Dysta hardware scheduler (``hw/dysta/``).

Pure Python integers, no Amaranth import. Formats, rounding, tie-break, status codes and
latencies are those of `mmsched.hw.spec.scheduler`; this module implements that arithmetic
once, per block (`divide_sat`: the gamma unit's restoring divider; `layer_ratio`,
`gamma_update`, `estimate`, `n_scaled`: the gamma unit; `lane_score`: one lane of the score
unit; `beats`: one node of the comparator tree) and as a whole (`DystaSchedTwin`, which
computes N x rb, N x P and N x t directly: the RTL's incremental N x rb and N x P must equal
them).

`DystaSchedTwin` has two faces:

- functional (`load_lut`, `load_iso`, `admit`, `retire`, `layer_done`, `decide`), each taking
  the counter value ``now`` explicitly: what the ``dysta_hw`` policy drives;
- cycle-aware (`DystaSchedTwin.issue`): one command word at a time with an idle gap, returning
  the cycle it is accepted in, the cycle its response appears in, and the response, exactly as
  the RTL with a response consumer that is always ready.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmsched.hw.spec import (
    DYSTA_BETA_INV_FRAC,
    DYSTA_DENSITY_FRAC,
    DYSTA_RESP_VALUE_MAX,
    DYSTA_WAIT_MANT_BITS,
    DystaOp,
    DystaStatus,
    SchedulerConfig,
    sat_u,
    shift_floor,
    unpack_dysta_cmd,
)

# --- per-block arithmetic --------------------------------------------------------------------


def divide_sat(a: int, b: int, qbits: int) -> int:
    """The restoring divider: ``floor(a / b)`` saturated to ``qbits`` bits (``b > 0``)."""
    return min(a // b, (1 << qbits) - 1)


def layer_ratio(cfg: SchedulerConfig, nnz: int, total: int, density: int) -> int:
    """Measured / average density of one layer in the gamma format (`mmsched.hw.spec.scheduler`)."""
    if total == 0 or density == 0:
        return cfg.gamma_one
    return divide_sat(nnz << (cfg.gamma_frac + DYSTA_DENSITY_FRAC), total * density,
                      cfg.gamma_bits)


def gamma_update(cfg: SchedulerConfig, r: int, gsum: int, layer: int) -> tuple[int, int]:
    """New (gamma, gsum) after layer ``layer`` (0-based) measured ratio ``r``."""
    if cfg.predictor == "last-one":
        return r, gsum
    gsum = gsum + r
    return divide_sat(gsum, layer + 1, cfg.gamma_bits), gsum


def estimate(cfg: SchedulerConfig, gamma: int, remaining: int, deadline: int
             ) -> tuple[int, int, int]:
    """(R, rb = R/beta, P = D - R) from gamma and the remaining-latency estimate E."""
    r = (gamma * remaining) >> cfg.gamma_frac
    rb = sat_u(shift_floor(r * cfg.beta_inv_q, cfg.score_frac - DYSTA_BETA_INV_FRAC),
               cfg.score_bits)
    return r, rb, deadline - r


def n_scaled(n: int, rb: int, p: int) -> tuple[int, int]:
    """(N*rb, N*P): what a slot holds for the N-scaled score (exact integers)."""
    return n * rb, n * p


def wait_exponent(cfg: SchedulerConfig, wq: int) -> int:
    """The exponent of the waiting time's 18-bit mantissa: 0 below 2^18, else
    ``wait_bits - 18`` (the lane multiplies ``wq >> e`` by K, then shifts by e)."""
    return 0 if wq < (1 << DYSTA_WAIT_MANT_BITS) else cfg.wait_exp


def lane_score(cfg: SchedulerConfig, t: int, nt: int, nrb: int, np_: int, last: int,
               k: int) -> int:
    """One lane of the score unit at decision time ``t``: ``score_N`` from the slot's N*rb,
    N*P, last-run time and weight K, and the shared ``nt`` = N*t."""
    sl = max(0, np_ - nt) << cfg.score_frac
    w = t - last
    wq = 0 if w <= 0 else min(w >> cfg.wait_shift, cfg.wait_max)
    e = wait_exponent(cfg, wq)
    f = shift_floor((wq >> e) * k, cfg.fair_shift + cfg.score_frac + e)
    return min(nrb + sl + f, cfg.nscore_max)


def slot_score(cfg: SchedulerConfig, t: int, n: int, rb: int, p: int, last: int,
               k: int) -> int:
    """``score_N`` of a slot with R/beta ``rb`` and P = D - R among ``n`` candidates."""
    nrb, np_ = n_scaled(n, rb, p)
    return lane_score(cfg, t, n * t, nrb, np_, last, k)


def beats(score_a: int, seq_a: int, score_b: int, seq_b: int) -> bool:
    """Tie-break of the comparator tree: smaller score, then smaller admission sequence."""
    return score_a < score_b or (score_a == score_b and seq_a < seq_b)


# --- the whole scheduler -----------------------------------------------------------------------


@dataclass(slots=True)
class SlotState:
    """One task-table slot. ``layer``: layers completed; ``gsum``: avg predictor sum."""

    valid: bool = False
    running: bool = False
    model: int = 0
    pattern: int = 0
    layer: int = 0
    gsum: int = 0
    gamma: int = 0
    deadline: int = 0
    rb: int = 0
    p: int = 0
    last: int = 0
    k: int = 0
    seq: int = 0


@dataclass(frozen=True, slots=True)
class TwinResponse:
    """A response with its timing: accepted in ``accept_cycle``, valid in ``resp_cycle``."""

    accept_cycle: int
    resp_cycle: int
    op: int
    status: int
    slot: int
    value: int


class DystaSchedTwin:
    """Bit-exact, cycle-aware model of `mmsched.hw.dysta.DystaScheduler`.

    Parameters
    ----------
    config : SchedulerConfig
        The same frozen config the RTL is elaborated from.
    """

    def __init__(self, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self.config = config
        cfg = config
        self.remaining = [0] * cfg.lut_depth
        self.density = [0] * cfg.lut_depth
        self.weight = [0] * (cfg.models * cfg.patterns)
        self.slots = [SlotState() for _ in range(cfg.slots)]
        self.n = 0
        self.seq = 0
        # cycle-aware state: now(c) = time_value + c - time_cycle (mod 2^time_bits)
        self.ready_cycle = 0
        self._time_cycle = 0
        self._time_value = 0

    # --- functional face ------------------------------------------------------------------
    def _ids_ok(self, model: int, pattern: int) -> bool:
        return model < self.config.models and pattern < self.config.patterns

    def load_lut(self, model: int, pattern: int, layer: int, remaining: int,
                 density: int) -> int:
        """LOAD_LUT. Returns the status."""
        cfg = self.config
        if not self._ids_ok(model, pattern) or layer >= cfg.layers:
            return DystaStatus.BAD_ID
        a = cfg.lut_address(model, pattern, layer)
        self.remaining[a] = remaining
        self.density[a] = density
        return DystaStatus.OK

    def load_iso(self, model: int, pattern: int, weight: int) -> int:
        """LOAD_ISO. Returns the status."""
        if not self._ids_ok(model, pattern):
            return DystaStatus.BAD_ID
        self.weight[model * self.config.patterns + pattern] = weight
        return DystaStatus.OK

    def admit(self, model: int, pattern: int, deadline: int, arrival: int, now: int
              ) -> tuple[int, int, int]:
        """ADMIT at counter value ``now``. Returns (status, slot, sequence number)."""
        cfg = self.config
        if not self._ids_ok(model, pattern):
            return DystaStatus.BAD_ID, 0, 0
        free = next((i for i, s in enumerate(self.slots) if not s.valid), None)
        if free is None:
            return DystaStatus.FULL, 0, 0
        rem = self.remaining[cfg.lut_address(model, pattern, 0)]
        _, rb, p = estimate(cfg, cfg.gamma_one, rem, deadline)
        seq = self.seq
        self.slots[free] = SlotState(
            valid=True, running=False, model=model, pattern=pattern, layer=0, gsum=0,
            gamma=cfg.gamma_one, deadline=deadline, rb=rb, p=p, last=arrival,
            k=self.weight[model * cfg.patterns + pattern], seq=seq)
        self.seq = (seq + 1) & 0xFFFF_FFFF
        self.n += 1
        status = DystaStatus.LATE if deadline < now else DystaStatus.OK
        return status, free, seq

    def retire(self, slot: int) -> int:
        """RETIRE. Returns the status."""
        if slot >= self.config.slots or not self.slots[slot].valid:
            return DystaStatus.BAD_ID
        s = self.slots[slot]
        if not s.running:
            self.n -= 1
        s.valid = False
        s.running = False
        return DystaStatus.OK

    def layer_done(self, slot: int, nnz: int, total: int, now: int) -> tuple[int, int]:
        """LAYER_DONE at counter value ``now``. Returns (status, new gamma)."""
        cfg = self.config
        if slot >= cfg.slots or not self.slots[slot].valid:
            return DystaStatus.BAD_ID, 0
        s = self.slots[slot]
        j = s.layer
        if j >= cfg.layers:
            return DystaStatus.BAD_ID, 0
        base = cfg.lut_address(s.model, s.pattern, 0)
        r = layer_ratio(cfg, nnz, total, self.density[base + j])
        gamma, gsum = gamma_update(cfg, r, s.gsum, j)
        rem = self.remaining[base + j + 1] if j + 1 < cfg.layers else 0
        _, rb, p = estimate(cfg, gamma, rem, s.deadline)
        s.layer, s.gsum, s.gamma, s.rb, s.p, s.last = j + 1, gsum, gamma, rb, p, now
        if s.running:
            s.running = False
            self.n += 1
        return DystaStatus.OK, gamma

    def scores(self, now: int) -> list[int | None]:
        """Every slot's score at ``now`` (None for non-candidates)."""
        cfg = self.config
        return [slot_score(cfg, now, self.n, s.rb, s.p, s.last, s.k)
                if s.valid and not s.running else None for s in self.slots]

    def decide(self, now: int) -> tuple[int, int, int]:
        """DECIDE at counter value ``now``. Returns (status, slot, score); marks it running."""
        cfg = self.config
        n = self.n
        best = -1
        best_score = best_seq = 0
        for i, s in enumerate(self.slots):
            if not s.valid or s.running:
                continue
            sc = slot_score(cfg, now, n, s.rb, s.p, s.last, s.k)
            if best < 0 or beats(sc, s.seq, best_score, best_seq):
                best, best_score, best_seq = i, sc, s.seq
        if best < 0:
            return DystaStatus.IDLE, 0, 0
        self.slots[best].running = True
        self.n -= 1
        return DystaStatus.OK, best, min(best_score, DYSTA_RESP_VALUE_MAX)

    # --- cycle-aware face -------------------------------------------------------------------
    def now_at(self, cycle: int) -> int:
        """The free-running counter's value in ``cycle``."""
        mask = (1 << self.config.time_bits) - 1
        return (self._time_value + cycle - self._time_cycle) & mask

    def issue(self, word: int, gap: int = 0) -> TwinResponse:
        """Present command ``word`` ``gap`` idle cycles after the scheduler became ready.

        Returns the acceptance cycle, the response cycle and the response; the response is
        assumed taken in the cycle it appears (the scheduler is ready again one cycle later).
        """
        if gap < 0:
            raise ValueError(f"gap must be >= 0, not {gap}")
        cfg = self.config
        c = self.ready_cycle + gap
        now = self.now_at(c)
        f = unpack_dysta_cmd(word)
        op = f["op"]
        slot, value = 0, 0
        if op == DystaOp.LOAD_LUT:
            status = self.load_lut(f["model"], f["pattern"], f["layer"], f["remaining"],
                                   f["density"])
        elif op == DystaOp.LOAD_ISO:
            status = self.load_iso(f["model"], f["pattern"], f["weight"])
        elif op == DystaOp.ADMIT:
            status, slot, value = self.admit(f["model"], f["pattern"], f["deadline"],
                                             f["arrival"], now)
        elif op == DystaOp.RETIRE:
            status = self.retire(f["slot"])
            slot = f["slot"] if status == DystaStatus.OK else 0
        elif op == DystaOp.SET_TIME:
            status = DystaStatus.OK
            self._time_cycle, self._time_value = c + 1, f["value"] & ((1 << cfg.time_bits) - 1)
        elif op == DystaOp.LAYER_DONE:
            status, value = self.layer_done(f["slot"], f["nnz"], f["total"], now)
            slot = f["slot"] if status == DystaStatus.OK else 0
        elif op == DystaOp.DECIDE:
            status, slot, value = self.decide(now)
        else:
            status = DystaStatus.BAD_OP
        checked = (op == DystaOp.LAYER_DONE and f["slot"] < cfg.slots
                   and self.slots[f["slot"]].valid)
        lat = cfg.latency(op, status, layer_checked=checked)
        self.ready_cycle = c + lat + 1
        return TwinResponse(c, c + lat, op, int(status), slot, value)



# --- seeded random stimulus (equivalence tests, benchmarks) -----------------------------------


def random_program(config: SchedulerConfig, rng, count: int, *, max_gap: int = 2,
                   ) -> list[tuple[int, int]]:
    """A random, state-aware command sequence: ``[(gap, word), ...]`` of ``count`` commands.

    Built by driving a private twin so the commands hit live slots most of the time; it covers
    every op, out-of-range ids, a full table, past deadlines, zero totals and densities,
    saturating values, SET_TIME jumps and unknown op codes. ``rng``: a numpy Generator.
    """
    from mmsched.hw.spec import DYSTA_DENSITY_BITS, DYSTA_WEIGHT_BITS, pack_dysta_cmd

    cfg = config
    twin = DystaSchedTwin(cfg)
    tmask = (1 << cfg.time_bits) - 1
    prog: list[tuple[int, int]] = []

    def rint(lo: int, hi: int) -> int:  # inclusive
        return int(rng.integers(lo, hi + 1))

    def emit(word: int) -> None:
        gap = rint(0, max_gap)
        twin.issue(word, gap)
        prog.append((gap, word))

    # load part of the LUTs (most entries), with a few extreme values
    for mi in range(cfg.models):
        for pi in range(cfg.patterns):
            if rng.random() < 0.8:
                emit(pack_dysta_cmd(DystaOp.LOAD_ISO, model=mi, pattern=pi,
                                    weight=rint(0, (1 << DYSTA_WEIGHT_BITS) - 1)))
            for j in range(cfg.layers):
                if rng.random() < 0.9:
                    big = rng.random() < 0.05
                    emit(pack_dysta_cmd(
                        DystaOp.LOAD_LUT, model=mi, pattern=pi, layer=j,
                        remaining=(1 << cfg.remaining_bits) - 1 if big else rint(0, 1 << 20),
                        density=0 if rng.random() < 0.05 else
                        rint(0, (1 << DYSTA_DENSITY_BITS) - 1)))
    last_admit = None
    while len(prog) < count:
        u = rng.random()
        now = twin.now_at(twin.ready_cycle)
        live = [i for i, s in enumerate(twin.slots) if s.valid]
        if u < 0.08 and last_admit is not None:
            emit(last_admit)  # an identical request: equal scores, the tie-break decides
        elif u < 0.25:
            bad = rng.random() < 0.05
            mi = rint(cfg.models, 255) if bad else rint(0, cfg.models - 1)
            pi = rint(0, cfg.patterns - 1)
            deadline = (now + rint(-2000, 1 << 22)) & tmask
            arrival = (now - rint(-50, 5000)) & tmask
            last_admit = pack_dysta_cmd(DystaOp.ADMIT, model=mi, pattern=pi, deadline=deadline,
                                        arrival=arrival)
            emit(last_admit)
        elif u < 0.5:
            emit(pack_dysta_cmd(DystaOp.DECIDE))
        elif u < 0.75:
            if live and rng.random() < 0.9:
                slot = live[rint(0, len(live) - 1)]
            else:
                slot = rint(0, (1 << 16) - 1) if rng.random() < 0.5 else rint(0, cfg.slots)
            total = 0 if rng.random() < 0.05 else rint(1, (1 << 32) - 1)
            nnz = rint(0, total) if rng.random() < 0.9 else rint(0, (1 << 32) - 1)
            emit(pack_dysta_cmd(DystaOp.LAYER_DONE, slot=slot, nnz=nnz, total=total))
        elif u < 0.85:
            if live and (len(live) == cfg.slots or rng.random() < 0.6):
                slot = live[rint(0, len(live) - 1)]
            else:
                slot = rint(0, cfg.slots + 2)
            emit(pack_dysta_cmd(DystaOp.RETIRE, slot=slot))
        elif u < 0.95:
            emit(pack_dysta_cmd(DystaOp.SET_TIME, value=(now + rint(-1000, 1 << 24)) & tmask))
        elif u < 0.97:
            emit(7)  # unknown op code
        else:
            emit(pack_dysta_cmd(DystaOp.LOAD_LUT, model=rint(0, 255), pattern=rint(0, 255),
                                layer=rint(0, 4095), remaining=5, density=7))
    return prog
