"""The static (offline) part of Dysta from the timing backend: profile, then average.

`run_profile` runs a timing backend (the exact cycle model by default) over every layer of
every model for a set of samples and records cycles, the monitor's non-zero and total counts
and energy. `static_tables_from_runs` averages the *profiling* samples into the
per-(model, pattern, layer) latency and density tables (`StaticTables`) that the Dysta
policies and the hardware scheduler's LUTs use; experiments draw their requests from the other,
*held-out* samples. Results are cached on disk (``build/cache/profile-<hash>.npz``) under a key
the caller derives from everything the numbers depend on.
"""

from __future__ import annotations

import json
import logging
import math
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmsched.hw.paths import atomic_open

from .errors import InputError, read_json
from .latency_table import LatencyTable
from .model import Model
from .static import ModelProfile, StaticTables

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ProfileRun:
    """Counters of one model key over ``samples`` (rows) x layers (columns).

    ``cycles`` in the accelerator's clock (``clock_hz``); ``nnz``/``total``: the monitor's
    counts of non-zero / all input activations; ``energy_pj``.
    """

    key: str
    arch: str
    pattern: str
    samples: tuple[int, ...]
    cycles: np.ndarray
    nnz: np.ndarray
    total: np.ndarray
    energy_pj: np.ndarray
    clock_hz: float

    def rows(self, samples: Sequence[int]) -> np.ndarray:
        """Row indices of the given sample ids (ValueError if one was not profiled)."""
        where = {s: i for i, s in enumerate(self.samples)}
        try:
            return np.asarray([where[s] for s in samples], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f"{self.key}: sample {e.args[0]} was not profiled "
                             f"(have {list(self.samples)})") from None

    def latency_table(self, samples: Sequence[int] | None = None) -> LatencyTable:
        """The runs of ``samples`` (default all, in order) as a `LatencyTable` (seconds at
        ``clock_hz``; sparsity = 1 - nnz/total). Its sample ``i`` is ``samples[i]``."""
        idx = self.rows(self.samples if samples is None else samples)
        total = np.maximum(self.total[idx], 1)
        return LatencyTable(key=self.key, arch=self.arch, pattern=self.pattern,
                            latency_s=self.cycles[idx] / self.clock_hz,
                            sparsity=1.0 - self.nnz[idx] / total,
                            source=f"profile:{self.key}")


def run_profile(models: Sequence[Model], backend, *, samples: Sequence[int],
                accelerator: int = 0, clock_hz: float,
                progress: Callable[[int, int], None] | None = None) -> list[ProfileRun]:
    """Run ``backend.layer(accelerator, model, j, s)`` for every model, layer and sample.

    Calls go layer-major (for each layer index: every model, then every sample), so a mask
    source that caches the activation masks of the current layer shares them between the
    patterns of one architecture. ``clock_hz``: the clock of the backend's cycles.
    ``progress(done, total)``: called after each (layer index, model), counting layer runs.
    """
    samples = tuple(int(s) for s in samples)
    if not samples or any(s < 0 for s in samples):
        raise ValueError(f"samples must be a non-empty list of sample ids >= 0, not {samples}")
    if not clock_hz > 0:
        raise ValueError(f"clock_hz must be positive, not {clock_hz!r}")
    arrays = {m.key: [np.zeros((len(samples), m.num_layers), dtype=np.int64) for _ in range(3)]
              + [np.zeros((len(samples), m.num_layers))] for m in models}
    total = sum(m.num_layers for m in models) * len(samples)
    done = 0
    for j in range(max(m.num_layers for m in models)):
        for m in models:
            if j >= m.num_layers:
                continue
            cyc, nnz, tot, en = arrays[m.key]
            for i, s in enumerate(samples):
                t = backend.layer(accelerator, m, j, s)
                cyc[i, j], nnz[i, j], tot[i, j], en[i, j] = t.cycles, t.nnz, t.total, t.energy_pj
            done += len(samples)
            if progress is not None:
                progress(done, total)
        log.debug("profiled layer %d", j)
    return [ProfileRun(m.key, m.arch, m.pattern, samples, *arrays[m.key], float(clock_hz))
            for m in models]


def static_tables_from_runs(runs: Sequence[ProfileRun], *, samples: Sequence[int],
                            time_unit: str = "cycles",
                            clock_hz: float | None = None) -> StaticTables:
    """Dysta's static tables from the profiling ``samples`` of ``runs``.

    Per key: per-layer mean latency, mean density (``nnz / total``) and the mean over samples
    of the whole-model latency; per architecture: the sample-count-weighted means over its
    keys (docs/artifact-compat.md), computed by `mmsched.sched.static.static_tables` so
    the arithmetic is the one the CSV path uses. Times in ``time_unit`` (cycles at
    ``clock_hz``, default the runs' clock, or seconds).
    """
    from dataclasses import replace

    from .static import StaticTables, static_tables

    if not runs:
        raise ValueError("static_tables_from_runs needs at least one profile run")
    clock = clock_hz if clock_hz is not None else runs[0].clock_hz
    tables = [r.latency_table(samples) for r in runs]
    st = static_tables(tables, time_unit=time_unit, clock_hz=clock)
    # Mean layer energies (pJ): per key over the samples; per architecture weighted by the
    # sample counts as the latencies are (every key has the same samples here).
    energy = {r.key: r.energy_pj[r.rows(samples)].mean(axis=0) for r in runs}
    pattern = {k: replace(p, layer_energy=tuple(energy[k].tolist()))
               for k, p in st.pattern.items()}
    arch = {}
    for a, p in st.arch.items():
        keys = [k for k, ka in st.arch_of.items() if ka == a]
        arch[a] = replace(p, layer_energy=tuple(
            (sum(energy[k] for k in keys) / len(keys)).tolist()))
    return StaticTables(pattern=pattern, arch=arch, arch_of=st.arch_of)


# --- files ----------------------------------------------------------------------------------------

STATIC_FORMAT = "mmsched-static-tables/1"


def _profile_json(p: ModelProfile) -> dict:
    out = {"layer_latency": list(p.layer_latency), "layer_density": list(p.layer_density),
           "isolated_latency": p.isolated_latency, "samples": p.samples}
    if p.layer_energy:  # optional: profiles from an energy-aware backend
        out["layer_energy"] = list(p.layer_energy)
    return out


def save_static_tables(tables: StaticTables, path: str | os.PathLike, *,
                       meta: dict | None = None) -> None:
    """Write ``tables`` as JSON (atomically): per model key and per architecture, the layer
    latencies (time unit in ``meta``), densities, isolated latency and sample count, and the
    layer energies in pJ when the tables have them."""
    doc = {"format": STATIC_FORMAT, "meta": meta or {},
           "pattern": {k: _profile_json(p) for k, p in tables.pattern.items()},
           "arch": {k: _profile_json(p) for k, p in tables.arch.items()},
           "arch_of": dict(tables.arch_of)}

    with atomic_open(path) as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def load_static_tables(path: str | os.PathLike) -> tuple[StaticTables, dict]:
    """Read a file written by `save_static_tables`: ``(tables, meta)``; InputError naming
    the file and field on anything malformed."""
    src = str(path)
    doc = read_json(path, "static-tables file")
    if not isinstance(doc, dict) or doc.get("format") != STATIC_FORMAT:
        raise InputError(src, "format", repr(STATIC_FORMAT),
                         repr(doc.get("format") if isinstance(doc, dict) else doc))
    out = {}
    for level in ("pattern", "arch"):
        entries = doc.get(level)
        if not isinstance(entries, dict) or not entries:
            raise InputError(src, level, "a non-empty table of model profiles", repr(entries))
        out[level] = {}
        for key, e in entries.items():
            try:
                out[level][key] = ModelProfile(
                    key=key, layer_latency=tuple(float(x) for x in e["layer_latency"]),
                    layer_density=tuple(float(x) for x in e["layer_density"]),
                    isolated_latency=float(e["isolated_latency"]), samples=int(e["samples"]),
                    layer_energy=tuple(float(x) for x in e.get("layer_energy", ())))
            except (KeyError, TypeError, ValueError) as err:
                raise InputError(src, f"{level}.{key}", "layer_latency, layer_density, "
                                 "isolated_latency, samples", str(err)) from None
    arch_of = doc.get("arch_of")
    if not isinstance(arch_of, dict) or set(arch_of) != set(out["pattern"]):
        raise InputError(src, "arch_of", "the architecture of every model key",
                         repr(arch_of)[:60])
    return StaticTables(pattern=out["pattern"], arch=out["arch"], arch_of=arch_of), \
        doc.get("meta", {})


def cache_path(cache_dir: str | os.PathLike, key_text: str) -> Path:
    """``cache_dir/profile-<crc32 hex>-<len>.npz`` for a cache key text."""
    return Path(cache_dir) / (f"profile-{zlib.crc32(key_text.encode()):08x}-"
                              f"{len(key_text)}.npz")


def save_runs(runs: Sequence[ProfileRun], path: str | os.PathLike, key_text: str) -> None:
    """Cache ``runs`` in one ``.npz`` (atomically), tagged with the full key text."""
    arrays: dict[str, np.ndarray] = {"_key": np.asarray(key_text)}
    for i, r in enumerate(runs):
        arrays[f"{i}.meta"] = np.asarray(json.dumps(
            {"key": r.key, "arch": r.arch, "pattern": r.pattern, "samples": list(r.samples),
             "clock_hz": r.clock_hz}))
        for name in ("cycles", "nnz", "total", "energy_pj"):
            arrays[f"{i}.{name}"] = getattr(r, name)

    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


class DamagedCache(Exception):
    """A profile cache file that exists but does not load (truncated, empty, corrupted or
    tampered with): the caller discards it and profiles again."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def load_runs(path: str | os.PathLike, key_text: str) -> list[ProfileRun] | None:
    """Cached runs at ``path`` if present and made under exactly ``key_text``, else None.

    Raises `DamagedCache` when the file exists but does not load, or its counters are not
    what `save_runs` writes (shapes per sample and layer, finite, non-negative, a positive
    clock).
    """
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["_key"]) != key_text:
                return None
            out, i = [], 0
            while f"{i}.meta" in z:
                meta = json.loads(str(z[f"{i}.meta"]))
                run = ProfileRun(meta["key"], meta["arch"], meta["pattern"],
                                 tuple(int(s) for s in meta["samples"]), z[f"{i}.cycles"],
                                 z[f"{i}.nnz"], z[f"{i}.total"], z[f"{i}.energy_pj"],
                                 float(meta["clock_hz"]))
                _check_run(run)
                out.append(run)
                i += 1
            if not out:
                raise ValueError("no runs")
            return out
    except FileNotFoundError:
        return None
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile,
            zlib.error) as e:
        raise DamagedCache(path, f"{type(e).__name__}: {e}") from None


def _check_run(run: ProfileRun) -> None:
    """ValueError unless ``run``'s counters are well-formed (see `load_runs`)."""
    shape = run.cycles.shape
    if len(shape) != 2 or shape[0] != len(run.samples):
        raise ValueError(f"{run.key}: cycles of shape {shape} for {len(run.samples)} samples")
    for name in ("cycles", "nnz", "total", "energy_pj"):
        a = getattr(run, name)
        if a.shape != shape or a.dtype.kind not in "iuf":
            raise ValueError(f"{run.key}: {name} of shape {a.shape} ({a.dtype}), "
                             f"expected {shape}")
        if not (np.all(np.isfinite(a)) and np.all(a >= 0)):
            raise ValueError(f"{run.key}: {name} has values that are negative or not finite")
    if not (np.all(run.nnz <= run.total) and math.isfinite(run.clock_hz)
            and run.clock_hz > 0):
        raise ValueError(f"{run.key}: nnz above total, or clock {run.clock_hz!r}")
