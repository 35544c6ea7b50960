"""The Dysta artifact's CSV files: import and validation into `LatencyTable` s.

Formats (docs/workloads.md, "Dysta CSV files"): one CSV per model key, one row per (sample,
layer).

- Eyeriss (CNN): columns ``sim_lat`` (seconds), ``overall-sparsity`` (fraction of zero input
  activations), ``batch-indx``, ``layer-indx``. The key is the file name up to its first
  ``.``; the architecture is the key up to its first ``_`` (``resnet50_unstructured20`` ->
  ``resnet50``), the pattern the rest.
- Sanger (AttNN): columns ``overall-sparsity`` (here a *density*, the fraction of attention
  kept), ``50%-skip`` (PE utilisation), ``batch-indx``, ``layer-indx``; the layer latency is
  computed by `sanger_latency_s`. Each key is its own architecture; the stored sparsity is
  ``1 - density``.

The kind is detected from the columns. Every file is validated once: any problem raises one
`InputError` naming the file, the line (1 = header) and column, what was expected and found.
Sample ids are the ``batch-indx`` values, which must be ``0..S-1``; layer indices must be
``0..L-1`` for every sample.

Static tables come from `mmsched.sched.static.static_tables`, request tables from
`mmsched.sched.streams.poisson_workloads`.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .compat import CompatFlags
from .errors import InputError
from .latency_table import LatencyTable

__all__ = ["ATTNN_SEQ_LEN", "EYERISS_COLUMNS", "SANGER_COLUMNS", "load_csv", "load_csv_dir",
           "sanger_latency_s"]

EYERISS_COLUMNS = ("sim_lat", "overall-sparsity", "batch-indx", "layer-indx")
SANGER_COLUMNS = ("overall-sparsity", "50%-skip", "batch-indx", "layer-indx")
ATTNN_SEQ_LEN = {"bert": 384, "bart": 128, "gpt2": 128}
"""Sequence lengths of the Dysta paper's AttNN benchmark (section 2), by architecture."""
_ARTIFACT_SEQ_LEN = 512
_FIXED = CompatFlags()


def sanger_latency_s(density: float, utilisation: float, seq_len: int) -> float:
    """Latency in seconds of one attention layer on the Sanger-like engine (64x64 PEs, 1 GHz).

    docs/workloads.md, evaluated in the artifact's operation order (so results agree bit
    for bit): QKV projections at 2048 GOPS, the sparse-attention projection at
    ``2048 / d * u`` GOPS, and ``n / 64`` passes of ``((768 + 64) + (n + 64)) * S / 64``
    cycles with ``n = d / u / 0.25 * S`` packed sub-rows.
    """
    hidden, tile, gops = 768, 64, 64 * 16 * 1 * 2
    subrows = density / utilisation / 0.25 * seq_len
    proj_gops = gops / density * utilisation
    lat_linear = seq_len * hidden * hidden * 2 * 3 / 1e9 / gops
    lat_project = seq_len * hidden * hidden * 2 / 1e9 / proj_gops
    tile_cycles = (hidden + tile) + (subrows + tile)
    row_cycles = tile_cycles * (seq_len / tile) * 1.0  # bandwidth coefficient: exactly 1
    total_cycles = (subrows / tile) * row_cycles
    return lat_linear + total_cycles / 1e9 + lat_project


def _number(cell: str, src: str, line: int, col: str) -> float:
    try:
        v = float(cell)
    except ValueError:
        raise InputError(src, f"line {line}, column {col}", "a number", repr(cell)) from None
    if not math.isfinite(v):
        raise InputError(src, f"line {line}, column {col}", "a finite number", repr(cell))
    return v


def _index(cell: str, src: str, line: int, col: str) -> int:
    v = _number(cell, src, line, col)
    if v < 0 or not v.is_integer():
        raise InputError(src, f"line {line}, column {col}", "an integer >= 0", repr(cell))
    return int(v)


def _seq_len_of(key: str, src: str, compat: CompatFlags,
                seq_len: int | Mapping[str, int] | None) -> int:
    if compat.attnn_seq512:
        return _ARTIFACT_SEQ_LEN
    arch = key.split("_")[0]
    if isinstance(seq_len, int):
        return seq_len
    known = dict(ATTNN_SEQ_LEN)
    if seq_len is not None:
        known.update(seq_len)
    for name in (key, arch):
        if name in known:
            return int(known[name])
    raise InputError(src, "sequence length", f"a known AttNN ({', '.join(sorted(known))}) or "
                     f"seq_len=...", repr(key))


def load_csv(path: str | os.PathLike, *, compat: CompatFlags = _FIXED,
             seq_len: int | Mapping[str, int] | None = None) -> LatencyTable:
    """Read one Eyeriss or Sanger CSV (see module docstring) into a `LatencyTable`.

    ``seq_len``: Sanger sequence length (an int for every file, or a mapping from key or
    architecture); default `ATTNN_SEQ_LEN`. `CompatFlags.attnn_seq512` forces 512 (defect 7).

    Raises
    ------
    InputError
        Unreadable file, missing column, non-numeric or out-of-range cell, duplicate
        (sample, layer), gaps in sample or layer indices.
    """
    return _load_csv(path, compat, seq_len)[0]


def _load_csv(path: str | os.PathLike, compat: CompatFlags,
              seq_len: int | Mapping[str, int] | None) -> tuple[LatencyTable, str]:
    p = Path(path)
    src = str(p)
    key = p.name.split(".")[0]
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(src, "", "a readable UTF-8 CSV file", type(e).__name__) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputError(src, "line 1", "a header row", "an empty file")
    header = [c.strip() for c in rows[0]]
    if "sim_lat" in header:
        kind, need = "eyeriss", EYERISS_COLUMNS
    elif "50%-skip" in header:
        kind, need = "sanger", SANGER_COLUMNS
    else:
        raise InputError(src, "line 1 (header)",
                         f"columns {','.join(EYERISS_COLUMNS)} (Eyeriss) or "
                         f"{','.join(SANGER_COLUMNS)} (Sanger)", repr(",".join(header)))
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError(src, f"line 1 (header), column {missing[0]}",
                         f"columns {','.join(need)} ({kind.capitalize()})",
                         f"no column {missing[0]!r} in {','.join(header)!r}")
    col = {c: header.index(c) for c in need}
    cells: dict[tuple[int, int], tuple[float, float]] = {}
    seq = _seq_len_of(key, src, compat, seq_len) if kind == "sanger" else 0
    for ln, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise InputError(src, f"line {ln}", f"{len(header)} cells", f"{len(row)}")
        b = _index(row[col["batch-indx"]], src, ln, "batch-indx")
        j = _index(row[col["layer-indx"]], src, ln, "layer-indx")
        sp = _number(row[col["overall-sparsity"]], src, ln, "overall-sparsity")
        if kind == "eyeriss":
            if not 0.0 <= sp <= 1.0:
                raise InputError(src, f"line {ln}, column overall-sparsity",
                                 "a fraction in [0, 1]", repr(row[col["overall-sparsity"]]))
            lat = _number(row[col["sim_lat"]], src, ln, "sim_lat")
            if lat < 0:
                raise InputError(src, f"line {ln}, column sim_lat", "a latency >= 0 (seconds)",
                                 repr(row[col["sim_lat"]]))
            sparsity = sp
        else:
            if not 0.0 < sp <= 1.0:
                raise InputError(src, f"line {ln}, column overall-sparsity",
                                 "a density in (0, 1]", repr(row[col["overall-sparsity"]]))
            u = _number(row[col["50%-skip"]], src, ln, "50%-skip")
            if not u > 0.0:
                raise InputError(src, f"line {ln}, column 50%-skip", "a utilisation > 0",
                                 repr(row[col["50%-skip"]]))
            lat = sanger_latency_s(sp, u, seq)
            sparsity = 1 - sp  # the artifact stores 1 - density; gamma uses 1 - that
        if (b, j) in cells:
            raise InputError(src, f"line {ln}", "one row per (batch-indx, layer-indx)",
                             f"a second row for sample {b}, layer {j}")
        cells[(b, j)] = (lat, sparsity)
    if not cells:
        raise InputError(src, "line 2", "at least one data row", "none")
    samples = sorted({b for b, _ in cells})
    layers = sorted({j for _, j in cells})
    n_s, n_l = samples[-1] + 1, layers[-1] + 1
    if len(samples) != n_s:
        gap = next(i for i in range(n_s) if i not in set(samples))
        raise InputError(src, "column batch-indx", f"sample indices 0..{n_s - 1} without gaps",
                         f"no rows for sample {gap}")
    for b in samples:
        for j in range(n_l):
            if (b, j) not in cells:
                raise InputError(src, "column layer-indx",
                                 f"layer indices 0..{n_l - 1} for every sample",
                                 f"no layer {j} for sample {b}")
    lat_a = np.empty((n_s, n_l))
    sp_a = np.empty((n_s, n_l))
    for (b, j), (lat, sparsity) in cells.items():
        lat_a[b, j] = lat
        sp_a[b, j] = sparsity
    if kind == "sanger":
        arch, pattern = key, "dense"
    else:
        arch, _, pattern = key.partition("_")
        pattern = pattern or "dense"
    return LatencyTable(key=key, arch=arch, pattern=pattern, latency_s=lat_a, sparsity=sp_a,
                        source=src), kind


def load_csv_dir(path: str | os.PathLike, *, compat: CompatFlags = _FIXED,
                 seq_len: int | Mapping[str, int] | None = None) -> list[LatencyTable]:
    """Every ``*.csv`` of a directory, sorted by file name (`CompatFlags.listing_order`:
    the file system's listing order, like the artifact). All must be of one kind.

    Raises InputError for a missing or empty directory, a bad file (`load_csv`), two files
    with one key, or Eyeriss and Sanger files mixed.
    """
    d = Path(path)
    if not d.is_dir():
        raise InputError(str(d), "", "a directory of Dysta CSV files",
                         "a file" if d.exists() else "nothing")
    names = [n for n in os.listdir(d) if n.endswith(".csv")]
    if not compat.listing_order:
        names.sort()
    if not names:
        raise InputError(str(d), "", "at least one .csv file", "none")
    loaded = [_load_csv(d / n, compat, seq_len) for n in names]
    tables = [t for t, _ in loaded]
    seen: dict[str, str] = {}
    for t in tables:
        if t.key in seen:
            raise InputError(t.source, "file name", "a unique model key (name up to its "
                             "first '.')", f"{t.key!r}, also from {seen[t.key]}")
        seen[t.key] = t.source
    for t, kind in loaded[1:]:
        if kind != loaded[0][1]:
            raise InputError(t.source, "line 1 (header)", f"a {loaded[0][1]} CSV like "
                             f"{loaded[0][0].source} (one kind per directory)", f"a {kind} CSV")
    return tables
