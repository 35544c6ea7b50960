"""The built-in synthetic Dysta-style workloads: shape, realism bounds, determinism."""

import numpy as np
import pytest

from mmsched.sched import synthetic as syn


@pytest.fixture(scope="module")
def cnn():
    return syn.cnn_tables(seed=3, samples=40)


@pytest.fixture(scope="module")
def attnn():
    return syn.attnn_tables(seed=3, samples=40)


def test_cnn_set_keys_and_layer_counts(cnn):
    assert [t.key for t in cnn] == sorted(f"{a}_{p}20" for a in syn.CNN_ARCHS
                                          for p in syn.CNN_PATTERNS)
    layers = {"resnet50": 54, "vgg16": 16, "mobilenet": 28, "ssd300": 36}
    for t in cnn:
        assert t.arch == t.key.split("_")[0]
        assert t.layers == layers[t.arch], t.key
        assert t.samples == 40


def test_cnn_macs_match_published_counts():
    # Published dense MACs at 224x224: ResNet-50 4.1 G, VGG-16 15.5 G, MobileNet-V1 569 M.
    assert sum(syn.cnn_layer_macs("resnet50")) == pytest.approx(4.1e9, rel=0.01)
    assert sum(syn.cnn_layer_macs("vgg16")) == pytest.approx(15.5e9, rel=0.01)
    assert sum(syn.cnn_layer_macs("mobilenet")) == pytest.approx(569e6, rel=0.01)
    with pytest.raises(ValueError, match="arch must be one of"):
        syn.cnn_layer_macs("alexnet")


def test_cnn_latency_scale_and_load(cnn):
    iso = np.array([t.latency_s.sum(axis=1).mean() for t in cnn])
    # the documented calibration: mean isolated latency ~0.2 s, so 2..6 req/s is load ~0.4..1.2
    assert 0.15 < iso.mean() < 0.25
    by_arch = {t.arch: t.latency_s.sum(axis=1).mean() for t in cnn}
    assert by_arch["mobilenet"] < by_arch["resnet50"] < by_arch["vgg16"]


def test_cnn_sparsity_realistic_and_correlated_with_latency(cnn):
    for t in cnn:
        assert np.all(t.sparsity[:, 0] == 0.0), "first layer sees the dense image"
        mean_sp = t.sparsity[:, 1:].mean()
        assert 0.3 < mean_sp < 0.8, t.key
        assert t.sparsity[:, 1:].std(axis=0).mean() > 0.02, "samples must differ"
        total = t.latency_s.sum(axis=1)
        assert total.std() / total.mean() > 0.02, t.key
        # denser samples are slower
        assert np.corrcoef(total, t.density[:, 1:].mean(axis=1))[0, 1] > 0.8, t.key


def test_patterns_share_the_image_difficulty(cnn):
    # the same sample index is the same image for every pattern of an architecture
    a, b = (t for t in cnn if t.key in ("resnet50_block420", "resnet50_filter20"))
    r = np.corrcoef(a.sparsity[:, 1:].mean(axis=1), b.sparsity[:, 1:].mean(axis=1))[0, 1]
    assert r > 0.8


def test_attnn_set(attnn):
    assert [t.key for t in attnn] == ["bart_seq128", "bert_seq384", "gpt2_seq128"]
    for t in attnn:
        assert t.layers == syn.ATTNN_LAYERS
        d = t.density
        assert 0.05 < d.mean() < 0.5
        total = t.latency_s.sum(axis=1)
        assert np.corrcoef(total, d.mean(axis=1))[0, 1] > 0.8
    iso = np.mean([t.latency_s.sum(axis=1).mean() for t in attnn])
    assert 0.010 < iso < 0.030  # 10..40 req/s is load ~0.2..0.8
    bert = attnn[1].latency_s.sum(axis=1).mean()
    assert bert > 2 * attnn[0].latency_s.sum(axis=1).mean()  # seq 384 vs 128


def test_sanger_formula_by_hand():
    # d = 0.25, u = 0.5, S = 64: n = d/u/0.25*S = 128, cycles = (128/64)*(832+192)*(64/64)
    s, h = 64, 768
    qkv = s * h * h * 6 / 1e9 / 2048
    att = s * h * h * 2 * 0.25 / (0.5 * 2048e9)
    n = 0.25 / 0.5 / 0.25 * s  # 128
    cycles = (n / 64) * ((h + 64) + (n + 64)) * (s / 64)  # 2 * 1024 * 1 = 2048
    assert cycles == 2048
    got = syn.sanger_layer_latency_s(np.array(0.25), np.array(0.5), s, ffn=False)
    assert got == pytest.approx(qkv + att + 2048e-9, rel=1e-12)
    with_ffn = syn.sanger_layer_latency_s(np.array(0.25), np.array(0.5), s)
    assert with_ffn - got == pytest.approx(qkv * 3, rel=1e-12)


def test_deterministic_and_seed_sensitive():
    a = syn.cnn_tables(seed=7, samples=10)
    b = syn.cnn_tables(seed=7, samples=10)
    c = syn.cnn_tables(seed=8, samples=10)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.latency_s, y.latency_s)
        assert np.array_equal(x.sparsity, y.sparsity)
    assert not np.array_equal(a[0].latency_s, c[0].latency_s)


def test_synthetic_tables_dispatch_and_errors():
    tables, clock = syn.synthetic_tables("attnn", samples=5)
    assert clock == syn.ATTNN_CLOCK_HZ and len(tables) == 3
    assert syn.synthetic_tables("cnn", samples=5)[1] == syn.CNN_CLOCK_HZ
    with pytest.raises(ValueError, match="known: cnn, attnn"):
        syn.synthetic_tables("rnn")
    with pytest.raises(ValueError, match="samples must be a positive integer, not 0"):
        syn.cnn_tables(samples=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        syn.attnn_tables(seed=-1)


def test_eyeriss_csv_export():
    t = syn.cnn_tables(samples=2)[0]
    lines = syn.eyeriss_csv_text(t).splitlines()
    assert lines[0] == "sim_lat,overall-sparsity,batch-indx,layer-indx"
    assert len(lines) == 1 + 2 * t.layers
    lat, sp, b, layer = lines[1 + t.layers + 3].split(",")
    assert (int(b), int(layer)) == (1, 3)
    assert float(lat) == t.latency_s[1, 3] and float(sp) == t.sparsity[1, 3]
