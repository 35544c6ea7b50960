"""Mask sources: the activation and weight masks of one layer of one sample.

A mask source is any object with ``masks(model, layer_index, sample) -> (act_mask,
weight_mask)``: ``act_mask`` bool ``[groups, M, K]`` (the im2col activations ``A``; True =
non-zero), ``weight_mask`` bool ``[groups, K, N]`` (``B``; True = weight kept). The timing
backends (``analytic``, the RTL backends) compute cycles from them.

`ProfiledMasks` reproduces, per (layer, sample), a measured activation density and its spread
across the rows (``M``: output pixels or tokens, one per array row) and the columns (``K``:
input channels x kernel positions, or keys for attention) of ``A``, so the cycle model sees a
realistic load imbalance (its time per chunk is set by the busiest row). The generator:

1. per row ``m`` a target density ``rho_m`` and per column ``k`` a target ``kappa_k``, each
   Beta-shaped around ``d`` (the layer's density), their deviations scaled so that the
   predicted per-row and per-column densities of the mask (after clipping at 1 and with the
   binomial noise of a finite row of ``K`` or column of ``M``) have the measured coefficient
   of variation (std / mean); a target below the binomial noise floor gives the floor;
2. ``A[m, k] ~ Bernoulli(min(1, rho_m kappa_k / d))`` (an independent row x column model:
   the expected row density is ``rho_m``, the expected column density ``kappa_k``);
3. the non-zero count is then trimmed or topped up at random to exactly ``round(d M K)`` so the
   layer's density is reproduced exactly (the monitor's nnz is what the scheduler sees).

Weights follow the layer's static pattern (`mmsched.sched.patterns`), drawn from a generator
seeded by (seed, model key, layer index): the same for every sample, as trained weights are.
Everything is deterministic from ``seed``; no global state.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .model import Layer, Model
from .patterns import weight_mask


@dataclass(frozen=True)
class LayerStats:
    """Target statistics of one layer's activations for one sample.

    ``density``: fraction of non-zeros in ``A``; ``row_cv`` / ``col_cv``: coefficient of
    variation (std / mean over rows / columns) of the per-row / per-column density.
    """

    density: float
    row_cv: float = 0.0
    col_cv: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.density <= 1.0:
            raise ValueError(f"density must be in [0, 1], not {self.density!r}")
        if self.row_cv < 0 or self.col_cv < 0:
            raise ValueError("row_cv and col_cv must be >= 0")


def _key_seed(*parts: object) -> list[int]:
    """Stable integer seed words from strings and ints (crc32 of strings)."""
    out = []
    for p in parts:
        out.append(zlib.crc32(p.encode()) if isinstance(p, str) else int(p))
    return out


def _beta_shape(rng: np.random.Generator, size: int, mean: float, cv: float) -> np.ndarray:
    """``size`` draws of a Beta with ``mean`` and coefficient of variation ``cv`` (capped at
    the largest a Beta allows); the shape of the per-row or per-column targets."""
    if size <= 1 or cv <= 0.0 or mean <= 0.0 or mean >= 1.0:
        return np.full(size, mean)
    var = min((cv * mean) ** 2, 0.95 * mean * (1.0 - mean))
    common = mean * (1.0 - mean) / var - 1.0
    return rng.beta(mean * common, (1.0 - mean) * common, size=size)


def _probabilities(rho: np.ndarray, kappa: np.ndarray, d: float) -> np.ndarray:
    return np.minimum(1.0, np.outer(rho, kappa) / d)


def _predicted_cv(p: np.ndarray, axis: int, d: float) -> float:
    """Expected measured CV of the row (``axis=1``) or column (``axis=0``) densities of a
    Bernoulli(p) mask: spread of the expected densities plus binomial noise."""
    r = p.mean(axis=axis)
    n = p.shape[axis]  # Poisson-binomial noise of a row/column of n independent draws
    return float(np.sqrt(r.var() + np.mean(p * (1.0 - p)) / n) / d)


def _calibrated_targets(stats: LayerStats, m: int, k: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-row and per-column target densities whose Bernoulli masks show ``stats``' CVs.

    Deviations from the mean are scaled (a few damped fixed-point steps, on at most 256 rows
    and columns) so the predicted measured CV, after clipping at probability 1 and with the
    binomial noise of a finite row or column, matches the target.
    """
    d = stats.density
    u = _beta_shape(rng, m, d, stats.row_cv) - d
    v = _beta_shape(rng, k, d, stats.col_cv) - d
    rows = rng.choice(m, size=min(m, 256), replace=False)
    cols = rng.choice(k, size=min(k, 256), replace=False)
    fr = fc = 1.0

    def targets(fr: float, fc: float) -> tuple[np.ndarray, np.ndarray]:
        return np.clip(d + fr * u, 1e-6, 1.0), np.clip(d + fc * v, 1e-6, 1.0)

    for _ in range(6):
        rho, kappa = targets(fr, fc)
        if stats.row_cv > 0 and m > 1:
            got = _predicted_cv(_probabilities(rho[rows], kappa, d), 1, d)
            fr *= min(2.0, max(0.5, (stats.row_cv / max(got, 1e-9)) ** 0.8))
        if stats.col_cv > 0 and k > 1:
            got = _predicted_cv(_probabilities(rho, kappa[cols], d), 0, d)
            fc *= min(2.0, max(0.5, (stats.col_cv / max(got, 1e-9)) ** 0.8))
    return targets(fr, fc)


def activation_mask(stats: LayerStats, groups: int, m: int, k: int,
                    rng: np.random.Generator) -> np.ndarray:
    """A bool ``[groups, M, K]`` activation mask with ``stats`` (module docstring)."""
    out = np.empty((groups, m, k), dtype=bool)
    d = stats.density
    target = int(round(d * m * k))
    for g in range(groups):
        if target == 0 or target == m * k:
            out[g] = target > 0
            continue
        rho, kappa = _calibrated_targets(stats, m, k, rng)
        p = _probabilities(rho, kappa, d).astype(np.float32)
        a = rng.random((m, k), dtype=np.float32) < p
        flat = a.reshape(-1)
        have = int(flat.sum())
        if have > target:  # drop random non-zeros
            nz = np.flatnonzero(flat)
            flat[rng.choice(nz, size=have - target, replace=False)] = False
        elif have < target:  # add random zeros back, weighted by their probability
            z = np.flatnonzero(~flat)
            w = p.reshape(-1)[z].astype(np.float64)
            w = w / w.sum() if w.sum() > 0 else None
            flat[rng.choice(z, size=target - have, replace=False, p=w)] = True
        out[g] = a
    return out


def measure(act_mask: np.ndarray) -> LayerStats:
    """The statistics `activation_mask` reproduces, measured on a ``[groups, M, K]`` mask
    (row and column densities pooled over groups)."""
    a = np.asarray(act_mask, dtype=bool)
    if a.ndim == 2:
        a = a[None]
    d = float(a.mean())
    if d == 0.0:
        return LayerStats(0.0)
    rows = a.mean(axis=2).ravel()
    cols = a.mean(axis=1).ravel()
    return LayerStats(d, float(rows.std() / d), float(cols.std() / d))


class StatsSource:
    """Where `ProfiledMasks` gets the target statistics of a (model, layer, sample)."""

    def stats(self, model: Model, layer_index: int, sample: int) -> LayerStats:  # pragma: no cover
        raise NotImplementedError


class ProfiledMasks:
    """A mask source reproducing per-(layer, sample) statistics.

    Parameters
    ----------
    stats : StatsSource or callable ``(model, layer_index, sample) -> LayerStats``
        Target statistics (`mmsched.sched.profiles.ProfileStats` maps measured profiles of
        real models onto zoo layers).
    seed : int
        Root seed; masks depend only on (seed, model key, layer index, sample).

    Layers with ``act_sparse=False`` get all-ones activation masks (dense inputs: the image,
    LayerNorm outputs); the weight mask follows ``layer.weight_pattern``.
    """

    def __init__(self, stats, *, seed: int = 0) -> None:
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
        self._stats = stats.stats if hasattr(stats, "stats") else stats
        self.seed = seed

    def layer_stats(self, model: Model, layer_index: int, sample: int) -> LayerStats:
        layer = model.layers[layer_index]
        if not layer.act_sparse:
            return LayerStats(1.0)
        return self._stats(model, layer_index, sample)

    def weights(self, model: Model, layer_index: int) -> np.ndarray:
        layer = model.layers[layer_index]
        rng = np.random.default_rng(_key_seed(self.seed, "w", model.key, layer_index))
        return weight_mask(layer.weight_pattern, layer.k, layer.n, rng=rng,
                           groups=layer.groups)

    def masks(self, model: Model, layer_index: int, sample: int
              ) -> tuple[np.ndarray, np.ndarray]:
        """``(act_mask [groups, M, K], weight_mask [groups, K, N])`` of one layer and sample."""
        layer: Layer = model.layers[layer_index]
        stats = self.layer_stats(model, layer_index, sample)
        # the activation stream does not depend on the weight pattern: key on the arch
        rng = np.random.default_rng(_key_seed(self.seed, "a", model.arch, layer_index, sample))
        act = activation_mask(stats, layer.groups, layer.m, layer.k, rng)
        return act, self.weights(model, layer_index)


class UniformStats:
    """Constant statistics for every sparse layer (tests, and models without a profile)."""

    def __init__(self, density: float, row_cv: float = 0.0, col_cv: float = 0.0) -> None:
        self._s = LayerStats(density, row_cv, col_cv)

    def stats(self, model: Model, layer_index: int, sample: int) -> LayerStats:
        return self._s


def table_stats(table: Mapping[tuple[str, int, int], LayerStats]):
    """A stats callable from an explicit ``{(arch, layer_index, sample): LayerStats}``."""

    def f(model: Model, layer_index: int, sample: int) -> LayerStats:
        return table[(model.arch, layer_index, sample)]

    return f
