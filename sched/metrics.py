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

Real-time (periodic frame) runs (docs/realtime.md, "Metrics"):

- ``miss_rate``: frames finished after their deadline / all frames (dropped frames are not
  misses); ``drop_rate``: dropped frames / all frames;
- ``uxcost`` = ``energy_ratio x deadline_factor`` with ``energy_ratio = E / E_ref`` and
  ``deadline_factor = 1 + miss_rate + drop_rate``: ``E`` the energy spent (executed layers and
  transfers, dropped frames' partial work included), ``E_ref`` the sum over the delivered
  (not dropped) frames of the frame's model energy with every layer alone on the accelerator
  where it costs least (`uxcost`); compare scenarios by geometric mean. ``uxcost_allref``
  takes ``E_ref`` over all frames, dropped ones included: that reference lets a policy lower
  its UXCost by dropping (dropping every frame scores 0), so it is reported beside, not used
  (docs/realtime.md, "Metrics");
- ``energy_per_frame_mj``: ``E`` over all frames;
- ``xrbench_score``: XRBench's score (`xrbench_score`), 0-100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["COUNT_KEYS", "METRIC_KEYS", "RATE_KEYS", "REALTIME_COUNT_KEYS", "REALTIME_KEYS",
           "REALTIME_MODEL_KEYS", "XRBENCH_K_PER_MS", "XRBENCH_MAX_ENERGY_MJ", "XRBenchScore",
           "aggregate", "estimated_reference_energy_pj", "geomean", "per_model",
           "realtime_per_model", "realtime_summary", "summarize", "uxcost", "xrbench_score"]

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


# --- real-time (periodic frame) runs ---------------------------------------------------------

XRBENCH_K_PER_MS = 15.0
"""XRBench's real-time score steepness per millisecond of delay (XRBench v0.1 default)."""
XRBENCH_MAX_ENERGY_MJ = 1500.0
"""XRBench's energy-score maximum per frame, here in millijoules (XRBench v0.1 default)."""

REALTIME_KEYS = ("uxcost", "energy_ratio", "deadline_factor", "miss_rate", "drop_rate",
                 "xrbench_score", "energy_per_frame_mj", "energy_mj", "energy_ref_mj",
                 "transfer_mj", "latency_mean", "latency_p99", "uxcost_allref",
                 "energy_ref_all_mj")
"""The metrics of a real-time run that reports aggregate over seeds (means)."""
REALTIME_COUNT_KEYS = ("frames", "missed", "dropped")
"""Counts of a real-time run."""
REALTIME_MODEL_KEYS = ("frames", "missed", "dropped", "miss_rate", "drop_rate",
                       "energy_per_frame_mj", "xrbench_rt", "xrbench_en", "xrbench_qoe",
                       "xrbench_score")
"""Every key of a `realtime_per_model` row, in order."""


def uxcost(energy_pj: float, reference_pj: float, frames: int, missed: int,
           dropped: int) -> dict[str, float]:
    """UXCost of one run and its factors (docs/realtime.md, "Metrics").

    ``energy_pj``: energy spent (layers and transfers); ``reference_pj``: ``E_ref``, the
    least energy of the delivered frames; ``frames``: all frames of the run, ``missed`` those
    finished after their deadline, ``dropped`` those dropped. Returns ``uxcost = energy_ratio x
    deadline_factor``, ``energy_ratio = E / E_ref``, ``deadline_factor = 1 + miss_rate +
    drop_rate``, ``miss_rate``, ``drop_rate``. ``energy_ratio`` is NaN when ``E_ref`` and ``E``
    are both 0 (a backend without energy figures) and infinite when ``E_ref`` is 0 but energy
    was spent (every frame dropped: the worst UXCost). Raises ValueError for no frames or
    inconsistent counts.
    """
    if frames < 1:
        raise ValueError(f"uxcost needs at least one frame, not {frames}")
    if missed < 0 or dropped < 0 or missed + dropped > frames:
        raise ValueError(f"inconsistent counts: {missed} missed + {dropped} dropped of "
                         f"{frames} frames")
    if energy_pj < 0 or reference_pj < 0:
        raise ValueError(f"energies must be >= 0, found E = {energy_pj}, E_ref = "
                         f"{reference_pj}")
    miss, drop = missed / frames, dropped / frames
    if reference_pj > 0:
        ratio = energy_pj / reference_pj
    else:
        ratio = math.inf if energy_pj > 0 else math.nan
    factor = 1.0 + miss + drop
    return {"uxcost": ratio * factor, "energy_ratio": ratio, "deadline_factor": factor,
            "miss_rate": miss, "drop_rate": drop}


def _rt_score(delay_ms: np.ndarray, k: float) -> np.ndarray:
    """``1 / (1 + exp(k x delay))`` without overflow: the logistic function of ``-k x delay``
    evaluated on the side where the exponential is at most 1."""
    x = k * delay_ms
    out = np.empty_like(x)
    pos = x >= 0
    e = np.exp(-x[pos])
    out[pos] = e / (1.0 + e)
    out[~pos] = 1.0 / (1.0 + np.exp(x[~pos]))
    return out


@dataclass(frozen=True)
class XRBenchScore:
    """XRBench's score of one run (`xrbench_score`).

    ``overall``: 0-100. Per model (dicts keyed by model name, models sorted): ``rt`` and
    ``en``, the mean real-time and energy scores of its frames that were not dropped (0 when
    every frame was dropped); ``qoe``, ``1 - drop rate``; ``score``, the model's score in
    [0, 1] (can go below 0 when a frame's energy exceeds the maximum); ``frames``.
    """

    overall: float
    rt: dict[str, float]
    en: dict[str, float]
    qoe: dict[str, float]
    score: dict[str, float]
    frames: dict[str, int]


def xrbench_score(model, deadline_s, finish_s, dropped, energy_j, *,
                  k_per_ms: float = XRBENCH_K_PER_MS,
                  max_energy_mj: float = XRBENCH_MAX_ENERGY_MJ) -> XRBenchScore:
    """XRBench's score of a run (Kwon et al., MLSys 2023; docs/realtime.md, "XRBench score").

    Parameters (numpy arrays or sequences, one entry per frame, dropped frames included):
    ``model`` (model names), ``deadline_s`` and ``finish_s`` (seconds; ``finish_s`` of a
    dropped frame is ignored), ``dropped`` (bool), ``energy_j`` (the frame's energy in joules;
    ignored for dropped frames).

    Per frame: ``RT = 1 / (1 + exp(k x (finish - deadline)))`` with the delay in milliseconds
    and ``k = k_per_ms`` (0.5 at the deadline, computed without overflow), ``EN = (max - E) /
    max`` with ``E`` in millijoules and ``max = max_energy_mj`` (not clamped, as in XRBench's
    code). Per model: the sum of ``RT x EN`` over its frames not dropped, divided by all its
    frames, times ``QoE = 1 - drop rate``. ``overall = 100 x`` the mean over models.

    Raises ValueError for arrays of different lengths, no frames, or non-positive parameters.
    """
    model = np.asarray(model)
    deadline = np.asarray(deadline_s, dtype=np.float64)
    finish = np.asarray(finish_s, dtype=np.float64)
    drop = np.asarray(dropped, dtype=bool)
    energy = np.asarray(energy_j, dtype=np.float64)
    n = len(model)
    if not n:
        raise ValueError("xrbench_score needs at least one frame")
    if any(len(a) != n for a in (deadline, finish, drop, energy)):
        raise ValueError("model, deadline_s, finish_s, dropped and energy_j must have one "
                         "entry per frame")
    if not (k_per_ms > 0 and max_energy_mj > 0):
        raise ValueError(f"k_per_ms and max_energy_mj must be positive, not {k_per_ms!r}, "
                         f"{max_energy_mj!r}")
    kept = ~drop
    if np.any(kept & ~np.isfinite(finish)):
        raise ValueError("a frame that was not dropped has no finite finish time")
    rt = np.zeros(n)
    en = np.zeros(n)
    rt[kept] = _rt_score((finish[kept] - deadline[kept]) * 1e3, float(k_per_ms))
    en[kept] = (max_energy_mj - energy[kept] * 1e3) / max_energy_mj
    out_rt: dict[str, float] = {}
    out_en: dict[str, float] = {}
    out_qoe: dict[str, float] = {}
    out_score: dict[str, float] = {}
    out_n: dict[str, int] = {}
    for name in sorted({str(m) for m in model.tolist()}):
        sel = model == name
        mine = int(sel.sum())
        ok = sel & kept
        n_ok = int(ok.sum())
        qoe = n_ok / mine
        out_rt[name] = float(rt[ok].mean()) if n_ok else 0.0
        out_en[name] = float(en[ok].mean()) if n_ok else 0.0
        out_qoe[name] = qoe
        out_score[name] = float((rt[ok] * en[ok]).sum()) / mine * qoe
        out_n[name] = mine
    overall = 100.0 * float(np.mean(list(out_score.values())))
    return XRBenchScore(overall=overall, rt=out_rt, en=out_en, qoe=out_qoe, score=out_score,
                        frames=out_n)


def _frame_arrays(requests: Sequence[Any], models: Sequence[str]):
    spu = requests[0].seconds_per_unit
    if any(r.seconds_per_unit != spu for r in requests):
        raise ValueError("records mix time scales (seconds_per_unit differs)")
    if len(models) != len(requests):
        raise ValueError("one model name per record is needed")
    for r in requests:
        if r.finish is None:
            raise ValueError(f"request {r.id} has no finish time")
    dropped = np.asarray([bool(r.dropped) for r in requests])
    finish = np.asarray([float(r.finish) for r in requests]) * spu
    deadline = np.asarray([float(r.deadline) for r in requests]) * spu
    arrival = np.asarray([float(r.arrival) for r in requests]) * spu
    energy = np.asarray([float(r.energy_pj) for r in requests]) * 1e-12
    missed = ~dropped & (np.asarray([r.finish > r.deadline for r in requests], dtype=bool))
    return np.asarray(list(models)), arrival, deadline, finish, dropped, missed, energy


def realtime_summary(requests: Sequence[Any], models: Sequence[str],
                     reference_pj: Sequence[float], *, k_per_ms: float = XRBENCH_K_PER_MS,
                     max_energy_mj: float = XRBENCH_MAX_ENERGY_MJ) -> dict[str, float]:
    """Metrics of one real-time run (module docstring): `REALTIME_KEYS` then
    `REALTIME_COUNT_KEYS`.

    ``requests``: the run's `RequestRecord` s (one per frame, all finished or dropped);
    ``models[i]``: the model name of frame ``i`` (its stream's architecture);
    ``reference_pj[i]``: frame ``i``'s least energy (its share of ``E_ref`` when it is
    delivered, `uxcost`). Energies in the result are in millijoules, latencies (of the frames
    not dropped) in seconds.
    """
    if not requests:
        raise ValueError("no frames to summarize")
    name, arrival, deadline, finish, dropped, missed, energy = _frame_arrays(requests, models)
    frame_ref = np.asarray(reference_pj, dtype=np.float64)
    ref = float(np.sum(frame_ref[~dropped]))
    ref_all = float(np.sum(frame_ref))
    e_pj = float(sum(float(r.energy_pj) for r in requests))
    n = len(requests)
    out = uxcost(e_pj, ref, n, int(missed.sum()), int(dropped.sum()))
    out["uxcost_allref"] = uxcost(e_pj, ref_all, n, int(missed.sum()),
                                  int(dropped.sum()))["uxcost"]
    out["energy_ref_all_mj"] = ref_all * 1e-9
    score = xrbench_score(name, deadline, finish, dropped, energy, k_per_ms=k_per_ms,
                          max_energy_mj=max_energy_mj)
    out["xrbench_score"] = score.overall
    out["energy_mj"] = e_pj * 1e-9
    out["energy_ref_mj"] = ref * 1e-9
    out["transfer_mj"] = float(sum(float(r.transfer_pj) for r in requests)) * 1e-9
    out["energy_per_frame_mj"] = out["energy_mj"] / n
    lat = (finish - arrival)[~dropped]
    out["latency_mean"] = float(np.mean(lat)) if lat.size else math.nan
    out["latency_p99"] = float(np.percentile(lat, 99)) if lat.size else math.nan
    out["frames"] = float(n)
    out["missed"] = float(missed.sum())
    out["dropped"] = float(dropped.sum())
    return {k: out[k] for k in REALTIME_KEYS + REALTIME_COUNT_KEYS}


def realtime_per_model(requests: Sequence[Any], models: Sequence[str], *,
                       k_per_ms: float = XRBENCH_K_PER_MS,
                       max_energy_mj: float = XRBENCH_MAX_ENERGY_MJ
                       ) -> dict[str, dict[str, float]]:
    """Per model (sorted): frames, missed, dropped, miss and drop rate, energy per frame (mJ,
    over all its frames) and its XRBench real-time, energy, QoE scores and score (x 100, so
    that the overall score is the mean of the models')."""
    name, _, deadline, finish, dropped, missed, energy = _frame_arrays(requests, models)
    score = xrbench_score(name, deadline, finish, dropped, energy, k_per_ms=k_per_ms,
                          max_energy_mj=max_energy_mj)
    out = {}
    for m in score.frames:
        sel = name == m
        n = int(sel.sum())
        row = {"frames": float(n), "missed": float(missed[sel].sum()),
               "dropped": float(dropped[sel].sum())}
        row["miss_rate"] = row["missed"] / n
        row["drop_rate"] = row["dropped"] / n
        row["energy_per_frame_mj"] = float(energy[sel].sum()) * 1e3 / n
        row["xrbench_rt"] = score.rt[m]
        row["xrbench_en"] = score.en[m]
        row["xrbench_qoe"] = score.qoe[m]
        row["xrbench_score"] = 100.0 * score.score[m]
        out[m] = {k: row[k] for k in REALTIME_MODEL_KEYS}
    return out


def geomean(values: Sequence[float]) -> float:
    """Geometric mean (how UXCost compares across scenarios): NaN if any value is NaN or the
    sequence is empty, 0 if any value is 0; ValueError for a negative value."""
    a = np.asarray(values, dtype=np.float64)
    if not a.size or np.any(np.isnan(a)):
        return math.nan
    if np.any(a < 0):
        raise ValueError(f"geometric mean needs values >= 0, found {a.min()}")
    if np.any(a == 0):
        return 0.0
    return float(np.exp(np.mean(np.log(a))))


def estimated_reference_energy_pj(tables: Sequence[Any], key: str) -> float:
    """A policy's estimate of one frame's ``E_ref`` from the static tables of each accelerator
    (``PolicyContext.tables``): the sum over the layers of model ``key`` of the least mean
    layer energy (``ModelProfile.layer_energy``, profiling samples) over the accelerators.
    The run's true ``E_ref`` uses the frame's own sample instead. Raises ValueError when the
    tables carry no energies (latency-table workloads)."""
    rows = [t.pattern[key].layer_energy for t in tables]
    if not rows or any(not r for r in rows):
        raise ValueError(f"the static tables of {key!r} carry no layer energies")
    return float(np.asarray(rows, dtype=np.float64).min(axis=0).sum())
