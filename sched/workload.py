"""Requests and request streams.

Time inside the engine is an integer number of cycles of one system clock (`Workload.clock_hz`).
The Dysta-artifact compat mode keeps the artifact's float seconds instead (`Workload.time_unit`),
because bit-for-bit agreement with it needs its float arithmetic; everything downstream is
written for either number type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .model import Model

PRIORITIES = (1, 3, 9)
"""Dysta's request priority levels (drawn uniformly)."""


@dataclass(frozen=True, slots=True)
class Request:
    """One inference request (a frame, for real-time scenarios).

    ``arrival`` and ``deadline`` are in the workload's time unit (cycles, or seconds in compat
    mode). ``depends_on``: ids of requests that must finish first (cascaded models);
    ``stream``: the periodic stream the frame belongs to (-1 for Poisson requests).
    """

    id: int
    model: str
    sample: int
    arrival: int | float
    deadline: int | float
    priority: int = 1
    depends_on: tuple[int, ...] = ()
    stream: int = -1

    def __post_init__(self) -> None:
        if self.deadline < self.arrival:
            raise ValueError(f"request {self.id}: deadline {self.deadline} is before its "
                             f"arrival {self.arrival}")


@dataclass(frozen=True)
class Workload:
    """Models plus a request stream sorted by (arrival, id)."""

    models: Mapping[str, Model]
    requests: tuple[Request, ...]
    clock_hz: float
    time_unit: str = "cycles"  # or "seconds" (Dysta-artifact compat)
    name: str = ""
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.time_unit not in ("cycles", "seconds"):
            raise ValueError(f"time_unit must be 'cycles' or 'seconds', not {self.time_unit!r}")
        for r in self.requests:
            if r.model not in self.models:
                raise ValueError(f"request {r.id}: unknown model {r.model!r}; known: "
                                 f"{sorted(self.models)}")


def seconds_to_time(seconds: float, time_unit: str, clock_hz: float) -> int | float:
    """Seconds -> a workload time unit: float seconds, or cycles at ``clock_hz`` rounded to
    nearest."""
    if time_unit == "seconds":
        return float(seconds)
    return int(round(seconds * clock_hz))


def poisson_arrivals(rate_per_s: float, count: int, rng: np.random.Generator,
                     clock_hz: float) -> np.ndarray:
    """Integer-cycle arrival times of a Poisson process starting at 0 (first arrival at 0).

    Raises ValueError for a non-positive rate or a negative count.
    """
    if not rate_per_s > 0:
        raise ValueError(f"arrival rate must be a positive number of requests/s, not {rate_per_s}")
    if count < 0:
        raise ValueError(f"request count must be >= 0, not {count}")
    gaps = rng.exponential(1.0 / rate_per_s, size=count)
    gaps[:1] = 0.0
    return np.rint(np.cumsum(gaps) * clock_hz).astype(np.int64)


def periodic_arrivals(fps: float, duration_s: float, clock_hz: float,
                      phase_s: float = 0.0) -> np.ndarray:
    """Integer-cycle frame arrivals at ``fps`` over ``[phase, duration)`` seconds."""
    if not fps > 0:
        raise ValueError(f"fps must be positive, not {fps}")
    n = int(np.ceil((duration_s - phase_s) * fps - 1e-12))
    return np.rint((phase_s + np.arange(max(n, 0)) / fps) * clock_hz).astype(np.int64)
