"""The analytic backend and ``mmsched layer-cycles``."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mmsched.hw.cyclemodel.cycles import layer_counters
from mmsched.hw.spec import EYERISS_V2_LIKE, SANGER_LIKE
from mmsched.sched.model import Layer, Model
from mmsched.sim.backends import LayerTiming, make_backend
from mmsched.sim.backends.analytic import UniformMasks

MODEL = Model(key="toy_dense", arch="toy", pattern="dense", layers=(
    Layer("c1", "conv", m=64, n=32, k=27),
    Layer("dw", "dwconv", m=49, n=1, k=9, groups=8),
    Layer("fc", "fc", m=1, n=10, k=100, weight_density=0.5, act_sparse=False),
))


def test_analytic_backend_matches_model_and_memoises():
    masks = UniformMasks(act_density=0.3, seed=7)
    be = make_backend("analytic", system=(EYERISS_V2_LIKE, SANGER_LIKE), masks=masks)
    for acc in (0, 1):
        for li in range(MODEL.num_layers):
            t = be.layer(acc, MODEL, li, 3)
            assert isinstance(t, LayerTiming)
            a, w = masks.masks(MODEL, li, 3)
            cfg = be.system[acc]
            ref = layer_counters(cfg, a, w)
            assert (t.cycles, t.nnz, t.total) == (ref.cycles, ref.nnz, ref.total)
            assert t.energy_pj == pytest.approx(ref.energy_pj(cfg))
            assert be.layer(acc, MODEL, li, 3) is t  # memoised
    assert be.layer(0, MODEL, 2, 0).nnz == MODEL.layers[2].m * MODEL.layers[2].k  # dense acts


def test_masks_deterministic_and_per_sample():
    a = UniformMasks(act_density=0.5, seed=1)
    b = UniformMasks(act_density=0.5, seed=1)
    x1, w1 = a.masks(MODEL, 0, 5)
    b.masks(MODEL, 1, 2)  # call order does not matter
    x2, w2 = b.masks(MODEL, 0, 5)
    assert (x1 == x2).all() and (w1 == w2).all()
    x3, w3 = a.masks(MODEL, 0, 6)
    assert not (x1 == x3).all() and (w1 == w3).all()  # weights are static
    _, wfc = a.masks(MODEL, 2, 0)
    assert 0.3 < wfc.mean() < 0.7


def test_bad_backend_args():
    with pytest.raises(ValueError, match="accelerator must be"):
        make_backend("analytic", system=EYERISS_V2_LIKE,
                     masks=UniformMasks()).layer(3, MODEL, 0, 0)
    with pytest.raises(ValueError, match="act_density"):
        UniformMasks(act_density=1.5)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mmsched.sim", "layer-cycles", *args],
                          capture_output=True, text=True, cwd="/", check=False)


def test_layer_cycles_cli():
    out = _cli("--rows", "4", "--cols", "4", "--m", "9", "--n", "7", "--k", "30", "--json",
               "--act-density", "0.25", "--seed", "3")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["total"] == 9 * 30 and 0 < d["nnz"] < 9 * 30
    dense = json.loads(_cli("--rows", "4", "--cols", "4", "--m", "9", "--n", "7", "--k", "30",
                            "--json", "--dense").stdout)
    assert dense["cycles"] > d["cycles"] and dense["macs_skipped"] == 0
    bad = _cli("--rows", "0", "--m", "1", "--n", "1", "--k", "1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "rows" in bad.stderr


def test_uniform_masks_density():
    m = UniformMasks(act_density=0.2, seed=0)
    a, _ = m.masks(MODEL, 0, 0)
    assert abs(float(np.mean(a)) - 0.2) < 0.05


def test_verilog_command_writes_top_and_config(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mmsched.sim", "verilog", "accelerator",
                          "--rows", "1", "--cols", "2", "--chunk-depth", "2",
                          "--load-rows-per-cycle", "1", "--act-mem-words", "4",
                          "--wt-mem-words", "4", "--out-mem-words", "4", "-o", str(tmp_path)],
                         capture_output=True, text=True, cwd="/", check=False)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "accelerator.v").read_text()
    assert "module accelerator(" in text and "cmd__payload" in text
    cfg = json.loads((tmp_path / "accelerator.json").read_text())
    assert (cfg["rows"], cfg["cols"], cfg["chunk_depth"]) == (1, 2, 2)
    bad = subprocess.run([sys.executable, "-m", "mmsched.sim", "verilog", "accelerator",
                          "--chunk-depth", "8", "--pe-buffer-depth", "4", "-o",
                          str(tmp_path / "bad")],
                         capture_output=True, text=True, cwd="/", check=False)
    assert bad.returncode == 2 and "larger than the PE weight buffer" in bad.stderr
    assert not (tmp_path / "bad").exists()
