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
