"""The ``analytic`` timing backend: the exact cycle model of the sparse systolic accelerator.

Layer times come from `mmsched.hw.cyclemodel.cycles.layer_counters` on the masks a MASK SOURCE
gives: any object with ``masks(model, layer_index, sample) -> (act_mask, weight_mask)``
(``act_mask`` bool ``[groups, M, K]``, ``weight_mask`` bool ``[groups, K, N]`` or ``[K, N]``).
`UniformMasks` is the simple seeded one (used by ``mmsched layer-cycles`` and the tests);
``mmsched.sched.masks`` holds the realistic ones. Results are memoised per
(accelerator, model key, layer, sample): experiments ask for the same layer many times.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mmsched.hw.cyclemodel.cycles import Counters, layer_counters
from mmsched.hw.spec import AcceleratorConfig
from mmsched.sched.model import Model

from . import LayerTiming, register_backend


class MaskSource(Protocol):
    def masks(self, model: Model, layer_index: int, sample: int
              ) -> tuple[np.ndarray, np.ndarray]:
        """(act_mask bool [groups, M, K], weight_mask bool [groups, K, N] or [K, N])."""
        ...


def uniform_weight_mask(pattern: str, k: int, n: int, *, rng: np.random.Generator,
                        groups: int = 1, density: float = 1.0) -> np.ndarray:
    """Weight keep-mask ``[groups, K, N]``: a named pattern via `mmsched.sched.patterns` when
    that module knows it, else uniform random at ``density``."""
    if pattern not in ("", "uniform"):
        from mmsched.sched import patterns

        return patterns.weight_mask(pattern, k, n, rng=rng, groups=groups)
    return rng.random((groups, k, n)) < density


class UniformMasks:
    """Seeded uniform-random masks: each activation non-zero with probability ``act_density``
    (1.0 for layers without dynamic sparsity), weights kept per the layer's ``weight_pattern``
    (``uniform``: each weight with probability ``layer.weight_density``).

    The masks of (model key, layer, sample) depend only on ``seed`` and that triple (not on
    call order), so any number of workers see the same masks.

    Parameters
    ----------
    act_density : float
        In [0, 1].
    seed : int
        Non-negative.
    weight_pattern : str, optional
        Overrides every layer's pattern (``uniform`` = random at the layer's weight density).
    """

    def __init__(self, *, act_density: float = 0.5, seed: int = 0,
                 weight_pattern: str | None = None) -> None:
        if not 0.0 <= act_density <= 1.0:
            raise ValueError(f"act_density must be in [0, 1], not {act_density!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
        self.act_density = float(act_density)
        self.seed = seed
        self.weight_pattern = weight_pattern

    def _rng(self, key: str, layer_index: int, sample: int, stream: int) -> np.random.Generator:
        ss = np.random.SeedSequence([self.seed, zlib.crc32(key.encode()), layer_index, sample,
                                     stream])
        return np.random.default_rng(ss)

    def masks(self, model: Model, layer_index: int, sample: int
              ) -> tuple[np.ndarray, np.ndarray]:
        layer = model.layers[layer_index]
        dens = self.act_density if layer.act_sparse else 1.0
        act = self._rng(model.key, layer_index, sample, 0).random(
            (layer.groups, layer.m, layer.k)) < dens
        pattern = self.weight_pattern or layer.weight_pattern
        if pattern == "dense" and self.weight_pattern is None and layer.weight_density < 1.0:
            pattern = "uniform"
        wrng = self._rng(model.key, layer_index, 0, 1)  # static: the same for every sample
        wm = uniform_weight_mask(pattern, layer.k, layer.n, rng=wrng, groups=layer.groups,
                                 density=layer.weight_density)
        return act, wm


class AnalyticBackend:
    """Exact-cycle-model timing of layers on a system of accelerators.

    Parameters
    ----------
    system : AcceleratorConfig or sequence of AcceleratorConfig
        Accelerator ``i`` of the engine is ``system[i]``.
    masks : MaskSource
    system_clock_hz : float, optional
        When given, cycles are converted to this clock (rounded to nearest); by default they
        are cycles of the accelerator's own clock.
    memoise : bool
        Cache results per (accelerator, model key, layer, sample).
    """

    name = "analytic"

    def __init__(self, *, system: AcceleratorConfig | Sequence[AcceleratorConfig],
                 masks: MaskSource, system_clock_hz: float | None = None,
                 memoise: bool = True) -> None:
        if isinstance(system, AcceleratorConfig):
            system = (system,)
        system = tuple(system)
        if not system or not all(isinstance(c, AcceleratorConfig) for c in system):
            raise ValueError("system must be a non-empty sequence of AcceleratorConfig")
        if not hasattr(masks, "masks"):
            raise ValueError(f"masks must have a masks(model, layer_index, sample) method, "
                             f"not {type(masks).__name__}")
        if system_clock_hz is not None and not system_clock_hz > 0:
            raise ValueError(f"system_clock_hz must be > 0, not {system_clock_hz!r}")
        self.system = system
        self.mask_source = masks
        self.system_clock_hz = system_clock_hz
        self._memo: dict[tuple[int, str, int, int], tuple[Counters, LayerTiming]] | None = (
            {} if memoise else None)

    def counters(self, accelerator: int, model: Model, layer_index: int,
                 sample: int) -> Counters:
        """All counters of the layer (cycles in the accelerator's own clock)."""
        return self._run(accelerator, model, layer_index, sample)[0]

    def layer(self, accelerator: int, model: Model, layer_index: int,
              sample: int) -> LayerTiming:
        return self._run(accelerator, model, layer_index, sample)[1]

    def _run(self, accelerator: int, model: Model, layer_index: int,
             sample: int) -> tuple[Counters, LayerTiming]:
        key = (accelerator, model.key, layer_index, sample)
        if self._memo is not None and key in self._memo:
            return self._memo[key]
        if not 0 <= accelerator < len(self.system):
            raise ValueError(f"accelerator must be in [0, {len(self.system)}), "
                             f"not {accelerator!r}")
        cfg = self.system[accelerator]
        layer = model.layers[layer_index]
        if layer.kind == "table":
            raise ValueError(f"layer {layer.name!r} of {model.key!r} is a 'table' layer (no "
                             f"GEMM shape): use the table backend")
        act, wm = self.mask_source.masks(model, layer_index, sample)
        cnt = layer_counters(cfg, act, wm)
        cycles = cnt.cycles
        if self.system_clock_hz is not None:
            cycles = int(round(cycles * self.system_clock_hz / cfg.clock_hz))
        res = (cnt, LayerTiming(cycles=cycles, nnz=cnt.nnz, total=cnt.total,
                                energy_pj=cnt.energy_pj(cfg)))
        if self._memo is not None:
            self._memo[key] = res
        return res


@register_backend("analytic")
def _make(**kwargs) -> AnalyticBackend:
    return AnalyticBackend(**kwargs)
