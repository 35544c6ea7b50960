"""Shortest (estimated) job first: SJF and SJF-sparse.

The classic shortest-remaining-time-first rule at layer granularity, the non-preemptive
baseline of PREMA (HPCA'20) and a baseline of Dysta (MICRO'23, arXiv 2310.11096, section 6).
Pick the queued task with the smallest estimated remaining latency ``E``
(docs/scheduling.md): ``sjf`` uses the architecture-level averages, ``sjf_sparse`` the model
key's (pattern's) averages scaled by the monitored gamma (``sparse=True``). Ties: earliest arrival.

Deviations: none in either mode (the float sums follow the artifact's order).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..policy import Task, register
from ._base import EstimatePolicy, SparseVariantConfig


@register("sjf")
class SJF(EstimatePolicy):
    """Min ``E`` (``gamma x E`` with pattern averages when ``sparse``)."""

    trivial_single = True

    Config = SparseVariantConfig

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        states = self._ready_states(ready, accelerator)
        best = states[0]
        bv = best.est
        for st in states:
            if st.est < bv:
                bv = st.est
                best = st
        return best.task


register("sjf_sparse", sparse=True)(SJF)
