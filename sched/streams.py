"""Request streams: Poisson requests (the Dysta benchmark) and periodic frames (XRBench).

`poisson_workloads`: the Dysta benchmark's request tables over latency tables, in two modes
(`CompatFlags`): compat mode (any flag set) draws the Dysta artifact's exact Python ``random``
stream in float seconds (docs/artifact-compat.md); fixed mode draws from a numpy ``Generator``
seeded by ``(seed, seed_index, rate)`` in integer cycles. `frame_requests`: the periodic frames
of a real-time scenario, with deadlines at the next frame and cascades.
"""

from __future__ import annotations

import bisect
import math
import numbers
import random
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .compat import CompatFlags
from .errors import InputError
from .latency_table import LatencyTable, table_models
from .static import StaticTables, static_tables
from .workload import PRIORITIES, Request, Workload, periodic_arrivals, poisson_arrivals

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["frame_requests", "periodic_frames", "poisson_workload", "poisson_workloads"]

_ARTIFACT_SAMPLE_IDS = 7
"""The artifact draws sample ids from 0..6 (docs/artifact-compat.md, defect 1)."""
_FIXED = CompatFlags()


def _check_rate(rate: float, compat: CompatFlags) -> None:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
            or not math.isfinite(rate) or rate <= 0:
        raise InputError("arrival rate", "", "a positive number of requests per second",
                         repr(rate))
    if compat.integer_rates and not float(rate).is_integer():
        raise InputError("arrival rate", "compat mode (the artifact parses rates as int)",
                         "an integer number of requests per second", repr(rate))


def poisson_workloads(tables: Sequence[LatencyTable], *, rates: Sequence[float],
                    num_requests: int, slo: float, seed: int = 1, seed_index: int = 0,
                    compat: CompatFlags = _FIXED, clock_hz: float | None = None,
                    static: StaticTables | None = None) -> list[Workload]:
    """The Dysta request tables of one seed index, one `Workload` per rate (in order).

    Compat mode (``compat.any``): the artifact's stream (docs/artifact-compat.md, "Requests"):
    ``random.seed(seed + seed_index)`` once, then for each rate in order ``num_requests``
    times ``expovariate(rate)`` (the arrival is the running sum, the first one included),
    ``randint(0, n_models - 1)``, ``randint(0, 2)`` (priority 1/3/9) and the sample id
    (``randint(0, 6)`` under `CompatFlags.sample_ids_0_to_6`, else over all samples); times
    in float seconds. Fixed mode: per rate a numpy Generator seeded by ``(seed, seed_index,
    bits of rate)``, first arrival at 0, every sample drawable, integer cycles at
    ``clock_hz``. Both: deadline = arrival + architecture mean isolated latency x ``slo``;
    the model list is ``tables`` in the order given.

    ``static``: the static tables for the deadlines (default: `static_tables` of ``tables``
    in the mode's time unit). ``clock_hz`` is required in fixed mode.

    Raises InputError for a non-positive (or, with `CompatFlags.integer_rates`,
    non-integer) rate; ValueError for bad counts, SLO or clock.
    """
    if not tables:
        raise ValueError("poisson_workloads needs at least one latency table")
    if not isinstance(num_requests, int) or num_requests < 1:
        raise ValueError(f"num_requests must be a positive integer, not {num_requests!r}")
    if not (isinstance(slo, numbers.Real) and math.isfinite(slo) and slo > 0):
        raise ValueError(f"slo must be a positive number, not {slo!r}")
    for r in rates:
        _check_rate(r, compat)
    mode = compat.any
    if clock_hz is None and mode:
        clock_hz = 1.0  # compat times are seconds; the clock is only carried for reports
    if clock_hz is None or not clock_hz > 0:
        raise ValueError(f"clock_hz must be a positive number of Hz, not {clock_hz!r}")
    unit = "seconds" if mode else "cycles"
    st = static if static is not None else static_tables(tables, time_unit=unit,
                                                          clock_hz=clock_hz)
    models = table_models(tables)
    keys = [t.key for t in tables]
    n_models = len(keys)
    target = [st.arch[st.arch_of[k]].isolated_latency for k in keys]
    n_samples = [t.samples for t in tables]
    out = []
    if mode:
        if compat.sample_ids_0_to_6:
            short = [t for t in tables if t.samples < _ARTIFACT_SAMPLE_IDS]
            if short:
                raise InputError(short[0].source, "column batch-indx",
                                 f"at least {_ARTIFACT_SAMPLE_IDS} samples (the artifact draws "
                                 f"sample ids 0..6)", f"{short[0].samples}")
        gen = random.Random(seed + seed_index)
        for rate in rates:
            reqs = []
            t_s = 0.0
            rate_arg = int(rate) if compat.integer_rates else rate
            for i in range(num_requests):
                t_s += gen.expovariate(rate_arg)
                m = gen.randint(0, n_models - 1)
                prio = PRIORITIES[gen.randint(0, 2)]
                hi = _ARTIFACT_SAMPLE_IDS - 1 if compat.sample_ids_0_to_6 else n_samples[m] - 1
                s = gen.randint(0, hi)
                reqs.append(Request(id=i, model=keys[m], sample=s, arrival=t_s,
                                    deadline=t_s + target[m] * slo, priority=prio))
            out.append(_workload(models, reqs, clock_hz, "seconds", rate, slo, seed,
                                 seed_index))
        return out
    for rate in rates:
        bits = struct.unpack("<Q", struct.pack("<d", float(rate)))[0]
        rng = np.random.default_rng([seed, seed_index, bits])
        arr = poisson_arrivals(float(rate), num_requests, rng, clock_hz)
        ms = rng.integers(0, n_models, size=num_requests)
        ps = rng.integers(0, len(PRIORITIES), size=num_requests)
        ss = rng.integers(0, np.asarray(n_samples)[ms])
        reqs = [Request(id=i, model=keys[m], sample=int(s), arrival=int(a),
                        deadline=int(a) + int(round(target[m] * slo)),
                        priority=PRIORITIES[p])
                for i, (a, m, p, s) in enumerate(zip(arr.tolist(), ms.tolist(), ps.tolist(),
                                                     ss.tolist(), strict=True))]
        out.append(_workload(models, reqs, clock_hz, "cycles", rate, slo, seed, seed_index))
    return out


def _workload(models, reqs, clock_hz, unit, rate, slo, seed, seed_index) -> Workload:
    return Workload(models=models, requests=tuple(reqs), clock_hz=clock_hz, time_unit=unit,
                    name=f"dysta rate={rate:g} slo={slo:g} seed={seed}+{seed_index}",
                    meta={"rate": float(rate), "slo": float(slo), "seed": seed,
                          "seed_index": seed_index,
                          "mode": "compat" if unit == "seconds" else "fixed"})


def poisson_workload(tables: Sequence[LatencyTable], *, rate: float, num_requests: int,
                   slo: float, seed: int = 1, seed_index: int = 0,
                   compat: CompatFlags = _FIXED, clock_hz: float | None = None,
                   static: StaticTables | None = None) -> Workload:
    """One rate's request table: `poisson_workloads` with ``rates=[rate]``.

    In compat mode this equals the artifact run with that single rate; the artifact draws
    all rates of a seed from one stream, so for its multi-rate runs use `poisson_workloads`.
    """
    return poisson_workloads(tables, rates=[rate], num_requests=num_requests, slo=slo,
                           seed=seed, seed_index=seed_index, compat=compat,
                           clock_hz=clock_hz, static=static)[0]


def frame_requests(sc: Scenario, *, keys: dict[str, list[str]], samples: int, clock_hz: float,
                   seed: int, seed_index: int = 0, duration_s: float | None = None,
                   fps_scale: float = 1.0) -> tuple:
    """XRBench-style periodic frames of a ``periodic`` scenario (docs/realtime.md).

    `periodic_frames` without the frame indices.
    """
    return periodic_frames(sc, keys=keys, samples=samples, clock_hz=clock_hz, seed=seed,
                           seed_index=seed_index, duration_s=duration_s,
                           fps_scale=fps_scale)[0]


def periodic_frames(sc: Scenario, *, keys: dict[str, list[str]], samples: int,
                    clock_hz: float, seed: int, seed_index: int = 0,
                    duration_s: float | None = None,
                    fps_scale: float = 1.0) -> tuple[tuple[Request, ...], tuple[int, ...]]:
    """The periodic frames of a ``periodic`` scenario and each frame's index in its stream.

    Each model entry runs at ``fps x fps_scale`` frames per second from time 0 for
    ``duration_s`` seconds (default the scenario's): frame ``k`` arrives at
    ``round(k / fps x clock_hz)`` cycles and its deadline is the arrival of frame ``k + 1``
    (the next frame, also past the end of the run). A cascaded model (``after = U``) looks, for
    each of its frame times ``t``, at the latest frame time of ``U``'s schedule no later than
    ``t``: if ``U`` has a frame there, this frame runs after it (ready once it finishes) with
    ``probability``; if ``U``'s frame was itself skipped (its own cascade draw failed), or
    ``U`` has no frame time yet, this frame is skipped too. Each frame draws its model key
    uniformly over ``keys[arch]`` (the arch's patterns) and its sample uniformly over
    ``range(samples)``. Priority 1; ``stream`` = index of the model entry.

    Returns ``(requests, frame_index)``: requests in (arrival, stream) order with ids
    ``0..n-1``, integer cycles at ``clock_hz``; ``frame_index[i]`` is request ``i``'s ``k``
    (skipped cascade frames leave gaps). Deterministic from ``(seed, seed_index)``; the random
    draws (cascades, keys, samples) depend on nothing else.

    Raises ValueError for a non-periodic scenario or a non-positive duration or scale.
    """
    if sc.arrivals != "periodic":
        raise ValueError(f"scenario {sc.name!r} is not periodic")
    dur = sc.duration_s if duration_s is None else duration_s
    if not dur > 0:
        raise ValueError(f"duration_s must be positive, not {dur!r}")
    if isinstance(fps_scale, bool) or not (isinstance(fps_scale, numbers.Real)
                                           and math.isfinite(fps_scale) and fps_scale > 0):
        raise ValueError(f"fps_scale must be a positive number, not {fps_scale!r}")
    rng = np.random.default_rng([seed, seed_index, 0x58524245])
    order = _topological(sc)
    # per arch: its schedule times, and which of them hold a frame (time -> pending index)
    schedule: dict[str, list[int]] = {}
    held: dict[str, dict[int, int]] = {}
    pending: list[tuple[int, int, str, int, int, int, int]] = []  # t, idx, key, s, dl, k, up
    for idx in order:
        e = sc.models[idx]
        fps = e.fps * fps_scale
        n = len(periodic_arrivals(fps, dur, clock_hz))
        times = np.rint(np.arange(n + 1) / fps * clock_hz).astype(np.int64).tolist()
        up_times = schedule.get(e.after) if e.after else None
        up_held = held.get(e.after) if e.after else None
        mine: dict[int, int] = {}
        for k in range(n):
            t = times[k]
            up = -1
            if up_times is not None:
                pos = bisect.bisect_right(up_times, t) - 1
                if pos < 0 or up_times[pos] not in up_held:
                    continue
                if rng.random() >= e.probability:
                    continue
                up = up_held[up_times[pos]]
            key = keys[e.arch][int(rng.integers(len(keys[e.arch])))]
            sample = int(rng.integers(samples))
            mine[t] = len(pending)
            pending.append((t, idx, key, sample, times[k + 1], k, up))
        schedule[e.arch] = times[:n]
        held[e.arch] = mine
    order_ids = sorted(range(len(pending)), key=lambda i: (pending[i][0], pending[i][1]))
    new_id = {old: new for new, old in enumerate(order_ids)}
    out = []
    index = []
    for new, old in enumerate(order_ids):
        t, idx, key, sample, deadline, k, up = pending[old]
        deps = (new_id[up],) if up >= 0 else ()
        out.append(Request(id=new, model=key, sample=sample, arrival=t, deadline=deadline,
                           priority=1, depends_on=deps, stream=idx))
        index.append(k)
    return tuple(out), tuple(index)


def _topological(sc: Scenario) -> list[int]:
    """Model entries with every upstream (``after``) before its dependents."""
    done: list[int] = []
    index = {e.arch: i for i, e in enumerate(sc.models)}
    for i in range(len(sc.models)):
        chain = []
        j: int | None = i
        while j is not None and j not in done and j not in chain:
            chain.append(j)
            up = sc.models[j].after
            j = index[up] if up is not None else None
        done.extend(reversed(chain))
    return list(dict.fromkeys(done))
