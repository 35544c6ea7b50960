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

import functools
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.scenario import Scenario, find_scenario
from mmsched.sched.static import StaticTables
from mmsched.sched.static_profile import (
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


def profile_accelerator(scenario: Scenario, accelerator: int = 0, *,
                        cache_dir: str | os.PathLike | None | bool = None
                        ) -> list[ProfileRun]:
    """Counters of every model key x layer x sample (all ``scenario.samples``) on
    ``scenario.system[accelerator]``, in the scenario's model order; each architecture's
    keys are cached (and profiled) together, layer-major, so its patterns share the
    activation masks.

    ``cache_dir``: the profile cache folder (default `mmsched.hw.paths.cache_dir`, resolved
    now); ``False``: profile without a cache.
    """
    from mmsched.hw.paths import cache_dir as default_cache_dir
    from mmsched.sim.backends.analytic import AnalyticBackend

    folder = default_cache_dir() if cache_dir is None or cache_dir is True else cache_dir
    cfg = scenario.system[accelerator]
    masks = None
    out: list[ProfileRun] = []
    for entry in scenario.models:
        key = cache_key(scenario, accelerator, entry.arch)
        path = None if cache_dir is False else cache_path(folder, key)
        runs = load_runs(path, key) if path is not None and path.exists() else None
        if runs is None:
            if masks is None:
                masks, _ = mask_source(scenario)
            backend = AnalyticBackend(system=cfg, masks=masks, memoise=False)
            log.info("profiling %s on %s (%d samples): not cached yet", entry.arch, cfg.name,
                     scenario.samples)
            runs = run_profile(entry.models(), backend,
                               samples=range(scenario.samples), clock_hz=cfg.clock_hz)
            if path is not None:
                save_runs(runs, path, key)
        out.extend(runs)
    return out


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
        entries = {e.arch: e for e in sc.models}
        work = 0.0
        for e in sc.models:
            p, up = e.probability, e.after
            while up is not None:
                p *= entries[up].probability
                up = entries[up].after
            fastest = min(self.isolated_s(e.arch, a) for a in range(len(sc.system)))
            work += e.fps * fps_scale * p * fastest
        return work / len(sc.system)

def profile_scenario(name_or_path: str | Scenario, *, compat: CompatFlags = _FIXED,
                     cache_dir: str | os.PathLike | None | bool = None) -> ProfiledScenario:
    """Load (and on first use profile) a scenario: a shipped name, a TOML path or a parsed
    `Scenario`. ``compat``: in Dysta-artifact compat mode times are float seconds.
    ``cache_dir``: as `profile_accelerator` (``False``: no cache).

    Raises InputError for a bad scenario file.
    """
    sc = name_or_path if isinstance(name_or_path, Scenario) else find_scenario(name_or_path)
    unit = "seconds" if compat.any else "cycles"
    by_config: dict[str, tuple[ProfileRun, ...]] = {}
    for a, cfg in enumerate(sc.system):  # identical accelerators share one profile
        if repr(cfg) not in by_config:
            by_config[repr(cfg)] = tuple(profile_accelerator(sc, a, cache_dir=cache_dir))
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
