"""Seeded random stimulus and the configuration reader (plain Python)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmsched.hw.cyclemodel.cycles import kept_columns
from mmsched.hw.cyclemodel.host import JobImage, job_image, operands
from mmsched.hw.spec import AcceleratorConfig, SchedulerConfig, plan_split


def make_rng(seed: int | np.random.Generator) -> np.random.Generator:
    """A numpy Generator from an int seed (or the Generator itself)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class GemmJob:
    """One accelerator job: ``a [M, K] . b [K, N]`` (ints within ``data_width``, non-zero
    exactly where the masks are True) and its memory image (`JobImage`: what to load, the
    command, where the outputs are)."""

    a: np.ndarray
    b: np.ndarray
    act_mask: np.ndarray
    weight_mask: np.ndarray
    image: JobImage

    @property
    def m(self) -> int:
        return self.a.shape[0]

    @property
    def n(self) -> int:
        return self.b.shape[1]

    @property
    def k(self) -> int:
        return self.a.shape[1]


def random_gemm(config: AcceleratorConfig, seed: int | np.random.Generator, *,
                max_dim: int | None = None,
                densities: tuple[float, ...] = (0.0, 0.25, 0.6, 1.0)) -> GemmJob:
    """A random GEMM that runs as ONE job on ``config``: M, N, K uniform in
    ``[1, max_dim]`` (default ``3 x rows + 1``; shapes that need several jobs are drawn
    again), activation and weight densities drawn from ``densities``, random non-zero values
    where the masks are set. As a host does, only weight columns with a kept weight are
    mapped (`mmsched.hw.cyclemodel.cycles.kept_columns`)."""
    rng = make_rng(seed)
    hi = (max_dim if max_dim is not None else 3 * config.rows + 1) + 1
    while True:
        m, n, k = (int(x) for x in rng.integers(1, hi, size=3))
        if sum(len(cuts) for cuts in plan_split(config, m, n, k)) == 6:
            break
    da, dw = (float(x) for x in rng.choice(list(densities), size=2))
    am = rng.random((m, k)) < da
    wm = rng.random((k, n)) < dw
    a, b = operands(config, am, wm, rng)
    keep = kept_columns(wm)
    b, wm = b[:, keep], wm[:, keep]
    return GemmJob(a, b, am, wm, job_image(config, a, b))


def random_commands(config: SchedulerConfig, seed: int | np.random.Generator, count: int, *,
                    max_gap: int = 2) -> list[tuple[int, int]]:
    """A random, state-aware command sequence ``[(gap, word), ...]`` of ``count`` commands
    (`mmsched.hw.cyclemodel.dysta_sched.random_program`): every op, out-of-range ids, a full
    table, past deadlines, zero and saturating values, SET_TIME jumps, unknown op codes."""
    from mmsched.hw.cyclemodel.dysta_sched import random_program

    return random_program(config, make_rng(seed), count, max_gap=max_gap)


def load_config(source: str | os.PathLike) -> AcceleratorConfig | SchedulerConfig:
    """The configuration in the JSON ``mmsched verilog`` writes beside the Verilog (a path,
    or the JSON text itself): an `AcceleratorConfig` or a `SchedulerConfig`."""
    text = str(source)
    if not text.lstrip().startswith("{"):
        text = Path(source).read_text()
    data = json.loads(text)
    if "rows" in data:
        return AcceleratorConfig.from_dict(data)
    if "slots" in data:
        return SchedulerConfig(**data)
    raise ValueError("not an accelerator or scheduler configuration (no 'rows' or 'slots')")
