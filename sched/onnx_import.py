"""ONNX models -> `Model` (needs ``onnx`` and ``onnxslim``: the ``onnx``, ``dev`` and ``real``
extras).

The import, for a model as exporters write it (dynamic axes, shape subgraphs):

1. **Shapes.** Every dynamic input dimension gets a value: from ``input_shapes`` (input name
   -> full shape), or from a named dimension (``dim_param``) that a given input binds (ONNX
   names a shared axis once: giving ``input_ids = [1, 128]`` also sets ``attention_mask``'s
   ``batch`` and ``sequence``). A dynamic dimension left without a value, a shape of the
   wrong rank, a value contradicting a static dimension or a name that is not an input is an
   `InputError`.
2. **Folding.** The shape subgraphs (``Shape -> Gather -> Concat -> Reshape`` ...) become
   constants: ``onnxslim``'s constant folding (its fusions off, so the exporter's operators
   and node names stay), after an ONNX shape inference that gives it the static shapes; if a
   GEMM shape is still open, a second pass with onnxslim's own shape inference.
3. **Shape inference**: ``onnx.shape_inference.infer_shapes`` with data propagation.
4. **Mapping**, in graph (topological) order, one `Layer` per MAC-carrying node
   (``C[M, N] = A[M, K] . B[K, N]``, ``groups`` independent GEMMs; A holds activations):

``Conv``, ``ConvInteger``, ``QLinearConv``
    the im2col GEMM per group: ``M = batch x output pixels``, ``N = C_out / group``,
    ``K = C_in / group x prod(kernel)``, ``groups = group``; any spatial rank, strides,
    dilations, pads and ``auto_pad`` (they only change the output pixels, taken from shape
    inference). ``dwconv`` when ``group == C_in > 1``.
``ConvTranspose``
    the GEMM + col2im form (how deconvolutions are run as GEMMs): every *input* pixel times
    the weights gives ``C_out / group x prod(kernel)`` partial outputs that col2im adds into
    place, so ``M = batch x input pixels``, ``K = C_in / group``, ``N = C_out / group x
    prod(kernel)``, ``groups = group``. MACs = the transposed convolution's true MACs (the
    zero-insertion form would count ``stride^2`` times more, on inserted zeros).
``Gemm``
    ``transA``/``transB`` honoured.
``MatMul``, ``MatMulInteger``, ``QLinearMatMul``
    numpy semantics. With a rank-2 right operand: one GEMM over the flattened leading
    dimensions of the left one. With batched operands (rank >= 3): ``groups`` = the
    broadcast batch dimensions (batch x heads), one ``M x K`` by ``K x N`` per group.

Kinds: a constant right operand (an initializer, or computed from initializers only, such as
``DequantizeLinear(w)``) is a weight: ``fc``. Two activations: ``attn_pv`` when the left
operand comes from a ``Softmax`` (attention probabilities times V), else ``attn_qk`` when
batched (per-head ``Q K^T``), else ``matmul``. A constant *left* operand times an activation
is computed transposed (``C^T = B^T A^T``) so the activation is the ``A`` operand.

Operators without MACs on the accelerator (element-wise, normalisation, pooling, resize,
shape and data movement, (de)quantisation) are skipped and counted (`OnnxImport.skipped`;
one INFO log line). Anything else (``LSTM``, ``GRU``, ``RNN``, ``Einsum``, control flow,
contributed fused operators, unknown operators) is unsupported: all of them, with node
names, in one `InputError`, nothing half-imported.

``act_sparse`` is set on layers whose input is produced by ``Relu``/``Clip`` (ReLU, ReLU6)
or a GELU (``Gelu`` or the ``Erf`` form), through layout and (de)quantisation operators, and
on ``attn_pv`` (pruned attention probabilities); other inputs count as dense (SiLU, sigmoid,
softmax into a convolution ...).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .limits import layer_limit
from .model import Layer, Model

log = logging.getLogger(__name__)

_NO_MAC_TEXT = """
Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization
Bernoulli BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast CastLike Ceil
Celu CenterCropPad Clip Compress Concat ConcatFromSequence Constant ConstantOfShape Cos Cosh
CumSum DepthToSpace DequantizeLinear Div Dropout DynamicQuantizeLinear Elu Equal Erf Exp Expand
EyeLike Flatten Floor Gather GatherElements GatherND Gelu GlobalAveragePool GlobalLpPool
GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow
HardSigmoid HardSwish Hardmax Identity InstanceNormalization IsInf IsNaN LayerNormalization
LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization LpPool LRN Max MaxPool MaxRoiPool
MaxUnpool Mean MeanVarianceNormalization Min Mish Mod Mul Neg NonMaxSuppression NonZero Not
OneHot Or Pad Pow PRelu QuantizeLinear RandomNormal RandomNormalLike RandomUniform
RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax
ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence
RMSNormalization RoiAlign Round ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin
Sinh Size Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Swish Tan Tanh
ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor
BiasAdd BiasGelu BiasSoftmax FastGelu QuickGelu QLinearAdd QLinearAveragePool QLinearConcat
QLinearGlobalAveragePool QLinearLeakyRelu QLinearMul QLinearSigmoid QLinearSoftmax
SimplifiedLayerNormalization SkipLayerNormalization SkipSimplifiedLayerNormalization
"""
NO_MAC_OPS = frozenset(_NO_MAC_TEXT.split())
"""Operators skipped: no GEMM work on the accelerator."""

CONV_OPS = {"Conv": (0, 1), "ConvInteger": (0, 1), "QLinearConv": (0, 3)}
"""Convolution forms -> (input index of x, input index of w)."""
MATMUL_OPS = {"MatMul": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3)}
"""Matrix-product forms -> (input index of A, input index of B)."""
GEMM_OPS = (*CONV_OPS, "ConvTranspose", "Gemm", *MATMUL_OPS)
"""Every operator mapped to GEMM layers."""

_ZERO_POINT = {"ConvInteger": 2, "QLinearConv": 2, "MatMulInteger": 2, "QLinearMatMul": 2}
"""Integer forms -> input index of the activation operand's zero point."""
_SPARSE_PRODUCERS = {"Relu", "Clip", "Softmax", "Gelu", "FastGelu", "BiasGelu", "QuickGelu"}
_PASS_THROUGH = {"Reshape", "Transpose", "Cast", "Identity", "Flatten", "MaxPool", "Pad",
                 "Dropout", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
                 "Squeeze", "Unsqueeze"}
"""Operators that keep the zeros of their input (sparsity flows through them)."""


@dataclass(frozen=True)
class Operand:
    """Where a layer's ``A`` operand is in the (folded) graph, for measuring its sparsity.

    ``tensor``: its name; ``zero_point``: the tensor holding its zero point (integer forms;
    None for floats); ``layout``: how to view it as ``[groups, M, K]`` (`operand_view`):
    ``nchw`` (a feature map, channels split into ``groups``), ``rows`` (flatten the leading
    dimensions), ``batched`` (broadcast to ``batch`` + ``[M, K]``), ``rows_t`` (``[K, M]``,
    transposed), ``batched_t`` (``batch + [K, M]``, transposed); ``producer``: the
    operator that made the activation sparse (``Relu``, ``Softmax``, ``Gelu`` ...) or "".
    """

    tensor: str
    zero_point: str | None
    layout: str
    groups: int = 1
    batch: tuple[int, ...] = ()
    producer: str = ""


@dataclass(frozen=True)
class OnnxImport:
    """An imported ONNX model and what the import did.

    ``model``: the layers; ``ops``: the operator of each layer; ``operands``: each layer's
    ``A`` (`Operand`); ``skipped``: (operator, count) of the operators without MACs, most
    frequent first; ``folded``: nodes removed by constant folding; ``input_shapes``: the
    static shape used for every input; ``graph``: the folded, shape-inferred ``ModelProto``
    (runs with onnxruntime on inputs of ``input_shapes``); ``folder``: the folding tool and
    version.
    """

    model: Model
    ops: tuple[str, ...]
    operands: tuple[Operand, ...]
    skipped: tuple[tuple[str, int], ...]
    folded: int
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...]
    folder: str
    graph: object = field(default=None, compare=False, repr=False)

    def skipped_line(self) -> str:
        """The one-line summary of the skipped operators."""
        n = sum(c for _, c in self.skipped)
        ops = ", ".join(f"{op} x{c}" for op, c in self.skipped) or "none"
        return (f"skipped {n} operators without MACs ({self.folded} shape/constant nodes "
                f"folded first): {ops}")


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ValueError("importing ONNX models needs the 'onnx' package: "
                         "pip install -e '.[onnx]'") from None
    return onnx


def _slim():
    try:
        import onnxslim
    except ImportError:
        raise ValueError("importing ONNX models needs the 'onnxslim' package (constant "
                         "folding of shape subgraphs): pip install -e '.[onnx]'") from None
    return onnxslim


def _dims(vi) -> list[int | str | None]:
    """Dimensions of a value info: int (static), str (named dynamic), None (anonymous)."""
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return []
    out: list[int | str | None] = []
    for d in t.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            out.append(int(d.dim_value))
        elif d.HasField("dim_param") and d.dim_param not in ("", "?"):
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def _shape(vi) -> tuple[int | None, ...] | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    return tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else None
                 for d in t.shape.dim)


def _fmt_dims(dims: Sequence) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


def parse_input_shapes(text: str, option: str = "--input-shapes") -> dict[str, tuple[int, ...]]:
    """``name=1x3x640x640[,name2=1x128]`` -> ``{name: (1, 3, 640, 640), ...}``; `InputError`
    naming ``option`` on anything else."""
    out: dict[str, tuple[int, ...]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, dims = part.rpartition("=")
        if not sep or not name or not re.fullmatch(r"[0-9]+(x[0-9]+)*", dims) or any(
                int(d) < 1 for d in dims.split("x")):
            raise InputError(option, "", "NAME=DxDx...[,NAME2=...] with positive integer "
                             "dimensions (e.g. images=1x3x640x640)", repr(part))
        if name in out:
            raise InputError(option, "", "each input once", f"{name!r} twice")
        out[name] = tuple(int(d) for d in dims.split("x"))
    if not out:
        raise InputError(option, "", "NAME=DxDx...", repr(text))
    return out


def _resolve_shapes(src: str, graph, given: Mapping[str, Sequence[int]],
                    where: tuple[str, str]) -> dict[str, tuple[int, ...]]:
    """Static shapes of every graph input (module docstring, step 1)."""
    inits = {t.name for t in graph.initializer}
    inputs = {i.name: _dims(i) for i in graph.input if i.name not in inits}
    wsrc, wfield = where

    def fail(expected: str, found: str) -> InputError:
        return InputError(wsrc, wfield, expected, found)

    unknown = [n for n in given if n not in inputs]
    if unknown:
        listing = ", ".join(f"{n} {_fmt_dims(d)}" for n, d in inputs.items())
        raise fail(f"input names of {src} ({listing})", ", ".join(repr(n) for n in unknown))
    bound: dict[str, tuple[int, str]] = {}  # dim_param -> (value, input that set it)
    for n, shape in given.items():
        dims = inputs[n]
        shape = tuple(shape)
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in shape):
            raise fail(f"positive integer dimensions for {n}", repr(list(shape)))
        if dims and len(shape) != len(dims):
            raise fail(f"{len(dims)} dimensions for {n} {_fmt_dims(dims)}",
                       f"{len(shape)} ({'x'.join(map(str, shape))})")
        for i, (d, v) in enumerate(zip(dims, shape, strict=True)):
            if isinstance(d, int) and d != v:
                raise fail(f"{n} dimension {i} = {d} (static in the model)", str(v))
            if isinstance(d, str):
                if d in bound and bound[d][0] != v:
                    raise fail(f"one value for the named dimension {d!r} (shared by "
                               f"{bound[d][1]} and {n})", f"{bound[d][0]} and {v}")
                bound[d] = (v, n)
    out: dict[str, tuple[int, ...]] = {}
    missing = []
    for n, dims in inputs.items():
        if n in given:
            out[n] = tuple(int(v) for v in given[n])
            continue
        vals = [d if isinstance(d, int) else bound[d][0] if isinstance(d, str) and d in bound
                else None for d in dims]
        if not dims or any(v is None for v in vals):
            open_dims = [f"{i} ({d if isinstance(d, str) else '?'})"
                         for i, d in enumerate(dims) if vals[i] is None]
            missing.append(f"{n} {_fmt_dims(dims)}: dynamic dims "
                           + (", ".join(open_dims) if dims else "(rank unknown)"))
        else:
            out[n] = tuple(vals)
    if missing:
        raise fail(f"a shape for every dynamic input of {src}", "none for " + "; ".join(missing))
    return out


def _gemm_shapes_static(model) -> bool:
    """Whether every MAC-carrying node's operand and output shapes are known."""
    g = model.graph
    known = {vi.name: _shape(vi) for vi in (*g.input, *g.value_info, *g.output)}
    known.update({t.name: tuple(t.dims) for t in g.initializer})
    for node in g.node:
        if node.op_type in GEMM_OPS:
            for t in (*node.input[:4], node.output[0]):
                if not t:
                    continue
                s = known.get(t)
                if s is None or any(d is None for d in s):
                    return False
    return True


def _fold(onnx, model, src: str):
    """Constant-fold the shape subgraphs and infer shapes (module docstring, steps 2-3)."""
    slim = _slim()
    from onnxslim.core.optimization import OptimizationSettings
    from onnxslim.core.pattern.registry import DEFAULT_FUSION_PATTERNS

    only_folding = {"skip_fusion_patterns": list(DEFAULT_FUSION_PATTERNS),
                    # a class method, not a dict
                    "skip_optimizations": [k for k in OptimizationSettings.keys()  # noqa: SIM118
                                           if k != "constant_folding"]}

    def infer(m):
        return onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)

    try:
        m = infer(model)
        # fast pass: onnxslim folds with the shapes ONNX inferred; a second pass with
        # onnxslim's own (symbolic, slower) shape inference only when a GEMM shape is open
        m = infer(slim.slim(m, no_shape_infer=True, **only_folding))
        if not _gemm_shapes_static(m):
            m = infer(slim.slim(m, **only_folding))
    except InputError:
        raise
    except Exception as e:  # onnx / onnxslim raise many types on malformed graphs
        raise InputError(src, "graph", "a graph that ONNX shape inference and onnxslim's "
                         "constant folding accept", f"{type(e).__name__}: {e}"[:200]) from None
    return m, f"onnxslim {getattr(slim, '__version__', '?')}"


def _unsupported(src: str, graph) -> None:
    bad: dict[str, list[str]] = {}
    for i, node in enumerate(graph.node):
        if node.op_type not in GEMM_OPS and node.op_type not in NO_MAC_OPS:
            op = f"{node.domain}.{node.op_type}" if node.domain not in ("", "ai.onnx",
                                                                        "com.microsoft") \
                else node.op_type
            bad.setdefault(op, []).append(node.name or f"#{i}")
    if bad:
        listing = "; ".join(f"{op} x{len(v)} ({', '.join(v[:10])}"
                            f"{f', and {len(v) - 10} more' if len(v) > 10 else ''})"
                            for op, v in sorted(bad.items()))
        raise InputError(src, "graph.node", "only MAC operators with a GEMM mapping ("
                         f"{', '.join(GEMM_OPS)}) and operators without MACs",
                         f"unsupported operators: {listing}")


def import_onnx(path: str | Path, *, name: str | None = None,
                input_shapes: Mapping[str, Sequence[int]] | None = None,
                shapes_where: tuple[str, str] | None = None) -> OnnxImport:
    """Import an ONNX file (module docstring) as a `Model` with key ``<name>_dense``
    (``name`` defaults to the file stem, lower-cased, without ``_``).

    ``input_shapes``: input name -> shape (every dimension, batch included); ``shapes_where``:
    (source, field) that errors about them name (default: the file, ``input_shapes``).

    Raises
    ------
    InputError
        Not an ONNX file; unsupported operators (all listed with node names); a dynamic
        input without a shape, a shape of the wrong rank or against a static dimension, a
        name that is not an input; a graph that cannot be folded or shape-inferred.
    """
    onnx = _onnx()
    src = str(path)
    try:
        raw = onnx.load(src)
    except Exception as e:  # onnx raises DecodeError, OSError, ...
        raise InputError(src, "", "an ONNX model file", f"{type(e).__name__}: {e}"[:120]
                         ) from None
    if not raw.graph.node:
        raise InputError(src, "", "an ONNX model file", "no graph nodes")
    if raw.functions:  # exporters may wrap blocks in model-local functions: inline them
        try:
            from onnx.inliner import inline_local_functions

            raw = inline_local_functions(raw)
        except Exception as e:  # older onnx without the inliner, or a malformed function
            raise InputError(src, "functions", "model-local functions onnx can inline",
                             f"{type(e).__name__}: {e}"[:120]) from None
    _unsupported(src, raw.graph)
    shapes = _resolve_shapes(src, raw.graph, dict(input_shapes or {}),
                             shapes_where or (src, "input_shapes"))
    for inp in raw.graph.input:
        if inp.name in shapes:
            shp = inp.type.tensor_type.shape
            shp.ClearField("dim")
            for v in shapes[inp.name]:
                shp.dim.add().dim_value = v
    n_raw = len(raw.graph.node)
    # the exporter's (topological) node order, by output name; folding may re-sort the graph
    raw_order = {o: i for i, n in enumerate(raw.graph.node) for o in n.output}
    g_model, folder = _fold(onnx, raw, src)
    g = g_model.graph
    _unsupported(src, g)  # folding never adds operators; kept as a guard
    known: dict[str, tuple[int | None, ...] | None] = {}
    for vi in (*g.input, *g.value_info, *g.output):
        known[vi.name] = _shape(vi)
    known.update({t.name: tuple(t.dims) for t in g.initializer})
    producer = {o: n for n in g.node for o in n.output}
    const = {t.name for t in g.initializer}
    for node in g.node:  # topological: outputs of nodes fed by constants only are constants
        if node.op_type == "Constant" or all(not i or i in const for i in node.input):
            const.update(node.output)

    def sparse_producer(tensor: str) -> str:
        n = producer.get(tensor)
        hops = 0
        while n is not None and hops < 6:
            if n.op_type in _SPARSE_PRODUCERS:
                return n.op_type
            if n.op_type == "Mul" and any(reaches(i, {"Erf"}, 3) for i in n.input):
                return "Gelu"  # x * (0.5 * (1 + erf(x / sqrt 2))), as exporters write it
            if n.op_type not in _PASS_THROUGH:
                return ""
            n = producer.get(n.input[0])
            hops += 1
        return ""

    def reaches(tensor: str, ops: set[str], hops: int) -> bool:
        """An operator of ``ops`` produces ``tensor`` or an ancestor of it within ``hops``
        operators without MACs (masking ``Where``, casts, layout ...)."""
        todo, seen = [(tensor, 0)], set()
        while todo:
            t, d = todo.pop()
            n = producer.get(t)
            if n is None or t in seen or d > hops or n.op_type in GEMM_OPS:
                continue
            seen.add(t)
            if n.op_type in ops:
                return True
            todo.extend((i, d + 1) for i in n.input if i and i not in const)
        return False

    def from_softmax(tensor: str) -> bool:
        return reaches(tensor, {"Softmax"}, 6)

    def need(tensor: str, node, what: str, rank: int | None = None) -> tuple[int, ...]:
        s = known.get(tensor)
        if s is None or any(d is None for d in s) or (rank is not None and len(s) != rank):
            raise InputError(src, f"node {node.name or node.op_type} ({node.op_type}) {what} "
                             f"{tensor!r}", "a static shape" + (f" of rank {rank}" if rank
                                                                else "")
                             + " after folding and shape inference", repr(s))
        return tuple(int(d) for d in s)

    layers: list[Layer] = []
    ops: list[str] = []
    operands: list[Operand] = []
    used: set[str] = set()

    def add(node, operand: Operand, **kw) -> None:
        base = node.name or f"{node.op_type}_{len(layers)}"
        lname, i = base, 1
        while lname in used:
            i += 1
            lname = f"{base}#{i}"
        used.add(lname)
        over = layer_limit(kw["m"], kw["n"], kw["k"])
        if over is not None:  # sched/limits.py: refused before any mask is drawn
            raise InputError(src, f"node {node.name or node.op_type} ({node.op_type})", *over)
        layers.append(Layer(name=lname, **kw))
        ops.append(node.op_type)
        operands.append(operand)

    nodes = sorted(g.node, key=lambda n: raw_order.get(n.output[0], len(raw_order)))
    skipped: Counter[str] = Counter()
    for node in nodes:
        op = node.op_type
        if op not in GEMM_OPS:
            skipped[op] += 1
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        zp_idx = _ZERO_POINT.get(op)
        zp = node.input[zp_idx] if zp_idx is not None and len(node.input) > zp_idx \
            and node.input[zp_idx] else None
        if op in CONV_OPS or op == "ConvTranspose":
            xi, wi = CONV_OPS.get(op, (0, 1))
            x = need(node.input[xi], node, "input")
            w = need(node.input[wi], node, "weight", len(x))
            group = int(attrs.get("group", 1))
            c_in = x[1]
            kind = "dwconv" if group > 1 and group == c_in else "conv"
            prod = _not_softmax(sparse_producer(node.input[xi]))
            a = Operand(node.input[xi], zp, "nchw", groups=group, producer=prod)
            if op == "ConvTranspose":
                # GEMM + col2im: rows = input pixels, K = C_in / group,
                # N = C_out / group x kernel positions (w is [C_in, C_out / group, k...])
                add(node, a, kind=kind, m=x[0] * math.prod(x[2:]),
                    n=w[1] * math.prod(w[2:]), k=c_in // group, groups=group,
                    act_sparse=bool(prod))
            else:
                y = need(node.output[0], node, "output", len(x))
                add(node, a, kind=kind, m=y[0] * math.prod(y[2:]), n=w[0] // group,
                    k=w[1] * math.prod(w[2:]), groups=group, act_sparse=bool(prod))
            continue
        if op == "Gemm":
            ai, bi = 0, 1
            a = need(node.input[0], node, "A", 2)
            b = need(node.input[1], node, "B", 2)
            ta, tb = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
            a_sh = (a[1], a[0]) if ta else a
            b_sh = (b[1], b[0]) if tb else b
            a_layout = "rows_t" if ta else "rows"
        else:
            ai, bi = MATMUL_OPS[op]
            a_sh = need(node.input[ai], node, "A")
            b_sh = need(node.input[bi], node, "B")
            a_layout = "rows"
        a_name, b_name = node.input[ai], node.input[bi]
        a_const, b_const = a_name in const, b_name in const
        if len(a_sh) == 1:
            a_sh = (1, *a_sh)
        if len(b_sh) == 1:
            b_sh = (*b_sh, 1)
        try:
            batch = _broadcast(a_sh[:-2], b_sh[:-2])
        except ValueError:
            raise InputError(src, f"node {node.name or op} ({op})", "broadcastable batch "
                             "dimensions", f"{a_sh} x {b_sh}") from None
        if a_const and not b_const:
            # weights x activations: run C^T = B^T A^T so the activation is the A operand
            m, k, n = b_sh[-1], b_sh[-2], a_sh[-2]
            groups = math.prod(batch)
            prod = _not_softmax(sparse_producer(b_name))
            # the activation as stored is [.., K, M], or [M, K] for Gemm with transB
            layout = ("batched_t" if len(b_sh) > 2 else
                      "rows" if op == "Gemm" and attrs.get("transB", 0) else "rows_t")
            operand = Operand(b_name, None if zp is None else _other_zp(node), layout,
                              batch=batch, producer=prod)
            add(node, operand, kind="fc", m=m, n=n, k=k, groups=groups, act_sparse=bool(prod))
            continue
        prod = _not_softmax(sparse_producer(a_name))
        if len(b_sh) == 2:  # one GEMM over the flattened leading dimensions of A
            m, groups, layout = math.prod(a_sh[:-1]), 1, a_layout
        else:
            m, groups, layout = a_sh[-2], math.prod(batch), "batched"
        k, n = a_sh[-1], b_sh[-1]
        if b_const:
            kind, sparse = "fc", bool(prod)
        elif from_softmax(a_name):
            kind, sparse, prod = "attn_pv", True, prod or "Softmax"
        else:
            kind, sparse = ("attn_qk" if groups > 1 or len(b_sh) > 2 else "matmul"), False
            prod = ""
        add(node, Operand(a_name, zp, layout, batch=batch, producer=prod), kind=kind, m=m,
            n=n, k=k, groups=groups, act_sparse=sparse)
    if not layers:
        raise InputError(src, "graph.node", f"at least one of {', '.join(GEMM_OPS)}", "none")
    arch = name or re.sub(r"[^a-z0-9-]", "", Path(src).stem.lower()) or "onnx"
    model = Model(key=f"{arch}_dense", arch=arch, pattern="dense", layers=tuple(layers))
    result = OnnxImport(model=model, ops=tuple(ops), operands=tuple(operands),
                        skipped=tuple(sorted(skipped.items(), key=lambda t: (-t[1], t[0]))),
                        folded=n_raw - len(g.node),
                        input_shapes=tuple(sorted(shapes.items())), folder=folder,
                        graph=g_model)
    log.info("%s: %d layers, %.4g MACs; %s", src, len(layers), model.macs,
             result.skipped_line())
    return result


def _not_softmax(producer: str) -> str:
    """Softmax outputs are sparse only as pruned attention probabilities (``attn_pv``)."""
    return "" if producer == "Softmax" else producer


def _other_zp(node) -> str | None:
    """Zero point of the *right* operand of an integer product (when it is the activation)."""
    idx = {"MatMulInteger": 3, "QLinearMatMul": 5}.get(node.op_type)
    return node.input[idx] if idx is not None and len(node.input) > idx and node.input[idx] \
        else None


def _broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """numpy broadcasting of two batch shapes (ValueError when incompatible)."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            raise ValueError(f"{a} vs {b}")
        out.append(max(x, y))
    return tuple(out)


def load_onnx(path: str | Path, *, name: str | None = None,
              input_shapes: Mapping[str, Sequence[int]] | None = None,
              shapes_where: tuple[str, str] | None = None) -> Model:
    """The `Model` of `import_onnx` (same arguments and errors)."""
    return import_onnx(path, name=name, input_shapes=input_shapes,
                       shapes_where=shapes_where).model


def operand_view(array, operand: Operand):
    """An operand's value (as run) viewed as the GEMM ``A``: ``[groups, M, K]``
    (`Operand.layout`)."""
    import numpy as np

    a = np.asarray(array)
    if operand.layout == "nchw":  # [N, C, *spatial] -> [groups, N x pixels, C / groups]
        n, c = a.shape[:2]
        g = operand.groups
        a = a.reshape(n, g, c // g, -1).transpose(1, 0, 3, 2)
        return a.reshape(g, -1, c // g)
    if operand.layout == "rows":
        a = a.reshape(1, -1) if a.ndim == 1 else a
        return a.reshape(1, -1, a.shape[-1])
    if operand.layout == "rows_t":
        return a.reshape(-1, a.shape[-1]).T[None]
    batch = operand.batch
    if operand.layout == "batched":
        a = a.reshape(1, -1) if a.ndim == 1 else a
        a = np.broadcast_to(a, (*batch, *a.shape[-2:]))
        return a.reshape(-1, *a.shape[-2:])
    if operand.layout == "batched_t":
        a = np.broadcast_to(a, (*batch, *a.shape[-2:]))
        return np.swapaxes(a.reshape(-1, *a.shape[-2:]), 1, 2)
    raise ValueError(f"unknown operand layout {operand.layout!r}")
