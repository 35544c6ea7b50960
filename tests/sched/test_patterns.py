"""Static weight patterns: ratio, structure, determinism."""

import numpy as np
import pytest

from mmsched.sched.patterns import BLOCK_COLS, parse_pattern, weight_mask


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize(("k", "n"), [(1, 1), (7, 5), (64, 48), (147, 64), (300, 3)])
@pytest.mark.parametrize("pct", [20, 60])
def test_unstructured_hits_ratio_exactly(k, n, pct):
    mask = weight_mask(f"unstructured{pct}", k, n, rng=rng())
    assert mask.shape == (1, k, n)
    assert (~mask).sum() == round(pct / 100 * k * n)


def test_unstructured_is_magnitude_pruning():
    w = rng(3).standard_normal((1, 20, 10))
    mask = weight_mask("unstructured50", 20, 10, rng=rng(), weights=w)
    assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()


@pytest.mark.parametrize(("name", "keep"), [("nm2of4", 2), ("nm1of4", 1)])
@pytest.mark.parametrize("k", [4, 16, 64, 148])
def test_nm_structure(name, keep, k):
    n = 9
    mask = weight_mask(name, k, n, rng=rng(1), groups=2)
    full = (k // 4) * 4
    runs = mask[:, :full, :].reshape(2, k // 4, 4, n).sum(axis=2)
    assert np.all(runs == keep)
    assert mask.mean() == pytest.approx(keep / 4, abs=1 / k)


@pytest.mark.parametrize(("k", "n"), [(8, 16), (10, 40), (64, 64)])
def test_block_k_structure_and_ratio(k, n):
    mask = weight_mask("block4-50", k, n, rng=rng(2))[0]
    runs, groups = -(-k // 4), -(-n // BLOCK_COLS)
    removed = 0
    for r in range(runs):
        for g in range(groups):
            block = mask[4 * r:4 * r + 4, BLOCK_COLS * g:BLOCK_COLS * (g + 1)]
            assert block.all() or not block.any()  # each block kept or removed whole
            removed += not block.any()
    assert removed == round(0.5 * runs * groups)


def test_filter_and_channel_pruning_remove_whole_columns_and_rows():
    mask = weight_mask("filter25", 36, 64, rng=rng(4))[0]
    cols = mask.all(axis=0)
    assert np.array_equal(cols, mask.any(axis=0)) and (~cols).sum() == 16
    mask = weight_mask("channel50", 36, 64, rng=rng(4), row_group=9)[0]
    rows = mask.all(axis=1)
    assert np.array_equal(rows, mask.any(axis=1)) and (~rows).sum() == 18
    assert np.all(rows.reshape(4, 9).all(axis=1) | ~rows.reshape(4, 9).any(axis=1))


def test_deterministic_from_seed_and_different_across_seeds():
    a = weight_mask("unstructured20", 50, 40, rng=rng(7))
    b = weight_mask("unstructured20", 50, 40, rng=rng(7))
    c = weight_mask("unstructured20", 50, 40, rng=rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_dense_and_names_round_trip():
    assert weight_mask("dense", 3, 4, rng=rng()).all()
    for name in ("dense", "unstructured20", "nm2of4", "nm1of4", "block4-20", "filter20",
                 "channel60", "unstructured62.5"):
        assert parse_pattern(name).name == name
    assert parse_pattern("nm1of4").density == 0.25


@pytest.mark.parametrize("bad", ["sparse", "unstructured100", "nm5of4", "block0-20", "",
                                 "filter-3"])
def test_bad_pattern_names(bad):
    with pytest.raises(ValueError, match="pattern"):
        parse_pattern(bad)


def test_bad_dimensions():
    with pytest.raises(ValueError, match="k must be a positive integer, not 0"):
        weight_mask("dense", 0, 3, rng=rng())
