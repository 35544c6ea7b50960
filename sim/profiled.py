"""Scenario -> exact-cycle-model workloads: the seam ``mmsched run --scenario`` uses.

`profile_scenario` takes a scenario (`mmsched.sched.scenario`), builds its models, profiles
every (model key, layer, sample) on each accelerator of its system with the exact cycle model
(``analytic`` backend) and the realistic mask source (`mmsched.sched.masks.ProfiledMasks` on
the shipped real-sparsity profiles), and caches the counters in the profile cache
(`mmsched.hw.paths.cache_dir`), one file per (architecture, accelerator configuration), keyed
by everything they depend on (the arch's model keys and layer shapes, samples, accelerator
config, mask seed, sparsity-profile data, and the source of the cycle model, spec, masks,
patterns and zoo). Later loads, and other scenarios
with the same model and accelerator, read the cache.

What a run needs then comes from the profile: the static tables of each accelerator from the
*profiling* samples, and the requests' layer times, monitor counts and energies from the
*held-out* samples, each accelerator's own (`ProfiledBackend`, exact integer cycles of the
system clock). Poisson request streams are drawn over the held-out samples of accelerator 0
(`ProfiledScenario.workloads`), periodic frames by `ProfiledScenario.frames`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mmsched.hw.paths import atomic_write
from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.scenario import Scenario, find_scenario
from mmsched.sched.static import StaticTables
from mmsched.sched.static_profile import (
    DamagedCache,
    ProfileRun,
    cache_path,
    load_runs,
    run_profile,
    save_runs,
    static_tables_from_runs,
)
from mmsched.sched.workload import Workload

log = logging.getLogger(__name__)

_FIXED = CompatFlags()

_HASHED_MODULES = ("mmsched.hw.cyclemodel.cycles", "mmsched.hw.spec.accelerator",
                   "mmsched.sched.masks", "mmsched.sched.patterns", "mmsched.sched.profiles",
                   "mmsched.sched.zoo", "mmsched.sched.zoo.cnn", "mmsched.sched.zoo.attention",
                   "mmsched.sched.zoo.xrbench", "mmsched.sched.zoo._layers",
                   "mmsched.sim.backends.analytic")


@functools.cache
def _sources_digest() -> str:
    """Hash of the sources the counters depend on (read once per process)."""
    import importlib

    h = hashlib.sha256()
    for name in _HASHED_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        h.update(name.encode())
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()


def mask_source(scenario: Scenario):
    """The scenario's mask source: real profiles per model (its ``sparsity`` field: a shipped
    profile or a profile file, else `mmsched.sched.profiles.default_profile_name`)."""
    from mmsched.sched.masks import ProfiledMasks
    from mmsched.sched.profiles import ProfileStats, default_profile_name, resolve_profile

    profiles = {}
    for e in scenario.models:
        name = e.sparsity or default_profile_name(e.arch, e.family)
        prof = resolve_profile(name)
        for a in e.archs:  # a Supernet's sub-networks take their model's profile
            profiles[a] = prof
    return ProfiledMasks(ProfileStats(profiles), seed=scenario.mask_seed), profiles


def cache_key(scenario: Scenario, accelerator: int, arch: str) -> str:
    """The text every cached number of one architecture's model keys (all its patterns) on
    ``scenario.system[accelerator]`` depends on. Masks depend only on the arch, layer, sample,
    mask seed and the arch's sparsity profile, so scenarios sharing a model share its cache."""

    _, profiles = mask_source(scenario)
    entry = next(e for e in scenario.models if e.arch == arch)
    prof = profiles[arch]
    doc = {
        "models": [[m.key, [[la.kind, la.m, la.n, la.k, la.groups, la.weight_pattern,
                             la.act_sparse] for la in m.layers]]
                   for m in entry.models()],
        "accelerator": repr(scenario.system[accelerator]),
        "samples": scenario.samples, "mask_seed": scenario.mask_seed,
        "profile": [prof.name, hashlib.sha256(json.dumps(prof.to_json(), sort_keys=True)
                                              .encode()).hexdigest()],
        "sources": _sources_digest(),
    }
    return json.dumps(doc, sort_keys=True)


SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "profile_cache"
"""Profile caches shipped with the package (`ship_caches` writes them; ``make caches``), so a
fresh install runs the shipped scenarios without profiling. Looked up after the user cache;
a file is used only when its stored key equals the current key exactly."""
MANIFEST = "manifest.json"
INDEX = "profile-index.json"
"""In a cache folder: which key (per field) each (scenario, accelerator, arch) was last
profiled under, so a re-profile can say why (`cache_key` field by field)."""

_FIELD_WHY = {"models": "the model's layer shapes or patterns",
              "accelerator": "the accelerator configuration",
              "samples": "the number of samples", "mask_seed": "the mask seed",
              "profile": "the sparsity profile data",
              "sources": "the code it depends on (cycle model, spec, masks, patterns, "
                         "sparsity profiles, zoo or analytic backend)"}


def _field_digests(key: str) -> dict[str, str]:
    doc = json.loads(key)
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16]
            for k, v in sorted(doc.items())}


def _identity(scenario: Scenario, accelerator: int, arch: str) -> str:
    return f"{scenario.label}|{accelerator}|{arch}"


def _read_json(path: Path) -> dict:
    """The JSON object in ``path``; {} when it is missing, unreadable or not an object (the
    cache index and manifest only serve messages)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _why_stale(ident: str, key: str, folder: Path | None) -> str | None:
    """Why no cache matched ``key`` although (scenario, accelerator, arch) was profiled
    before (user cache index or shipped manifest): the key fields that changed; None when it
    was never profiled."""
    now = _field_digests(key)
    for where, entries in ((folder, _read_json(folder / INDEX) if folder else {}),
                           (SHIPPED_DIR, _read_json(SHIPPED_DIR / MANIFEST).get("entries", {}))):
        old = entries.get(ident) if isinstance(entries, dict) else None
        if not isinstance(old, dict) or not isinstance(old.get("fields"), dict) or \
                where is None:
            continue
        changed = [f for f in _FIELD_WHY if old["fields"].get(f) != now.get(f)]
        if changed:
            what = "shipped" if where == SHIPPED_DIR else "cached"
            return (f"the {what} profile is stale: {', '.join(_FIELD_WHY[f] for f in changed)} "
                    f"changed")
    return None


def _remember(folder: Path, ident: str, key: str, path: Path) -> None:
    """Record in the cache folder's index which key ``ident`` was profiled under (best
    effort: the index only serves messages)."""
    index = _read_json(folder / INDEX)
    index[ident] = {"file": path.name, "fields": _field_digests(key)}
    with contextlib.suppress(OSError):
        atomic_write(folder / INDEX, json.dumps(index, indent=1, sort_keys=True) + "\n")


_UNSAVED: dict[str, list[ProfileRun]] = {}
"""Runs profiled in this process that could not be saved (unwritable cache), by key: a run
uncached profiles once, and worker processes forked later inherit them."""


def cached_runs(key: str, folder: Path | None) -> list[ProfileRun] | None:
    """The runs cached under exactly ``key``: in ``folder`` (the user cache), else shipped
    with the package; None when neither has them. A user cache file that does not load is
    deleted, with a warning, and counts as absent (it is rebuilt)."""
    if key in _UNSAVED:
        return _UNSAVED[key]
    for d in (folder, SHIPPED_DIR):
        if d is None:
            continue
        path = cache_path(d, key)
        if path.exists():
            try:
                runs = load_runs(path, key)
            except DamagedCache as e:
                if d == SHIPPED_DIR:  # part of the installed package: left alone
                    log.warning("shipped profile cache %s does not load (%s): profiling "
                                "instead (reinstalling mmsched restores it)", path, e.reason)
                    continue
                log.warning("profile cache %s does not load (%s): discarded, profiling again",
                            path, e.reason)
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            if runs is not None:
                return runs
    return None


def _writable_cache(folder: Path) -> bool:
    """Whether profiles can be saved in ``folder`` (created if missing), found by writing a
    probe file; a warning says why not (the run then goes on uncached)."""
    from mmsched.hw.paths import probe_dir

    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe_dir(folder)
        return True
    except OSError as e:
        log.warning("profile cache folder %s is not writable (%s): profiling without saving "
                    "(set MMSCHED_CACHE_DIR or --cache-dir to a writable folder)", folder,
                    e.strerror or e)
        return False


def profile_accelerator(scenario: Scenario, accelerator: int = 0, *,
                        cache_dir: str | os.PathLike | None | bool = None,
                        progress: bool = False,
                        only_cached: bool = False) -> list[ProfileRun] | None:
    """Counters of every model key x layer x sample (all ``scenario.samples``) on
    ``scenario.system[accelerator]``, in the scenario's model order; each architecture's
    keys are cached (and profiled) together, layer-major, so its patterns share the
    activation masks.

    ``cache_dir``: the profile cache folder (default `mmsched.hw.paths.cache_dir`, resolved
    now); ``False``: profile without a cache (and without the shipped caches). Lookup: the
    user cache, then the caches shipped with the package (`SHIPPED_DIR`); a miss is profiled
    and saved to the user cache. Re-profiling what was profiled before under another key
    logs one warning saying what and why. ``progress``: a bar on stderr per architecture
    profiled (`mmsched.sim._progress`). ``only_cached``: return None instead of profiling.
    """
    from mmsched.hw.paths import cache_dir as default_cache_dir

    folder = None if cache_dir is False else Path(
        default_cache_dir() if cache_dir is None or cache_dir is True else cache_dir)
    cfg = scenario.system[accelerator]
    found: dict[str, list[ProfileRun] | None] = {}
    keys: dict[str, str] = {}
    for entry in scenario.models:
        keys[entry.arch] = key = cache_key(scenario, accelerator, entry.arch)
        found[entry.arch] = cached_runs(key, folder) if folder is not None else None
        if found[entry.arch] is None and only_cached:
            return None
    todo = [e.arch for e in scenario.models if found[e.arch] is None]
    for arch in todo:
        ident = _identity(scenario, accelerator, arch)
        what = f"profiling {arch} on {cfg.name} ({scenario.label}, {scenario.samples} samples)"
        why = _why_stale(ident, keys[arch], folder) if folder is not None else None
        if why:
            log.warning("%s: %s", what, why)
        else:
            log.info("%s: not cached yet", what)
    save = folder is not None and bool(todo) and _writable_cache(folder)  # before the work
    if todo:
        found.update(_profile_archs(scenario, accelerator, todo, progress))
    for arch in todo:
        path = cache_path(folder, keys[arch]) if save else None
        try:
            if path is not None:
                save_runs(found[arch], path, keys[arch])
                _remember(folder, _identity(scenario, accelerator, arch), keys[arch], path)
                continue
        except OSError as e:  # the profile is in memory: the run goes on
            log.warning("profile cache %s not saved (%s)", path, e.strerror or e)
        if folder is not None:
            _UNSAVED[keys[arch]] = found[arch]
    return [r for e in scenario.models for r in found[e.arch]]


def _profile_one(scenario: Scenario, accelerator: int, arch: str,
                 progress: Callable[[int, int], None] | None = None) -> list[ProfileRun]:
    """Profile one architecture's model keys (all samples) with its own mask source: masks
    depend only on (mask seed, arch, layer, sample), so any process gives the same runs."""
    from mmsched.sim.backends.analytic import AnalyticBackend

    cfg = scenario.system[accelerator]
    masks, _ = mask_source(scenario)
    backend = AnalyticBackend(system=cfg, masks=masks, memoise=False)
    entry = next(e for e in scenario.models if e.arch == arch)
    return run_profile(entry.models(), backend, samples=range(scenario.samples),
                       clock_hz=cfg.clock_hz, progress=progress)


_QUEUE = None  # a worker's progress queue (set by _init_worker in each worker process)


def _init_worker(queue) -> None:
    global _QUEUE
    _QUEUE = queue


def _profile_in_worker(scenario: Scenario, accelerator: int, arch: str) -> list[ProfileRun]:
    queue = _QUEUE

    def report(done: int, total: int) -> None:
        queue.put((arch, done, total))

    return _profile_one(scenario, accelerator, arch, report)


def _profile_archs(scenario: Scenario, accelerator: int, archs: list[str],
                   progress: bool) -> dict[str, list[ProfileRun]]:
    """Profile ``archs`` on one accelerator, one bar each; several architectures go to worker
    processes (one per CPU, forked), in the main process only (a worker does not nest pools)."""
    import multiprocessing as mp
    import queue as queue_mod

    from ._pool import process_pool
    from ._progress import bar

    cfg = scenario.system[accelerator]
    bars = {}
    for i, arch in enumerate(archs):
        entry = next(e for e in scenario.models if e.arch == arch)
        total = sum(m.num_layers for m in entry.models()) * scenario.samples
        bars[arch] = bar(total, f"profiling {arch} on {cfg.name}", "layer", enabled=progress,
                         position=i)
    try:
        workers = min(len(archs), _cpus())
        if workers < 2 or mp.parent_process() is not None or "fork" not in \
                mp.get_all_start_methods():
            out = {}
            for arch in archs:
                b = bars[arch]
                out[arch] = _profile_one(scenario, accelerator, arch,
                                         lambda done, _t, b=b: b.update(done - b.n))
            return out
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        with process_pool(workers, mp_context=ctx, initializer=_init_worker,
                          initargs=(q,)) as pool:
            futures = {pool.submit(_profile_in_worker, scenario, accelerator, a): a
                       for a in archs}
            pending = set(futures)
            while pending:
                try:
                    arch, done, _total = q.get(timeout=0.2)
                    bars[arch].update(done - bars[arch].n)
                except queue_mod.Empty:
                    pass
                pending = {f for f in pending if not f.done()}
            out = {futures[f]: f.result() for f in futures}
        while True:  # the last updates
            try:
                arch, done, _total = q.get_nowait()
            except queue_mod.Empty:
                break
            bars[arch].update(done - bars[arch].n)
        return out
    finally:
        for b in bars.values():
            b.close()


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def shipped_specs() -> list[str]:
    """Every shipped scenario of zoo models, and each of its system variants
    (``name:variant``): what `ship_caches` profiles."""
    from mmsched.sched.scenario import builtin_scenario_names

    out = []
    for name in builtin_scenario_names():
        sc = find_scenario(name)
        if sc.source != "zoo":
            continue
        out.append(name)
        out += [f"{name}:{v}" for v, _ in sc.variants]
    return out


def shipped_entries(specs: Sequence[str] | None = None) -> dict[str, tuple[Scenario, int, str]]:
    """``identity -> (scenario, accelerator, arch)`` of every cache `ship_caches` writes:
    each distinct accelerator configuration of each spec (`shipped_specs`), each model."""
    out = {}
    for spec in shipped_specs() if specs is None else specs:
        sc = find_scenario(spec)
        seen = set()
        for a, cfg in enumerate(sc.system):
            if repr(cfg) in seen:
                continue
            seen.add(repr(cfg))
            for e in sc.models:
                out[_identity(sc, a, e.arch)] = (sc, a, e.arch)
    return out


def ship_caches(folder: str | os.PathLike = SHIPPED_DIR, *,
                cache_dir: str | os.PathLike | None = None, progress: bool = False) -> dict:
    """Regenerate the shipped profile caches: profile (or read from the user cache) every
    entry of `shipped_entries`, copy the cache files into ``folder`` with a manifest
    (identity -> file and key digests; `_why_stale` reads it), and remove files no entry uses.
    Returns the manifest.
    """
    from mmsched.hw.paths import cache_dir as default_cache_dir

    folder = Path(folder)
    user = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    entries, blobs = {}, {}
    for ident, (sc, a, arch) in shipped_entries().items():
        profile_accelerator(sc, a, cache_dir=user, progress=progress)
        key = cache_key(sc, a, arch)
        name = cache_path(folder, key).name
        for d in (user, SHIPPED_DIR):
            with contextlib.suppress(DamagedCache):
                if load_runs(d / name, key) is not None:
                    blobs[name] = (d / name).read_bytes()
                    break
        else:  # pragma: no cover - profile_accelerator just saved it
            raise RuntimeError(f"{ident}: no cache file after profiling")
        entries[ident] = {"file": name, "fields": _field_digests(key)}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        if not (folder / name).exists() or (folder / name).read_bytes() != data:
            atomic_write(folder / name, data)
    for old in folder.glob("profile-*.npz"):
        if old.name not in blobs:
            old.unlink()
    manifest = {"format": "mmsched-shipped-profiles/1", "entries": entries}
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


class ProfiledBackend:
    """Timing backend serving profiled counters of the held-out samples, per accelerator.

    ``runs[a]``: the `ProfileRun` list of accelerator ``a``; a request's sample ``i`` is
    held-out sample ``heldout[i]``. ``layer(a, ...)`` is what the exact cycle model counted
    for that layer on accelerator ``a``: its cycles converted from the accelerator's clock to
    the system clock (rounded to nearest; exact when the clocks agree; in ``seconds`` mode the
    time is ``cycles / accelerator clock``), the monitor's exact integer non-zero and total
    counts, and the layer's energy in picojoules.
    """

    name = "profiled"

    def __init__(self, runs, heldout: Sequence[int], *, time_unit: str = "cycles",
                 clock_hz: float) -> None:
        from mmsched.sim.backends import LayerTiming

        self._timing = LayerTiming
        self.time_unit, self.clock_hz = time_unit, float(clock_hz)
        self.num_accelerators = len(runs)
        self._tab: list[dict[str, tuple]] = []
        for acc_runs in runs:
            table = {}
            for r in acc_runs:
                rows = r.rows(heldout)
                if time_unit == "seconds":
                    t = r.cycles[rows] / r.clock_hz
                else:
                    t = np.rint(r.cycles[rows] * (self.clock_hz / r.clock_hz)).astype(np.int64)
                table[r.key] = (t, r.nnz[rows], r.total[rows], r.energy_pj[rows])
            self._tab.append(table)
        self._rows: dict[tuple[int, str, int], tuple] = {}
        self._ref: dict[tuple[str, int], float] = {}

    def _row(self, accelerator: int, key: str, sample: int) -> tuple:
        t, nnz, total, energy = self._tab[accelerator][key]
        timing = self._timing
        out = tuple(timing(c, n, m, e) for c, n, m, e in zip(
            t[sample].tolist(), nnz[sample].tolist(), total[sample].tolist(),
            energy[sample].tolist(), strict=True))
        self._rows[(accelerator, key, sample)] = out
        return out

    def layer(self, accelerator: int, model, layer_index: int, sample: int):
        row = self._rows.get((accelerator, model.key, sample))
        if row is None:
            row = self._row(accelerator, model.key, sample)
        return row[layer_index]

    def row(self, accelerator: int, model, sample: int) -> tuple:
        """Every layer of one sample on ``accelerator`` (``row[j] == layer(a, model, j,
        sample)``; the engine's fast loop fetches a request's row once)."""
        row = self._rows.get((accelerator, model.key, sample))
        return row if row is not None else self._row(accelerator, model.key, sample)

    def row_arrays(self, accelerator: int, model, sample: int) -> tuple[list, list, list]:
        """`row` as plain lists: layer times, monitored densities (``nnz / total``, 1.0
        where the total is 0) and energies (read by the compiled loop,
        `mmsched.sim.fastloop`)."""
        t, nnz, total, energy = self._tab[accelerator][model.key]
        n, m = nnz[sample], total[sample]
        density = np.divide(n, m, out=np.ones(len(m)), where=m != 0)
        return t[sample].tolist(), density.tolist(), energy[sample].tolist()

    def reference_energy_pj(self, key: str, sample: int) -> float:
        """E_ref of one frame (docs/realtime.md, "UXCost"): the sum over the layers of model
        ``key`` of the layer's least energy over the accelerators, for held-out sample
        ``sample`` (each layer in isolation, no transfers)."""
        got = self._ref.get((key, sample))
        if got is None:
            per_acc = np.stack([tab[key][3][sample] for tab in self._tab])
            got = self._ref[(key, sample)] = float(per_acc.min(axis=0).sum())
        return got


@dataclass(frozen=True, eq=False)
class ProfiledScenario:
    """A scenario with its profiled counters.

    ``runs[a]``: the `ProfileRun` list of accelerator ``a``; ``static[a]``: the static tables
    of accelerator ``a`` from the profiling samples (in ``time_unit``, with mean layer
    energies); ``tables``: the held-out samples of accelerator 0 as `LatencyTable` s (sample
    ``i`` = held-out sample ``i``), from which Poisson requests are drawn; runs are timed by
    `backend`, every accelerator by its own counters.
    """

    scenario: Scenario
    runs: tuple[tuple[ProfileRun, ...], ...]
    static: tuple[StaticTables, ...]
    tables: tuple[LatencyTable, ...]
    time_unit: str
    clock_hz: float

    def workloads(self, *, rates: Sequence[float], slo: float, requests: int | None = None,
                  seed: int = 1, seed_index: int = 0,
                  compat: CompatFlags = _FIXED) -> list[Workload]:
        """Poisson request streams (one per rate), Dysta style, over the held-out samples,
        deadlines from the static tables (`mmsched.sched.streams.poisson_workloads`)."""
        from mmsched.sched.streams import poisson_workloads

        if self.scenario.arrivals != "poisson":
            raise ValueError(f"scenario {self.scenario.name!r} has {self.scenario.arrivals} "
                             f"arrivals; only poisson scenarios have rates")
        from dataclasses import replace

        wls = poisson_workloads(list(self.tables), rates=list(rates),
                                num_requests=requests or self.scenario.requests, slo=slo,
                                seed=seed, seed_index=seed_index, compat=compat,
                                clock_hz=self.clock_hz, static=self.static[0])
        return [replace(w, models=self.models()) for w in wls]

    def backend(self) -> ProfiledBackend:
        """The timing backend of runs: exact cycle-model counters (cycles, nnz, total, energy)
        of the held-out samples, per accelerator of the system."""
        return ProfiledBackend(self.runs, self.scenario.heldout_samples,
                               time_unit=self.time_unit, clock_hz=self.clock_hz)

    def frames(self, *, seed: int = 1, seed_index: int = 0, duration_s: float | None = None,
               fps_scale: float = 1.0) -> Workload:
        """The periodic (XRBench) frame stream of the scenario over the held-out samples
        (`mmsched.sched.streams.periodic_frames`), in integer cycles. ``meta["frame_index"]``
        holds each request's frame index in its stream."""
        from mmsched.sched.streams import periodic_frames

        sc = self.scenario
        if self.time_unit != "cycles":
            raise ValueError("periodic scenarios run in cycles (no Dysta-artifact compat)")
        keys = {e.arch: [f"{e.arch}_{p}" for p in e.patterns] for e in sc.models}
        reqs, index = periodic_frames(sc, keys=keys, samples=len(sc.heldout_samples),
                                      clock_hz=self.clock_hz, seed=seed,
                                      seed_index=seed_index, duration_s=duration_s,
                                      fps_scale=fps_scale)
        return Workload(models=self.models(), requests=reqs, clock_hz=self.clock_hz,
                        name=f"{sc.label} frames seed={seed}+{seed_index} x{fps_scale:g}",
                        meta={"scenario": sc.label, "seed": seed, "seed_index": seed_index,
                              "fps_scale": fps_scale,
                              "duration_s": duration_s or sc.duration_s,
                              "frame_index": index})

    def models(self) -> dict:
        """The scenario's models by key, with their layer shapes (what transfers and
        policies read; the backend serves their times by key)."""
        return self._model_table

    @functools.cached_property
    def _model_table(self) -> dict:
        return {m.key: m for m in self.scenario.model_list()}

    def mean_isolated_s(self) -> float:
        """Mean over model keys of the mean isolated latency (seconds) on accelerator 0."""
        st = self.static[0]
        vals = [p.isolated_latency for p in st.pattern.values()]
        mean = sum(vals) / len(vals)
        return mean if self.time_unit == "seconds" else mean / self.clock_hz

    def load(self, rate: float) -> float:
        """Offered load at ``rate`` req/s: rate x mean isolated latency (1.0 = saturated)."""
        return rate * self.mean_isolated_s()

    def isolated_s(self, arch: str, accelerator: int) -> float:
        """Mean isolated latency (seconds) of architecture ``arch`` on ``accelerator`` from the
        static tables (profiling samples): the mean over its patterns, which frames draw
        uniformly."""
        st = self.static[accelerator]
        keys = [k for k, a in st.arch_of.items() if a == arch]
        iso = sum(st.pattern[k].isolated_latency for k in keys) / len(keys)
        return iso if self.time_unit == "seconds" else iso / self.clock_hz

    def periodic_load(self, fps_scale: float = 1.0) -> float:
        """Offered load of a periodic scenario at ``fps_scale`` (docs/realtime.md, "Load"):
        the sum over its models of ``fps x fps_scale x p x isolated latency on the model's
        fastest accelerator``, over the number of accelerators; ``p`` is the chance a frame
        runs, the product of the cascade probabilities up its chain. 1.0 = the system is
        busy all the time if no accelerator ever idles and every layer runs where its model
        is fastest."""
        sc = self.scenario
        if sc.arrivals != "periodic":
            raise ValueError(f"scenario {sc.name!r} is not periodic")
        work = 0.0
        for e in sc.models:
            fastest = min(self.isolated_s(e.arch, a) for a in range(len(sc.system)))
            work += e.fps * fps_scale * sc.run_probability(e.arch) * fastest
        return work / len(sc.system)

def profile_scenario(name_or_path: str | Scenario, *, compat: CompatFlags = _FIXED,
                     cache_dir: str | os.PathLike | None | bool = None,
                     progress: bool = False,
                     only_cached: bool = False) -> ProfiledScenario | None:
    """Load (and on first use profile) a scenario: a shipped name, a TOML path or a parsed
    `Scenario`. ``compat``: in Dysta-artifact compat mode times are float seconds.
    ``cache_dir``, ``progress``, ``only_cached`` (None unless every profile is cached or
    shipped): as `profile_accelerator` (``False``: no cache).

    Raises InputError for a bad scenario file.
    """
    sc = name_or_path if isinstance(name_or_path, Scenario) else find_scenario(name_or_path)
    unit = "seconds" if compat.any else "cycles"
    by_config: dict[str, tuple[ProfileRun, ...]] = {}
    for a, cfg in enumerate(sc.system):  # identical accelerators share one profile
        if repr(cfg) not in by_config:
            got = profile_accelerator(sc, a, cache_dir=cache_dir, progress=progress,
                                      only_cached=only_cached)
            if got is None:
                return None
            by_config[repr(cfg)] = tuple(got)
    runs = tuple(by_config[repr(cfg)] for cfg in sc.system)
    clock = sc.clock_hz
    static = tuple(static_tables_from_runs(r, samples=sc.profiling_samples, time_unit=unit,
                                           clock_hz=clock) for r in runs)
    tables = tuple(r.latency_table(sc.heldout_samples) for r in runs[0])
    return ProfiledScenario(sc, runs, static, tables, unit, clock)


def describe(sc: Scenario) -> dict:
    """A JSON-able summary of a scenario (for listings and results metadata)."""
    return {"name": sc.label, "arrivals": sc.arrivals,
            "system": [c.name for c in sc.system],
            "models": [asdict(e) for e in sc.models], "samples": sc.samples,
            "profile_samples": sc.profile_samples}
