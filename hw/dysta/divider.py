"""Restoring divider: one quotient bit per cycle, saturating."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class RestoringDivider(wiring.Component):
    """``quotient = min(floor(dividend / divisor), 2^quotient_bits - 1)`` (Python model:
    `mmsched.hw.cyclemodel.dysta_sched.divide_sat`).

    Operands are sampled in the cycle ``start`` is high; ``done`` is high for one cycle
    `latency` cycles later, and ``quotient`` holds its value until the next ``start``. The first
    trial (divisor << quotient_bits, the overflow bit) is made in the start cycle, then one bit
    per cycle from quotient_bits - 1 down to 0. A zero divisor gives the saturated maximum.

    Parameters
    ----------
    dividend_bits, divisor_bits, quotient_bits : int
        Operand and result widths (positive, keyword-only).

    Attributes
    ----------
    latency : int
        ``quotient_bits + 1``.
    """

    def __init__(self, *, dividend_bits: int, divisor_bits: int, quotient_bits: int) -> None:
        for name, v in (("dividend_bits", dividend_bits), ("divisor_bits", divisor_bits),
                        ("quotient_bits", quotient_bits)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, not {v!r}")
        self._a, self._b, self._q = dividend_bits, divisor_bits, quotient_bits
        super().__init__({
            "start": In(1), "dividend": In(dividend_bits), "divisor": In(divisor_bits),
            "quotient": Out(quotient_bits), "done": Out(1)})

    @property
    def latency(self) -> int:
        return self._q + 1

    def elaborate(self, platform):
        m = Module()
        q = self._q
        rem = Signal(self._a, name="rem")
        trial = Signal(self._b + q, name="trial")        # divisor << bit
        bits = Signal(q + 1, name="bits")                  # quotient bits so far, MSB first
        left = Signal(range(q + 1), name="left")           # trials still to make
        busy = Signal(name="busy")

        first = Signal(self._b + q + 1)
        m.d.comb += first.eq(self.divisor << q)
        with m.If(self.start):
            with m.If(self.dividend >= first):
                m.d.sync += [rem.eq(self.dividend - first), bits.eq(1)]
            with m.Else():
                m.d.sync += [rem.eq(self.dividend), bits.eq(0)]
            m.d.sync += [trial.eq(first >> 1), left.eq(q), busy.eq(1)]
        with m.Elif(busy):
            take = Signal(name="take")
            m.d.comb += take.eq(rem >= trial)
            with m.If(take):
                m.d.sync += rem.eq(rem - trial)
            m.d.sync += [bits.eq(Cat(take, bits)), trial.eq(trial >> 1), left.eq(left - 1)]
            with m.If(left == 1):
                m.d.sync += busy.eq(0)
        done = Signal(name="done_r")
        m.d.sync += done.eq(busy & (left == 1))
        m.d.comb += [
            self.done.eq(done),
            self.quotient.eq(bits[:q] | (bits[q].replicate(q))),
        ]
        return m
