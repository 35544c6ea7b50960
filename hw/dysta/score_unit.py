"""Score unit: one slot's Dysta score at the decision time (one lane per slot)."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import (
    DYSTA_RECIP_N_BITS,
    DYSTA_RECIP_N_FRAC,
    DYSTA_WAIT_BITS,
    DYSTA_WEIGHT_BITS,
    SchedulerConfig,
)

from ._layouts import p_shape


class ScoreUnit(wiring.Component):
    """``score = min(rb + clamp((P - t) << score_frac) + shift(wq * K * recip_n), max)`` (model:
    `mmsched.hw.model.dysta_sched.slot_score`; formats: spec section (2)).

    Four registered stages: (1) slack ``clamp(P - t, 0, max)`` and quantised wait ``wq``;
    (2) ``a = rb + slack`` (saturating) and ``wq * K`` (24 x 16 bits); (3) ``* recip_n``
    (40 x 16 bits) and the fixed fairness shift, saturating; (4) ``a + f``, saturating.

    Ports
    -----
    sample : In(1)
        Stage 1 loads (from ``t``, ``p``, ``last``) only in cycles where ``sample`` is high and
        holds otherwise; stages 2-4 advance every cycle.
    t : In(time_bits)
        Decision time (the cycle counter).
    rb, p, last, k : In
        The slot's R/beta, D - R, last-run time and fairness weight.
    recip_n : In(16)
        1/N, UQ1.15.
    score : Out(score_bits)
        Valid `latency` cycles after a ``sample`` cycle, provided ``rb``, ``k`` and ``recip_n``
        are held from that cycle on (the scheduler holds its table during a decision).
    """

    latency = 4

    def __init__(self, *, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self._cfg = cfg = config
        super().__init__({
            "sample": In(1), "t": In(cfg.time_bits), "rb": In(cfg.score_bits),
            "p": In(p_shape(cfg)), "last": In(cfg.time_bits), "k": In(DYSTA_WEIGHT_BITS),
            "recip_n": In(DYSTA_RECIP_N_BITS), "score": Out(cfg.score_bits)})

    def elaborate(self, platform):
        cfg = self._cfg
        m = Module()
        smax = cfg.score_max
        wmax = (1 << DYSTA_WAIT_BITS) - 1

        # stage 1
        slack = Signal(cfg.score_bits, name="slack")
        wq = Signal(DYSTA_WAIT_BITS, name="wq")
        diff = Signal(signed(p_shape(cfg).width + 1), name="p_minus_t")
        wait = Signal(signed(cfg.time_bits + 1), name="wait")
        m.d.comb += [diff.eq(self.p - self.t), wait.eq(self.t - self.last)]
        wait_q = Signal(cfg.time_bits, name="wait_q")
        m.d.comb += wait_q.eq(wait[:cfg.time_bits] >> cfg.wait_shift)
        fr = cfg.score_frac
        with m.If(self.sample):
            m.d.sync += [
                slack.eq(Mux(diff < 0, 0, Mux(diff > (smax >> fr), smax, diff << fr))),
                wq.eq(Mux(wait <= 0, 0, Mux(wait_q > wmax, wmax, wait_q))),
            ]
        # stage 2
        a2 = Signal(cfg.score_bits, name="a2")
        f1 = Signal(DYSTA_WAIT_BITS + DYSTA_WEIGHT_BITS, name="f1")
        sum2 = Signal(cfg.score_bits + 1)
        m.d.comb += sum2.eq(self.rb + slack)
        m.d.sync += [a2.eq(Mux(sum2 > smax, smax, sum2)), f1.eq(wq * self.k)]
        # stage 3
        a3 = Signal(cfg.score_bits, name="a3")
        f3 = Signal(cfg.score_bits, name="f3")
        prod = Signal(f1.shape().width + DYSTA_RECIP_N_BITS, name="f1_times_recip_n")
        m.d.comb += prod.eq(f1 * self.recip_n)
        s = cfg.fair_shift - DYSTA_RECIP_N_FRAC + cfg.score_frac
        shifted = prod << s if s >= 0 else prod >> -s
        m.d.sync += [a3.eq(a2), f3.eq(Mux(shifted > smax, smax, shifted))]
        # stage 4
        score = Signal(cfg.score_bits, name="score_r")
        sum4 = Signal(cfg.score_bits + 1)
        m.d.comb += sum4.eq(a3 + f3)
        m.d.sync += score.eq(Mux(sum4 > smax, smax, sum4))
        m.d.comb += self.score.eq(score)
        return m
