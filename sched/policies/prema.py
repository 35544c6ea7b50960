"""PREMA: predictive multi-task scheduling with token-based preemption.

Choi and Rhu, "PREMA: A Predictive Multi-task Scheduling Algorithm For Preemptible Neural
Processing Units", HPCA'20, Algorithm 2 and the paragraph under its Table II. As run in the
Dysta artifact at layer granularity (docs/scheduling.md):

1. a task seen for the first time gets ``token = prio`` (1, 3 or 9);
2. afterwards, at every decision, ``token += prio * w / Iso_est`` (its slowdown);
3. the threshold is 9, 3 or 1: the largest level not above the largest token among the
   tasks seen before this decision (tokens set in step 1 do not count);
4. among tasks with ``token >= threshold``, the smallest estimated remaining latency ``E``
   runs (ties: earliest arrival).

``prema`` uses architecture averages; ``prema_sparse`` (``sparse=True``) the key's (pattern's)
averages with the monitored gamma: ``w / (gamma x Iso_est)`` and ``gamma x E``.

Deviations and compat switches (`CompatFlags`):

- fixed mode accrues, at each decision, only the waiting time since the previous decision
  (``w`` counted once); `CompatFlags.prema_cumulative_wait` re-adds the whole time since the
  task last ran at every decision, as the artifact does (defect 4: tokens grow
  quadratically);
- fixed mode scales each candidate's ``E`` by its own gamma;
  `CompatFlags.prema_shared_gamma` uses the gamma of the last task of the token loop for
  every candidate (defect 3, a stale loop variable in the artifact).
- The paper's "token > threshold" is "token >= threshold" here, as in the artifact
  (otherwise no task qualifies at the start).
- Tokens are never reset once a task has run (both modes; the fixed mode
  changes only the accrual).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..policy import Task, register
from ._base import EstimatePolicy, SparseVariantConfig, _State


@register("prema")
class PREMA(EstimatePolicy):
    """Token threshold by priority, then min ``E`` among the qualified tasks."""

    _vec_fields = ("prio", "last", "iso", "g", "est", "token", "acct")
    _vec_mutable = 2
    VEC_ON = 80  # more array operations per decision than the others: pays off later
    VEC_OFF = 40

    Config = SparseVariantConfig

    def __init__(self, context, config=None) -> None:
        super().__init__(context, config)
        self._cumulative = context.compat.prema_cumulative_wait
        self._shared_gamma = context.compat.prema_shared_gamma and self.config.sparse

    def _refresh(self, st: _State) -> None:
        st.est = st.rem[st.j]  # E without gamma; gamma applied in select (may be shared)

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        states = self._ready_states(ready, accelerator)
        sparse = self.config.sparse
        cumulative = self._cumulative
        cols = self._columns(len(states)) if states is self._order else None
        if cols is not None:
            return states[self._select_columns(cols, now)].task
        max_token = 0
        for st in states:
            if st.token < 0:
                st.token = st.prio
            else:
                since = st.last if cumulative or st.acct < st.last else st.acct
                norm = st.g * st.iso if sparse else st.iso
                wait = now - since
                st.token += st.prio * (wait / norm if norm else _stalled(wait))
                if max_token < st.token:
                    max_token = st.token
            st.acct = now
        g_last = states[-1].g
        threshold = 9 if max_token >= 9 else 3 if max_token >= 3 else 1
        best = None
        bv = 0.0
        shared = self._shared_gamma
        for st in states:
            if st.token >= threshold:
                v = st.est
                if sparse:
                    v = (g_last if shared else st.g) * v
                if best is None or v < bv:
                    bv = v
                    best = st
        return best.task


    def _select_columns(self, cols, now: int | float) -> int:
        """The scalar loops of `select` as array operations in the same order."""
        n = cols.n
        prio, last, iso, g, est, token, acct = cols.a[:, :n]
        seen = token >= 0
        since = last if self._cumulative else np.maximum(last, acct)
        inc = now - since
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.config.sparse:
                inc /= g * iso
            else:
                inc /= iso
        inc[np.isnan(inc)] = 0.0  # 0 / 0 (`_stalled`)
        inc *= prio
        np.add(token, inc, out=token, where=seen)
        max_token = float(token[seen].max()) if seen.any() else 0.0
        max_token = max(max_token, 0.0)
        np.copyto(token, prio, where=~seen)
        acct[:] = now
        threshold = 9 if max_token >= 9 else 3 if max_token >= 3 else 1
        v = est
        if self.config.sparse:
            v = (g[n - 1] if self._shared_gamma else g) * est
        v = np.where(token >= threshold, v, np.inf)
        return int(v.argmin())


def _stalled(wait: int | float) -> float:
    """The slowdown ``wait / 0`` of a task whose estimated isolated latency is 0 (gamma 0:
    every monitored input so far was all zeros): infinite after any wait, 0 without one
    (where IEEE arithmetic would give NaN, and a NaN token never qualifies again)."""
    return math.inf if wait else 0.0


register("prema_sparse", sparse=True)(PREMA)
