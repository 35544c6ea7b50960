"""The exact cycle model of the sparse systolic accelerator (numpy only, no Amaranth).

Given the same activation and weight masks and configuration, it returns the cycle count, the
monitor's non-zero and total counts and the energy counters the RTL (`mmsched.hw.accel`)
produces: equal, not close. The timing rules are written once in `mmsched.hw.spec.accelerator`:

- the host maps only the weight columns (output channels) the static pattern keeps: columns
  that are all-zero in every group (filter pruning) are dropped before tiling (`kept_columns`;
  their outputs are zero), at least one column is kept;
- a layer (``groups`` GEMMs) is split by `mmsched.hw.spec.plan_jobs` into jobs that fit the
  on-chip memories (whole tiles, whole chunks); each job costs ``JOB_OVERHEAD_CYCLES``;
- a job runs its tiles (R rows x C columns) one after the other; a tile costs
  ``L(first) + sum_c P(c) + cols + rows`` (preload, phases, flush, drain) with
  ``P(c) = max(S(c), L(c+1), 1)``, ``L(c) = ceil(rows_c / load_rows_per_cycle) +
  LOAD_LATENCY_CYCLES`` and ``L = 0`` after the last chunk of a job's K piece;
- ``S(c)`` is the busiest row's stream length of chunk ``c``: the number of k with a non-zero
  activation and a live weight row (any non-zero weight among the tile's columns); in dense
  mode every k of the chunk.

Everything is vectorised over groups, tiles and chunks: the only Python loop is over K pieces
(one piece unless K exceeds ``max_k`` or the memories).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmsched.hw.spec import (
    JOB_OVERHEAD_CYCLES,
    LOAD_LATENCY_CYCLES,
    AcceleratorConfig,
    plan_split,
)


@dataclass(frozen=True, slots=True)
class Counters:
    """What the accelerator reports for one layer (all groups, all jobs).

    ``cycles``, ``nnz``, ``total``, ``macs`` (MACs issued), ``act_reads``, ``wt_reads``
    (memory word reads), ``out_writes`` (output word writes) are the RTL's done-record fields
    summed over jobs. ``jobs``: jobs issued; ``dense_macs``: M x N x K x groups;
    ``dram_bytes``: bytes the host moves to/from the on-chip memories (operands per job,
    partial outputs per K piece).
    """

    cycles: int
    nnz: int
    total: int
    macs: int
    act_reads: int
    wt_reads: int
    out_writes: int
    jobs: int
    dense_macs: int
    dram_bytes: float

    @property
    def macs_skipped(self) -> int:
        return self.dense_macs - self.macs

    def energy_pj(self, cfg: AcceleratorConfig) -> float:
        """Energy of the layer in pJ from ``cfg.energy``.

        MACs issued x mac_pj; register-file accesses (a weight read and an accumulator update
        per MAC, and each loaded weight written into the R PEs of its column) x rf_access_pj;
        on-chip memory bytes (activation, weight reads, output writes) x sram_pj_per_byte;
        ``dram_bytes`` x dram_pj_per_byte.
        """
        e = cfg.energy
        rf = 2 * self.macs + self.wt_reads * cfg.load_rows_per_cycle * cfg.cols * cfg.rows
        sram = (self.act_reads * cfg.act_word_bytes + self.wt_reads * cfg.wt_word_bytes
                + self.out_writes * cfg.out_word_bytes)
        return (self.macs * e.mac_pj + rf * e.rf_access_pj + sram * e.sram_pj_per_byte
                + self.dram_bytes * e.dram_pj_per_byte)

    def __add__(self, other: Counters) -> Counters:
        return Counters(*(a + b for a, b in zip(_astuple(self), _astuple(other), strict=True)))


def _astuple(c: Counters) -> tuple:
    return tuple(getattr(c, f) for f in Counters.__slots__)


def _as_groups(mask: np.ndarray, name: str, ndim_shared: int) -> np.ndarray:
    a = np.asarray(mask)
    if a.dtype != np.bool_:
        raise ValueError(f"{name} must be a bool array, not {a.dtype}")
    if a.ndim == ndim_shared:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"{name} must have 3 dimensions [groups, ., .], not shape {a.shape}")
    return a


def kept_columns(weight_mask: np.ndarray) -> np.ndarray:
    """Indices of the weight columns the host maps: those with a kept weight in any group
    (all of them if none has one). ``weight_mask`` bool ``[groups|1, K, N]``."""
    wm = _as_groups(weight_mask, "weight_mask", 2)
    live = wm.any(axis=(0, 1))
    if not live.any():
        live[:] = True
    return np.flatnonzero(live)


def stream_counts(cfg: AcceleratorConfig, act_mask: np.ndarray, weight_mask: np.ndarray
                  ) -> np.ndarray:
    """Per-row stream lengths: int ``[groups, M, chunks, T]``.

    Element ``[g, m, c, t]`` is how many (value, k) pairs row ``m`` streams for chunk ``c``
    while computing column tile ``t``. ``T`` is the number of column tiles, or 1 when the
    count is the same for every column tile (every weight row live, or dense mode: the
    chunk's rows), to be broadcast. Masks as in `layer_counters`.
    """
    act = _as_groups(act_mask, "act_mask", 2)
    wm = _as_groups(weight_mask, "weight_mask", 2)
    g, m, k = act.shape
    n = wm.shape[2]
    kc, c = cfg.chunk_depth, cfg.cols
    nc, nt = -(-k // kc), -(-n // c)
    starts = np.arange(0, k, kc)
    if cfg.dense:
        rows_c = np.minimum(kc, k - starts).astype(np.int32)
        return np.broadcast_to(rows_c[None, None, :, None], (g, m, nc, 1))
    kp = nc * kc
    if nt * c == n:
        live = wm.reshape(wm.shape[0], k, nt, c).any(axis=3)
    else:
        padded = np.zeros((wm.shape[0], k, nt * c), dtype=bool)
        padded[:, :, :n] = wm
        live = padded.reshape(wm.shape[0], k, nt, c).any(axis=3)  # [g|1, k, nt]
    if live.all():
        cnt = np.add.reduceat(act.view(np.uint8), starts, axis=2, dtype=np.int32)
        return cnt[..., None]
    a = np.zeros((g, m, kp), dtype=np.float32)
    a[:, :, :k] = act
    lv = np.zeros((live.shape[0], kp, nt), dtype=np.float32)
    lv[:, :k] = live
    a = a.reshape(g, m, nc, kc).transpose(0, 2, 1, 3)  # [g, nc, m, kc]
    lv = lv.reshape(live.shape[0], nc, kc, nt)  # [g|1, nc, kc, nt]
    return np.matmul(a, lv).astype(np.int32).transpose(0, 2, 1, 3)  # [g, m, nc, nt]


def _busiest(cnt: np.ndarray, rows: int) -> np.ndarray:
    """Max over each tile's rows: ``[g, M, nc, T]`` -> ``[g, m_tiles, nc, T]``."""
    g, m = cnt.shape[:2]
    full = m // rows
    parts = []
    if full:
        parts.append(cnt[:, :full * rows].reshape(g, full, rows, *cnt.shape[2:]).max(axis=2))
    if m % rows:
        parts.append(cnt[:, full * rows:].max(axis=1, keepdims=True))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


class _Schedule:
    """What a layer's cycles owe to its shape alone (``m x k`` by ``k x n`` of one group):
    the job split, the chunks' load times and phase floors, the per-tile fixed costs; the
    dense-mode phases (every k of a chunk streamed)."""

    def __init__(self, cfg: AcceleratorConfig, m: int, n: int, k: int) -> None:
        r, c, kc, lw = cfg.rows, cfg.cols, cfg.chunk_depth, cfg.load_rows_per_cycle
        self.nc, self.nt, self.mt = -(-k // kc), -(-n // c), -(-m // r)
        mcuts, ncuts, kcuts = plan_split(cfg, m, n, k)
        self.n_mp, self.n_np, self.n_kp = len(mcuts) - 1, len(ncuts) - 1, len(kcuts) - 1
        rows_c = np.minimum(kc, k - kc * np.arange(self.nc))
        self.nwords = -(-rows_c // lw)
        load = self.nwords + LOAD_LATENCY_CYCLES
        first = np.zeros(self.nc, dtype=bool)
        first[np.asarray(kcuts[:-1]) // kc] = True  # first chunk of each K piece
        lnext = np.zeros(self.nc, dtype=np.int64)
        lnext[:-1] = np.where(first[1:], 0, load[1:])
        self.floor = np.maximum(lnext, 1)  # [nc]
        tiles = self.mt * self.nt
        per_tile_fixed = int(load[first].sum()) + self.n_kp * (c + r)
        jobs = self.n_mp * self.n_np * self.n_kp
        self.fixed_cycles = tiles * per_tile_fixed + jobs * JOB_OVERHEAD_CYCLES
        """Cycles of one group besides the phases: preloads, flushes, drains, job overheads."""
        self.dense_phases = tiles * int(np.maximum(rows_c, self.floor).sum())
        """Phase cycles of one group in dense mode."""


def dense_cycles(cfg: AcceleratorConfig, groups: int, m: int, n: int, k: int) -> int:
    """Cycles of a layer in dense mode from its shape alone: ``layer_counters(replace(cfg,
    dense=True), ...)`` with all-ones masks, without building the masks (for estimates)."""
    sh = _Schedule(cfg, m, n, k)
    return groups * (sh.dense_phases + sh.fixed_cycles)


def layer_counters(cfg: AcceleratorConfig, act_mask: np.ndarray,
                   weight_mask: np.ndarray) -> Counters:
    """Counters of one layer: ``groups`` GEMMs ``[M, K] x [K, N]`` run as planned jobs.

    Parameters
    ----------
    cfg : AcceleratorConfig
    act_mask : numpy.ndarray
        bool ``[groups, M, K]`` (or ``[M, K]``): True where the im2col activation is non-zero.
    weight_mask : numpy.ndarray
        bool ``[groups, K, N]`` or ``[K, N]`` (shared by the groups): True where the weight is
        non-zero (kept by the static pattern).

    Returns
    -------
    Counters

    Raises
    ------
    ValueError
        Masks that are not bool or whose shapes disagree.
    """
    act = _as_groups(act_mask, "act_mask", 2)
    wm = _as_groups(weight_mask, "weight_mask", 2)
    g, m, k = act.shape
    if wm.shape[1] != k or wm.shape[0] not in (1, g):
        raise ValueError(f"weight_mask shape {wm.shape} does not match act_mask {act.shape}: "
                         f"expected [{g} or 1, {k}, N]")
    if min(m, k, wm.shape[2]) < 1:
        raise ValueError(f"GEMM dimensions must be positive, not M={m} N={wm.shape[2]} K={k}")
    dense_macs = g * m * wm.shape[2] * k
    keep = kept_columns(wm)
    if keep.size < wm.shape[2]:
        wm = wm[:, :, keep]
    n = wm.shape[2]
    r, c = cfg.rows, cfg.cols
    sh = _Schedule(cfg, m, n, k)
    nc, nt, mt = sh.nc, sh.nt, sh.mt
    n_mp, n_np, n_kp = sh.n_mp, sh.n_np, sh.n_kp
    nwords, floor = sh.nwords, sh.floor
    valid_cols = np.minimum(c, n - c * np.arange(nt))

    cnt = stream_counts(cfg, act, wm)  # [g, m, nc, T], T in (1, nt)
    t_eff = cnt.shape[3]
    if cfg.dense:
        phases = g * sh.dense_phases
        macs = g * m * n * k  # of the kept columns
    else:
        busiest = _busiest(cnt, r)  # [g, mt, nc, T]
        phases = int(np.maximum(busiest, floor[None, None, :, None]).sum(dtype=np.int64))
        phases *= nt // t_eff
        per_tile = cnt.sum(axis=(1, 2), dtype=np.int64)  # [g, T]
        macs = int((per_tile * (valid_cols if t_eff > 1 else valid_cols.sum())).sum())
    tiles = mt * nt
    jobs = g * n_mp * n_np * n_kp
    cycles = phases + g * sh.fixed_cycles

    nnz = int(np.count_nonzero(act))
    sum_words = int(nwords.sum())
    dram = g * (nc * n_np * m * cfg.act_word_bytes + sum_words * nt * n_mp * cfg.wt_word_bytes
                + m * nt * n_kp * cfg.out_word_bytes)
    return Counters(cycles=cycles, nnz=nnz, total=g * m * k, macs=macs,
                    act_reads=g * nt * m * nc, wt_reads=g * tiles * sum_words,
                    out_writes=g * m * nt * n_kp, jobs=jobs, dense_macs=dense_macs,
                    dram_bytes=float(dram))


def job_counters(cfg: AcceleratorConfig, act_mask: np.ndarray, weight_mask: np.ndarray,
                 *, monitor: bool = True) -> Counters:
    """Counters of ONE job exactly as the RTL's done record reports it (no host splitting).

    ``act_mask`` ``[M, K]``, ``weight_mask`` ``[K, N]``; the job must fit the memories (see
    `mmsched.hw.spec.plan_split`). ``monitor=False`` zeroes ``nnz`` and ``total``.
    """
    m, k = np.shape(act_mask)
    n = np.shape(weight_mask)[1]
    mcuts, ncuts, kcuts = plan_split(cfg, m, n, k)
    if len(mcuts) + len(ncuts) + len(kcuts) != 6:
        raise ValueError(f"job M={m} N={n} K={k} does not fit the on-chip memories of "
                         f"{cfg.name}; split it with plan_jobs")
    res = layer_counters(cfg, act_mask, weight_mask)
    if not monitor:
        res = Counters(res.cycles, 0, 0, *_astuple(res)[3:])
    return res
