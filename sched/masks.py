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
3. the layer's non-zero count is then trimmed or topped up at random to exactly
   ``groups x round(d M K)`` so the layer's density is reproduced exactly (the monitor's nnz,
   counted per layer, is what the scheduler sees); each group keeps its binomial spread.

Weights follow the layer's static pattern (`mmsched.sched.patterns`), drawn from a generator
seeded by (seed, model key, layer index): the same for every sample, as trained weights are.
Everything is deterministic from ``seed``; no global state.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .model import Model
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


def _beta_shape(rng: np.random.Generator, size: int | tuple[int, int], mean: float,
                cv: float) -> np.ndarray:
    """``size`` draws of a Beta with ``mean`` and coefficient of variation ``cv`` (capped at
    the largest a Beta allows); the shape of the per-row or per-column targets (``size`` =
    ``(groups, n)`` draws the groups one after the other, as ``groups`` calls of ``n``)."""
    n = size if isinstance(size, int) else size[-1]
    if n <= 1 or cv <= 0.0 or mean <= 0.0 or mean >= 1.0:
        return np.full(size, mean)
    var = min((cv * mean) ** 2, 0.95 * mean * (1.0 - mean))
    common = mean * (1.0 - mean) / var - 1.0
    return rng.beta(mean * common, (1.0 - mean) * common, size=size)


def _probabilities(rho: np.ndarray, kappa: np.ndarray, d: float,
                   scale: float = 1.0, out: np.ndarray | None = None) -> np.ndarray:
    """``min(1, scale rho_m kappa_k / d)`` as float32 ``[len(rho), len(kappa)]`` (into
    ``out``, a C-contiguous float32 array of that shape, when given)."""
    a = rho.astype(np.float32)
    b = (kappa * (scale / d)).astype(np.float32)
    p = np.multiply(a[:, None], b[None, :], out=out)  # np.outer's arithmetic
    return np.minimum(p, np.float32(1.0), out=p)


def _predicted_cv(p: np.ndarray, axis: int, d: float, n: int,
                  work: np.ndarray | None = None) -> float:
    """Expected measured CV of the row (``axis=1``) or column (``axis=0``) densities of a
    Bernoulli(p) mask whose rows/columns have ``n`` entries (``p`` may be a subsample of
    them): spread of the expected densities plus Poisson-binomial noise. ``work``: scratch
    space shaped like ``p``."""
    r = p.mean(axis=axis, dtype=np.float64)
    q = np.subtract(np.float32(1.0), p, out=work)
    q = np.multiply(p, q, out=q)  # p (1 - p), in float32 as written out
    return float(np.sqrt(r.var() + np.mean(q, dtype=np.float64) / n) / d)


class _Scratch:
    """Reusable float32 work arrays. The calibration evaluates the same few array shapes
    dozens of times per layer; allocating megabyte temporaries each time (page faults) cost
    more than the arithmetic. Every view is C-contiguous from offset 0 of its buffer, so
    reductions over it see the same memory layout as over a fresh array (same sums, bit for
    bit)."""

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        size = shape[0] * shape[1]
        buf = self._flat.get(name)
        if buf is None or buf.size < size:
            buf = self._flat[name] = np.empty(size, dtype=np.float32)
        return buf[:size].reshape(shape)


def _calibrate(stats: LayerStats, u: np.ndarray, v: np.ndarray, rng: np.random.Generator,
               row_len: int, col_len: int) -> tuple[float, float, float]:
    """Scales ``(fr, fc, scale)`` for row/column deviations ``u``, ``v`` (from the density).

    The deviations are scaled (a few damped fixed-point steps, estimated on at most 256 rows or
    columns against 1024 of the other axis) so the predicted measured CV, after clipping at
    probability 1 and with the noise of a finite row or column, matches the target; ``scale``
    then brings the mean probability back to the density after clipping (so the final
    exact-count step only absorbs sampling noise). ``row_len``/``col_len``: entries of one
    row/column of the real mask (``u``/``v`` may pool several groups).
    """
    d = stats.density
    m, k = u.shape[0], v.shape[0]
    rows = rng.choice(m, size=min(m, 256), replace=False)
    cols = rng.choice(k, size=min(k, 256), replace=False)
    rows_wide = rng.choice(m, size=min(m, 1024), replace=False)
    cols_wide = rng.choice(k, size=min(k, 1024), replace=False)
    work = _Scratch()
    fr = fc = 1.0
    for _ in range(6):
        # both steps use the targets of this iteration's scales; only these entries of the
        # targets are read, so clip them alone (same values)
        fr0, fc0 = fr, fc
        if stats.row_cv > 0 and m > 1:
            rho, kappa = _targets(d, u[rows], v[cols_wide], fr0, fc0)
            shape = (rho.size, kappa.size)
            p = _probabilities(rho, kappa, d, out=work.get("p", shape))
            got = _predicted_cv(p, 1, d, row_len, work.get("q", shape))
            fr *= min(2.0, max(0.5, (stats.row_cv / max(got, 1e-9)) ** 0.8))
        if stats.col_cv > 0 and k > 1:
            rho, kappa = _targets(d, u[rows_wide], v[cols], fr0, fc0)
            shape = (rho.size, kappa.size)
            p = _probabilities(rho, kappa, d, out=work.get("p", shape))
            got = _predicted_cv(p, 0, d, col_len, work.get("q", shape))
            fc *= min(2.0, max(0.5, (stats.col_cv / max(got, 1e-9)) ** 0.8))
    rho, kappa = _targets(d, u[rows_wide], v[cols_wide], fr, fc)
    base = _probabilities(rho, kappa, d)
    lo, hi = 1.0, 1.0 / max(d, 1e-6)
    if float(base.mean()) >= d:
        return fr, fc, 1.0
    trial = work.get("q", base.shape)
    estimate = _ClippedMean(rho, kappa, d)
    exact: dict[np.float32, bool] = {}
    for _ in range(30):  # bisection on the scale: mean(min(1, scale * base)) == d
        mid = 0.5 * (lo + hi)
        # The float32 mean below decides each step. Far from d a float64 estimate (exact
        # arithmetic up to ~1e-15, against the float32 mean's < 3e-6 relative error) decides
        # the same way; only steps within `_DECIDE_MARGIN` of d evaluate the float32 mean,
        # once per float32 scale (the last steps narrow the interval below float32
        # resolution, where ``np.float32(mid)`` repeats).
        mid32 = np.float32(mid)
        approx = estimate(mid32)
        if abs(approx - d) > _DECIDE_MARGIN * d:
            below = approx < d
        elif mid32 in exact:
            below = exact[mid32]
        else:
            np.multiply(base, mid32, out=trial)
            np.minimum(trial, np.float32(1.0), out=trial)
            below = exact[mid32] = float(trial.mean()) < d
        if below:
            lo = mid
        else:
            hi = mid
    return fr, fc, hi


_DECIDE_MARGIN = 2e-5
"""Relative distance from the density beyond which `_ClippedMean` decides a bisection step.

The float32 mean that the bisection is defined by, ``fl(sum fl(min(1, fl(fl(a_i b_j) s))) /
N)`` (``s >= 1``), differs from the exact ``mean(min(1, a_i b_j s))`` by at most: two
rounded products per term (2 x 2**-24 relative), numpy's pairwise float32 summation (blocks
of 128 summed by 8 accumulators of 16 terms, then at most 13 halvings for the <= 2**20
terms here: ~33 x 2**-24 relative to the sum of the terms) and the division (2**-24): under
2.3e-6 relative. The margin leaves a factor of 8; measured differences are ~3e-8."""


class _ClippedMean:
    """``mean over (i, j) of min(1, a_i b_j s)`` in float64 for an outer product ``a x b``
    (``a``, ``b``: the float32 factors `_probabilities` multiplies), in ``O(len(a) log
    len(b))`` per scale ``s``: per row, the entries of ``b`` below ``1 / (a_i s)`` add
    ``a_i s b_j``, the others 1 (prefix sums of the sorted ``b``)."""

    def __init__(self, rho: np.ndarray, kappa: np.ndarray, d: float) -> None:
        self.a = rho.astype(np.float32).astype(np.float64)
        b = np.sort((kappa * (1.0 / d)).astype(np.float32).astype(np.float64))
        self.b = b
        self.prefix = np.concatenate([[0.0], np.cumsum(b)])
        self.n = self.a.size * b.size

    def __call__(self, scale: np.float32) -> float:
        s = float(scale)
        # entries with a_i b_j s < 1 (a_i > 0: targets are clipped at 1e-6)
        k = np.searchsorted(self.b, 1.0 / (self.a * s), side="left")
        total = s * float(np.dot(self.a, self.prefix[k])) + float((self.b.size - k).sum())
        return total / self.n


def _targets(d: float, u: np.ndarray, v: np.ndarray, fr: float,
             fc: float) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(d + fr * u, 1e-6, 1.0), np.clip(d + fc * v, 1e-6, 1.0)


def _flip_random(flat: np.ndarray, value: bool, count: int, rng: np.random.Generator,
                 accept: np.ndarray | None = None) -> None:
    """Set ``count`` distinct random entries of ``flat`` that equal ``value`` to ``not
    value`` (rejection sampling in batches; ``accept``: optional per-entry acceptance
    probability, the generator's p when adding non-zeros back: float, or uint16 in units of
    2**-16)."""
    n = flat.shape[0]
    while count > 0:
        idx = rng.choice(n, size=min(n, 2 * count + 16), replace=False)
        idx = idx[flat[idx] == value]
        if accept is not None and idx.size:  # uint16 fixed point (2**-16) or float
            if accept.dtype == np.uint16:
                draw = rng.integers(0, 65536, size=idx.size, dtype=np.uint16)
            else:
                draw = rng.random(idx.size, dtype=np.float32)
            idx = idx[draw < accept[idx]]
        idx = idx[:count]  # already in random order
        flat[idx] = not value
        count -= idx.size
        if accept is not None and idx.size == 0:
            accept = None  # nothing accepted: fall back to uniform (all p tiny)


_BLOCK_ELEMENTS = 1 << 18
"""Entries of the activation mask drawn per block (about a megabyte of float32 work)."""


def activation_mask(stats: LayerStats, groups: int, m: int, k: int,
                    rng: np.random.Generator) -> np.ndarray:
    """A bool ``[groups, M, K]`` activation mask with ``stats`` (module docstring).

    Groups (depthwise channels, attention heads) are independent draws; the spread scales are
    calibrated once on the pooled draws of the first 8 groups and applied to all.
    """
    d = stats.density
    target = int(round(d * m * k))
    if target == 0 or target == m * k:
        return np.full((groups, m, k), target > 0, dtype=bool)
    u = _beta_shape(rng, (groups, m), d, stats.row_cv) - d
    v = _beta_shape(rng, (groups, k), d, stats.col_cv) - d
    fr, fc, scale = _calibrate(stats, u[:8].ravel(), v[:8].ravel(), rng, k, m)
    rho, kappa = _targets(d, u, v, fr, fc)
    # Bernoulli draws on 16-bit fixed point (probability resolution 2**-16): uniform uint16
    # draws cost a quarter of float32 ones, and the exact-count step absorbs the rounding.
    # Done in blocks of rows that fit in cache (the whole float32 probability array of a big
    # layer is 100+ MB of memory traffic); the numbers are those of the whole-array form:
    # elementwise products, and uniform uint16 draws in blocks of an even size continue one
    # stream exactly (numpy draws them two per 32-bit word).
    rho32 = rho.astype(np.float32).reshape(-1)  # rows (group, m) flattened
    ks32 = (kappa * (scale * 65536.0 / d)).astype(np.float32)  # [groups, k]
    thr = np.empty((groups * m, k), dtype=np.uint16)
    out = np.empty((groups * m, k), dtype=bool)
    block = max(2, (_BLOCK_ELEMENTS // k) & ~1)  # an even number of rows: even-sized draws
    for r0 in range(0, groups * m, block):
        r1 = min(r0 + block, groups * m)
        g0, g1 = r0 // m, (r1 - 1) // m
        if g0 == g1:
            p = np.multiply(rho32[r0:r1, None], ks32[g0][None, :])
        else:
            p = np.multiply(rho32[r0:r1, None], ks32[np.arange(r0, r1) // m])
        np.minimum(p, np.float32(65535.0), out=p)
        t = thr[r0:r1]
        t[...] = p  # float32 -> uint16, truncating as astype does
        draws = rng.integers(0, 65536, size=(r1 - r0) * k, dtype=np.uint16)
        np.less(draws.reshape(r1 - r0, k), t, out=out[r0:r1])
    out = out.reshape(groups, m, k)
    # One exact-count correction over the whole layer (the monitor counts per layer); the
    # groups keep their own binomial spread around ``target``, as real channels/heads do.
    flat = out.reshape(-1)
    want = target * groups
    have = int(np.count_nonzero(flat))
    if have > want:  # drop random non-zeros
        _flip_random(flat, True, have - want, rng)
    elif have < want:  # add random zeros back, accepted with their probability
        _flip_random(flat, False, want - have, rng, thr.reshape(-1))
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

    def __init__(self, stats, *, seed: int = 0, cache_bytes: int = 256 << 20) -> None:
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
        self._stats = stats.stats if hasattr(stats, "stats") else stats
        self.seed = seed
        # masks are pure functions of their keys: keep the most recent ones (bounded bytes),
        # so a caller iterating layer-major over samples and patterns builds each once
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._cache_bytes = 0
        self._cache_limit = cache_bytes

    def _cached(self, key: tuple, build) -> np.ndarray:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        arr = build()
        arr.setflags(write=False)
        if arr.nbytes <= self._cache_limit:
            self._cache[key] = arr
            self._cache_bytes += arr.nbytes
            while self._cache_bytes > self._cache_limit:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= old.nbytes
        return arr

    def layer_stats(self, model: Model, layer_index: int, sample: int) -> LayerStats:
        layer = model.layers[layer_index]
        if not layer.act_sparse:
            return LayerStats(1.0)
        return self._stats(model, layer_index, sample)

    def weights(self, model: Model, layer_index: int) -> np.ndarray:
        layer = model.layers[layer_index]

        def build() -> np.ndarray:
            rng = np.random.default_rng(_key_seed(self.seed, "w", model.key, layer_index))
            return weight_mask(layer.weight_pattern, layer.k, layer.n, rng=rng,
                               groups=layer.groups)

        return self._cached(("w", model.key, layer.weight_pattern, layer_index), build)

    def activations(self, model: Model, layer_index: int, sample: int) -> np.ndarray:
        layer = model.layers[layer_index]
        stats = self.layer_stats(model, layer_index, sample)

        def build() -> np.ndarray:
            # the activation stream does not depend on the weight pattern: key on the arch
            rng = np.random.default_rng(_key_seed(self.seed, "a", model.arch, layer_index,
                                                  sample))
            return activation_mask(stats, layer.groups, layer.m, layer.k, rng)

        return self._cached(("a", model.arch, layer_index, sample, stats), build)

    def masks(self, model: Model, layer_index: int, sample: int
              ) -> tuple[np.ndarray, np.ndarray]:
        """``(act_mask [groups, M, K], weight_mask [groups, K, N])`` of one layer and sample
        (read-only arrays)."""
        return self.activations(model, layer_index, sample), self.weights(model, layer_index)


class UniformStats:
    """Constant statistics for every sparse layer (tests, and models without a profile)."""

    def __init__(self, density: float, row_cv: float = 0.0, col_cv: float = 0.0) -> None:
        self._s = LayerStats(density, row_cv, col_cv)

    def stats(self, model: Model, layer_index: int, sample: int) -> LayerStats:
        return self._s
