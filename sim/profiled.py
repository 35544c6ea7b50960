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

What a run needs then comes from the profile: the static tables from the *profiling*
samples, and the requests' layer times from the *held-out* samples (served by the ``table``
backend, exact cycles: cycles / clock -> seconds -> cycles rounds back exactly).
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
        profiles[e.arch] = resolve_profile(name)
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
    """Timing backend serving profiled counters of the held-out samples.

    ``runs[a]``: the `ProfileRun` list of accelerator ``a``; a request's sample ``i`` is
    held-out sample ``heldout[i]``. Cycles are converted from the accelerator's clock to the
    system clock (rounded to nearest; exact when the clocks agree); in ``seconds`` mode the
    time is ``cycles / accelerator clock``.
    """

    name = "profiled"

    def __init__(self, runs, heldout: Sequence[int], *, time_unit: str = "cycles",
                 clock_hz: float) -> None:
        from mmsched.sim.backends import LayerTiming

        self._timing = LayerTiming
        self.time_unit, self.clock_hz = time_unit, float(clock_hz)
        self._tab: list[dict[str, tuple]] = []
        for acc_runs in runs:
            table = {}
            for r in acc_runs:
                rows = r.rows(heldout)
                if time_unit == "seconds":
                    t = r.cycles[rows] / r.clock_hz
                else:
                    t = np.rint(r.cycles[rows] * (self.clock_hz / r.clock_hz)).astype(np.int64)
                table[r.key] = (t.tolist(), r.nnz[rows].tolist(), r.total[rows].tolist(),
                                r.energy_pj[rows].tolist())
            self._tab.append(table)

    def layer(self, accelerator: int, model, layer_index: int, sample: int):
        t, nnz, total, energy = self._tab[accelerator][model.key]
        return self._timing(t[sample][layer_index], int(nnz[sample][layer_index]),
                            int(total[sample][layer_index]),
                            float(energy[sample][layer_index]))


@dataclass(frozen=True, eq=False)
class ProfiledScenario:
    """A scenario with its profiled counters.

    ``runs[a]``: the `ProfileRun` list of accelerator ``a``; ``static[a]``: the static tables
    of accelerator ``a`` from the profiling samples (in ``time_unit``); ``tables``: the held-out
    samples of accelerator 0 as `LatencyTable` s (sample ``i`` = held-out sample ``i``).
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
        return poisson_workloads(list(self.tables), rates=list(rates),
                               num_requests=requests or self.scenario.requests, slo=slo,
                               seed=seed, seed_index=seed_index, compat=compat,
                               clock_hz=self.clock_hz, static=self.static[0])

    def backend(self) -> ProfiledBackend:
        """The timing backend of runs: exact cycle-model counters (cycles, nnz, total, energy)
        of the held-out samples, per accelerator of the system."""
        return ProfiledBackend(self.runs, self.scenario.heldout_samples,
                               time_unit=self.time_unit, clock_hz=self.clock_hz)

    def frames(self, *, seed: int = 1, duration_s: float | None = None) -> Workload:
        """The periodic (XRBench) frame stream of the scenario over the held-out samples
        (`mmsched.sched.scenario.frame_requests`), in integer cycles."""
        from mmsched.sched.latency_table import table_models
        from mmsched.sched.streams import frame_requests

        sc = self.scenario
        if self.time_unit != "cycles":
            raise ValueError("periodic scenarios run in cycles (no Dysta-artifact compat)")
        keys = {e.arch: [f"{e.arch}_{p}" for p in e.patterns] for e in sc.models}
        reqs = frame_requests(sc, keys=keys, samples=len(sc.heldout_samples),
                              clock_hz=self.clock_hz, seed=seed, duration_s=duration_s)
        return Workload(models=table_models(list(self.tables)), requests=reqs,
                        clock_hz=self.clock_hz, name=f"{sc.label} frames seed={seed}",
                        meta={"scenario": sc.label, "seed": seed,
                              "duration_s": duration_s or sc.duration_s})

    def mean_isolated_s(self) -> float:
        """Mean over model keys of the mean isolated latency (seconds) on accelerator 0."""
        st = self.static[0]
        vals = [p.isolated_latency for p in st.pattern.values()]
        mean = sum(vals) / len(vals)
        return mean if self.time_unit == "seconds" else mean / self.clock_hz

    def load(self, rate: float) -> float:
        """Offered load at ``rate`` req/s: rate x mean isolated latency (1.0 = saturated)."""
        return rate * self.mean_isolated_s()


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
