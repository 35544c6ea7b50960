"""Switches reproducing the Dysta artifact's simulator defects (docs/artifact-compat.md).

Each defect has its own named flag; `CompatFlags.dysta_artifact` turns all of them on
(``--compat dysta-artifact``). The default, all off, is the correct behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class CompatFlags:
    """One flag per artifact defect, numbered as in docs/artifact-compat.md."""

    sample_ids_0_to_6: bool = False
    """1. Sample ids drawn from 0..6 only."""
    clock_rewind: bool = False
    """2. The clock goes back to an arrival that happened during the last layer."""
    strict_arrivals: bool = False
    """2b. Only requests that arrived strictly before a layer boundary join its decision (one
    arriving exactly at the boundary waits for the next); fixed mode queues it at once."""
    prema_shared_gamma: bool = False
    """3. prema_sparse scales every candidate by the gamma of the token loop's last task."""
    prema_cumulative_wait: bool = False
    """4. PREMA re-adds the whole idle time at every decision."""
    running_max_minus_one: bool = False
    """5. planaria/sdrm3 start the running maximum at -1; scores divide by zero at D == t."""
    sdrm3_fixed_alpha: bool = False
    """6. sdrm3 fairness normalised by one layer with alpha = 1 (near round-robin)."""
    attnn_seq512: bool = False
    """7a. AttNN latencies always computed at sequence length 512."""
    listing_order: bool = False
    """7b. Models taken in file-system listing order (not sorted)."""
    integer_rates: bool = False
    """7c. Arrival rates must be integers."""

    @classmethod
    def dysta_artifact(cls) -> CompatFlags:
        return cls(**{f.name: True for f in fields(cls)})

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    @classmethod
    def from_mode(cls, mode: str | None) -> CompatFlags:
        """``None``/``"fixed"`` -> all off; ``"dysta-artifact"`` -> all on."""
        if mode in (None, "", "fixed"):
            return cls()
        if mode == "dysta-artifact":
            return cls.dysta_artifact()
        raise ValueError(f"unknown compat mode {mode!r}; known: fixed, dysta-artifact")
