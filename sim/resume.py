"""Resumable sweeps: every finished run point is one Parquet part file of a dataset.

A point's part (``part-<id>.parquet``) holds one row group: the point's summary rows (one
per policy, with the experiment's axis columns and a ``sweep`` column), so the folder of parts
is a Parquet dataset pandas, polars or pyarrow read as one table. The file's key-value
metadata holds the sweep's digest (JSON) and the point's whole `PointResult` (every table,
exact values and types), from which a resumed run rebuilds it. The result is pickled, but
read back by an unpickler that refuses every global (`_PlainUnpickler`): only the plain
values a result holds (dicts, lists, tuples, text, numbers, None) load, so a part cannot run
code; pickling costs a fraction of JSON's float formatting. ``<id>`` hashes the sweep's
digest (`ExperimentSweep.digest`: the sweep as data, its axis columns, the program's files) and the
run-point key, so a changed experiment never reuses a stale point and a point is never stored
twice. Parts are written atomically (`mmsched.hw.paths.atomic_path`): a killed run leaves
whole parts only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from mmsched.hw.paths import atomic_path

from .experiment import PointResult

log = logging.getLogger(__name__)

PART_GLOB = "part-*.parquet"
META_KEY = b"mmsched.point"
RESULT_KEY = b"mmsched.point.result"


def _plain_pickle(value: Any) -> bytes:
    """``value`` pickled without the memo: the bytes depend on the values only, not on which
    objects are shared (a point simulated in a worker and one simulated here give the same
    part). Plain acyclic values only."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(value)
    return buf.getvalue()


class _PlainUnpickler(pickle.Unpickler):
    """Loads plain values only: any class or function reference is refused."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"a point part may hold plain values only, not "
                                     f"{module}.{name}")


def part_name(digest: str, key: tuple) -> str:
    """The file name of the part of the point ``key`` of the sweep with ``digest``."""
    h = hashlib.sha256(f"{digest}\n{json.dumps(list(key))}".encode()).hexdigest()
    return f"part-{h[:24]}.parquet"


def _table(rows: list[dict[str, Any]]):
    """A pyarrow table of ``rows``: columns in first-seen order; a column of texts and empty
    cells is text, of numbers and empty cells float (so every part of a sweep has one
    schema)."""
    import pyarrow as pa

    columns = list(dict.fromkeys(k for row in rows for k in row))
    arrays = {}
    for c in columns:
        vals = [row.get(c) for row in rows]
        vals = [None if v == "" else v for v in vals]
        if any(isinstance(v, str) for v in vals):
            arrays[c] = pa.array([None if v is None else str(v) for v in vals], pa.string())
        elif all(isinstance(v, bool) or v is None for v in vals):
            arrays[c] = pa.array(vals, pa.bool_())
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            arrays[c] = pa.array(vals, pa.int64())
        else:
            arrays[c] = pa.array([None if v is None else float(v) for v in vals], pa.float64())
    return pa.table(arrays)


def write_part(folder: Path, digest: str, result: PointResult,
               rows: list[dict[str, Any]]) -> Path:
    """Write one point's part atomically: ``rows`` (its labelled summary rows) as the row
    group, ``result`` as JSON metadata. Returns the part's path."""
    import pyarrow.parquet as pq

    table = _table(rows)
    record = {f.name: getattr(result, f.name) for f in fields(result)}  # rows: plain dicts
    path = folder / part_name(digest, result.key)
    # the metadata once, as the file's key-value metadata: not also inside a stored Arrow
    # schema (base64, which tripled the cost of a detail point's part)
    with atomic_path(path, suffix=".tmp") as tmp, \
            pq.ParquetWriter(tmp, table.schema, store_schema=False) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({META_KEY: json.dumps({"digest": digest}).encode(),
                                       RESULT_KEY: _plain_pickle(record)})
    return path


def read_part(path: Path) -> tuple[str, PointResult]:
    """``(digest, result)`` of a part file (ValueError when it is not one of ours)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if META_KEY not in meta or RESULT_KEY not in meta:
        raise ValueError(f"{path}: not an mmsched point part")
    doc = json.loads(meta[META_KEY])
    r = _PlainUnpickler(io.BytesIO(meta[RESULT_KEY])).load()
    return doc["digest"], PointResult(**r)


def finished(folders: Iterable[Path], digest: str, keys: Iterable[tuple]
             ) -> dict[tuple, tuple[PointResult, Path]]:
    """The points of ``keys`` already stored in ``folders`` (first found wins): key ->
    (result, part path). Unreadable parts (cut short by something other than a kill) are
    logged and ignored: their points run again."""
    out: dict[tuple, tuple[PointResult, Path]] = {}
    for key in keys:
        name = part_name(digest, key)
        for folder in folders:
            path = folder / name
            if not path.is_file():
                continue
            try:
                got_digest, result = read_part(path)
            except Exception as e:  # any damage means: run the point again
                log.warning("ignoring the unreadable part %s (%s)", path, e)
                continue
            if got_digest == digest and result.key == key:
                out[key] = (result, path)
                break
    return out


def clean_temporaries(folder: Path) -> None:
    """Remove temporary files a killed writer left in ``folder``."""
    if folder.is_dir():
        for p in folder.glob(".part-*"):
            with contextlib.suppress(OSError):
                os.remove(p)


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (a copy across file systems)."""
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
