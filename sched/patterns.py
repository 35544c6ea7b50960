"""Static weight sparsity patterns: which weights of a layer's ``B[K, N]`` are kept.

Pattern names (the ``pattern`` part of a model key):

============== ==================================================================================
``dense``       all weights kept
``unstructuredP`` magnitude pruning: the ``round(P% x K x N)`` smallest ``|w|`` removed
``nmNofM``      N:M along K: in each run of M consecutive K rows of a column, the N largest
                ``|w|`` kept (``nm2of4``: 50 %, ``nm1of4``: 75 % removed); a last partial run of
                ``L < M`` rows keeps ``min(L, N)``
``blockB-P``    block-k: blocks of B consecutive K rows x `BLOCK_COLS` consecutive columns,
                ranked by their L1 norm, the ``round(P% x blocks)`` weakest removed (partial
                edge blocks are blocks); a removed block is a whole weight row of a tile of
                up to 16 columns, which the accelerator skips
``filterP``     filter pruning: the ``round(P% x N)`` columns (output channels) of least L1 norm
                removed
``channelP``    channel pruning: the ``round(P% x rows)`` row groups (input channels: ``row_group``
                consecutive K rows, the kernel area for an im2col convolution) of least L1 norm
                removed; the accelerator skips all-zero weight rows
============== ==================================================================================

``P`` is a percentage (``unstructured20``: 20 % of the weights removed). Masks are
deterministic from the weights, and the weights (when not given) from the generator passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_PATTERN_RE = re.compile(
    r"^(?:(?P<dense>dense)|unstructured(?P<u>\d+(?:\.\d+)?)|nm(?P<n>\d+)of(?P<m>\d+)"
    r"|block(?P<b>\d+)-(?P<bp>\d+(?:\.\d+)?)|filter(?P<f>\d+(?:\.\d+)?)"
    r"|channel(?P<c>\d+(?:\.\d+)?))$")

PATTERN_KINDS = ("dense", "unstructured", "nm", "block", "filter", "channel")

BLOCK_COLS = 16
"""Columns (output channels) of one block-k block: the column count of the Eyeriss-V2-like
array (16), so a pruned block is a skippable all-zero weight row of a tile there."""


@dataclass(frozen=True)
class PatternSpec:
    """A parsed pattern: ``kind`` (one of `PATTERN_KINDS`), ``sparsity`` (fraction of weights
    removed, nominal), ``n``/``m`` for N:M, ``block`` for block-k."""

    kind: str
    sparsity: float = 0.0
    n: int = 0
    m: int = 0
    block: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PATTERN_KINDS:
            raise ValueError(f"pattern kind must be one of {PATTERN_KINDS}, not {self.kind!r}")
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"pattern sparsity must be in [0, 1), not {self.sparsity!r}")

    @property
    def density(self) -> float:
        """Nominal fraction of weights kept."""
        return 1.0 - self.sparsity

    @property
    def name(self) -> str:
        pct = f"{self.sparsity * 100:g}"
        return {"dense": "dense", "unstructured": f"unstructured{pct}",
                "nm": f"nm{self.n}of{self.m}", "block": f"block{self.block}-{pct}",
                "filter": f"filter{pct}", "channel": f"channel{pct}"}[self.kind]


def parse_pattern(name: str) -> PatternSpec:
    """Parse a pattern name (table in the module docstring).

    Raises ValueError naming the accepted forms for anything else (a percentage >= 100,
    ``N > M``, a zero block or M).
    """
    mt = _PATTERN_RE.match(name) if isinstance(name, str) else None
    if mt is None:
        raise ValueError(f"unknown weight pattern {name!r}; expected dense, unstructuredP, "
                         f"nmNofM, blockB-P, filterP or channelP (P a percentage < 100)")
    g = mt.groupdict()
    if g["dense"]:
        return PatternSpec("dense")
    if g["n"] is not None:
        n, m = int(g["n"]), int(g["m"])
        if m < 1 or not 1 <= n <= m:
            raise ValueError(f"weight pattern {name!r}: N:M needs 1 <= N <= M, M >= 1")
        return PatternSpec("nm", 1.0 - n / m, n=n, m=m)
    for kind, key in (("unstructured", "u"), ("block", "bp"), ("filter", "f"),
                      ("channel", "c")):
        if g[key] is not None:
            pct = float(g[key])
            if pct >= 100:
                raise ValueError(f"weight pattern {name!r}: percentage must be < 100")
            block = int(g["b"]) if kind == "block" else 0
            if kind == "block" and block < 1:
                raise ValueError(f"weight pattern {name!r}: block size must be >= 1")
            return PatternSpec(kind, pct / 100.0, block=block)
    raise AssertionError("unreachable")  # pragma: no cover


def _drop_smallest(scores: np.ndarray, count: int) -> np.ndarray:
    """Boolean keep-mask over ``scores`` (1-D) removing the ``count`` smallest (ties broken
    by `numpy.argpartition`, deterministic for the same input)."""
    keep = np.ones(scores.shape[0], dtype=bool)
    if count >= scores.shape[0]:
        keep[:] = False
    elif count > 0:
        keep[np.argpartition(scores, count - 1)[:count]] = False
    return keep


def weight_mask(pattern: str | PatternSpec, k: int, n: int, *, rng: np.random.Generator,
                groups: int = 1, weights: np.ndarray | None = None,
                row_group: int = 1) -> np.ndarray:
    """Keep-mask of a ``groups x K x N`` weight tensor under ``pattern``.

    Parameters
    ----------
    pattern : str or PatternSpec
    k, n : int
        GEMM dimensions of ``B`` (one group); positive.
    rng : numpy.random.Generator
        Draws standard-normal weights when ``weights`` is None (the magnitudes decide what is
        pruned); the same generator state gives the same mask.
    groups : int
        Independent groups (each pruned on its own).
    weights : numpy.ndarray, optional
        Real weights ``[groups, K, N]`` or ``[K, N]`` to prune by magnitude.
    row_group : int
        K rows per input channel for ``channel`` pruning (the kernel area of a convolution).

    Returns
    -------
    numpy.ndarray
        bool ``[groups, K, N]``, True = weight kept.
    """
    spec = parse_pattern(pattern) if isinstance(pattern, str) else pattern
    for label, v in (("k", k), ("n", n), ("groups", groups), ("row_group", row_group)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{label} must be a positive integer, not {v!r}")
    if spec.kind == "dense":
        return np.ones((groups, k, n), dtype=bool)
    if weights is None:
        # i.i.d. weights: only the magnitude ranks matter, so uniform float32 draws stand in
        # for |w| (same distribution of masks, a fraction of the cost on 100M-weight layers)
        if spec.kind == "unstructured":
            return np.stack([_random_exact(k * n, int(round(spec.sparsity * k * n)), rng)
                             .reshape(k, n) for _ in range(groups)])
        if spec.kind == "nm":
            return np.stack([_random_nm(spec, k, n, rng) for _ in range(groups)])
        w = rng.random((groups, k, n), dtype=np.float32)
    else:
        w = np.abs(np.asarray(weights, dtype=np.float64)).reshape(-1, k, n)
        if w.shape[0] != groups:
            raise ValueError(f"weights hold {w.shape[0]} groups, expected {groups}")
    out = np.empty((groups, k, n), dtype=bool)
    for g in range(groups):
        out[g] = _mask_one(spec, w[g], row_group)
    return out


def _random_exact(size: int, drop: int, rng: np.random.Generator) -> np.ndarray:
    """Keep-mask of ``size`` entries with exactly ``drop`` uniformly chosen ones removed."""
    keep = rng.random(size, dtype=np.float32) >= np.float32(drop / size)
    have = size - int(np.count_nonzero(keep))  # removed so far
    # too many removed: restore some (False -> True); too few: remove more (True -> False)
    value, count = (True, have - drop) if have > drop else (False, drop - have)
    while count > 0:  # flip random entries to hit the count exactly
        idx = rng.choice(size, size=min(size, 2 * count + 16), replace=False)
        idx = idx[keep[idx] != value][:count]
        keep[idx] = value
        count -= idx.size
    return keep


def _random_nm(spec: PatternSpec, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """N:M keep-mask for i.i.d. weights: the N of each run of M with the largest draws."""
    m, keep_n = spec.m, spec.n
    runs = -(-k // m)
    u = rng.random((runs, m, n), dtype=np.float32)
    if k % m:
        u[-1, k % m:, :] = -1.0  # padding rows never win a slot
    pos = np.arange(m).reshape(1, m, 1)
    rank = np.zeros((runs, m, n), dtype=np.int8)  # draws below each draw in its run
    for j in range(m):
        uj = u[:, j:j + 1, :]
        rank += (u > uj) | ((u == uj) & (pos > j))  # ties broken by position
    keep = rank >= m - keep_n
    return keep.reshape(runs * m, n)[:k]


def _mask_one(spec: PatternSpec, w: np.ndarray, row_group: int) -> np.ndarray:
    k, n = w.shape
    if spec.kind == "unstructured":
        return _drop_smallest(w.ravel(), int(round(spec.sparsity * k * n))).reshape(k, n)
    if spec.kind == "nm":
        m, keep_n = spec.m, spec.n
        runs = -(-k // m)
        padded = np.full((runs * m, n), -1.0)  # padding rows never win a slot
        padded[:k] = w
        blocks = padded.reshape(runs, m, n)
        order = np.argsort(-blocks, axis=1, kind="stable")
        keep = np.zeros_like(blocks, dtype=bool)
        np.put_along_axis(keep, order[:, :keep_n, :], True, axis=1)
        return keep.reshape(runs * m, n)[:k]
    if spec.kind == "block":
        b, cw = spec.block, BLOCK_COLS
        runs, groups = -(-k // b), -(-n // cw)
        padded = np.zeros((runs * b, groups * cw), dtype=w.dtype)
        padded[:k, :n] = w
        norms = padded.reshape(runs, b, groups, cw).sum(axis=(1, 3))  # [runs, groups]
        keep_blocks = _drop_smallest(norms.ravel(), int(round(spec.sparsity * runs * groups)))
        keep = np.repeat(np.repeat(keep_blocks.reshape(runs, groups), b, axis=0), cw, axis=1)
        return keep[:k, :n]
    if spec.kind == "filter":
        keep_cols = _drop_smallest(w.sum(axis=0), int(round(spec.sparsity * n)))
        return np.broadcast_to(keep_cols[None, :], (k, n)).copy()
    if spec.kind == "channel":
        rows = -(-k // row_group)
        padded = np.zeros((rows * row_group, n))
        padded[:k] = w
        norms = padded.reshape(rows, row_group * n).sum(axis=1)
        keep_rows = np.repeat(_drop_smallest(norms, int(round(spec.sparsity * rows))),
                              row_group)[:k]
        return np.broadcast_to(keep_rows[:, None], (k, n)).copy()
    raise AssertionError(spec.kind)  # pragma: no cover
