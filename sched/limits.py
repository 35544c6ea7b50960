"""The sizes mmsched simulates, stated once (docs/errors.md, "Limits").

Inputs beyond these are refused before any work, with the limit named, instead of exhausting
memory or overflowing the engine's 64-bit integer clock later. Each limit is well above every
shipped model and scenario (the largest shipped layer has M = 201,132 and K x N = 102.8 M
weights).
"""

from __future__ import annotations

# The clock bounds are defined with the accelerator they bound (hw is below sched: its
# `AcceleratorConfig` refuses a clock outside them); the engine clock (``--clock-mhz``) of
# latency-table workloads is held to the same bounds.
from mmsched.hw.spec.accelerator import MAX_CLOCK_HZ, MIN_CLOCK_HZ

__all__ = ["BYTES_PER_LIVE_REQUEST", "BYTES_PER_REQUEST_ROW", "MAX_CLOCK_HZ", "MAX_DURATION_S",
           "MAX_LAYER_DIM", "MAX_LAYER_ELEMENTS", "MAX_LAYER_LATENCY_S", "MAX_RUN_MEMORY_BYTES",
           "MAX_SAMPLES", "MAX_SPAN_S", "MIN_CLOCK_HZ", "SECONDS_PER_REQUEST", "layer_limit",
           "run_memory_bytes"]

MAX_LAYER_DIM = 1 << 22
"""Largest GEMM dimension (M, N or K) of one layer: 4,194,304."""
MAX_LAYER_ELEMENTS = 1 << 28
"""Largest operand of one layer: M x K activations, K x N weights or M x N outputs, each at
most 268,435,456 values (the masks the timing model draws are that large)."""
MAX_LAYER_LATENCY_S = 1000.0
"""The largest layer latency a Dysta CSV may give (seconds)."""
MAX_SAMPLES = 10_000
"""Most sparsity samples of a scenario (``samples``): each is profiled per layer and model."""
MAX_DURATION_S = 1e4
"""Longest simulated duration of a periodic scenario (``duration_s``, seconds): every frame of
it is simulated and kept."""
MAX_SPAN_S = 1e8
"""The longest simulated span of a Poisson run, ``requests / rate`` (about 3 years): at a
1 GHz clock that is 1e17 cycles, far from the 64-bit limit (9.2e18) with room for the
latencies."""
MAX_RUN_MEMORY_BYTES = 8 << 30
"""The estimated peak memory of a ``mmsched run`` (`run_memory_bytes`) beyond which it is
refused unless ``--force``: 8 GiB."""
BYTES_PER_REQUEST_ROW = 2 << 10
"""Memory per request record kept until the outputs are written (every request of every
policy and seed index at the detail point)."""
BYTES_PER_LIVE_REQUEST = 8 << 10
"""Memory per request of the run a worker is simulating."""
SECONDS_PER_REQUEST = 100e-6
"""Simulation time per request and policy on one core, for the estimate ``mmsched run``
prints (rough: larger models take longer).

The three figures were measured with the synthetic CNN set: 40,000 requests x 2 policies, 1
seed, 1 worker peaked at 517 MB (this model: 580 MB); 2,000 requests x 11 policies x 5 seeds
on 2 workers at 262 MB (model: 352 MB) and 8.6 s."""


def run_memory_bytes(requests: int, policies: int, seeds: int, workers: int,
                     runs: int) -> int:
    """The estimated peak memory of a Poisson sweep (bytes): a base of 100 MiB, the kept
    request records, the requests being simulated and 1 KiB per run's summary rows."""
    return (100 << 20) + BYTES_PER_REQUEST_ROW * requests * policies * seeds \
        + BYTES_PER_LIVE_REQUEST * requests * workers + 1024 * runs


def layer_limit(m: int, n: int, k: int) -> tuple[str, str] | None:
    """``(expected, found)`` naming the limit a GEMM layer of ``m`` x ``n`` x ``k`` exceeds,
    or None within the limits."""
    for name, v in (("M", m), ("N", n), ("K", k)):
        if v > MAX_LAYER_DIM:
            return f"{name} <= {MAX_LAYER_DIM:,} (MAX_LAYER_DIM)", f"{name} = {v:,}"
    for what, v in (("M x K activations", m * k), ("K x N weights", k * n),
                    ("M x N outputs", m * n)):
        if v > MAX_LAYER_ELEMENTS:
            return (f"{what} <= {MAX_LAYER_ELEMENTS:,} (MAX_LAYER_ELEMENTS)",
                    f"{v:,} (GEMM {m:,} x {n:,} x {k:,})")
    return None
