"""ONNX import of small models built here with the onnx package."""

import numpy as np
import pytest

from mmsched.sched.errors import InputError
from mmsched.sched.onnx_import import load_onnx

onnx = pytest.importorskip("onnx")
helper, TensorProto = onnx.helper, onnx.TensorProto


def _init(name, shape, rng):
    return onnx.numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _save(tmp_path, nodes, inputs, outputs, inits, name="net.onnx"):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    f = tmp_path / name
    onnx.save(m, str(f))
    return f


def test_cnn_conv_depthwise_gemm(tmp_path):
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="dw", group=8, pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w3"], ["y"], name="fc", transB=1),
    ]
    inits = [_init("w1", (8, 3, 3, 3), rng), _init("w2", (8, 1, 3, 3), rng),
             _init("w3", (10, 8), rng),
             onnx.numpy_helper.from_array(np.array(0, np.float32), "lo"),
             onnx.numpy_helper.from_array(np.array(6, np.float32), "hi")]
    f = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                               [1, 3, 32, 32])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits,
              name="tiny_cnn.onnx")
    m = load_onnx(f)
    assert m.key == "tinycnn_dense"
    c1, dw, fc = m.layers
    assert (c1.kind, c1.m, c1.n, c1.k, c1.act_sparse) == ("conv", 256, 8, 27, False)
    assert (dw.kind, dw.m, dw.n, dw.k, dw.groups, dw.act_sparse) == ("dwconv", 256, 1, 9, 8,
                                                                      True)
    # average pooling of a ReLU6 output is (almost surely) dense
    assert (fc.kind, fc.m, fc.n, fc.k, fc.act_sparse) == ("fc", 1, 10, 8, False)
    assert m.macs == 256 * 8 * 27 + 256 * 9 * 8 + 80


def test_attention_pattern(tmp_path):
    rng = np.random.default_rng(1)
    s, d, h = 16, 32, 4
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"], name="q_proj"),
        helper.make_node("MatMul", ["x", "wk"], ["k"], name="k_proj"),
        helper.make_node("MatMul", ["x", "wv"], ["v"], name="v_proj"),
        helper.make_node("Reshape", ["q", "shp"], ["q4"]),
        helper.make_node("Transpose", ["q4"], ["qh"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["k", "shp"], ["k4"]),
        helper.make_node("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["v", "shp"], ["v4"]),
        helper.make_node("Transpose", ["v4"], ["vh"], perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["qh", "kt"], ["scores"], name="qk"),
        helper.make_node("Softmax", ["scores"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "vh"], ["ctx"], name="pv"),
    ]
    inits = [_init(n, (d, d), rng) for n in ("wq", "wk", "wv")]
    inits.append(onnx.numpy_helper.from_array(np.array([1, s, h, d // h], np.int64), "shp"))
    f = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                               [1, s, d])],
              [helper.make_tensor_value_info("ctx", TensorProto.FLOAT, None)], inits)
    m = load_onnx(f)
    kinds = [(la.name, la.kind) for la in m.layers]
    assert kinds == [("q_proj", "fc"), ("k_proj", "fc"), ("v_proj", "fc"),
                     ("qk", "attn_qk"), ("pv", "attn_pv")]
    qk, pv = m.layers[3], m.layers[4]
    assert (qk.m, qk.k, qk.n, qk.groups, qk.act_sparse) == (s, d // h, s, h, False)
    assert (pv.m, pv.k, pv.n, pv.groups, pv.act_sparse) == (s, s, d // h, h, True)


def test_unsupported_operators_listed_not_crashed(tmp_path):
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["a"], name="up1"),
        helper.make_node("ConvTranspose", ["a", "w2"], ["b"], name="up2"),
        helper.make_node("Einsum", ["b", "b"], ["y"], name="ein", equation="ij,ij->ij"),
    ]
    inits = [_init("w", (3, 3, 3, 3), rng), _init("w2", (3, 3, 3, 3), rng)]
    f = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                               [1, 3, 8, 8])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits,
              name="bad.onnx")
    with pytest.raises(InputError) as e:
        load_onnx(f)
    msg = str(e.value)
    assert msg.startswith(f"{f}: graph.node: expected only Conv, Gemm, MatMul")
    assert "ConvTranspose x2 (up1, up2)" in msg and "Einsum x1 (ein)" in msg


def test_not_an_onnx_file(tmp_path):
    f = tmp_path / "junk.onnx"
    f.write_bytes(b"\x00not onnx at all")
    with pytest.raises(InputError, match="junk.onnx: expected an ONNX model file"):
        load_onnx(f)


def test_dynamic_shape_needs_input_shapes(tmp_path):
    rng = np.random.default_rng(3)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    f = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                               ["batch", 8])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
              [_init("w", (8, 4), rng)])
    with pytest.raises(InputError, match="node mm input 'x': expected a static shape"):
        load_onnx(f)
    (la,) = load_onnx(f, input_shapes={"x": (5, 8)}).layers
    assert (la.m, la.n, la.k) == (5, 4, 8)
