"""Run metrics: SLO violation rate, ANTT, STP, latency and normalised-turnaround statistics.

Definitions (the Dysta artifact's; docs/scheduling.md, "Metrics"):

- ``violation_rate``: ``#{finish > deadline or dropped} / N`` over all ``N`` requests;
- ``antt``: mean over completed requests of ``(finish - arrival) / isolated`` (normalised
  turnaround time, NTT), summed in completion order with numpy's ``mean`` (the artifact's
  order, so compat mode matches it bit for bit);
- ``stp``: system throughput, ``N / (last finish - first arrival)`` in requests per second;
- ``latency_mean/_p50/_p99`` (seconds) and ``ntt_mean/_p50/_p99`` over completed requests
  (percentiles: numpy's linear interpolation);
- ``requests`` and ``dropped`` counts.

Records carry their own time scale (`RequestRecord.seconds_per_unit`), so the functions take
records only. Any object with the `RequestRecord` attributes works (``duck typing``), so this
module does not import the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["COUNT_KEYS", "METRIC_KEYS", "RATE_KEYS", "aggregate", "per_model", "summarize"]

RATE_KEYS = ("violation_rate", "antt", "stp", "latency_mean", "latency_p50", "latency_p99",
             "ntt_mean", "ntt_p50", "ntt_p99")
"""The metrics of a run that reports aggregate over seeds (means)."""
COUNT_KEYS = ("requests", "dropped")
"""Counts of a run."""
METRIC_KEYS = RATE_KEYS + COUNT_KEYS
"""Every key `summarize` returns, in order."""


def summarize(requests: Sequence[Any]) -> dict[str, float]:
    """Metrics of one run (see module docstring); ``requests`` are `RequestRecord` s.

    Raises ValueError for an empty sequence, records with different time scales, or a
    completed request without a finish time. Metrics undefined for the run (no completed
    request; zero span for STP) are NaN.
    """
    if not requests:
        raise ValueError("no requests to summarize")
    spu = requests[0].seconds_per_unit
    if any(r.seconds_per_unit != spu for r in requests):
        raise ValueError("records mix time scales (seconds_per_unit differs)")
    n = len(requests)
    done = sorted((r for r in requests if not r.dropped), key=lambda r: r.finish_order)
    dropped = n - len(done)
    violations = dropped
    for r in done:
        if r.finish is None:
            raise ValueError(f"request {r.id} is not dropped but has no finish time")
        if r.finish > r.deadline:
            violations += 1
    nan = float("nan")
    out = {"violation_rate": violations / n, "requests": float(n), "dropped": float(dropped)}
    if done:
        ntt = [(r.finish - r.arrival) / r.isolated if r.isolated else nan for r in done]
        ntt_a = np.asarray(ntt, dtype=np.float64)
        lat_a = np.asarray([(r.finish - r.arrival) for r in done], dtype=np.float64) * spu
        out["antt"] = float(np.mean(ntt))
        out["ntt_mean"] = out["antt"]
        out["ntt_p50"], out["ntt_p99"] = (float(x) for x in np.percentile(ntt_a, [50, 99]))
        out["latency_mean"] = float(np.mean(lat_a))
        out["latency_p50"], out["latency_p99"] = (float(x)
                                                  for x in np.percentile(lat_a, [50, 99]))
    else:
        for k in ("antt", "ntt_mean", "ntt_p50", "ntt_p99", "latency_mean", "latency_p50",
                  "latency_p99"):
            out[k] = nan
    finishes = [r.finish for r in requests if r.finish is not None]
    last = finishes[0]
    for f in finishes:  # the artifact's running maximum
        if last <= f:
            last = f
    span = last - min(r.arrival for r in requests)
    out["stp"] = n / (span * spu) if span > 0 else nan
    return {k: out[k] for k in METRIC_KEYS}


def per_model(requests: Sequence[Any]) -> dict[str, dict[str, float]]:
    """`summarize` per model key, keys sorted."""
    groups: dict[str, list[Any]] = {}
    for r in requests:
        groups.setdefault(r.model, []).append(r)
    return {k: summarize(groups[k]) for k in sorted(groups)}


def aggregate(rows: Sequence[dict[str, float]], how: str = "arith") -> dict[str, float]:
    """Aggregate metric rows (e.g. one per seed) key by key.

    ``how="arith"``: arithmetic mean (numpy ``mean``, the artifact's seed aggregation).
    ``how="geo"``: geometric mean; 0 if any value is 0; ValueError for a negative value.
    NaN values propagate. Keys missing from some rows are aggregated over the rows that
    have them; non-numeric values are skipped.
    """
    if how not in ("arith", "geo"):
        raise ValueError(f"how must be 'arith' or 'geo', not {how!r}")
    if not rows:
        raise ValueError("no rows to aggregate")
    keys: list[str] = []
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    out: dict[str, float] = {}
    for k in keys:
        vals = [row[k] for row in rows if k in row]
        if not all(isinstance(v, (int, float, np.floating, np.integer))
                   and not isinstance(v, bool) for v in vals):
            continue
        a = np.asarray(vals, dtype=np.float64)
        if how == "arith":
            out[k] = float(np.mean(a))
        elif np.any(np.isnan(a)):
            out[k] = math.nan
        elif np.any(a < 0):
            raise ValueError(f"geometric mean of {k!r} needs values >= 0, found {a.min()}")
        elif np.any(a == 0):
            out[k] = 0.0
        else:
            out[k] = float(np.exp(np.mean(np.log(a))))
    return out
