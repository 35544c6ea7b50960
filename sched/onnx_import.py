"""ONNX models -> `Model` (needs the ``onnx`` package: the ``dev`` and ``real`` extras).

Mapped operators, in graph (topological) order:

``Conv``    im2col GEMM per group: ``M = out_h x out_w`` (from the inferred output shape),
            ``N = C_out / group``, ``K = C_in / group x kh x kw``; depthwise when
            ``group == C_in``
``Gemm``    ``M`` rows of A, ``N`` columns of B (``transB`` honoured), ``K``
``MatMul``  with a constant (initializer) right operand: a weight GEMM over the flattened
            leading dimensions; with two activations of rank >= 3: attention, one GEMM per
            head (``groups`` = product of the batch/head dimensions), ``attn_pv`` when the left
            operand comes from a ``Softmax``, else ``attn_qk``

Operators without MACs on the accelerator (element-wise, normalisation, pooling, shape and
data movement ops) are skipped. Anything else (``ConvTranspose``, ``LSTM``, ``Einsum`` ...)
is unsupported: all of them are listed in one `InputError`, nothing is half-imported. Input
shapes must be static (set the dynamic dimensions with ``input_shapes``).

``act_sparse`` is set on layers whose input is produced by ``Relu``/``Clip`` (ReLU, ReLU6),
``Softmax`` or a GELU (``Gelu`` or the ``Erf`` form); other inputs count as dense.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import InputError
from .model import Layer, Model

_NO_MAC_TEXT = """
Abs Add And ArgMax AveragePool BatchNormalization Cast Ceil Clip Concat Constant ConstantOfShape
Div Dropout Elu Equal Erf Exp Expand Flatten Floor Gather GatherElements GatherND Gelu
GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual HardSigmoid HardSwish Identity
InstanceNormalization IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LRN Max MaxPool
Mean Min Mod Mul Neg Not Or Pad Pow PRelu Range Reciprocal ReduceL2 ReduceMax ReduceMean
ReduceMin ReduceProd ReduceSum Relu Reshape Resize Round Selu Shape Sigmoid Sign Size Slice
Softmax LogSoftmax Softplus Softsign Split Sqrt Squeeze Sub Sum Tanh Tile TopK Transpose
Unsqueeze Upsample Where Xor QuantizeLinear DequantizeLinear DynamicQuantizeLinear
SimplifiedLayerNormalization SkipLayerNormalization
"""
NO_MAC_OPS = frozenset(_NO_MAC_TEXT.split())
"""Operators skipped: no GEMM work on the accelerator."""

GEMM_OPS = ("Conv", "Gemm", "MatMul")
_SPARSE_PRODUCERS = {"Relu", "Clip", "Softmax", "Gelu", "FastGelu", "BiasGelu"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ValueError("importing ONNX models needs the 'onnx' package: "
                         "pip install -e '.[dev]'") from None
    return onnx


def _shape(vi) -> tuple[int | None, ...] | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)


def load_onnx(path: str | Path, *, name: str | None = None,
              input_shapes: Mapping[str, Sequence[int]] | None = None) -> Model:
    """Read an ONNX file as a `Model` (key ``<name>_dense``; ``name`` defaults to the file stem,
    lower-cased, without ``_``).

    Raises
    ------
    InputError
        Unreadable or invalid file; unsupported operators (all listed, with node counts and
        names); a GEMM whose shapes cannot be inferred (naming the node).
    """
    onnx = _onnx()
    src = str(path)
    try:
        model = onnx.load(src)
    except Exception as e:  # onnx raises DecodeError, OSError, ...
        raise InputError(src, "", "an ONNX model file", f"{type(e).__name__}: {e}"[:120]
                         ) from None
    graph = model.graph
    unsupported: dict[str, list[str]] = {}
    for node in graph.node:
        if node.op_type not in GEMM_OPS and node.op_type not in NO_MAC_OPS:
            unsupported.setdefault(node.op_type, []).append(node.name or node.output[0])
    if unsupported:
        listing = "; ".join(f"{op} x{len(v)} ({', '.join(v[:3])}{', ...' if len(v) > 3 else ''})"
                            for op, v in sorted(unsupported.items()))
        raise InputError(src, "graph.node", f"only {', '.join(GEMM_OPS)} and operators without "
                         f"MACs", f"unsupported operators: {listing}")
    if input_shapes:
        for inp in graph.input:
            if inp.name in input_shapes:
                dims = inp.type.tensor_type.shape.dim
                for d, v in zip(dims, input_shapes[inp.name], strict=True):
                    d.dim_value = int(v)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception as e:
        raise InputError(src, "graph", "shapes ONNX shape inference can infer",
                         str(e)[:120]) from None
    g = inferred.graph
    shapes: dict[str, tuple[int | None, ...] | None] = {}
    for vi in (*g.input, *g.value_info, *g.output):
        shapes[vi.name] = _shape(vi)
    inits = {t.name: tuple(t.dims) for t in g.initializer}
    shapes.update(inits)
    producer = {o: n for n in g.node for o in n.output}

    def sparse_input(tensor: str) -> bool:
        n = producer.get(tensor)
        hops = 0
        while n is not None and hops < 4:
            if n.op_type in _SPARSE_PRODUCERS:
                return True
            if n.op_type == "Mul" and any(
                    (p := producer.get(i)) is not None and p.op_type in ("Add", "Erf")
                    for i in n.input):
                return True  # x * 0.5 * (1 + erf(x / sqrt 2)): GELU
            if n.op_type not in ("Reshape", "Transpose", "Cast", "Identity", "Flatten",
                                 "MaxPool", "Pad", "Dropout"):
                return False
            n = producer.get(n.input[0])
            hops += 1
        return False

    def need(tensor: str, node, rank: int | None = None) -> tuple[int, ...]:
        s = shapes.get(tensor)
        if s is None or any(d is None for d in s) or (rank is not None and len(s) != rank):
            raise InputError(src, f"node {node.name or node.op_type} input {tensor!r}",
                             "a static shape" + (f" of rank {rank}" if rank else "")
                             + " (pass input_shapes for dynamic inputs)", repr(s))
        return tuple(int(d) for d in s)

    layers: list[Layer] = []
    used: set[str] = set()

    def add(base: str, **kw) -> None:
        lname = base or f"layer{len(layers)}"
        i = 1
        while lname in used:
            i += 1
            lname = f"{base}#{i}"
        used.add(lname)
        layers.append(Layer(name=lname, **kw))

    for node in g.node:
        if node.op_type not in GEMM_OPS:
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        sparse = sparse_input(node.input[0])
        if node.op_type == "Conv":
            x = need(node.input[0], node, 4)
            w = need(node.input[1], node, 4)
            y = need(node.output[0], node, 4)
            group = int(attrs.get("group", 1))
            c_in, c_out = x[1], w[0]
            kind = "dwconv" if group > 1 and group == c_in else "conv"
            add(node.name, kind=kind, m=y[2] * y[3], n=c_out // group, k=w[1] * w[2] * w[3],
                groups=group, act_sparse=sparse)
        elif node.op_type == "Gemm":
            a = need(node.input[0], node, 2)
            b = need(node.input[1], node, 2)
            m = a[1] if attrs.get("transA", 0) else a[0]
            k = a[0] if attrs.get("transA", 0) else a[1]
            n = b[0] if attrs.get("transB", 0) else b[1]
            add(node.name, kind="fc", m=m, n=n, k=k, act_sparse=sparse)
        else:  # MatMul
            a = need(node.input[0], node)
            b = need(node.input[1], node)
            if node.input[1] in inits or len(b) == 2:
                m = math.prod(a[:-1])
                add(node.name, kind="fc", m=m, n=b[-1], k=a[-1], act_sparse=sparse)
            else:
                groups = math.prod(a[:-2])
                pv = sparse_input(node.input[0]) and _from_softmax(producer, node.input[0])
                add(node.name, kind="attn_pv" if pv else "attn_qk", m=a[-2], n=b[-1], k=a[-1],
                    groups=groups, act_sparse=pv)
    if not layers:
        raise InputError(src, "graph.node", "at least one Conv, Gemm or MatMul", "none")
    arch = name or re.sub(r"[^a-z0-9-]", "", Path(src).stem.lower()) or "onnx"
    return Model(key=f"{arch}_dense", arch=arch, pattern="dense", layers=tuple(layers))


def _from_softmax(producer, tensor: str) -> bool:
    n = producer.get(tensor)
    for _ in range(4):
        if n is None:
            return False
        if n.op_type == "Softmax":
            return True
        n = producer.get(n.input[0])
    return False
