"""SCALE-Sim topology CSV files -> `Model`.

Two layouts, told apart by the header row (SCALE-Sim v2/v3 ``topologies/``):

* convolution: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
  Num Filter, Strides[, Stride width],`` -- the IFMAP size includes any padding; SCALE-Sim's
  output size is ``ceil((ifmap - filter + stride) / stride)`` (its ``topo_calc_hyperparams``),
  so ``M = out_h x out_w``, ``N = Num Filter``, ``K = Filter Height x Filter Width x Channels``.
  A layer whose name contains ``DP`` is depthwise (SCALE-Sim runs it once per channel): one
  `Layer` with ``groups = Channels``, ``K = Filter Height x Filter Width``.
* GEMM: ``Layer, M, N, K`` (``topologies/GEMM_mnk``).

Rows may end with a comma and a comment (SCALE-Sim's own files have ``,#dw``); blank rows are
skipped. Every problem is one `InputError` naming the file, the line and the column.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from .errors import InputError
from .model import Layer, Model

CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                "Channels", "Num Filter", "Strides")
GEMM_COLUMNS = ("Layer", "M", "N", "K")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip().lower())


def _fields(row: str) -> list[str]:
    parts = [p.strip() for p in row.split(",")]
    while parts and (parts[-1] == "" or parts[-1].startswith("#")):
        parts.pop()
    return parts


def _check_size(src: str, no: int, m: int, n: int, k: int) -> None:
    """`InputError` at line ``no`` for a layer beyond `mmsched.sched.limits`."""
    from .limits import layer_limit

    over = layer_limit(m, n, k)
    if over is not None:
        raise InputError(src, f"line {no}", *over)


def load_topology(path: str | Path, *, name: str | None = None,
                  act_sparse: bool = True) -> Model:
    """Read a SCALE-Sim topology CSV as a `Model` (key ``<name>_dense``; ``name`` defaults to
    the file stem, lower-cased, without ``_``). ``act_sparse``: whether the layers' inputs carry
    dynamic sparsity (the first layer never does: it reads the network input)."""
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(src, "", "a readable topology CSV", e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise InputError(src, "", "UTF-8 text", "undecodable bytes") from None
    lines = text.splitlines()
    hdr_no = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if hdr_no is None:
        raise InputError(src, "line 1", "a header row", "an empty file")
    header = [_norm(h) for h in _fields(lines[hdr_no])]
    if header[:4] == [_norm(c) for c in GEMM_COLUMNS]:
        kind = "gemm"
        columns = GEMM_COLUMNS
    elif header[:8] == [_norm(c) for c in CONV_COLUMNS]:
        kind = "conv"
        columns = CONV_COLUMNS
    else:
        raise InputError(src, f"line {hdr_no + 1}", "a SCALE-Sim header ("
                         f"{', '.join(CONV_COLUMNS)}[, Stride width] or "
                         f"{', '.join(GEMM_COLUMNS)})", repr(lines[hdr_no].strip()[:80]))
    layers: list[Layer] = []
    seen: set[str] = set()
    for no, row in enumerate(lines[hdr_no + 1:], start=hdr_no + 2):
        f = _fields(row)
        if not f:
            continue
        need = len(columns)
        if len(f) < need or len(f) > need + (1 if kind == "conv" else 0):
            raise InputError(src, f"line {no}", f"{need} columns ({', '.join(columns)})"
                             + (" or one more (Stride width)" if kind == "conv" else ""),
                             f"{len(f)} columns")
        lname = f[0]
        if not lname:
            raise InputError(src, f"line {no}, column {columns[0]}", "a layer name", "''")
        vals = []
        for col, cell in zip((*columns[1:], "Stride width"), f[1:], strict=False):
            try:
                v = int(cell)
            except ValueError:
                raise InputError(src, f"line {no}, column {col}", "a positive integer",
                                 repr(cell)) from None
            if v < 1:
                raise InputError(src, f"line {no}, column {col}", "a positive integer",
                                 repr(cell))
            vals.append(v)
        unique = lname
        i = 1
        while unique in seen:
            i += 1
            unique = f"{lname}#{i}"
        seen.add(unique)
        sparse = act_sparse and bool(layers)
        if kind == "gemm":
            m, n, k = vals
            _check_size(src, no, m, n, k)
            layers.append(Layer(unique, "matmul", m=m, n=n, k=k, act_sparse=sparse))
            continue
        ih, iw, fh, fw, ch, nf, sh = vals[:7]
        sw = vals[7] if len(vals) > 7 else sh
        for col, filt, ifm in (("Filter Height", fh, ih), ("Filter Width", fw, iw)):
            if filt > ifm:
                raise InputError(src, f"line {no}, column {col}", "a filter no larger than the "
                                 "IFMAP", f"{filt} > {ifm}")
        oh = math.ceil((ih - fh + sh) / sh)
        ow = math.ceil((iw - fw + sw) / sw)
        _check_size(src, no, oh * ow, nf, fh * fw * (1 if "DP" in lname else ch))
        if "DP" in lname:
            layers.append(Layer(unique, "dwconv", m=oh * ow, n=nf, k=fh * fw, groups=ch,
                                act_sparse=sparse))
        else:
            kind_l = "fc" if oh * ow == 1 and fh * fw == 1 else "conv"
            layers.append(Layer(unique, kind_l, m=oh * ow, n=nf, k=fh * fw * ch,
                                act_sparse=sparse))
    if not layers:
        raise InputError(src, "", "at least one layer row", "none")
    arch = name or re.sub(r"[^a-z0-9-]", "", Path(src).stem.lower()) or "topology"
    return Model(key=f"{arch}_dense", arch=arch, pattern="dense", layers=tuple(layers))
