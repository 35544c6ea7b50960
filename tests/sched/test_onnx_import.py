"""ONNX import of small graphs built here with onnx.helper, as exporters write them: dynamic
axes, shape subgraphs, ConvTranspose, int8 forms. MACs are checked against hand counts; each
model then runs through ``mmsched run --scenario``; bad input through the real CLI."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from mmsched.sched.errors import InputError
from mmsched.sched.onnx_import import import_onnx, load_onnx, parse_input_shapes
from mmsched.sim.cli import main

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxslim")
helper, TensorProto, nph = onnx.helper, onnx.TensorProto, onnx.numpy_helper


def _w(name, shape, rng, dtype=np.float32):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return nph.from_array(rng.integers(max(info.min, -20), min(info.max, 20), shape)
                              .astype(dtype), name)
    return nph.from_array((rng.standard_normal(shape) * 0.3).astype(dtype), name)


def _c(name, value, dtype):
    return nph.from_array(np.array(value, dtype=dtype), name)


def _vi(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def _save(path, nodes, inputs, outputs, inits, opset=17, extra_opsets=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), *extra_opsets])
    onnx.save(m, str(path))
    return path


# --- the three test models -----------------------------------------------------------------

def detector(path):
    """A detector-like CNN, input ``images [batch, 3, height, width]`` (all dynamic but the
    channels): strided/padded, dilated depthwise, auto_pad SAME_UPPER and grouped convs,
    two ConvTranspose (stride 2; one grouped with pads and output_padding), Resize, Concat,
    Sigmoid."""
    rng = np.random.default_rng(0)
    n = helper.make_node
    nodes = [
        n("Conv", ["images", "w1"], ["c1"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1]),
        n("Relu", ["c1"], ["r1"]),
        n("Conv", ["r1", "w2"], ["c2"], name="dw_dilated", group=8, dilations=[2, 2],
          pads=[2, 2, 2, 2]),
        n("Relu", ["c2"], ["r2"]),
        n("Conv", ["r2", "w3"], ["c3"], name="down", strides=[2, 2], auto_pad="SAME_UPPER"),
        n("Relu", ["c3"], ["r3"]),
        n("Conv", ["r3", "w4"], ["c4"], name="grouped", group=4),
        n("ConvTranspose", ["c4", "wt1"], ["u1"], name="up", strides=[2, 2]),
        n("Resize", ["r3", "", "scales"], ["rs"], mode="nearest"),  # a no-MAC op
        n("Concat", ["u1", "r2"], ["cat"], axis=1),
        n("Conv", ["cat", "w5", "b5"], ["h"], name="head"),
        n("ConvTranspose", ["h", "wt2"], ["u2"], name="up_grouped", group=2, strides=[2, 2],
          pads=[1, 1, 1, 1], output_padding=[1, 1]),
        n("Sigmoid", ["u2"], ["y"]),
    ]
    inits = [_w("w1", (8, 3, 3, 3), rng), _w("w2", (8, 1, 3, 3), rng),
             _w("w3", (16, 8, 3, 3), rng), _w("w4", (16, 4, 1, 1), rng),
             _w("wt1", (16, 8, 2, 2), rng), _w("w5", (6, 16, 1, 1), rng), _w("b5", (6,), rng),
             _w("wt2", (6, 2, 3, 3), rng), _c("scales", [1, 1, 2, 2], np.float32)]
    return _save(path, nodes, [_vi("images", ["batch", 3, "height", "width"])],
                 [_vi("y", None), _vi("rs", None)], inits)


DETECTOR_MACS_32 = (
    256 * 8 * 27           # stem: 16x16 output pixels, 8 channels, 3 in-ch x 3x3
    + 256 * 1 * 9 * 8      # dw_dilated: 16x16, 1 out-ch per group, 3x3, 8 groups
    + 64 * 16 * 72         # down: SAME_UPPER stride 2 -> 8x8, 16 out-ch, 8 in-ch x 3x3
    + 64 * 4 * 4 * 4       # grouped: 8x8, 16/4 out-ch, 16/4 in-ch x 1x1, 4 groups
    + 64 * 32 * 16         # up: 8x8 input pixels, 8 out-ch x 2x2 partial outputs, 16 in-ch
    + 256 * 6 * 16         # head: 16x16, 6 out-ch, 16 in-ch (8 upsampled + 8 skip) x 1x1
    + 256 * 18 * 3 * 2     # up_grouped: 16x16 input pixels, 2 out-ch x 3x3, 6/2 in-ch, 2 groups
)
"""236,544 MACs at images = 1x3x32x32 (hand count, layer by layer)."""


def transformer(path):
    """One encoder block as PyTorch exports it, input ``x [batch, seq, 64]``: the head split
    and merge reshapes are computed at run time (Shape -> Gather -> Unsqueeze -> Concat ->
    Reshape), 4 heads of 16, QK^T and PV per head, GELU (erf form) FFN 64 -> 128 -> 64."""
    rng = np.random.default_rng(1)
    n = helper.make_node
    nodes = [
        n("Shape", ["x"], ["shp"]),
        n("Gather", ["shp", "i0"], ["b"], axis=0),
        n("Gather", ["shp", "i1"], ["s"], axis=0),
        n("Unsqueeze", ["b", "ax0"], ["bu"]),
        n("Unsqueeze", ["s", "ax0"], ["su"]),
        n("Concat", ["bu", "su", "heads", "dhead"], ["split_shape"], axis=0),
        n("Concat", ["bu", "su", "dmodel"], ["merge_shape"], axis=0),
    ]
    for t in ("q", "k", "v"):
        nodes += [n("MatMul", ["x", f"w{t}"], [f"{t}0"], name=f"{t}_proj"),
                  n("Add", [f"{t}0", f"b{t}"], [t]),
                  n("Reshape", [t, "split_shape"], [f"{t}4"])]
    nodes += [
        n("Transpose", ["q4"], ["qh"], perm=[0, 2, 1, 3]),
        n("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]),
        n("Transpose", ["v4"], ["vh"], perm=[0, 2, 1, 3]),
        n("MatMul", ["qh", "kt"], ["sc"], name="qk"),
        n("Div", ["sc", "sqrt_d"], ["scs"]),
        n("Softmax", ["scs"], ["p"], axis=-1),
        n("MatMul", ["p", "vh"], ["ctx"], name="pv"),
        n("Transpose", ["ctx"], ["ctxt"], perm=[0, 2, 1, 3]),
        n("Reshape", ["ctxt", "merge_shape"], ["ctx2"]),
        n("MatMul", ["ctx2", "wo"], ["o"], name="out_proj"),
        n("Add", ["o", "x"], ["res"]),
        n("LayerNormalization", ["res", "ln_g", "ln_b"], ["ln"], axis=-1),
        n("MatMul", ["ln", "w1"], ["f1"], name="ffn1"),
        n("Div", ["f1", "sqrt2"], ["f1s"]),
        n("Erf", ["f1s"], ["erf"]),
        n("Add", ["erf", "one"], ["erf1"]),
        n("Mul", ["erf1", "half"], ["gate"]),
        n("Mul", ["f1", "gate"], ["gelu"]),
        n("MatMul", ["gelu", "w2"], ["y"], name="ffn2"),
    ]
    f = np.float32
    inits = [_w(f"w{t}", (64, 64), rng) for t in "qkvo"] + [
        _w(f"b{t}", (64,), rng) for t in "qkv"] + [
        _w("w1", (64, 128), rng), _w("w2", (128, 64), rng),
        _c("ln_g", np.ones(64), f), _c("ln_b", np.zeros(64), f),
        _c("i0", 0, np.int64), _c("i1", 1, np.int64), _c("ax0", [0], np.int64),
        _c("heads", [4], np.int64), _c("dhead", [16], np.int64), _c("dmodel", [64], np.int64),
        _c("sqrt_d", 4.0, f), _c("sqrt2", np.sqrt(2.0), f), _c("one", 1.0, f),
        _c("half", 0.5, f)]
    return _save(path, nodes, [_vi("x", ["batch", "seq", 64])], [_vi("y", None)], inits)


def transformer_macs(batch, seq):
    """Hand count: 4 projections of 64x64 and the FFN (64x128, 128x64) per token, QK^T and PV
    per head (4 heads of 16)."""
    tokens = batch * seq
    return (4 * tokens * 64 * 64             # q, k, v, out projections
            + 2 * batch * 4 * seq * seq * 16  # QK^T (seq x 16 by 16 x seq) and PV per head
            + 2 * tokens * 64 * 128)          # FFN up and down


def quantized(path):
    """An int8 model as quantisation tools export it: ``x [n, 32]`` through QLinearMatMul
    (32 -> 16), ReLU, then DynamicQuantizeLinear + MatMulInteger (16 -> 8); and an image
    ``img [batch, 3, h, w]`` through QuantizeLinear + QLinearConv (3 -> 4, 3x3, pads 1)."""
    rng = np.random.default_rng(2)
    n = helper.make_node
    u8, i8, f = np.uint8, np.int8, np.float32
    nodes = [
        n("QuantizeLinear", ["x", "xs", "xzp"], ["xq"]),
        n("QLinearMatMul", ["xq", "xs", "xzp", "wq", "ws", "wzp", "ys", "yzp"], ["yq"],
          name="qmm"),
        n("DequantizeLinear", ["yq", "ys", "yzp"], ["yf"]),
        n("Relu", ["yf"], ["yr"]),
        n("DynamicQuantizeLinear", ["yr"], ["aq", "as", "azp"]),
        n("MatMulInteger", ["aq", "w2q", "azp", "w2zp"], ["acc"], name="mmi"),
        n("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
        n("Mul", ["accf", "as"], ["out"]),
        n("QuantizeLinear", ["img", "is", "izp"], ["iq"]),
        n("QLinearConv", ["iq", "is", "izp", "cw", "cws", "cwzp", "cys", "cyzp"], ["cq"],
          name="qconv", pads=[1, 1, 1, 1]),
        n("DequantizeLinear", ["cq", "cys", "cyzp"], ["cout"]),
    ]
    inits = [_c("xs", 0.05, f), _c("xzp", 128, u8), _w("wq", (32, 16), rng, i8),
             _c("ws", 0.02, f), _c("wzp", 0, i8), _c("ys", 0.1, f), _c("yzp", 128, u8),
             _w("w2q", (16, 8), rng, i8), _c("w2zp", 0, i8),
             _c("is", 0.02, f), _c("izp", 0, u8), _w("cw", (4, 3, 3, 3), rng, i8),
             _c("cws", 0.02, f), _c("cwzp", 0, i8), _c("cys", 0.05, f), _c("cyzp", 128, u8)]
    return _save(path, nodes, [_vi("x", ["n", 32]), _vi("img", ["batch", 3, "h", "w"])],
                 [_vi("out", None), _vi("cout", None)], inits, opset=13)


QUANTIZED_MACS = (4 * 16 * 32      # qmm: x = 4x32 by 32x16
                  + 4 * 8 * 16     # mmi: 4x16 by 16x8
                  + 64 * 4 * 27)   # qconv: 8x8 output pixels, 4 out-ch, 3 in-ch x 3x3
"""9,472 MACs at x = 4x32, img = 1x3x8x8 (hand count)."""


# --- import: shapes, MACs, kinds -----------------------------------------------------------

def test_detector_convs_and_conv_transpose(tmp_path):
    f = detector(tmp_path / "det.onnx")
    imp = import_onnx(f, input_shapes={"images": [1, 3, 32, 32]})
    m = imp.model
    assert [(la.name, la.kind, la.m, la.n, la.k, la.groups) for la in m.layers] == [
        ("stem", "conv", 256, 8, 27, 1), ("dw_dilated", "dwconv", 256, 1, 9, 8),
        ("down", "conv", 64, 16, 72, 1), ("grouped", "conv", 64, 4, 4, 4),
        ("up", "conv", 64, 32, 16, 1), ("head", "conv", 256, 6, 16, 1),
        ("up_grouped", "conv", 256, 18, 3, 2)]
    assert imp.ops == ("Conv",) * 4 + ("ConvTranspose", "Conv", "ConvTranspose")
    assert m.macs == DETECTOR_MACS_32 == 236_544
    # ReLU outputs feed dw_dilated, down and grouped
    assert [la.act_sparse for la in m.layers] == [False, True, True, True, False, False,
                                                  False]
    skipped = dict(imp.skipped)
    assert skipped == {"Relu": 3, "Resize": 1, "Concat": 1, "Sigmoid": 1}
    # the batch is part of M: twice the images, twice the MACs; a wider input scales pixels
    assert load_onnx(f, input_shapes={"images": [2, 3, 32, 32]}).macs == 2 * DETECTOR_MACS_32
    assert load_onnx(f, input_shapes={"images": [1, 3, 64, 32]}).macs == 2 * DETECTOR_MACS_32


def test_transformer_shape_subgraph_folded(tmp_path):
    f = transformer(tmp_path / "enc.onnx")
    # without folding, ONNX shape inference leaves the head reshapes open
    raw = onnx.load(str(f))
    for d, v in zip(raw.graph.input[0].type.tensor_type.shape.dim, (1, 16, 64), strict=True):
        d.dim_value = v
    inferred = onnx.shape_inference.infer_shapes(raw)
    q4 = next(vi for vi in inferred.graph.value_info if vi.name == "q4")
    assert not all(d.HasField("dim_value") for d in q4.type.tensor_type.shape.dim)

    imp = import_onnx(f, input_shapes={"x": [1, 16, 64]})
    m = imp.model
    assert [(la.name, la.kind, la.m, la.n, la.k, la.groups, la.act_sparse)
            for la in m.layers] == [
        ("q_proj", "fc", 16, 64, 64, 1, False), ("k_proj", "fc", 16, 64, 64, 1, False),
        ("v_proj", "fc", 16, 64, 64, 1, False), ("qk", "attn_qk", 16, 16, 16, 4, False),
        ("pv", "attn_pv", 16, 16, 16, 4, True), ("out_proj", "fc", 16, 64, 64, 1, False),
        ("ffn1", "fc", 16, 128, 64, 1, False), ("ffn2", "fc", 16, 64, 128, 1, True)]
    assert m.macs == transformer_macs(1, 16) == 557_056
    skipped = dict(imp.skipped)
    assert imp.folded >= 7 and not {"Shape", "Gather", "Concat", "Unsqueeze"} & set(skipped)
    assert skipped["Softmax"] == 1 and skipped["Erf"] == 1
    # groups = batch x heads
    m2 = load_onnx(f, input_shapes={"x": [2, 32, 64]})
    assert m2.layers[3].groups == 8 and m2.macs == transformer_macs(2, 32)


def test_quantized_int8_forms(tmp_path):
    f = quantized(tmp_path / "q8.onnx")
    imp = import_onnx(f, input_shapes={"x": [4, 32], "img": [1, 3, 8, 8]})
    m = imp.model
    assert [(la.name, la.kind, la.m, la.n, la.k, la.groups, la.act_sparse)
            for la in m.layers] == [("qmm", "fc", 4, 16, 32, 1, False),
                                    ("mmi", "fc", 4, 8, 16, 1, True),
                                    ("qconv", "conv", 64, 4, 27, 1, False)]
    assert imp.ops == ("QLinearMatMul", "MatMulInteger", "QLinearConv")
    assert [o.zero_point for o in imp.operands] == ["xzp", "azp", "izp"]
    assert m.macs == QUANTIZED_MACS == 9_472
    assert dict(imp.skipped)["DynamicQuantizeLinear"] == 1


def test_named_dimensions_bind_across_inputs(tmp_path):
    rng = np.random.default_rng(4)
    n = helper.make_node
    nodes = [n("Gather", ["emb", "ids"], ["e"]),
             n("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT),
             n("Unsqueeze", ["mf", "ax"], ["m3"]),
             n("Mul", ["e", "m3"], ["em"]),
             n("MatMul", ["em", "w"], ["y"], name="proj")]
    f = _save(tmp_path / "tok.onnx", nodes,
              [_vi("ids", ["batch", "sequence"], TensorProto.INT64),
               _vi("mask", ["batch", "sequence"], TensorProto.INT64)], [_vi("y", None)],
              [_w("emb", (50, 8), rng), _w("w", (8, 4), rng), _c("ax", [-1], np.int64)])
    imp = import_onnx(f, input_shapes={"ids": [2, 10]})
    assert dict(imp.input_shapes) == {"ids": (2, 10), "mask": (2, 10)}
    (la,) = imp.model.layers
    assert (la.m, la.n, la.k) == (20, 4, 8)


def test_weights_times_activation_and_gemm_forms(tmp_path):
    rng = np.random.default_rng(5)
    n = helper.make_node
    nodes = [n("Gemm", ["x", "w"], ["g1"], name="gemm_tb", transB=1),
             n("Relu", ["g1"], ["r"]),
             n("Gemm", ["r", "w2"], ["g2"], name="gemm_ta", transA=1),
             n("MatMul", ["wl", "x"], ["wx"], name="weights_left"),
             n("Transpose", ["g2"], ["g2t"]),
             n("MatMul", ["g2", "g2t"], ["aa"], name="act_act")]
    f = _save(tmp_path / "gemms.onnx", nodes, [_vi("x", [6, 5])],
              [_vi("wx", None), _vi("aa", None)],
              [_w("w", (3, 5), rng), _w("w2", (6, 7), rng), _w("wl", (9, 6), rng)])
    m = load_onnx(f)
    assert [(la.name, la.kind, la.m, la.n, la.k) for la in m.layers] == [
        ("gemm_tb", "fc", 6, 3, 5),      # x[6,5] . w^T[5,3]
        ("gemm_ta", "fc", 3, 7, 6),      # r^T[3,6] . w2[6,7]
        ("weights_left", "fc", 5, 9, 6),  # (wl[9,6] . x[6,5])^T = x^T[5,6] . wl^T[6,9]
        ("act_act", "matmul", 3, 3, 7)]  # g2[3,7] . g2^T[7,3]
    assert m.layers[1].act_sparse and not m.layers[0].act_sparse


# --- errors ----------------------------------------------------------------------------------

def test_unsupported_operators_all_listed(tmp_path):
    rng = np.random.default_rng(2)
    n = helper.make_node
    nodes = [
        n("LSTM", ["x", "wl", "rl"], ["l", "", ""], name="lstm1", hidden_size=3),
        n("Squeeze", ["l", "ax1"], ["l2"]),
        n("GRU", ["l2", "wg", "rg"], ["gr", ""], name="gru1", hidden_size=3),
        n("Einsum", ["gr", "gr"], ["y"], name="ein", equation="abc,abc->abc"),
        n("Einsum", ["y", "y"], ["y2"], name="ein2", equation="abc,abc->abc"),
    ]
    inits = [_w("wl", (1, 12, 3), rng), _w("rl", (1, 12, 3), rng), _w("wg", (1, 9, 3), rng),
             _w("rg", (1, 9, 3), rng), _c("ax1", [1], np.int64)]
    f = _save(tmp_path / "bad.onnx", nodes, [_vi("x", ["seq", 1, 3])], [_vi("y2", None)],
              inits)
    with pytest.raises(InputError) as e:
        load_onnx(f)  # listed before any shape is asked for
    msg = str(e.value)
    assert msg.startswith(f"{f}: graph.node: expected only MAC operators with a GEMM mapping")
    assert "Einsum x2 (ein, ein2); GRU x1 (gru1); LSTM x1 (lstm1)" in msg


def test_parse_input_shapes():
    assert parse_input_shapes("images=1x3x640x640,ids=1x128") == {
        "images": (1, 3, 640, 640), "ids": (1, 128)}
    for bad in ("images", "images=1x0", "=1x2", "a=1,a=2", "a=1x-3", ""):
        with pytest.raises(InputError, match="--input-shapes"):
            parse_input_shapes(bad)


def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "mmsched.sim", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_models_cli_bad_input_one_error_exit_2(tmp_path):
    detector(tmp_path / "det.onnx")
    transformer(tmp_path / "enc.onnx")
    lstm = [helper.make_node("LSTM", ["x", "w", "r"], ["y"], name="lstm1", hidden_size=4),
            helper.make_node("Einsum", ["y"], ["z"], name="ein", equation="abcd->abcd")]
    _save(tmp_path / "rnn.onnx", lstm, [_vi("x", [1, 1, 4])], [_vi("z", None)],
          [_w("w", (1, 16, 4), np.random.default_rng(0)),
           _w("r", (1, 16, 4), np.random.default_rng(1))])
    (tmp_path / "junk.onnx").write_bytes(b"\x00not onnx at all")
    cases = [
        (["det.onnx"], "--input-shapes: expected a shape for every dynamic input of det.onnx, "
                       "found none for images (batch, 3, height, width): dynamic dims "
                       "0 (batch), 2 (height), 3 (width)"),
        (["det.onnx", "--input-shapes", "images=1x32x32"],
         "--input-shapes: expected 4 dimensions for images (batch, 3, height, width), found 3"),
        (["det.onnx", "--input-shapes", "imgs=1x3x32x32"],
         "--input-shapes: expected input names of det.onnx (images (batch, 3, height, "
         "width)), found 'imgs'"),
        (["rnn.onnx"], "rnn.onnx: graph.node: expected only MAC operators with a GEMM "
                       "mapping (Conv, ConvInteger, QLinearConv, ConvTranspose, Gemm, MatMul, "
                       "MatMulInteger, QLinearMatMul) and operators without MACs, found "
                       "unsupported operators: Einsum x1 (ein); LSTM x1 (lstm1)"),
        (["junk.onnx"], "junk.onnx: expected an ONNX model file"),
    ]
    for args, expect in cases:  # the real command line, one process each
        p = _cli(["models", *args], tmp_path)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and not p.stdout, (args, p.stderr)
        assert lines[0].startswith("mmsched models: error: ") and expect in lines[0], lines[0]


def test_models_cli_more_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    detector(tmp_path / "det.onnx")
    transformer(tmp_path / "enc.onnx")
    for args, expect in (
            (["det.onnx", "--input-shapes", "images=1x4x32x32"],
             "expected images dimension 1 = 3 (static in the model), found 4"),
            (["enc.onnx", "--input-shapes", "x=1x16"], "expected 3 dimensions for x"),
            (["enc.onnx", "--input-shapes", "x=1x16x64,x=1x8x64"], "each input once"),
            (["missing.onnx"], "missing.onnx: expected an ONNX model file")):
        assert main(["models", *args]) == 2
        cap = capsys.readouterr()
        lines = cap.err.strip().splitlines()
        assert len(lines) == 1 and not cap.out and expect in lines[0], lines


def test_models_cli_table_and_json(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    detector(tmp_path / "det.onnx")
    assert main(["models", "det.onnx", "--input-shapes", "images=1x3x32x32"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "det.onnx: 7 GEMM layers; inputs images=1x3x32x32"
    row = next(line.split() for line in lines if line.startswith("up "))
    assert row == ["up", "ConvTranspose", "conv", "64", "32", "16", "1", "32,768", "no"]
    assert lines[-2].startswith("total: 236,544 MACs")
    assert lines[-1] == ("skipped 6 operators without MACs (0 shape/constant nodes folded "
                         "first): Relu x3, Concat x1, Resize x1, Sigmoid x1")
    assert main(["models", "det.onnx", "--input-shapes", "images=2x3x32x32", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_macs"] == 2 * DETECTOR_MACS_32 == sum(la["macs"] for la in doc["layers"])
    assert doc["layers"][4] == {"name": "up", "op": "ConvTranspose", "kind": "conv", "m": 128,
                                "n": 32, "k": 16, "groups": 1, "macs": 65536,
                                "act_sparse": False}


# --- scenarios: shapes, sparsity, mmsched run -------------------------------------------------

TINY = '{base = "eyeriss_v2_like", name = "tiny", rows = 4, cols = 4}'


def _scenario(path, models: str) -> None:
    path.write_text(f"""
name = "onnx-import"
system = [{TINY}]
rates = [2000.0]
slos = [5.0]
requests = 12
seeds = 1
samples = 3
profile_samples = 2
{models}
""")


def _run(tmp_path, scenario):
    out = tmp_path / f"out-{scenario.stem}"
    rc = main(["run", "--scenario", str(scenario), "--policies", "fcfs,dysta", "--seeds", "1",
               "--requests", "12", "--jobs", "1", "--out", str(out), "--no-progress"])
    assert rc == 0
    with open(out / "summary.csv") as f:
        return list(csv.DictReader(f))


def test_scenario_runs_imported_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "cache"))
    detector(tmp_path / "det.onnx")
    transformer(tmp_path / "enc.onnx")
    quantized(tmp_path / "q8.onnx")
    s = tmp_path / "s.toml"
    _scenario(s, """
[[models]]
file = "det.onnx"
input_shapes = {images = [1, 3, 16, 16]}
sparsity = "mobilenetv2-relu6"
[[models]]
file = "enc.onnx"
input_shapes = {x = [1, 8, 64]}
[[models]]
file = "q8.onnx"
input_shapes = {x = [2, 32], img = [1, 3, 8, 8]}
""")
    from mmsched.sched.scenario import load_scenario_file

    sc = load_scenario_file(s)
    assert [e.arch for e in sc.models] == ["det", "enc", "q8"]
    assert [sum(la.macs for la in e.layers) for e in sc.models] == [
        DETECTOR_MACS_32 // 4, transformer_macs(1, 8), 2 * 16 * 32 + 2 * 8 * 16 + 64 * 4 * 27]
    rows = _run(tmp_path, s)
    assert {r["policy"] for r in rows} == {"fcfs", "dysta"}


def test_scenario_input_shapes_errors_name_the_field(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    detector(tmp_path / "det.onnx")
    cases = [
        ('file = "det.onnx"', "s.toml: models[0].input_shapes: expected a shape for every "
                              "dynamic input of"),
        ('file = "det.onnx"\ninput_shapes = {images = [1, 3, 16]}',
         "s.toml: models[0].input_shapes: expected 4 dimensions for images"),
        ('file = "det.onnx"\ninput_shapes = {image = [1, 3, 16, 16]}',
         "s.toml: models[0].input_shapes: expected input names of"),
        ('file = "det.onnx"\ninput_shapes = {images = [1, 3, 0, 16]}',
         "s.toml: models[0].input_shapes.images: expected a non-empty list of positive"),
        ('arch = "resnet50"\ninput_shapes = {images = [1, 3, 16, 16]}',
         "s.toml: models[0].input_shapes: expected a 'file' field"),
        ('file = "det.onnx"\ninput_shapes = {images = [1, 3, 16, 16]}\nsparsity = "p.json"',
         "s.toml: models[0].sparsity: expected a readable sparsity profile file"),
        ('file = "det.onnx"\ninput_shapes = {images = [1, 3, 16, 16]}\nsparsity = "nope"',
         "s.toml: models[0].sparsity: expected a shipped profile"),
    ]
    for entry, expect in cases:
        _scenario(tmp_path / "s.toml", f"[[models]]\n{entry}\n")
        assert main(["scenarios", "s.toml", "--no-load"]) == 2, entry
        cap = capsys.readouterr()
        lines = cap.err.strip().splitlines()
        assert len(lines) == 1 and not cap.out and expect in lines[0], (entry, lines)


def _ort_values(path, feed, names):
    """Run the original (dynamic) model with onnxruntime, returning intermediate tensors."""
    ort = pytest.importorskip("onnxruntime")
    m = onnx.load(str(path))
    for t in names:
        m.graph.output.append(helper.make_empty_tensor_value_info(t))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(names, sess.run(names, feed), strict=True))


def test_profile_sparsity_onnx_measures_the_real_operands(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("MMSCHED_CACHE_DIR", str(tmp_path / "cache"))
    quantized(tmp_path / "q8.onnx")
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((3, 2, 32)) * 2).astype(np.float32)
    img = rng.random((3, 1, 3, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x, img=img)
    p = _cli(["profile-sparsity", "--onnx", "q8.onnx", "--input-shapes",
              "x=2x32,img=1x3x8x8", "--inputs", "in.npz", "--out", "q8-prof.json"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("q8-prof.json: 3 samples x 1 sparse-input layers of 3")
    doc = json.loads((tmp_path / "q8-prof.json").read_text())
    assert doc["layers"] == [{"name": "mmi", "role": "relu"}]
    assert doc["meta"]["random_inputs"] is False and doc["meta"]["tests"] == {
        "mmi": "q != zero_point"}
    for s in range(3):  # the measured density is that of the int8 operand as run
        v = _ort_values(tmp_path / "q8.onnx", {"x": x[s], "img": img[s]},
                        ["aq", "azp"])
        nz = v["aq"] != v["azp"]
        assert doc["density"][s][0] == pytest.approx(nz.mean(), abs=1e-5)
        rows = nz.mean(axis=1)
        assert doc["row_cv"][s][0] == pytest.approx(rows.std() / nz.mean(), abs=1e-4)
    # the scenario names the profile file next to it, and runs
    s = tmp_path / "s.toml"
    _scenario(s, '[[models]]\nfile = "q8.onnx"\ninput_shapes = {x = [2, 32], '
                 'img = [1, 3, 8, 8]}\nsparsity = "q8-prof.json"\n')
    from mmsched.sched.scenario import load_scenario_file
    from mmsched.sim.profiled import mask_source

    sc = load_scenario_file(s)
    masks, profiles = mask_source(sc)
    assert profiles["q8"].name == "q8-prof"
    model = sc.model_list()[0]
    assert masks.layer_stats(model, 1, 2).density == pytest.approx(doc["density"][2][0])
    assert masks.layer_stats(model, 0, 0).density == 1.0  # dense-input layer
    assert {r["policy"] for r in _run(tmp_path, s)} == {"fcfs", "dysta"}


def test_profile_sparsity_onnx_random_inputs_only_when_asked(tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    transformer(tmp_path / "enc.onnx")
    args = ["profile-sparsity", "--onnx", "enc.onnx", "--input-shapes", "x=1x8x64",
            "--samples", "2", "--out", "enc.json"]
    p = _cli(args, tmp_path)
    assert p.returncode == 2 and not (tmp_path / "enc.json").exists()
    assert p.stderr.strip() == (
        "mmsched profile-sparsity: error: --inputs: expected sample inputs for every model "
        "input (--inputs FILE.npz, --photos, or --random-inputs to allow random values), "
        "found none for x")
    p = _cli([*args, "--random-inputs"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "(RANDOM inputs)" in p.stdout
    doc = json.loads((tmp_path / "enc.json").read_text())
    assert doc["meta"]["random_inputs"] is True and "RANDOM" in doc["meta"]["inputs"]
    assert doc["layers"] == [{"name": "pv", "role": "attn"}, {"name": "ffn2", "role": "gelu"}]
    assert doc["meta"]["tests"] == {"pv": "p >= 0.01", "ffn2": "|y| > 0.01"}
    monkeypatch.chdir(tmp_path)
    assert main(["profile-sparsity", "--onnx", "enc.onnx", "--input-shapes", "x=1x8x64",
                 "--out", "x.json", "--models", "minilm-l6"]) == 2
    assert "--onnx profiles one model" in capsys.readouterr().err


def test_model_local_functions_are_inlined(tmp_path):
    # exporters (torch.onnx dynamo) may wrap blocks in model-local functions
    rng = np.random.default_rng(9)
    fn = helper.make_function("local", "ConvRelu", ["a", "w"], ["r"],
                              [helper.make_node("Conv", ["a", "w"], ["c"], name="conv",
                                                pads=[1, 1, 1, 1]),
                               helper.make_node("Relu", ["c"], ["r"])],
                              [helper.make_opsetid("", 17)])
    g = helper.make_graph([helper.make_node("ConvRelu", ["x", "w1"], ["y"], domain="local",
                                            name="block")], "g",
                          [_vi("x", ["n", 3, 8, 8])], [_vi("y", None)],
                          [_w("w1", (4, 3, 3, 3), rng)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("local", 1)], functions=[fn])
    onnx.save(m, str(tmp_path / "fn.onnx"))
    (la,) = load_onnx(tmp_path / "fn.onnx", input_shapes={"x": [1, 3, 8, 8]}).layers
    assert (la.kind, la.m, la.n, la.k) == ("conv", 64, 4, 27)


def test_operand_view_layouts():
    from mmsched.sched.onnx_import import Operand, operand_view

    x = np.arange(2 * 4 * 3 * 5).reshape(2, 4, 3, 5)  # [N, C, H, W]
    v = operand_view(x, Operand("x", None, "nchw", groups=2))
    assert v.shape == (2, 2 * 15, 2)  # groups, N x pixels, C / groups
    assert v[1, 15 + 7, 0] == x[1, 2, 7 // 5, 7 % 5]  # group 1 = channels 2-3, image 1
    a = np.arange(3 * 4).reshape(3, 4)
    assert (operand_view(a, Operand("a", None, "rows_t"))[0] == a.T).all()
    b = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    vb = operand_view(b, Operand("b", None, "batched", batch=(2, 4)))
    assert vb.shape == (8, 5, 6) and (vb[5] == b[1]).all()  # broadcast over the leading 2
    vt = operand_view(b, Operand("b", None, "batched_t", batch=(4,)))
    assert vt.shape == (4, 6, 5) and (vt[2] == b[2].T).all()
