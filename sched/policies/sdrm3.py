"""SDRM3 (single-accelerator form): MapScore = urgency + alpha x fairness.

Kim et al., "SDRM3: A Dynamic Scheduler for Dynamic Real-time Multi-model ML Workloads",
arXiv 2212.03414 v1 (DREAM in v2 / ASPLOS'23). On one accelerator the preference term is
constant, leaving (docs/scheduling.md, as in the Dysta artifact):

    MapScore = min(1, E / (D - t)) + alpha * fairness

and the largest score runs (ties: earliest arrival). ``sdrm3`` uses architecture averages,
``sdrm3_sparse`` (``sparse=True``) the key's (pattern's) averages with the monitored gamma
(``gamma x E``, ``gamma x`` the normaliser).

Deviations and compat switches (`CompatFlags`):

- fairness: fixed mode normalises the waiting time ``w`` by the task's estimated isolated
  latency (DREAM's definition, docs/realtime.md);
  `CompatFlags.sdrm3_fixed_alpha` normalises it by the estimated latency of the task's next
  layer, as the artifact does (defect 6: with alpha = 1 fairness dominates and the policy
  degenerates to near round-robin);
- urgency past the deadline: fixed mode sets urgency to 1 when ``D <= t``;
  `CompatFlags.running_max_minus_one` keeps the artifact's raw ``E / (D - t)`` (negative
  past the deadline, IEEE division at ``D == t``) and its running maximum starting at -1
  (defect 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..policy import Task, param, register
from ._base import (
    EstimatePolicy,
    SparseVariantConfig,
    _State,
    artifact_running_max,
    artifact_running_max_index,
    ieee_div,
)


@register("sdrm3")
class SDRM3(EstimatePolicy):
    """Max ``min(1, E / (D - t)) + alpha * w / normaliser``."""

    trivial_single = True

    _vec_fields = ("est", "enext", "deadline", "last")

    @dataclass(frozen=True)
    class Config(SparseVariantConfig):
        alpha: float = param(1.0, lo=0)
        """Weight of fairness (the artifact's default, ``--alpha 1``)."""

    def __init__(self, context, config=None) -> None:
        super().__init__(context, config)
        self._per_layer = context.compat.sdrm3_fixed_alpha
        self._compat_max = context.compat.running_max_minus_one

    def _refresh(self, st: _State) -> None:
        g = st.g
        if self.config.sparse:
            st.est = g * st.rem[st.j]
            st.enext = g * (st.lay[st.j] if self._per_layer else st.iso)
        else:
            st.est = st.rem[st.j]
            st.enext = st.lay[st.j] if self._per_layer else st.iso

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        states = self._ready_states(ready, accelerator)
        alpha = self.config.alpha
        n = len(states)
        cols = self._columns(n) if states is self._order else None
        if cols is not None:
            i = self._select_columns(cols, n, now, alpha)
            if i is not None:
                return states[i].task
        if self._compat_max:
            scores = []
            for st in states:
                urg = ieee_div(st.est, st.deadline - now)
                scores.append((1 if urg > 1 else urg)
                              + alpha * ieee_div(now - st.last, st.enext))
            return artifact_running_max(states, scores).task
        best = None
        bv = 0.0
        for st in states:
            slack = st.deadline - now
            urg = st.est / slack if slack > 0 else 1.0
            if urg > 1:
                urg = 1.0
            v = urg + alpha * ((now - st.last) / st.enext if st.enext else 0.0)
            if best is None or v > bv:
                bv = v
                best = st
        return best.task

    def _select_columns(self, cols, n: int, now: int | float, alpha: float) -> int | None:
        """The scalar loops of `select` as array operations in the same order (None: a NaN
        score, whose running-maximum semantics only the scalar loop reproduces)."""
        est, enext, d, last = cols.a[:, :n]
        slack = d - now
        wait = now - last
        if self._compat_max:
            with np.errstate(divide="ignore", invalid="ignore"):
                urg = est / slack
                np.minimum(urg, 1.0, out=urg, where=urg > 1)
                score = wait / enext
            score *= alpha
            score += urg
            return artifact_running_max_index(score)
        urg = np.ones(n)
        np.divide(est, slack, out=urg, where=slack > 0)
        np.minimum(urg, 1.0, out=urg)
        fair = np.zeros(n)
        np.divide(wait, enext, out=fair, where=enext != 0)
        fair *= alpha
        urg += fair
        return int(urg.argmax())


register("sdrm3_sparse", sparse=True)(SDRM3)
