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
import io
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .compat import CompatFlags
from .errors import InputError
from .latency_table import LatencyTable
from .limits import MAX_LAYER_LATENCY_S

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
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(src, "", "a readable UTF-8 CSV file", type(e).__name__) from None
    nul = raw.find(b"\0")
    if nul >= 0:
        raise InputError(src, f"byte {nul}", "a UTF-8 text CSV file",
                         "binary data (a NUL byte)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(src, f"byte {e.start}", "a UTF-8 text CSV file",
                         f"bytes that are not UTF-8 ({raw[e.start:e.start + 4]!r})") from None
    # the text as the former line-by-line reader saw it (universal newlines)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first, _, body = text.partition("\n")
    header = [c.strip() for c in next(csv.reader([first]), [])]
    if not any(header):
        raise InputError(src, "line 1", "a header row", "an empty file")
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
    seq = _seq_len_of(key, src, compat, seq_len) if kind == "sanger" else 0
    cols = _Columns.parse(body, header, need, src)
    lat_a, sp_a = cols.tables(kind, seq)
    if kind == "sanger":
        arch, pattern = key, "dense"
    else:
        arch, _, pattern = key.partition("_")
        pattern = pattern or "dense"
    return LatencyTable(key=key, arch=arch, pattern=pattern, latency_s=lat_a, sparsity=sp_a,
                        source=src), kind


def _big(i: int) -> str:
    """An index for a message: exact below a billion, else 6 significant digits."""
    return str(i) if i < 10**9 else f"{float(i):.6g}"


class _Columns:
    """The needed columns of a CSV body as float64 arrays, validated column by column.

    `parse` reads the body with numpy's C parser (`numpy.loadtxt`); when that refuses the text
    (a cell that is not a number, a short row, a blank row, a Python-only number spelling such
    as ``1_000``) it falls back to Python's ``csv`` module and ``float`` per cell, recording
    which cells failed. `tables` then checks whole columns (vectorised) and reports the first
    bad cell in file order (line, column, the cell's text), as a reader going row by row would:
    within a row, a short row first, then the columns in the order batch-indx, layer-indx,
    overall-sparsity, sim_lat / 50%-skip, then a repeated (sample, layer).
    """

    def __init__(self, src: str, body: str, header: list[str], need: tuple[str, ...],
                 values: dict[str, np.ndarray], bad: dict[str, np.ndarray] | None,
                 short: np.ndarray | None, rows: list | None) -> None:
        self.src, self.body, self.header, self.need = src, body, header, need
        self.values, self.bad, self.short, self._rows = values, bad, short, rows

    @classmethod
    def parse(cls, body: str, header: list[str], need: tuple[str, ...],
              src: str) -> _Columns:
        idx = [header.index(c) for c in need]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "input contained no data": checked below
                data = np.loadtxt(io.StringIO(body), dtype=np.float64, delimiter=",",
                                  comments=None, quotechar='"', usecols=idx, ndmin=2)
        except ValueError:
            data = None
        if data is not None:
            values = {c: data[:, i] for i, c in enumerate(need)}
            return cls(src, body, header, need, values, None, None, None)
        # the exact path: every row as the csv module reads it, every cell through float()
        rows = cls._data_rows(body)
        width = len(header)
        short = np.fromiter((len(r) < width for _, r in rows), dtype=bool, count=len(rows))
        values, bad = {}, {}
        for c, i in zip(need, idx, strict=True):
            out = np.empty(len(rows))
            fail = np.zeros(len(rows), dtype=bool)
            for k, (_, r) in enumerate(rows):
                try:
                    out[k] = float(r[i])
                except (ValueError, IndexError):
                    out[k] = np.nan
                    fail[k] = True
            values[c], bad[c] = out, fail
        return cls(src, body, header, need, values, bad, short, rows)

    @staticmethod
    def _data_rows(body: str) -> list[tuple[int, list[str]]]:
        """``(line number, cells)`` of every non-blank data row (line 1 is the header)."""
        return [(ln, row) for ln, row in enumerate(csv.reader(body.splitlines()), start=2)
                if row and any(c.strip() for c in row)]

    def _row(self, k: int) -> tuple[int, list[str]]:
        if self._rows is None:
            self._rows = self._data_rows(self.body)
        return self._rows[k]

    def _cell(self, k: int, col: str) -> str:
        return self._row(k)[1][self.header.index(col)]

    def tables(self, kind: str, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
        """``(latency_s, sparsity)`` as ``[samples, layers]`` arrays; `InputError` at the
        first bad cell."""
        src, v = self.src, self.values
        n = len(v["batch-indx"])
        if n == 0:
            raise InputError(src, "line 2", "at least one data row", "none")
        checks: list[tuple[np.ndarray, str, str]] = []  # (bad rows, column, expected), in order
        if self.short is not None:
            checks.append((self.short, "", ""))

        def number(col: str, ok: np.ndarray, expected: str) -> None:
            x = v[col]
            finite = np.isfinite(x)
            if self.bad is not None:  # cells float() refused (stored as NaN)
                checks.append((self.bad[col], col, "a number"))
                checks.append((~finite & ~self.bad[col], col, "a finite number"))
            else:
                checks.append((~finite, col, "a finite number"))
            checks.append((finite & ~ok, col, expected))

        b, j, sp = v["batch-indx"], v["layer-indx"], v["overall-sparsity"]
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for col, x in (("batch-indx", b), ("layer-indx", j)):
                number(col, (x >= 0) & (x == np.floor(x)), "an integer >= 0")
            if kind == "eyeriss":
                number("overall-sparsity", (sp >= 0.0) & (sp <= 1.0), "a fraction in [0, 1]")
                lat = v["sim_lat"]
                number("sim_lat", lat >= 0, "a latency >= 0 (seconds)")
                checks.append((np.isfinite(lat) & (lat > MAX_LAYER_LATENCY_S), "sim_lat",
                               f"a latency <= {MAX_LAYER_LATENCY_S:g} s (MAX_LAYER_LATENCY_S, "
                               f"the largest layer latency accepted)"))
                sparsity = sp
            else:
                number("overall-sparsity", (sp > 0.0) & (sp <= 1.0), "a density in (0, 1]")
                u = v["50%-skip"]
                number("50%-skip", u > 0.0, "a utilisation > 0")
                lat = sanger_latency_s(sp, u, seq_len)
                checks.append((np.isfinite(u) & (u > 0) & ~(lat <= MAX_LAYER_LATENCY_S),
                               "50%-skip", f"a utilisation giving a layer latency <= "
                               f"{MAX_LAYER_LATENCY_S:g} s (MAX_LAYER_LATENCY_S)"))
                sparsity = 1 - sp  # the artifact stores 1 - density; gamma uses 1 - that
        first = n
        where: tuple[str, str] | None = None
        for mask, col, expected in checks:
            hit = np.flatnonzero(mask[:first])  # only rows before the best so far
            if hit.size:
                first, where = int(hit[0]), (col, expected)
        # a repeated (sample, layer) is an error of its row, after the row's cell checks;
        # indices stay float64 (exact integers here) until they are known to be small
        _, first_of = np.unique(np.stack([b[:first], j[:first]], axis=1), axis=0,
                                return_index=True)
        dup = np.ones(first, dtype=bool)
        dup[first_of] = False
        hit = np.flatnonzero(dup)
        if hit.size:
            k = int(hit[0])
            ln = self._row(k)[0]
            raise InputError(src, f"line {ln}", "one row per (batch-indx, layer-indx)",
                             f"a second row for sample {int(b[k])}, layer {int(j[k])}")
        if where is not None:
            ln, row = self._row(first)
            col, expected = where
            if not col:
                raise InputError(src, f"line {ln}", f"{len(self.header)} cells", f"{len(row)}")
            cell = self._cell(first, col)
            found = repr(cell)
            if col == "50%-skip" and "latency" in expected:
                found = f"{cell!r} (a layer latency of {float(lat[first]):.3g} s)"
            raise InputError(src, f"line {ln}, column {col}", expected, found)
        return self._grid(b, j, lat, sparsity)

    def _grid(self, b: np.ndarray, j: np.ndarray, lat: np.ndarray,
              sparsity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scatter the rows (distinct integer-valued index pairs) into ``[samples,
        layers]``, refusing gaps in either index (an index may be huge: no array is sized by
        it before the gap checks)."""
        src, n = self.src, len(b)
        samples = np.unique(b)
        n_s = int(samples[-1]) + 1
        if samples.size != n_s:
            gap = int(np.flatnonzero(samples != np.arange(samples.size))[0])
            raise InputError(src, "column batch-indx",
                             f"sample indices 0..{_big(n_s - 1)} without gaps",
                             f"no rows for sample {gap}")
        n_l = int(j.max()) + 1
        if n != n_s * n_l:  # rows are distinct pairs: some (sample, layer) is missing
            bi = b.astype(np.int64)  # < n_s <= n here
            counts = np.bincount(bi, minlength=n_s)
            s0 = int(np.flatnonzero(counts < n_l)[0])
            have = np.sort(j[bi == s0])
            miss = np.flatnonzero(have != np.arange(have.size))
            layer = int(miss[0]) if miss.size else int(have.size)
            raise InputError(src, "column layer-indx",
                             f"layer indices 0..{_big(n_l - 1)} for every sample",
                             f"no layer {layer} for sample {s0}")
        b, j = b.astype(np.int64), j.astype(np.int64)
        lat_a = np.empty((n_s, n_l))
        sp_a = np.empty((n_s, n_l))
        lat_a[b, j] = lat
        sp_a[b, j] = sparsity
        return lat_a, sp_a


def _a_kind(kind: str) -> str:
    """``"an Eyeriss CSV"``, ``"a Sanger CSV"``."""
    name = kind.capitalize()
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name} CSV"


def load_csv_dir(path: str | os.PathLike, *, compat: CompatFlags = _FIXED,
                 seq_len: int | Mapping[str, int] | None = None) -> list[LatencyTable]:
    """Every ``*.csv`` of a directory, sorted by file name (`CompatFlags.listing_order`:
    the file system's listing order, like the artifact). All must be of one kind.

    Raises InputError for a missing or empty directory, a bad file (`load_csv`), a sample
    whose layers take no time in total, keys of one architecture with different layer
    counts, two files with one key, or Eyeriss and Sanger files mixed.
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
    first_of_arch: dict[str, LatencyTable] = {}
    for t in tables:
        zero = np.flatnonzero(~(t.latency_s.sum(axis=1) > 0))
        if zero.size:  # a request of it would take no time (no isolated latency to scale by)
            raise InputError(t.source, "", "a positive total latency over the layers of "
                             "every sample", f"0 s for sample {int(zero[0])}")
        other = first_of_arch.setdefault(t.arch, t)
        if other.layers != t.layers:
            raise InputError(t.source, "column layer-indx", f"{other.layers} layers like "
                             f"{other.source} (one architecture, {t.arch!r})",
                             f"{t.layers} layers")
        if t.key in seen:
            raise InputError(t.source, "file name", "a unique model key (name up to its "
                             "first '.')", f"{t.key!r}, also from {seen[t.key]}")
        seen[t.key] = t.source
    for t, kind in loaded[1:]:
        if kind != loaded[0][1]:
            raise InputError(t.source, "line 1 (header)", f"{_a_kind(loaded[0][1])} like "
                             f"{loaded[0][0].source} (one kind per directory)", _a_kind(kind))
    return tables
