"""Model zoo: MAC counts against published figures, shapes, keys."""

import pytest

from mmsched.sched import zoo
from mmsched.sched.zoo import attention, cnn


@pytest.mark.parametrize("arch", [a for a in zoo.arch_names()
                                  if zoo.arch_info(a).published_macs is not None])
def test_macs_match_published_figure(arch):
    info = zoo.arch_info(arch)
    macs = sum(layer.macs for layer in zoo.layers(arch))
    # published figures are rounded to 3-4 significant digits; GPT-2's excludes PV (see source)
    tol = 0.02 if arch == "gpt2" else 0.005
    assert macs == pytest.approx(info.published_macs, rel=tol), info.macs_source


def test_bert_base_seq128_matches_mobilebert_table():
    # MobileBERT (Sun et al. 2020) Table 4: BERT-base 22.5 GFLOPs at sequence 128
    macs = sum(layer.macs for layer in attention.bert(seq=128))
    assert macs == pytest.approx(22.5e9 / 2, rel=0.01)


@pytest.mark.parametrize(("arch", "published_params", "extra"), [
    ("resnet50", 25.557e6, 0.053e6),   # torchvision: 25,557,032 (BN + biases ~ 53k)
    ("vgg16", 138.358e6, 0.014e6),     # torchvision: 138,357,544 (biases 13,416)
    ("mobilenetv1", 4.2e6, 0.0),       # Howard et al. Table 8: 4.2 million
    ("resnet18", 11.690e6, 0.0096e6),  # torchvision: 11,689,512
    # GPT-2 small 124M: + token (50257 x 768) and position (1024 x 768) embeddings
    ("gpt2", 124.44e6, 50257 * 768 + 1024 * 768 + 0.1e6),
    # BART-base 140M: + shared token embeddings (50265 x 768) and 2 x 1026 learned positions
    ("bart", 139.4e6, 50265 * 768 + 2 * 1026 * 768 + 0.2e6),
    # BERT-base 110M: + word/position/type embeddings (30522 + 512 + 2) x 768
    ("bert", 109.5e6, (30522 + 512 + 2) * 768 + 0.2e6),
])
def test_weight_counts_match_published_parameters(arch, published_params, extra):
    params = zoo.weight_params(zoo.layers(arch)) + extra
    assert params == pytest.approx(published_params, rel=0.01)


def test_ssd300_feature_maps_and_heads():
    layers = {la.name: la for la in zoo.layers("ssd300")}
    for i, size in enumerate(cnn.SSD300_FEATURE_SIZES):
        assert layers[f"head{i}.loc"].m == size * size
        assert layers[f"head{i}.conf"].n == cnn._SSD_BOXES[i] * 81
    # 8732 default boxes, the SSD300 figure (Liu et al. 2016)
    assert sum(layers[f"head{i}.loc"].m * cnn._SSD_BOXES[i] for i in range(6)) == 8732


def test_depthwise_layers_are_grouped():
    dw = [la for la in zoo.layers("mobilenetv1") if la.kind == "dwconv"]
    assert len(dw) == 13
    assert all(la.n == 1 and la.k == 9 and la.groups > 1 for la in dw)


def test_attention_gemms_per_head():
    qk = [la for la in zoo.layers("bert") if la.kind == "attn_qk"]
    pv = [la for la in zoo.layers("bert") if la.kind == "attn_pv"]
    assert len(qk) == len(pv) == 12
    assert (qk[0].m, qk[0].k, qk[0].n, qk[0].groups) == (384, 64, 384, 12)
    assert (pv[0].m, pv[0].k, pv[0].n, pv[0].groups) == (384, 384, 64, 12)
    assert pv[0].act_sparse and not qk[0].act_sparse


def test_model_applies_pattern_to_weight_layers_only():
    m = zoo.model("bert", "unstructured20")
    assert m.key == "bert_unstructured20" and m.arch == "bert"
    for la in m.layers:
        if la.kind in zoo.WEIGHT_KINDS:
            assert la.weight_pattern == "unstructured20" and la.weight_density == 0.8
        else:
            assert la.weight_pattern == "dense" and la.weight_density == 1.0


def test_layer_names_unique_and_first_layer_dense_input():
    for arch in zoo.arch_names():
        names = [la.name for la in zoo.layers(arch)]
        assert len(names) == len(set(names)), arch
    for arch in zoo.arch_names("cnn"):
        assert not zoo.layers(arch)[0].act_sparse


def test_unknown_model_lists_known():
    with pytest.raises(ValueError, match="unknown model 'resnet51'.*resnet50"):
        zoo.model("resnet51")


def test_filter_pruning_is_structural():
    dense = zoo.model("resnet50")
    pruned = zoo.model("resnet50", "filter20")
    for a, b in zip(dense.layers, pruned.layers, strict=True):
        assert b.weight_pattern in ("dense",) and b.k == a.k
        if a.kind == "conv":
            assert b.n == a.n - round(0.2 * a.n)
        else:
            assert b.n == a.n
    assert 0.75 < pruned.macs / dense.macs < 0.85


def test_xrbench_networks_match_their_descriptions():
    from mmsched.sched.zoo.xrbench import XRBENCH_LAYER_COUNTS

    for arch, n in XRBENCH_LAYER_COUNTS.items():
        assert len(zoo.layers(arch)) == n, arch
        assert zoo.arch_info(arch).family == ("xr-transformer" if arch in ("xrasr", "xrss")
                                              else "xr")
    # spot checks against the MAESTRO rows (stride 1, no padding: out = Y - R + 1)
    es1 = zoo.layers("xres")[0]  # K 32, C 32, Y 160, X 100, R 3, S 3
    assert (es1.m, es1.n, es1.k) == (158 * 98, 32, 32 * 9)
    ht = {la.name: la for la in zoo.layers("xrht")}
    assert (ht["conv98"].n, ht["conv98"].k, ht["conv98"].m) == (21, 256, 32 * 32)
    assert (ht["fc2"].n, ht["fc2"].k, ht["fc2"].m) == (5120, 512, 1)
    pd = {la.name: la for la in zoo.layers("xrpd")}
    assert pd["conv128"].m == 1 and pd["fc1"].m == 1024  # R > Y clamps; fc over 1024 rows
    asr = zoo.layers("xrasr")
    assert [(la.n, la.k) for la in asr[:5]] == [(512, 512), (1024, 512), (512, 512),
                                                 (2048, 512), (512, 2048)]
    od = zoo.layers("xrod")
    assert (od[10].n, od[10].k, od[10].m) == (24, 72, 56 * 75)  # conv11
    ss = {la.name: la for la in zoo.layers("xrss")}
    assert sum(n.startswith("conv") for n in ss) == 212
    assert sum(n.startswith("fc") for n in ss) == 211
    assert (ss["conv32"].n, ss["conv32"].k, ss["conv32"].m) == (128, 1152, 12 * 12)
    assert (ss["fc163"].n, ss["fc163"].k, ss["fc163"].m) == (512, 256, 49)
    assert (ss["fc211"].n, ss["fc211"].k, ss["fc211"].m) == (1000, 2048, 2048)


def test_hrvit_b1_is_xrbench_listing_and_variants_match_published_sizes():
    import hashlib
    import json

    from mmsched.sched.zoo.xrbench import HRVIT_PARAMS_M, SUPERNETS, hrvit_layers

    # the parametric builder reproduces XRBench's SS_HRViT_b1 listing (as transcribed before
    # the builder existed: these shapes, in this order)
    shapes = [(la.name, la.kind, la.m, la.n, la.k, la.groups) for la in zoo.layers("xrss")]
    assert hashlib.sha256(json.dumps(shapes).encode()).hexdigest()[:16] == "3ee18c23fac20c01"
    assert shapes == [(la.name, la.kind, la.m, la.n, la.k, la.groups)
                      for la in hrvit_layers("b1")]
    # depthwise members: weights within 2 % of the published parameter counts, in order
    sizes = []
    for v, published in HRVIT_PARAMS_M.items():
        params = zoo.weight_params(zoo.layers(f"hrvit{v}")) / 1e6
        assert abs(params - published) / published < 0.02, (v, params)
        sizes.append(sum(la.macs for la in zoo.layers(f"hrvit{v}")))
    assert sizes == sorted(sizes)
    members = SUPERNETS["hrvitb3"]
    assert [m[0] for m in members] == ["hrvitb3", "hrvitb2", "hrvitb1"]
    assert [m[1] for m in members] == [50.20, 48.76, 45.88]


def test_xr_transformers_take_gelu_roles():
    from mmsched.sched.profiles import default_profile_stats, layer_role

    asr = zoo.model("xrasr")
    assert [la.act_sparse for la in asr.layers[:5]] == [False] * 4 + [True]
    assert {layer_role(asr, j) for j in range(asr.num_layers)} == {None, "gelu"}
    ss = zoo.model("hrvitb2")
    assert {layer_role(ss, j) for j in range(ss.num_layers)} == {None, "gelu"}
    assert layer_role(zoo.model("xrkd"), 1) == "relu"
    stats = default_profile_stats(["xrasr", "xres"])
    assert stats.profiles["xrasr"].name.startswith("minilm")
    assert stats.profiles["xres"].name == "mobilenetv2-relu6"
