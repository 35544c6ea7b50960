"""Score unit: one slot's N-scaled Dysta score at the decision time (one lane per slot)."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import DYSTA_WAIT_MANT_BITS, DYSTA_WEIGHT_BITS, SchedulerConfig

from .layouts import np_shape, nt_shape


class ScoreUnit(wiring.Component):
    """``score_N = min(N*rb + max(0, N*P - N*t) << score_frac + shift(wq * K), max)`` (model:
    `mmsched.hw.cyclemodel.dysta_sched.lane_score`; formats: `mmsched.hw.spec.scheduler`).

    No multiplier but the fairness one: N*rb and N*P are kept by the task table, N*t is
    computed once per decision by the scheduler. Four registered stages: (1) the quantised
    wait ``wq`` as an 18-bit mantissa and its exponent flag; (2) slack ``clamp(N*P - N*t, 0,
    max)`` and ``mantissa * K`` (18 x 16 bits: one ECP5 MULT18X18D); (3) ``a = N*rb + slack``
    and the fairness shift; (4) ``a + f``, saturating (the only saturation: terms too large
    for the score are kept as an overflow bit that forces it).

    Ports
    -----
    sample : In(1)
        Stage 1 loads (from ``t`` and ``last``) only in cycles where ``sample`` is high and
        holds otherwise; stages 2-4 advance every cycle.
    t : In(time_bits)
        Decision time (the cycle counter), read in the ``sample`` cycle.
    nt : In(time_bits + n_bits)
        N x t, read one cycle after ``sample`` (the scheduler registers it in that cycle).
    nrb, np, last, k : In
        The slot's N x R/beta, N x (D - R), last-run time and fairness weight.
    score : Out(nscore_bits)
        Valid `latency` cycles after a ``sample`` cycle, provided ``nt``, ``nrb``, ``np`` and
        ``k`` are held from the cycle after it on (the scheduler holds its table during a
        decision).
    """

    latency = 4

    def __init__(self, *, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self._cfg = cfg = config
        super().__init__({
            "sample": In(1), "t": In(cfg.time_bits), "nt": In(nt_shape(cfg)),
            "nrb": In(cfg.nscore_bits), "np": In(np_shape(cfg)), "last": In(cfg.time_bits),
            "k": In(DYSTA_WEIGHT_BITS), "score": Out(cfg.nscore_bits)})

    @property
    def config(self) -> SchedulerConfig:
        return self._cfg

    def elaborate(self, platform):
        cfg = self._cfg
        m = Module()
        smax = cfg.nscore_max
        wmax = cfg.wait_max
        mb = DYSTA_WAIT_MANT_BITS
        ex = cfg.wait_exp
        fr = cfg.score_frac

        # stage 1: wq, as an 18-bit mantissa and an exponent flag
        mant = Signal(mb, name="wq_mant")
        big = Signal(name="wq_big")
        wait = Signal(signed(cfg.time_bits + 1), name="wait")
        wait_q = Signal(cfg.time_bits, name="wait_q")
        wq = Signal(cfg.wait_bits, name="wq")
        m.d.comb += [wait.eq(self.t - self.last),
                     wait_q.eq(wait[:cfg.time_bits] >> cfg.wait_shift),
                     wq.eq(Mux(wait <= 0, 0, Mux(wait_q > wmax, wmax, wait_q)))]
        with m.If(self.sample):
            if ex:
                hi = Signal(name="wq_hi")
                m.d.comb += hi.eq(wq[mb:] != 0)
                m.d.sync += [mant.eq(Mux(hi, wq >> ex, wq)), big.eq(hi)]
            else:
                m.d.sync += [mant.eq(wq), big.eq(0)]
        # stage 2: the slack max(0, N*P - N*t), kept to nb - fr bits plus an overflow bit (a
        # slack >= 2^(nb - fr) saturates the score anyway), and the fairness product
        nb = cfg.nscore_bits
        diff = Signal(signed(max(np_shape(cfg).width, nt_shape(cfg).width + 1) + 1),
                      name="np_minus_nt")
        m.d.comb += diff.eq(self.np - self.nt)
        mag = diff.shape().width - 1            # bits of a non-negative diff
        keep = nb - fr
        slack = Signal(min(mag, keep) + (mag > keep), name="slack")
        f1 = Signal(mb + DYSTA_WEIGHT_BITS, name="f1")
        big2 = Signal(name="wq_big2")
        with m.If(diff < 0):
            m.d.sync += slack.eq(0)
        with m.Else():
            if mag > keep:
                m.d.sync += slack.eq(Cat(diff[:keep], diff[keep:mag] != 0))
            else:
                m.d.sync += slack.eq(diff[:mag])
        m.d.sync += [f1.eq(mant * self.k), big2.eq(big)]
        # stage 3: a = N*rb + slack << fr (no saturation: one bit wider); f shifted, kept to
        # nb bits plus an overflow bit
        a3 = Signal(max(nb, len(slack) + fr) + 1, name="a3")
        m.d.sync += a3.eq(self.nrb + (slack << fr))

        def shifted(x, s):
            return x << s if s >= 0 else x >> -s

        s0 = cfg.fair_shift + fr
        fsh = Signal(len(f1) + max(0, s0 + ex), name="f_shifted")
        m.d.comb += fsh.eq(Mux(big2, shifted(f1, s0 + ex), shifted(f1, s0)))
        f3 = Signal(min(len(fsh), nb) + (len(fsh) > nb), name="f3")
        if len(fsh) > nb:
            m.d.sync += f3.eq(Cat(fsh[:nb], fsh[nb:] != 0))
        else:
            m.d.sync += f3.eq(fsh)
        # stage 4: the one saturation
        score = Signal(nb, name="score_r")
        sum4 = Signal(max(len(a3), len(f3)) + 1, name="sum4")
        m.d.comb += sum4.eq(a3 + f3)
        m.d.sync += score.eq(Mux(sum4 > smax, smax, sum4))
        m.d.comb += self.score.eq(score)
        return m
