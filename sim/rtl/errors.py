"""The errors of an RTL simulation that departs from its reference."""

from __future__ import annotations


class RtlMismatch(AssertionError):
    """The RTL accelerator's result or counters differ from numpy or the exact cycle model
    (a hardware bug, not bad input)."""


class CosimMismatch(AssertionError):
    """The RTL answered the co-simulation host differently from the twin or the engine (or
    with X/Z bits)."""
