"""Request streams: Poisson requests (the Dysta benchmark) and periodic frames (XRBench).

`poisson_workloads`: the Dysta benchmark's request tables over latency tables, in two modes
(`CompatFlags`): compat mode (any flag set) draws the Dysta artifact's exact Python ``random``
stream in float seconds (docs/artifact-compat.md); fixed mode draws from a numpy ``Generator``
seeded by ``(seed, seed_index, rate)`` in integer cycles. `frame_requests`: the periodic frames
of a real-time scenario, with deadlines at the next frame and cascades.
"""

from __future__ import annotations

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

__all__ = ["frame_requests", "poisson_workload", "poisson_workloads"]

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
                   seed: int, duration_s: float | None = None) -> tuple:
    """XRBench-style periodic frames of a ``periodic`` scenario (docs/workloads.md).

    Each model runs at its ``fps`` from time 0 for ``duration_s`` (default the scenario's); a
    frame's deadline is the next frame's arrival. A cascaded model (``after = U``) gets, for each
    of its frame times, the latest frame of ``U`` that arrived no later, and runs (depending on
    it: ready only once it finishes) with ``probability``, else that frame is skipped. Each frame
    draws its model key uniformly over ``keys[arch]`` (the arch's patterns) and its sample
    uniformly over ``range(samples)``. Priority 1; ``stream`` = index of the model entry.
    Integer cycles at ``clock_hz``; ids in (arrival, stream) order. Deterministic from ``seed``.
    """
    if sc.arrivals != "periodic":
        raise ValueError(f"scenario {sc.name!r} is not periodic")
    dur = sc.duration_s if duration_s is None else duration_s
    if not dur > 0:
        raise ValueError(f"duration_s must be positive, not {dur!r}")
    rng = np.random.default_rng([seed, 0x58524245])
    order = _topological(sc)
    frames: dict[str, list[tuple[int, int, str, int, tuple[int, ...]]]] = {}
    pending: list[tuple[int, int, str, int, int, tuple]] = []
    for idx in order:
        e = sc.models[idx]
        times = periodic_arrivals(e.fps, dur, clock_hz).tolist()
        period = int(round(clock_hz / e.fps))
        up = frames.get(e.after) if e.after else None
        mine = []
        for t in times:
            dep: tuple = ()
            if up is not None:
                prior = [f for f in up if f[0] <= t]
                if not prior or rng.random() >= e.probability:
                    continue
                dep = (prior[-1],)
            key = keys[e.arch][int(rng.integers(len(keys[e.arch])))]
            sample = int(rng.integers(samples))
            entry = (t, idx, key, sample)
            mine.append(entry)
            pending.append((t, idx, key, sample, t + period, dep))
        frames[e.arch] = mine
    pending.sort(key=lambda p: (p[0], p[1]))
    ids = {(p[0], p[1]): i for i, p in enumerate(pending)}
    out = []
    for i, (t, idx, key, sample, deadline, dep) in enumerate(pending):
        deps = tuple(ids[(d[0], d[1])] for d in dep)
        out.append(Request(id=i, model=key, sample=sample, arrival=t, deadline=deadline,
                           priority=1, depends_on=deps, stream=idx))
    return tuple(out)


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
