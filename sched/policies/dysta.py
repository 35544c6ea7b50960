"""Dysta: sparsity-aware dynamic scheduling of multi-DNN workloads (software twin).

Fan, Venieris, Kouris, Lane, "Sparse-DySta: Sparsity-Aware Dynamic and Static Scheduling for
Sparse Multi-DNN Workloads", MICRO'23 (arXiv 2310.11096), sections 4-5. At every layer
boundary each queued task is scored and the minimum runs (docs/scheduling.md):

    score = R + beta * (max(0, D - t - R) + (w / Iso_est) / N)

``R``: the predicted remaining latency; ``D - t - R``: the slack left after running to the
end (its urgency); ``w / Iso_est``: the slowdown since the task last ran, normalised by its
estimated isolated latency and by the queue length ``N`` (a preemption penalty that favours
resuming). Ties: earliest arrival. Variants (config ``estimator``):

- ``dysta`` (``"sparse"``): ``R = gamma x E`` with the model key's (pattern's) averages and
  the monitored gamma (predictor ``"avg"`` as in the artifact's simulator, or
  ``"last-one"`` as in its RTL);
- ``dysta_naive`` (``"naive"``): ``gamma = 1``, architecture averages;
- ``dysta_oracle`` (``"oracle"``): ``R`` = true remaining latency and ``Iso_true``, read from
  the timing backend (``context.oracle``).

Units: ``(w / Iso_est) / N`` is dimensionless, and the paper and the artifact add it to times
in seconds (one unit = one second). On integer-cycle workloads it is therefore scaled by
``clock_hz`` (``_fair_unit``), so the schedule does not depend on the time unit; in seconds
(compat) the factor is exactly 1.0 and the artifact's arithmetic is unchanged.

Deviations from the paper: the score is the artifact's software form (the RTL's differs: no
``R`` in the slack, no division by ``N``; see docs/dysta-scheduler.md). The operation order
is the artifact's, so compat mode agrees with it bit for bit; fixed mode uses the same
formula on integer-cycle times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..gamma import PREDICTORS
from ..policy import PolicyConfig, Task, param, register
from ._base import EstimatePolicy, _State, true_suffix_sums

ESTIMATORS = ("sparse", "naive", "oracle")


@register("dysta")
class Dysta(EstimatePolicy):
    """Min ``R + beta * (max(0, D - t - R) + (w / Iso) / N)``."""

    trivial_single = True

    _vec_fields = ("est", "deadline", "last", "iso")

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        beta: float = param(0.01, lo=0)
        """Weight of urgency and preemption penalty against the remaining time."""
        estimator: str = param("sparse", choices=ESTIMATORS)
        """``"sparse"`` (gamma x pattern averages), ``"naive"`` (architecture averages,
        gamma = 1) or ``"oracle"`` (true remaining latency)."""
        predictor: str = param("avg", choices=PREDICTORS)
        """Gamma predictor, ``"avg"`` or ``"last-one"``."""

    def __init__(self, context, config=None) -> None:
        super().__init__(context, config)
        est = self.config.estimator
        self._level = "arch" if est == "naive" else "pattern"
        self._monitor = est == "sparse"
        self._oracle = est == "oracle"
        self.uses_oracle = self._oracle
        # one unit of the dimensionless fairness term is worth one second (module docstring)
        self._fair_unit = (1.0 if context.time_unit == "seconds"
                           else float(context.clock_hz))
        self._true_cache: dict = {}

    def _admit(self, st: _State) -> None:
        if self._oracle:
            backend = self.context.oracle
            if backend is None:
                raise ValueError("dysta_oracle needs true layer times: set "
                                 "PolicyContext.oracle (simulate() does it)")
            seconds = self.context.time_unit == "seconds"
            st.true_rem = true_suffix_sums(backend, st.task, seconds, self._true_cache)
            if self._multi:  # heterogeneous: the true times of every accelerator
                st.true_rems = (st.true_rem,) + tuple(
                    true_suffix_sums(backend, st.task, seconds, self._true_cache, a)
                    for a in range(1, len(self.context.tables)))
            st.iso = st.true_rem[0]

    def _refresh(self, st: _State) -> None:
        if self._oracle:
            st.est = st.true_rem[st.j]
        else:
            st.est = st.g * st.rem[st.j]

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        states = self._ready_states(ready, accelerator)
        n = len(states)
        if n == 1:
            return states[0].task
        beta = self.config.beta
        fair = self._fair_unit
        cols = self._columns(n) if states is self._order else None
        if cols is not None:
            # The scalar loop below, as array operations in the same order.
            r, d, last, iso = cols.a[:, :n]
            u = d - now
            u -= r
            np.maximum(u, 0.0, out=u)
            pen = now - last
            pen /= iso
            pen /= n
            if fair != 1.0:
                pen *= fair
            u += pen
            u *= beta
            u += r
            return states[int(u.argmin())].task
        best = None
        bv = 0.0
        for st in states:
            r = st.est
            u = st.deadline - now - r
            if u < 0:
                u = 0
            v = r + beta * (u + (now - st.last) / st.iso / n * fair)
            if best is None or v < bv:
                bv = v
                best = st
        return best.task


register("dysta_naive", estimator="naive")(Dysta)
register("dysta_oracle", estimator="oracle")(Dysta)
