"""The exact cycle model against a slow, literal re-statement of the spec's timing rules."""

import dataclasses

import numpy as np
import pytest

from mmsched.hw.cyclemodel.cycles import job_counters, layer_counters, stream_counts
from mmsched.hw.spec import (
    EYERISS_V2_LIKE,
    JOB_OVERHEAD_CYCLES,
    LOAD_LATENCY_CYCLES,
    SANGER_LIKE,
    AcceleratorConfig,
    plan_jobs,
)


def _reference(cfg, act, wm):
    """Job by job, tile by tile, chunk by chunk, row by row (hw/spec/accelerator.py), on the
    weight columns kept in some group (filter-pruned columns are not mapped)."""
    keep = wm.any(axis=(0, 1))
    wm = wm[:, :, keep] if keep.any() else wm
    g_, m_, k_ = act.shape
    n_ = wm.shape[2]
    kc, r, c, lw = cfg.chunk_depth, cfg.rows, cfg.cols, cfg.load_rows_per_cycle
    cycles = nnz = macs = 0
    for g in range(g_):
        w = wm[g if wm.shape[0] > 1 else 0]
        for job in plan_jobs(cfg, m_, n_, k_):
            cycles += JOB_OVERHEAD_CYCLES
            chunks = list(range(job.k0, job.k1, kc))
            if job.monitor:
                nnz += int(act[g, job.m0:job.m1, job.k0:job.k1].sum())

            def load(c0, k1=job.k1):
                return -(-min(kc, k1 - c0) // lw) + LOAD_LATENCY_CYCLES

            for m0 in range(job.m0, job.m1, r):
                for n0 in range(job.n0, job.n1, c):
                    n1 = min(n0 + c, job.n1)
                    cycles += load(chunks[0]) + c + r
                    for i, c0 in enumerate(chunks):
                        k1 = min(c0 + kc, job.k1)
                        lens = []
                        for row in range(m0, min(m0 + r, job.m1)):
                            if cfg.dense:
                                s = k1 - c0
                            else:
                                s = sum(1 for kk in range(c0, k1)
                                        if act[g, row, kk] and w[kk, n0:n1].any())
                            lens.append(s)
                            macs += s * (n1 - n0)
                        nxt = load(chunks[i + 1]) if i + 1 < len(chunks) else 0
                        cycles += max(max(lens), nxt, 1)
    return cycles, nnz, macs


CFGS = [
    AcceleratorConfig(rows=1, cols=1, chunk_depth=1, pe_buffer_depth=1, load_rows_per_cycle=1,
                      max_k=64, acc_width=24, act_mem_words=8, wt_mem_words=8, out_mem_words=8),
    AcceleratorConfig(rows=3, cols=5, chunk_depth=4, pe_buffer_depth=4, load_rows_per_cycle=3,
                      max_k=16, acc_width=24, act_mem_words=6, wt_mem_words=10, out_mem_words=30),
    AcceleratorConfig(rows=4, cols=2, chunk_depth=8, pe_buffer_depth=8, load_rows_per_cycle=8,
                      max_k=64, acc_width=24, act_mem_words=64, wt_mem_words=64,
                      out_mem_words=256),
]


@pytest.mark.parametrize("seed", range(40))
def test_model_equals_literal_rules(seed):
    rng = np.random.default_rng(seed)
    cfg = CFGS[seed % len(CFGS)]
    if seed % 4 == 3:
        cfg = dataclasses.replace(cfg, dense=True)
    g = int(rng.integers(1, 3))
    m, n, k = (int(x) for x in rng.integers(1, 40, size=3))
    da, dw = rng.choice([0.0, 1.0, 0.1, 0.5, 0.9], size=2)
    act = rng.random((g, m, k)) < da
    wm = rng.random((g if seed % 2 else 1, k, n)) < dw
    if seed % 5 == 0:  # structured: whole weight rows pruned
        wm[:, rng.random(k) < 0.5, :] = False
    if seed % 7 == 0:  # filter pruning: whole columns
        wm[:, :, rng.random(n) < 0.5] = False
    got = layer_counters(cfg, act, wm)
    cycles, nnz, macs = _reference(cfg, act, wm)
    assert (got.cycles, got.nnz, got.macs) == (cycles, nnz, macs), f"seed {seed}"
    assert got.total == g * m * k and got.dense_macs == g * m * n * k


def test_filter_pruned_columns_are_not_mapped():
    cfg = EYERISS_V2_LIKE
    act = np.ones((100, 64), bool)
    wm = np.ones((64, 64), bool)
    half = wm.copy()
    half[:, 32:] = False
    a, b = layer_counters(cfg, act, wm), layer_counters(cfg, act, half)
    assert b.out_writes * 2 == a.out_writes and b.cycles < 0.6 * a.cycles
    none = layer_counters(cfg, act, np.zeros((64, 64), bool))
    assert none.out_writes == a.out_writes  # nothing kept: all columns mapped


def test_plan_jobs_partition_the_gemm():
    cfg = CFGS[1]
    for m, n, k in [(1, 1, 1), (37, 23, 50), (3, 100, 4), (200, 5, 17)]:
        cover = np.zeros((m, n, k), dtype=int)
        for j in plan_jobs(cfg, m, n, k):
            assert j.m1 - j.m0 <= cfg.act_mem_words * cfg.rows
            assert j.k1 - j.k0 <= cfg.max_k
            cover[j.m0:j.m1, j.n0:j.n1, j.k0:j.k1] += 1
        assert (cover == 1).all()


def test_hand_computed_1x1():
    cfg = CFGS[0]  # 1x1 PE, chunk 1, one row loaded per cycle
    act = np.array([[True, False, True]])
    wm = np.ones((3, 1), dtype=bool)
    # preload L=1+2, phases: chunk0 max(1, L=3)=3, chunk1 max(0, 3)=3, chunk2 max(1,1)=1,
    # flush 1 + drain 1, job overhead 2
    assert layer_counters(cfg, act, wm).cycles == 3 + 3 + 3 + 1 + 1 + 1 + JOB_OVERHEAD_CYCLES


def test_sparsity_reduces_cycles_and_dense_mode_ignores_it():
    cfg = dataclasses.replace(EYERISS_V2_LIKE)
    rng = np.random.default_rng(0)
    wm = np.ones((256, 64), dtype=bool)
    prev = None
    for d in (1.0, 0.7, 0.4, 0.1):
        c = layer_counters(cfg, rng.random((200, 256)) < d, wm).cycles
        assert prev is None or c < prev
        prev = c
    dense = dataclasses.replace(cfg, dense=True)
    a = layer_counters(dense, rng.random((200, 256)) < 0.1, wm)
    b = layer_counters(dense, rng.random((200, 256)) < 0.9, wm)
    assert a.cycles == b.cycles and a.macs == a.dense_macs


def test_dead_weight_rows_skipped():
    cfg = EYERISS_V2_LIKE
    act = np.ones((48, 128), dtype=bool)
    wm = np.ones((128, 32), dtype=bool)
    half = wm.copy()
    half[::2] = False  # every other K row dead for all columns
    assert layer_counters(cfg, act, half).cycles < layer_counters(cfg, act, wm).cycles
    assert stream_counts(cfg, act, half).max() == cfg.chunk_depth // 2
    assert stream_counts(cfg, act, wm).shape == (1, 48, 8, 1)  # same for every column tile


def test_big_layer_is_tiled_not_rejected():
    cfg = CFGS[1]
    res = layer_counters(cfg, np.ones((100, 70), bool), np.ones((70, 40), bool))
    assert res.jobs > 1
    with pytest.raises(ValueError, match="does not fit"):
        job_counters(cfg, np.ones((100, 70), bool), np.ones((70, 40), bool))


@pytest.mark.parametrize(("kw", "match"), [
    ({"rows": 0}, "rows must be a positive integer, not 0"),
    ({"chunk_depth": 32, "pe_buffer_depth": 16}, "larger than the PE weight buffer"),
    ({"acc_width": 16, "max_k": 4096}, "too narrow for K"),
    ({"out_mem_words": 2, "rows": 4}, "cannot hold one tile"),
    ({"cols": 2.5}, "cols must be a positive integer"),
])
def test_impossible_configs_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        AcceleratorConfig(**kw)


def test_named_configs():
    assert EYERISS_V2_LIKE.pes == 192 and EYERISS_V2_LIKE.clock_hz == 200e6
    assert (SANGER_LIKE.rows, SANGER_LIKE.cols, SANGER_LIKE.clock_hz) == (64, 64, 1e9)


def test_bad_masks_raise():
    with pytest.raises(ValueError, match="bool"):
        layer_counters(CFGS[0], np.ones((2, 2)), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="does not match"):
        layer_counters(CFGS[0], np.ones((2, 3), bool), np.ones((2, 2), bool))


def _scalesim_os_cycles(m, n, k, rows, cols):
    """SCALE-Sim v2 output-stationary compute cycles: per fold (R x C outputs) the operand
    streams of K elements plus the array's fill and drain skew, K + R + C - 2."""
    return -(-m // rows) * -(-n // cols) * (k + rows + cols - 2)


@pytest.mark.parametrize("seed", range(10))
def test_dense_mode_vs_scalesim_formula(seed):
    """Dense mode = SCALE-Sim's OS formula + a fixed per-tile difference (the first chunk's
    weight preload, not overlapped, + 2: our drain takes R cycles after a C-cycle flush where
    SCALE-Sim overlaps them by one cycle each) + the per-job overhead, when every chunk phase
    is compute-bound (chunk rows >= the next chunk's load time). M and N splits into jobs
    (memory limits) add only the per-job overhead."""
    rng = np.random.default_rng(seed)
    cfg = dataclasses.replace(EYERISS_V2_LIKE, dense=True)
    m, n, k = (int(x) for x in rng.integers(1, 300, size=3))
    got = layer_counters(cfg, np.ones((m, k), bool), np.ones((k, n), bool))
    preload = -(-min(cfg.chunk_depth, k) // cfg.load_rows_per_cycle) + LOAD_LATENCY_CYCLES
    tiles = -(-m // cfg.rows) * -(-n // cfg.cols)
    assert got.cycles == (_scalesim_os_cycles(m, n, k, cfg.rows, cfg.cols)
                          + tiles * (preload + 2) + got.jobs * JOB_OVERHEAD_CYCLES)


def test_dense_cycles_from_the_shape_alone():
    from dataclasses import replace

    from mmsched.hw.cyclemodel.cycles import dense_cycles, layer_counters
    from mmsched.hw.spec import NAMED_CONFIGS

    rng = np.random.default_rng(3)
    for name, cfg in sorted(NAMED_CONFIGS.items()):
        dense = replace(cfg, dense=True)
        for _ in range(4):
            g, m, n, k = (int(rng.integers(1, 4)), int(rng.integers(1, 300)),
                          int(rng.integers(1, 200)), int(rng.integers(1, 5000)))
            act = rng.random((g, m, k)) < 0.5  # contents do not matter in dense mode
            got = layer_counters(dense, act, np.ones((1, k, n), dtype=bool)).cycles
            assert dense_cycles(cfg, g, m, n, k) == got, (name, g, m, n, k)
