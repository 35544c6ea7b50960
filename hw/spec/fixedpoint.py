"""Fixed-point rules shared by the hardware and its Python twins: rounding, saturation and
shifts. One definition each; the RTL's arithmetic and the twins follow them."""

from __future__ import annotations

import math

__all__ = [
    "round_half_up",
    "sat_u",
    "shift_floor",
]


def round_half_up(x: float) -> int:
    """The one host-side rounding rule: to nearest, halves up (x >= 0)."""
    return int(math.floor(x + 0.5))


def sat_u(x: int, bits: int) -> int:
    """Saturate an integer to the unsigned range [0, 2^bits - 1]."""
    return 0 if x < 0 else min(x, (1 << bits) - 1)


def shift_floor(x: int, s: int) -> int:
    """``x * 2^s`` for s >= 0, else ``floor(x / 2^-s)`` (x >= 0)."""
    return x << s if s >= 0 else x >> -s
