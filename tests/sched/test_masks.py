"""Mask generator: reproduces density exactly and spread approximately; determinism."""

import numpy as np
import pytest

from mmsched.sched import zoo
from mmsched.sched.masks import LayerStats, ProfiledMasks, UniformStats, activation_mask, measure


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("stats", "shape"), [
    (LayerStats(0.4, 0.3, 0.6), (1, 784, 576)),     # a mid ResNet layer
    (LayerStats(0.25, 0.5, 1.0), (12, 128, 128)),   # attention probabilities, per head
    (LayerStats(0.8, 0.05, 0.1), (2, 300, 200)),
    (LayerStats(0.05, 0.0, 0.0), (1, 64, 64)),      # uniform
])
def test_density_exact_and_spread_close(seed, stats, shape):
    rng = np.random.default_rng(seed)
    a = activation_mask(stats, *shape, rng)
    assert a.shape == shape and a.dtype == bool
    # exact per layer (what the monitor counts): groups x round(d M K)
    total = int(a.sum())
    assert total == shape[0] * round(stats.density * shape[1] * shape[2]), f"seed {seed}"
    got = measure(a)
    # spread: within 10 % of the target (floored at the binomial noise of a finite row/column)
    for target, found, other in ((stats.row_cv, got.row_cv, shape[2]),
                                 (stats.col_cv, got.col_cv, shape[1] * shape[0])):
        floor = np.sqrt((1 - stats.density) / (stats.density * other))
        assert found == pytest.approx(max(target, floor), rel=0.1 if target > floor else 0.2,
                                      abs=0.02), f"seed {seed}"


def test_spread_changes_cycle_relevant_imbalance():
    rng = np.random.default_rng(5)
    flat = activation_mask(LayerStats(0.5, 0.0, 0.0), 1, 256, 256, rng)[0].sum(axis=1)
    skew = activation_mask(LayerStats(0.5, 0.4, 0.0), 1, 256, 256, rng)[0].sum(axis=1)
    assert flat.sum() == skew.sum()
    assert skew.max() > flat.max() + 10  # the busiest row is busier


def test_mask_source_contract_and_determinism():
    m = zoo.model("resnet50", "nm2of4")
    src = ProfiledMasks(UniformStats(0.5, 0.2, 0.3), seed=3)
    j = 5
    layer = m.layers[j]
    act, w = src.masks(m, j, sample=2)
    assert act.shape == (layer.groups, layer.m, layer.k)
    assert w.shape == (layer.groups, layer.k, layer.n)
    assert act.mean() == pytest.approx(0.5, abs=1e-6) and w.mean() == pytest.approx(0.5)
    act2, w2 = ProfiledMasks(UniformStats(0.5, 0.2, 0.3), seed=3).masks(m, j, sample=2)
    assert np.array_equal(act, act2) and np.array_equal(w, w2)
    act3, w3 = src.masks(m, j, sample=3)
    assert not np.array_equal(act, act3) and np.array_equal(w, w3)  # weights fixed per layer
    # the activation stream depends on the arch, not on the weight pattern
    act4, _ = src.masks(zoo.model("resnet50", "dense"), j, sample=2)
    assert np.array_equal(act, act4)


def test_dense_input_layers_get_ones():
    m = zoo.model("resnet50")
    act, _ = ProfiledMasks(UniformStats(0.3), seed=0).masks(m, 0, 0)
    assert act.all()


def test_bad_stats():
    with pytest.raises(ValueError, match="density"):
        LayerStats(1.5)
    with pytest.raises(ValueError, match="seed"):
        ProfiledMasks(UniformStats(0.3), seed=-1)


# Digests of activation masks drawn by the generator before its speed-ups (blocked draws,
# reused work arrays, the float64 bisection shortcut): the same seed must keep giving the
# same masks bit for bit, since the profile caches (and every published figure) depend on
# them. Cases span the shapes of the shipped scenarios: big convolutions, attention heads at
# low density, depthwise layers (odd M x K), near-dense, no spread, a tiny density.
GOLDEN_MASKS = [  # (density, row_cv, col_cv), groups, M, K, seed words, sha256[:32] of bits
    ((0.6171, 0.0474, 0.7574), 1, 12544, 576, (3, 11, 1, 0), "5477abfab9669a0620aae3e529bdcf36"),
    ((0.55672, 0.1383, 0.4859), 1, 3136, 2304, (3, 11, 2, 5), "47367f183e786561f858ff5f31fe98b8"),
    ((0.38964, 0.0605, 0.8401), 1, 784, 4608, (3, 11, 3, 1), "bbf172ebfa77b786a16f5f73fa35eebc"),
    ((0.13, 0.9, 1.4), 12, 384, 384, (7, 1, 4, 2), "3aacfddc1bfc6a8ddd0a29e07312d37e"),
    ((0.035, 1.5, 2.0), 12, 384, 384, (7, 1, 5, 3), "3b852c42610c04b537cd6a672e1440ec"),
    ((0.5, 0.3, 0.3), 512, 49, 9, (1, 2, 6, 0), "7cb49d4d784f3860aef59293e40f2a7d"),
    ((0.94, 0.05, 0.02), 4, 128, 3072, (9, 9, 7, 7), "12bd61c1eec3e9c79edfaa09a5489979"),
    ((0.25, 0.0, 0.0), 1, 333, 777, (5, 5, 8, 1), "ee8b6641ec8827f41ae71b875817ff38"),
    ((0.7, 0.4, 0.0), 3, 101, 67, (5, 5, 9, 2), "b86d241ed4f00a793e23bd18a0f84eec"),
    ((0.002, 0.5, 0.5), 2, 900, 1100, (4, 4, 10, 3), "1035a552f509a4b610a24caad280a28f"),
]


@pytest.mark.parametrize(("stats", "groups", "m", "k", "seed", "digest"), GOLDEN_MASKS)
def test_same_seed_same_masks_bit_for_bit(stats, groups, m, k, seed, digest):
    import hashlib

    mask = activation_mask(LayerStats(*stats), groups, m, k, np.random.default_rng(list(seed)))
    assert mask.shape == (groups, m, k) and mask.dtype == bool
    assert int(mask.sum()) == groups * round(stats[0] * m * k)
    assert hashlib.sha256(np.packbits(mask).tobytes()).hexdigest()[:32] == digest


def test_clipped_mean_estimate_agrees_with_the_float32_mean():
    from mmsched.sched.masks import _DECIDE_MARGIN, _ClippedMean, _probabilities

    rng = np.random.default_rng(0)
    for d, n_rows, n_cols in ((0.3, 1024, 1024), (0.05, 256, 900), (0.9, 77, 1024)):
        rho = np.clip(d + rng.normal(0, 0.3 * d, n_rows), 1e-6, 1.0)
        kappa = np.clip(d + rng.normal(0, 0.6 * d, n_cols), 1e-6, 1.0)
        base, est = _probabilities(rho, kappa, d), _ClippedMean(rho, kappa, d)
        for s in (1.0, 1.07, 1.5, 1 / d):
            f32 = float(np.minimum(base * np.float32(s), 1.0).mean())
            assert abs(est(np.float32(s)) - f32) < _DECIDE_MARGIN * d / 8
