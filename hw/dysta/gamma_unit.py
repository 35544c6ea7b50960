"""Gamma unit: from the monitor's counts to a slot's new gamma, R/beta and P."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import (
    DYSTA_BETA_INV_FRAC,
    DYSTA_COUNT_BITS,
    DYSTA_DENSITY_BITS,
    DYSTA_DENSITY_FRAC,
    DYSTA_LAYER_ID_BITS,
    SchedulerConfig,
)

from .divider import RestoringDivider
from .layouts import np_shape, p_shape


class _State(enum.Enum, shape=4):
    IDLE = 0
    DIV1 = 1
    DIV2 = 2
    MULR = 3
    MULB = 4
    DONE = 5
    LATCH = 6
    PROD = 7
    MULN = 8


class GammaUnit(wiring.Component):
    """Gamma, R/beta and P of one slot, and N times the last two (Python model:
    `layer_ratio`, `gamma_update`, `estimate`, `n_scaled` of `mmsched.hw.cyclemodel.dysta_sched`;
    formats: `mmsched.hw.spec.scheduler`).

    Ports
    -----
    start : In(1)
        Inputs are sampled in the cycle ``start`` is high (the unit must be idle).
    admit : In(1)
        1: admission (gamma = 1.0; nnz, total, density, gsum, layer ignored).
        0: layer ``layer`` (0-based) done with monitor counts ``nnz``/``total``.
    nnz, total : In(32)
    density : In(16)
        Average density of layer ``layer`` (UQ1.15).
    remaining : In(remaining_bits)
        Estimate E after the event: remaining[layer + 1] (remaining[0] at admission).
    deadline : In(time_bits)
    gsum : In(gsum_bits)
        The avg predictor's sum before this layer.
    layer : In(12)
    n : In(n_bits)
        N when the slot is written (the scheduler applies a change of N that comes with the
        write one cycle later, to every slot).
    done : Out(1)
        One cycle, `latency` (admission: `admit_latency`) cycles after ``start``; the outputs
        below hold their values until the next ``start``.
    gamma : Out(gamma_bits)
    gsum_out : Out(gsum_bits)
    rb : Out(score_bits)
        R / beta, saturated.
    p : Out(signed)
        D - R.
    nrb, np : Out
        N x rb and N x p (exact).
    """

    def __init__(self, *, config: SchedulerConfig) -> None:
        if not isinstance(config, SchedulerConfig):
            raise ValueError(f"config must be a SchedulerConfig, not {type(config).__name__}")
        self._cfg = cfg = config
        super().__init__({
            "start": In(1), "admit": In(1), "nnz": In(DYSTA_COUNT_BITS),
            "total": In(DYSTA_COUNT_BITS), "density": In(DYSTA_DENSITY_BITS),
            "remaining": In(cfg.remaining_bits), "deadline": In(cfg.time_bits),
            "gsum": In(cfg.gsum_bits), "layer": In(DYSTA_LAYER_ID_BITS),
            "n": In(cfg.n_bits),
            "done": Out(1), "gamma": Out(cfg.gamma_bits), "gsum_out": Out(cfg.gsum_bits),
            "rb": Out(cfg.score_bits), "p": Out(p_shape(cfg)),
            "nrb": Out(cfg.nscore_bits), "np": Out(np_shape(cfg))})

    @property
    def config(self) -> SchedulerConfig:
        return self._cfg

    @property
    def latency(self) -> int:
        """Cycles from ``start`` to ``done`` for a layer-done update."""
        return self._cfg.gamma_latency

    @property
    def admit_latency(self) -> int:
        return self._cfg.ADMIT_GAMMA_LATENCY

    def elaborate(self, platform):
        cfg = self._cfg
        m = Module()
        shift = cfg.gamma_frac + DYSTA_DENSITY_FRAC
        m.submodules.div = div = RestoringDivider(
            dividend_bits=max(DYSTA_COUNT_BITS + shift, cfg.gsum_bits),
            divisor_bits=max(DYSTA_COUNT_BITS + DYSTA_DENSITY_BITS, DYSTA_LAYER_ID_BITS + 1),
            quotient_bits=cfg.gamma_bits)

        state = Signal(_State, name="state")
        remaining = Signal(cfg.remaining_bits, name="e")
        deadline = Signal(cfg.time_bits, name="d")
        gsum = Signal(cfg.gsum_bits, name="gsum_r")
        layer = Signal(DYSTA_LAYER_ID_BITS, name="layer_r")
        neutral = Signal(name="neutral")            # total == 0 or density == 0
        nnz_r = Signal(DYSTA_COUNT_BITS, name="nnz_r")
        total_r = Signal(DYSTA_COUNT_BITS, name="total_r")
        dens_r = Signal(DYSTA_DENSITY_BITS, name="density_r")
        divisor_r = Signal(DYSTA_COUNT_BITS + DYSTA_DENSITY_BITS, name="divisor_r")
        gamma = Signal(cfg.gamma_bits, name="gamma_r")
        r_est = Signal(cfg.r_bits, name="r_est")
        rb = Signal(cfg.score_bits, name="rb_r")
        p = Signal(p_shape(cfg), name="p_r")
        n = Signal(cfg.n_bits, name="n_r")
        nrb = Signal(cfg.nscore_bits, name="nrb_r")
        np_ = Signal(np_shape(cfg), name="np_r")

        m.d.comb += [self.done.eq(state == _State.DONE), self.gamma.eq(gamma),
                     self.gsum_out.eq(gsum), self.rb.eq(rb), self.p.eq(p),
                     self.nrb.eq(nrb), self.np.eq(np_)]

        ratio = Signal(cfg.gamma_bits, name="ratio")
        m.d.comb += ratio.eq(Mux(neutral, cfg.gamma_one, div.quotient))

        with m.Switch(state):
            with m.Case(_State.IDLE, _State.DONE):
                with m.If(self.start):
                    m.d.sync += [remaining.eq(self.remaining), deadline.eq(self.deadline),
                                 gsum.eq(self.gsum), layer.eq(self.layer), n.eq(self.n)]
                    with m.If(self.admit):
                        m.d.sync += [gamma.eq(cfg.gamma_one), gsum.eq(0), state.eq(_State.MULR)]
                    with m.Else():
                        # operands registered first: the density comes straight from a block
                        # RAM, and RAM + multiply + the divider's first trial in one cycle was
                        # the critical path (46 MHz on ECP5)
                        m.d.sync += [nnz_r.eq(self.nnz), total_r.eq(self.total),
                                     dens_r.eq(self.density),
                                     neutral.eq((self.total == 0) | (self.density == 0)),
                                     state.eq(_State.LATCH)]
                with m.Else():
                    m.d.sync += state.eq(_State.IDLE)
            with m.Case(_State.LATCH):
                m.d.sync += [divisor_r.eq(total_r * dens_r), state.eq(_State.PROD)]
            with m.Case(_State.PROD):
                m.d.comb += [div.start.eq(1), div.dividend.eq(nnz_r << shift),
                             div.divisor.eq(divisor_r)]
                m.d.sync += state.eq(_State.DIV1)
            with m.Case(_State.DIV1), m.If(div.done):
                if cfg.predictor == "last-one":
                    m.d.sync += [gamma.eq(ratio), state.eq(_State.MULR)]
                else:
                    total = Signal(cfg.gsum_bits, name="gsum_next")
                    m.d.comb += [total.eq(gsum + ratio), div.start.eq(1),
                                 div.dividend.eq(total), div.divisor.eq(layer + 1)]
                    m.d.sync += [gsum.eq(total), state.eq(_State.DIV2)]
            with m.Case(_State.DIV2), m.If(div.done):
                m.d.sync += [gamma.eq(div.quotient), state.eq(_State.MULR)]
            with m.Case(_State.MULR):
                m.d.sync += [r_est.eq((gamma * remaining) >> cfg.gamma_frac),
                             state.eq(_State.MULB)]
            with m.Case(_State.MULB):
                sh = cfg.score_frac - DYSTA_BETA_INV_FRAC
                prod = r_est * cfg.beta_inv_q
                scaled = Signal(cfg.r_bits + 24 + max(0, sh), name="r_over_beta")
                m.d.comb += scaled.eq(prod << sh if sh >= 0 else prod >> -sh)
                m.d.sync += [rb.eq(Mux(scaled > cfg.score_max, cfg.score_max, scaled)),
                             p.eq(deadline - r_est), state.eq(_State.MULN)]
            with m.Case(_State.MULN):
                m.d.sync += [nrb.eq(n * rb), np_.eq(n * p), state.eq(_State.DONE)]
        return m
