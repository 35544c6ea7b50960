"""The Dysta artifact's workloads: CSV import, static tables, request tables.

Formats (REFERENCE.md section 4): one CSV per model key, one row per (sample, layer).

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

Two modes (`CompatFlags`): in compat mode (any flag set) times are the artifact's float
seconds and the request table is the artifact's exact Python ``random`` stream; in fixed
mode times are integer cycles at ``clock_hz`` and requests come from a numpy ``Generator``
seeded by ``(seed, seed_index, rate)``. See `dysta_workloads`.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import random
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .compat import CompatFlags
from .errors import InputError
from .latency_table import LatencyTable
from .model import Layer, Model
from .static import ModelProfile, StaticTables
from .workload import PRIORITIES, Request, Workload, poisson_arrivals

__all__ = ["ATTNN_SEQ_LEN", "EYERISS_COLUMNS", "SANGER_COLUMNS", "dysta_workload",
           "dysta_workloads", "load_csv", "load_csv_dir", "sanger_latency_s", "static_tables",
           "table_models"]

EYERISS_COLUMNS = ("sim_lat", "overall-sparsity", "batch-indx", "layer-indx")
SANGER_COLUMNS = ("overall-sparsity", "50%-skip", "batch-indx", "layer-indx")
ATTNN_SEQ_LEN = {"bert": 384, "bart": 128, "gpt2": 128}
"""Sequence lengths of the Dysta paper's AttNN benchmark (section 2), by architecture."""
_ARTIFACT_SEQ_LEN = 512
_ARTIFACT_SAMPLE_IDS = 7  # the artifact draws sample ids from 0..6 (defect 1)
_FIXED = CompatFlags()


def sanger_latency_s(density: float, utilisation: float, seq_len: int) -> float:
    """Latency in seconds of one attention layer on the Sanger-like engine (64x64 PEs, 1 GHz).

    REFERENCE.md section 4, evaluated in the artifact's operation order (so results agree bit
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


def table_models(tables: Sequence[LatencyTable]) -> dict[str, Model]:
    """One `Model` of ``table`` layers per latency table, keyed by the table's key."""
    out: dict[str, Model] = {}
    for t in tables:
        layers = tuple(Layer(name=f"layer{j}", kind="table", m=0, n=0, k=0)
                       for j in range(t.layers))
        out[t.key] = Model(key=t.key, arch=t.arch, pattern=t.pattern, layers=layers)
    return out


def _fold(values) -> float:
    acc = 0.0
    for v in values:
        acc += v
    return acc


def static_tables(tables: Sequence[LatencyTable], *, time_unit: str = "cycles",
                  clock_hz: float | None = None,
                  samples: Sequence[int] | None = None) -> StaticTables:
    """Dysta's static tables from latency tables (REFERENCE.md section 1).

    Per key ("pattern"): per-layer mean latency and mean sparsity over ``samples`` (default:
    all), density ``1 - mean sparsity``, isolated latency = mean over samples of the
    per-sample sum. Per architecture: the sample-count-weighted means over its keys, in the
    order of ``tables`` (a key that is its own architecture, as Sanger's, is copied). The
    arithmetic follows the artifact's order, so compat values agree bit for bit. Times are
    in ``time_unit``: seconds, or cycles at ``clock_hz`` (each layer time rounded to a whole
    cycle first, as the table backend serves it).

    Raises ValueError for an empty sequence, an empty sample selection or a zero isolated
    latency (policies divide by it).
    """
    if not tables:
        raise ValueError("static_tables needs at least one latency table")
    if time_unit not in ("cycles", "seconds"):
        raise ValueError(f"time_unit must be 'cycles' or 'seconds', not {time_unit!r}")
    if time_unit == "cycles" and not (clock_hz is not None and clock_hz > 0):
        raise ValueError(f"clock_hz must be a positive number of Hz for cycles, not "
                         f"{clock_hz!r}")
    pattern: dict[str, ModelProfile] = {}
    raw: dict[str, tuple[int, float, np.ndarray, np.ndarray]] = {}
    for t in tables:
        idx = list(range(t.samples)) if samples is None else [s for s in samples
                                                               if 0 <= s < t.samples]
        if not idx:
            raise ValueError(f"{t.key}: no profiling samples selected")
        lat = t.latency_s if time_unit == "seconds" else np.rint(t.latency_s * clock_hz)
        acc_l = np.zeros(t.layers)
        acc_s = np.zeros(t.layers)
        e2e = []
        for s in idx:
            acc_l = acc_l + lat[s]
            acc_s = acc_s + t.sparsity[s]
            e2e.append(_fold(lat[s].tolist()))
        avg_l = np.divide(acc_l, len(idx))
        avg_s = np.divide(acc_s, len(idx))
        iso = float(np.mean(e2e))
        if not iso > 0:
            raise ValueError(f"{t.key}: mean isolated latency must be positive, found {iso}")
        pattern[t.key] = ModelProfile(key=t.key, layer_latency=tuple(avg_l.tolist()),
                                      layer_density=tuple((1 - avg_s).tolist()),
                                      isolated_latency=iso, samples=len(idx))
        raw[t.key] = (len(idx), iso, avg_l, avg_s)
    groups: dict[str, list[LatencyTable]] = {}
    for t in tables:
        groups.setdefault(t.arch, []).append(t)
    arch: dict[str, ModelProfile] = {}
    for a, members in groups.items():
        if len(members) == 1 and members[0].key == a:
            p = pattern[a]
            arch[a] = p
            continue
        lens = {m.layers for m in members}
        if len(lens) != 1:
            raise ValueError(f"architecture {a!r}: its keys have different layer counts "
                             f"{sorted(lens)}")
        total = 0
        iso_acc = 0.0
        lat_acc = np.zeros(members[0].layers)
        sp_acc = np.zeros(members[0].layers)
        for m in members:
            nb, iso, avg_l, avg_s = raw[m.key]
            total += nb
            iso_acc += nb * iso
            lat_acc = lat_acc + nb * avg_l
            sp_acc = sp_acc + nb * avg_s
        arch[a] = ModelProfile(key=a, layer_latency=tuple((lat_acc / total).tolist()),
                               layer_density=tuple((1 - sp_acc / total).tolist()),
                               isolated_latency=iso_acc / total, samples=total)
    return StaticTables(pattern=pattern, arch=arch, arch_of={t.key: t.arch for t in tables})


def _check_rate(rate: float, compat: CompatFlags) -> None:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
            or not math.isfinite(rate) or rate <= 0:
        raise InputError("arrival rate", "", "a positive number of requests per second",
                         repr(rate))
    if compat.integer_rates and not float(rate).is_integer():
        raise InputError("arrival rate", "compat mode (the artifact parses rates as int)",
                         "an integer number of requests per second", repr(rate))


def dysta_workloads(tables: Sequence[LatencyTable], *, rates: Sequence[float],
                    num_requests: int, slo: float, seed: int = 1, seed_index: int = 0,
                    compat: CompatFlags = _FIXED, clock_hz: float | None = None,
                    static: StaticTables | None = None) -> list[Workload]:
    """The Dysta request tables of one seed index, one `Workload` per rate (in order).

    Compat mode (``compat.any``): the artifact's stream (REFERENCE.md section 1):
    ``random.seed(seed + seed_index)`` once, then for each rate in order ``num_requests``
    times ``expovariate(rate)`` (the arrival is the running sum, the first one included),
    ``randint(0, n_models - 1)``, ``randint(0, 2)`` (priority 1/3/9) and the sample id
    (``randint(0, 6)`` under `CompatFlags.sample_ids_0_to_6`, else over all samples); times
    in float seconds. Fixed mode: per rate a numpy Generator seeded by ``(seed, seed_index,
    bits of rate)``, first arrival at 0, every sample drawable, integer cycles at
    ``clock_hz``. Both: deadline = arrival + architecture mean isolated latency x ``slo``;
    the model list is ``tables`` in the order given.

    ``static``: the static tables for the deadlines (default: `static_tables` of ``tables``
    in the mode's time unit). ``clock_hz`` is required in fixed mode.

    Raises InputError for a non-positive (or, with `CompatFlags.integer_rates`,
    non-integer) rate; ValueError for bad counts, SLO or clock.
    """
    if not tables:
        raise ValueError("dysta_workloads needs at least one latency table")
    if not isinstance(num_requests, int) or num_requests < 1:
        raise ValueError(f"num_requests must be a positive integer, not {num_requests!r}")
    if not (isinstance(slo, numbers.Real) and math.isfinite(slo) and slo > 0):
        raise ValueError(f"slo must be a positive number, not {slo!r}")
    for r in rates:
        _check_rate(r, compat)
    mode = compat.any
    if clock_hz is None and mode:
        clock_hz = 1.0  # compat times are seconds; the clock is only carried for reports
    if clock_hz is None or not clock_hz > 0:
        raise ValueError(f"clock_hz must be a positive number of Hz, not {clock_hz!r}")
    unit = "seconds" if mode else "cycles"
    st = static if static is not None else static_tables(tables, time_unit=unit,
                                                          clock_hz=clock_hz)
    models = table_models(tables)
    keys = [t.key for t in tables]
    n_models = len(keys)
    target = [st.arch[st.arch_of[k]].isolated_latency for k in keys]
    n_samples = [t.samples for t in tables]
    out = []
    if mode:
        if compat.sample_ids_0_to_6:
            short = [t for t in tables if t.samples < _ARTIFACT_SAMPLE_IDS]
            if short:
                raise InputError(short[0].source, "column batch-indx",
                                 f"at least {_ARTIFACT_SAMPLE_IDS} samples (the artifact draws "
                                 f"sample ids 0..6)", f"{short[0].samples}")
        gen = random.Random(seed + seed_index)
        for rate in rates:
            reqs = []
            t_s = 0.0
            rate_arg = int(rate) if compat.integer_rates else rate
            for i in range(num_requests):
                t_s += gen.expovariate(rate_arg)
                m = gen.randint(0, n_models - 1)
                prio = PRIORITIES[gen.randint(0, 2)]
                hi = _ARTIFACT_SAMPLE_IDS - 1 if compat.sample_ids_0_to_6 else n_samples[m] - 1
                s = gen.randint(0, hi)
                reqs.append(Request(id=i, model=keys[m], sample=s, arrival=t_s,
                                    deadline=t_s + target[m] * slo, priority=prio))
            out.append(_workload(models, reqs, clock_hz, "seconds", rate, slo, seed,
                                 seed_index))
        return out
    for rate in rates:
        bits = struct.unpack("<Q", struct.pack("<d", float(rate)))[0]
        rng = np.random.default_rng([seed, seed_index, bits])
        arr = poisson_arrivals(float(rate), num_requests, rng, clock_hz)
        ms = rng.integers(0, n_models, size=num_requests)
        ps = rng.integers(0, len(PRIORITIES), size=num_requests)
        ss = rng.integers(0, np.asarray(n_samples)[ms])
        reqs = [Request(id=i, model=keys[m], sample=int(s), arrival=int(a),
                        deadline=int(a) + int(round(target[m] * slo)),
                        priority=PRIORITIES[p])
                for i, (a, m, p, s) in enumerate(zip(arr.tolist(), ms.tolist(), ps.tolist(),
                                                     ss.tolist(), strict=True))]
        out.append(_workload(models, reqs, clock_hz, "cycles", rate, slo, seed, seed_index))
    return out


def _workload(models, reqs, clock_hz, unit, rate, slo, seed, seed_index) -> Workload:
    return Workload(models=models, requests=tuple(reqs), clock_hz=clock_hz, time_unit=unit,
                    name=f"dysta rate={rate:g} slo={slo:g} seed={seed}+{seed_index}",
                    meta={"rate": float(rate), "slo": float(slo), "seed": seed,
                          "seed_index": seed_index,
                          "mode": "compat" if unit == "seconds" else "fixed"})


def dysta_workload(tables: Sequence[LatencyTable], *, rate: float, num_requests: int,
                   slo: float, seed: int = 1, seed_index: int = 0,
                   compat: CompatFlags = _FIXED, clock_hz: float | None = None,
                   static: StaticTables | None = None) -> Workload:
    """One rate's request table: `dysta_workloads` with ``rates=[rate]``.

    In compat mode this equals the artifact run with that single rate; the artifact draws
    all rates of a seed from one stream, so for its multi-rate runs use `dysta_workloads`.
    """
    return dysta_workloads(tables, rates=[rate], num_requests=num_requests, slo=slo,
                           seed=seed, seed_index=seed_index, compat=compat,
                           clock_hz=clock_hz, static=static)[0]
