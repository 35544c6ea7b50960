"""Sweeps as data: recipes x policies x rates x SLO multipliers x seeds, fanned out over
worker processes (or a Dask cluster), gathered in run-point order.

A `Sweep` is a frozen description, built by `make_sweep` from a scenario or a CSV folder and
the axes; `run_points` cuts it into `RunPoint` s of one (recipe, seed index, SLO, rate)
each, which run every policy on the same workload; `run_sweep` runs the points with
``concurrent.futures.ProcessPoolExecutor`` (or ``dask.distributed`` when given a scheduler
address) and returns the results sorted by run-point key, never by completion order, so the
output is the same for any number of workers.

Where the latency tables come from is a `WorkloadSource`: a synthetic table set of
`mmsched.sched.synthetic` (scenarios with ``source = "synthetic"``), a folder of Dysta artifact
CSVs, or a scenario of zoo models timed by the exact cycle model; `point_inputs` is the one
seam where a source becomes (workload, static tables, timing backend).

Points of different recipes with the same `RunPoint.workload_id` (e.g. rate 3 at SLO x10 in both a
rate sweep and an SLO sweep, fixed mode) are simulated once and their results copied
(`PointResult.reused`).

Random streams: each point builds its workload from (``seed``, seed index, rate) exactly as
`mmsched.sched.streams.poisson_workloads` specifies (in compat mode, the artifact's one
Python-``random`` stream per seed index over the recipe's rates in order), so a point's result
depends only on its key.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mmsched.sched.compat import CompatFlags
from mmsched.sched.errors import InputError

log = logging.getLogger(__name__)

SOURCE_KINDS = ("synthetic", "csv", "scenario")


def hardware_suffix(hardware: Sequence[tuple[str, Any]]) -> str:
    """``"[rows=6,cols=32]"`` for hardware overrides ``(field, value)`` (floats as ``%g``),
    ``""`` for none: how recipe names, source labels and profile names show them."""
    if not hardware:
        return ""
    return "[" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in hardware) + "]"


@dataclass(frozen=True)
class WorkloadSource:
    """Where a recipe's latency tables come from.

    ``kind="synthetic"``: the set ``name`` (``cnn`` or ``attnn``) of
    `mmsched.sched.synthetic`, drawn with ``seed`` and ``samples`` samples per model key.
    ``kind="csv"``: every Dysta artifact CSV in the folder ``path``. ``kind="scenario"``: a
    shipped scenario ``name`` or a scenario TOML ``path`` (`mmsched.sched.scenario`), timed by
    the exact cycle model through `mmsched.sim.profiled.profile_scenario`: static tables
    from its profiling samples, requests over its held-out samples. ``clock_hz`` overrides the
    engine clock (default: the synthetic set's engine, 200 MHz for Eyeriss CSVs, 1 GHz for
    Sanger CSVs; a scenario's own clock is always used). ``hardware``: ``(field, value)``
    pairs of `AcceleratorConfig` fields set on every accelerator of a scenario's system (the
    hardware axes of experiment files, `mmsched.sim.experiment_file`); the scenario is then
    profiled on that hardware.
    """

    kind: str = "synthetic"
    name: str = "cnn"
    path: str = ""
    seed: int = 0
    samples: int = 100
    clock_hz: float | None = None
    hardware: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {SOURCE_KINDS}, not {self.kind!r}")
        if self.kind == "csv" and not self.path:
            raise ValueError("a csv source needs a path")
        if self.kind == "scenario" and not (self.name or self.path):
            raise ValueError("a scenario source needs a scenario name or file path")
        if self.clock_hz is not None and not self.clock_hz > 0:
            raise ValueError(f"clock_hz must be positive, not {self.clock_hz!r}")
        if self.hardware and self.kind != "scenario":
            raise ValueError("hardware overrides apply to a scenario of zoo models only")

    @property
    def label(self) -> str:
        """Short name for tables: ``synthetic:cnn``, ``scenario:<name>`` or
        ``csv:<folder name>``."""
        if self.kind == "synthetic":
            return f"synthetic:{self.name}"
        if self.kind == "scenario":
            return f"scenario:{self.name or os.path.basename(self.path)}" + hardware_suffix(
                self.hardware)
        return f"csv:{os.path.basename(os.path.normpath(self.path))}"


AXES = ("rate", "fps_scale", "load")
"""The load axis of a recipe: the arrival rate (Poisson, with SLO multipliers), or for a
periodic (real-time) scenario the FPS scale or the offered load (docs/realtime.md, "Load")."""


@dataclass(frozen=True)
class Recipe:
    """One figure's run points.

    Poisson (Dysta) recipes: every rate (in this order) x every SLO multiplier. Real-time
    recipes (a periodic scenario on one system): every value of one load axis, ``fps_scales``
    (each model's FPS multiplied by the value) or ``loads`` (the FPS scale that offers that
    load, docs/realtime.md); no rates or SLO multipliers.
    """

    name: str
    source: WorkloadSource
    rates: tuple[float, ...] = ()
    slos: tuple[float, ...] = ()
    fps_scales: tuple[float, ...] = ()
    loads: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.periodic:
            if self.rates or self.slos:
                raise ValueError(f"recipe {self.name!r}: a real-time recipe has no rates or "
                                 f"SLO multipliers")
            if self.fps_scales and self.loads:
                raise ValueError(f"recipe {self.name!r}: give FPS scales or loads, not both")
            checks = (("FPS scale", self.fps_scales), ("load", self.loads))
        else:
            if not self.rates or not self.slos:
                raise ValueError(f"recipe {self.name!r}: needs at least one rate and one SLO")
            checks = (("rate", self.rates), ("SLO multiplier", self.slos))
        for what, values in checks:
            if len(set(values)) != len(values):  # duplicated rows, "means over 2 seeds"
                raise ValueError(f"recipe {self.name!r}: {what} values must be distinct, "
                                 f"not {list(values)}")
            for v in values:
                if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                    raise ValueError(f"recipe {self.name!r}: {what} must be a positive "
                                     f"number, not {v!r}")

    @property
    def periodic(self) -> bool:
        """A real-time recipe (periodic frames)."""
        return bool(self.fps_scales or self.loads)

    @property
    def axis(self) -> str:
        """``rate``, ``fps_scale`` or ``load`` (`AXES`)."""
        return "fps_scale" if self.fps_scales else "load" if self.loads else "rate"

    @property
    def axis_values(self) -> tuple[float, ...]:
        return self.fps_scales or self.loads or self.rates

    @property
    def points(self) -> int:
        """Run points per seed index."""
        return len(self.axis_values) * (1 if self.periodic else len(self.slos))


@dataclass(frozen=True)
class Sweep:
    """A whole experiment: recipes x policies x seeds, one engine configuration.

    ``policies`` are policy specs: a registered name, optionally with config overrides
    (``"dysta:beta=0.1:predictor=last-one"``, `parse_policy_spec`), so policy configurations
    are one more sweep dimension; the spec is the ``policy`` column of the results.

    ``seed`` is the base seed; seed index ``r`` = 0..``seeds``-1 is one repetition (the
    artifact's ``random.seed(seed + r)``). ``compat`` is a mode name of
    `CompatFlags.from_mode`; ``compat_off`` names flags of that mode turned off (``mmsched
    run`` turns off ``integer_rates`` for real-valued rates). ``detail``: the (recipe, rate,
    SLO) whose per-request records are kept for the latency CDF (default: the first recipe's
    highest rate and lowest SLO);
    ``gantt_policy``: the policy whose layer timeline is kept at that point, seed index 0.
    Real-time recipes: every recipe's largest axis value is a detail point (per-frame rows,
    and the layer timeline of its first ``gantt_window_s`` simulated seconds).

    ``num_accelerators``: identical accelerators of latency-table workloads (synthetic sets,
    CSV folders); a scenario of zoo models runs on its own system (one accelerator per entry
    of its ``system``).
    """

    recipes: tuple[Recipe, ...]
    policies: tuple[str, ...]
    seeds: int = 5
    seed: int = 1
    requests: int = 1000
    compat: str = "fixed"
    num_accelerators: int = 1
    detail: tuple[str, float, float] | None = None
    gantt_policy: str | None = None
    gantt_layers: int = 200
    compat_off: tuple[str, ...] = ()
    gantt_window_s: float = 0.2

    def __post_init__(self) -> None:
        if not self.recipes:
            raise ValueError("a sweep needs at least one recipe")
        if not self.policies:
            raise ValueError("a sweep needs at least one policy")
        if len(set(self.policies)) != len(self.policies):
            raise ValueError(f"policies must be distinct, found {list(self.policies)}")
        if len({r.name for r in self.recipes}) != len(self.recipes):
            raise ValueError("recipe names must be distinct")
        for name in ("seeds", "requests", "num_accelerators", "gantt_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, not {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {self.seed!r}")
        flags = CompatFlags.from_mode(self.compat)
        for name in self.compat_off:
            if not isinstance(getattr(flags, name, None), bool):
                raise ValueError(f"compat_off: unknown compat flag {name!r}")
        if not (isinstance(self.gantt_window_s, (int, float)) and self.gantt_window_s > 0):
            raise ValueError(f"gantt_window_s must be positive, not {self.gantt_window_s!r}")
        if self.periodic and self.compat != "fixed":
            raise ValueError("real-time (periodic) recipes run in fixed mode only")
        if self.detail is None:
            r = self.recipes[0]
            object.__setattr__(self, "detail", (r.name, max(r.axis_values),
                                                min(r.slos) if r.slos else 0.0))
        if self.gantt_policy is None:
            pick = next((p for p in ("dream", "dysta") if p in self.policies),
                        self.policies[0])
            object.__setattr__(self, "gantt_policy", pick)

    @property
    def flags(self) -> CompatFlags:
        """The compat switches of this sweep."""
        return replace(CompatFlags.from_mode(self.compat),
                       **dict.fromkeys(self.compat_off, False))

    @property
    def periodic(self) -> bool:
        """Whether any recipe is real-time (periodic frames)."""
        return any(r.periodic for r in self.recipes)

    @property
    def runs(self) -> int:
        """Number of simulations (run points x policies)."""
        return sum(r.points for r in self.recipes) * self.seeds * len(self.policies)

    def to_dict(self) -> dict[str, Any]:
        """The sweep as plain data. The real-time fields appear only in sweeps that use them
        (so the record of a Poisson sweep is what it was before they existed)."""
        d = asdict(self)
        for r in d["recipes"]:
            for k in ("fps_scales", "loads"):
                if not r[k]:
                    del r[k]
            if not r["source"]["hardware"]:
                del r["source"]["hardware"]
        if not self.periodic:
            del d["gantt_window_s"]
        return d


@dataclass(frozen=True)
class RunPoint:
    """One workload: a (recipe, seed index, SLO, rate) point of a Poisson recipe, or a
    (recipe, seed index, FPS scale or load) point of a real-time recipe (``rate`` and ``slo``
    0, and the axis the recipe does not sweep 0: the worker derives it); every policy runs on
    it."""

    sweep: Sweep
    recipe_index: int
    seed_index: int
    slo: float
    rate: float
    fps_scale: float = 0.0
    load: float = 0.0

    @property
    def recipe(self) -> Recipe:
        return self.sweep.recipes[self.recipe_index]

    @property
    def x(self) -> float:
        """The point's value on its recipe's axis (`Recipe.axis`)."""
        return {"rate": self.rate, "fps_scale": self.fps_scale, "load": self.load}[
            self.recipe.axis]

    @property
    def key(self) -> tuple:
        """Sort key of the point's results: recipe order, then the axis value (rate), SLO,
        seed index."""
        return (self.recipe_index, self.x, self.slo, self.seed_index)

    @property
    def is_detail(self) -> bool:
        if self.recipe.periodic:
            return self.x == max(self.recipe.axis_values)
        name, rate, slo = self.sweep.detail
        return (self.recipe.name, self.rate, self.slo) == (name, rate, slo)

    @property
    def workload_id(self) -> tuple:
        """What the point's results depend on besides the sweep's common fields: two points of
        different recipes with one ``workload_id`` give identical results (run once).

        Fixed mode seeds each rate's requests from (seed, seed index, rate); compat mode draws
        a seed index's rates in order from one stream, so the rates up to this one count.
        Real-time points: their frames come from (seed, seed index, FPS scale).
        """
        if self.recipe.periodic:
            return (self.recipe.source, self.recipe.axis, self.x, self.seed_index,
                    self.is_detail)
        rates = self.recipe.rates
        stream = rates[:rates.index(self.rate) + 1] if self.sweep.flags.any else (self.rate,)
        return (self.recipe.source, stream, self.slo, self.seed_index, self.is_detail)


@dataclass
class PointResult:
    """What a point returns (plain data, cheap to pickle).

    ``summary``: one row per policy; ``per_model``: one row per (policy, model);
    ``requests``: per-request rows when the point is the detail point; ``layers``: the Gantt
    window when the point is the detail point at seed index 0; ``trace``: the rows policies
    report through `mmsched.sched.policy.Policy.trace` (labelled like the summary).
    """

    key: tuple
    summary: list[dict[str, Any]] = field(default_factory=list)
    per_model: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0
    reused: bool = False
    """True when copied from an identical point of another recipe (not simulated again)."""


def run_points(sweep: Sweep) -> list[RunPoint]:
    """The sweep's run points, in key order."""
    out = []
    for i, r in enumerate(sweep.recipes):
        if r.periodic:
            out += [RunPoint(sweep, i, s, 0.0, 0.0, **{r.axis: x})
                    for x in r.axis_values for s in range(sweep.seeds)]
        else:
            out += [RunPoint(sweep, i, s, slo, rate)
                    for rate in r.rates for slo in r.slos for s in range(sweep.seeds)]
    return sorted(out, key=lambda j: j.key)


DEFAULT_SCENARIO = "dysta-cnn"
"""The scenario of a sweep that names none (``mmsched run`` with no arguments)."""
DEFAULT_POLICIES = ("fcfs", "sjf", "sjf_sparse", "prema", "prema_sparse", "planaria", "sdrm3",
                    "sdrm3_sparse", "dysta", "dysta_naive", "dysta_oracle")
"""The policies of the Dysta benchmark (docs/scheduling.md), the default set."""
REALTIME_POLICIES = ("fcfs", "rr", "edf", "herald", "prema", "planaria", "sdrm3", "dysta",
                     "dream", "dream_sparse")
"""The default policies of real-time (periodic) scenarios, in table order: the baselines and
DREAM (docs/realtime.md). Names not registered (yet) are skipped (`realtime_policies`); a new
real-time policy is added here."""
CSV_DEFAULTS = ((3.0, 4.0), (10.0,), 1000, 5)
"""Rates, SLO multipliers, requests and seeds for a folder of Dysta CSVs (the artifact's
scripts)."""


def realtime_policies() -> tuple[str, ...]:
    """`REALTIME_POLICIES` that are registered, in that order."""
    from mmsched.sched.policy import policy_names

    known = set(policy_names())
    return tuple(p for p in REALTIME_POLICIES if p in known)


def engine_clock_hz(mhz: float, source: str, where: str = "") -> float:
    """The engine clock of a latency-table workload in Hz, from ``mhz`` MHz (``--clock-mhz``,
    an experiment file's ``clock_mhz``); `InputError` naming ``source`` and ``where`` when it
    is outside [`MIN_CLOCK_HZ`, `MAX_CLOCK_HZ`] (the bounds of an accelerator's clock)."""
    from mmsched.sched.limits import MAX_CLOCK_HZ, MIN_CLOCK_HZ

    hz = mhz * 1e6
    if not MIN_CLOCK_HZ <= hz <= MAX_CLOCK_HZ:  # (NaN fails too)
        raise InputError(source, where, f"a clock in [{MIN_CLOCK_HZ / 1e6:g}, "
                         f"{MAX_CLOCK_HZ / 1e6:g}] MHz (MIN_CLOCK_HZ, MAX_CLOCK_HZ)",
                         f"{mhz!r} MHz")
    return hz


def make_sweep(*, scenario: str | None = None, csv_dir: str | None = None,
               rates: Sequence[float] | None = None, slos: Sequence[float] | None = None,
               requests: int | None = None, seeds: int | None = None, seed: int = 1,
               policies: Sequence[str] | None = None, compat: str = "fixed",
               compat_off: Sequence[str] = (), accelerators: int | None = None,
               clock_hz: float | None = None, fps_scales: Sequence[float] | None = None,
               loads: Sequence[float] | None = None) -> Sweep:
    """The one constructor of a `Sweep` from a workload and axes, shared by the commands.

    The workload is ``csv_dir`` (a folder of Dysta CSVs, defaults `CSV_DEFAULTS`) or
    ``scenario`` (a shipped scenario name or a TOML file, optionally ``:VARIANT``; default
    `DEFAULT_SCENARIO`), whose file holds the default axes. Axes given here replace the
    defaults. ``clock_hz`` overrides the engine clock of table workloads (synthetic sets, CSV
    folders); a zoo scenario's accelerators set their own clock, and its system sets the
    accelerators (``accelerators``, identical engines, is for table workloads only; default
    1). ``policies``: policy specs (default `DEFAULT_POLICIES`, or `realtime_policies` for a
    periodic scenario). In compat mode, a non-integer rate turns the ``integer_rates``
    switch off for the sweep, with a warning.

    A periodic (real-time) scenario runs over ``fps_scales`` (default 1) or ``loads``; given
    without ``:VARIANT`` it runs on every system variant of its file, one recipe each
    (``name:variant``). Rates, SLO multipliers and request counts do not apply to it.

    Raises `InputError` naming the option at fault (as the commands spell it).
    """
    from mmsched.sched.scenario import builtin_scenario_names, find_scenario

    if csv_dir is not None:
        _no_realtime_axes(fps_scales, loads, "--csv-dir")
        d_rates, d_slos, d_requests, d_seeds = CSV_DEFAULTS
        source = WorkloadSource(kind="csv", path=csv_dir, clock_hz=clock_hz)
        name = source.label.removeprefix("csv:") or "csv"
    else:
        spec = scenario or DEFAULT_SCENARIO
        sc = find_scenario(spec, option="--scenario")
        if sc.arrivals == "periodic":
            return _realtime_sweep(spec, sc, rates=rates, slos=slos, requests=requests,
                                   seeds=seeds, seed=seed, policies=policies, compat=compat,
                                   accelerators=accelerators, clock_hz=clock_hz,
                                   fps_scales=fps_scales, loads=loads)
        _no_realtime_axes(fps_scales, loads, f"--scenario {spec} (Poisson arrivals)")
        d_rates, d_slos, d_requests, d_seeds = sc.rates, sc.slos, sc.requests, sc.seeds
        if sc.source == "synthetic":
            source = WorkloadSource(kind="synthetic", name=sc.synthetic, clock_hz=clock_hz)
        else:
            if clock_hz is not None:
                raise InputError("--clock-mhz", "", "no --clock-mhz with a scenario of zoo "
                                 "models (its accelerators set the clock)",
                                 f"--scenario {spec}")
            if accelerators is not None:
                raise _accelerators_error(spec, sc)
            shipped = spec.partition(":")[0] in builtin_scenario_names()
            source = WorkloadSource(kind="scenario", name=spec if shipped else sc.name,
                                    path="" if shipped else spec)
        name = sc.label
    compat_off = tuple(compat_off)
    rates = tuple(float(r) for r in (d_rates if rates is None else rates))
    if compat == "dysta-artifact":
        odd = [r for r in rates if not r.is_integer()]
        if odd:
            compat_off = tuple(dict.fromkeys((*compat_off, "integer_rates")))
            log.warning("the Dysta artifact accepts only integer rates; %s run with its "
                        "arithmetic, but no artifact result exists to compare with",
                        ", ".join(f"{r:g}" for r in odd))
    recipe = Recipe(name=name, source=source, rates=rates,
                    slos=tuple(float(s) for s in (d_slos if slos is None else slos)))
    return Sweep(recipes=(recipe,), policies=tuple(policies or DEFAULT_POLICIES),
                 seeds=d_seeds if seeds is None else seeds, seed=seed,
                 requests=d_requests if requests is None else requests, compat=compat,
                 num_accelerators=1 if accelerators is None else accelerators,
                 compat_off=compat_off)


def _no_realtime_axes(fps_scales, loads, found: str) -> None:
    for option, given in (("--fps-scale", fps_scales), ("--load", loads)):
        if given is not None:
            raise InputError(option, "", "a periodic (real-time) scenario such as "
                             "xr-vr-gaming", found)


def _accelerators_error(spec: str, sc) -> InputError:
    names = ", ".join(f"{sc.name}:{n}" for n, _ in sc.variants)
    hint = (f"a system variant ({names})" if names else
            "a scenario whose [system] lists the accelerators")
    return InputError("--accelerators", "", f"no --accelerators with a scenario of zoo models: "
                      f"its system sets the accelerators; choose {hint}",
                      f"--scenario {spec}")


def _realtime_sweep(spec: str, sc, *, rates, slos, requests, seeds, seed, policies, compat,
                    accelerators, clock_hz, fps_scales, loads) -> Sweep:
    """`make_sweep` of a periodic scenario: one recipe per system variant."""
    from mmsched.sched.scenario import builtin_scenario_names

    found = f"--scenario {spec} (periodic frames)"
    for option, given, why in (
            ("--rates", rates, "no --rates: frames arrive at each model's FPS (sweep "
             "--fps-scale or --load instead)"),
            ("--slo", slos, "no --slo: a frame's deadline is the next frame's arrival"),
            ("--requests", requests, "no --requests: the scenario's duration_s sets the "
             "frames"),
            ("--clock-mhz", clock_hz, "no --clock-mhz: the accelerators set the clock")):
        if given is not None:
            raise InputError(option, "", why, found)
    if accelerators is not None:
        raise _accelerators_error(spec, sc)
    if compat != "fixed":
        raise InputError("--compat", "", "fixed (real-time runs have no Dysta-artifact "
                         "mode)", f"{compat} with {found}")
    if fps_scales is not None and loads is not None:
        raise InputError("--load", "", "either --fps-scale or --load", "both")
    base, sep, variant = spec.rpartition(":")
    if not (sep and sc.variant):
        base = spec
    shipped = base in builtin_scenario_names()
    systems = [sc] if sc.variant or not sc.variants else [sc.with_variant(n)
                                                          for n, _ in sc.variants]
    recipes = []
    for v in systems:
        where = f"{base}:{v.variant}" if v.variant else base
        source = WorkloadSource(kind="scenario", name=where if shipped else v.label,
                                path="" if shipped else where)
        axes = ({"loads": tuple(float(x) for x in loads)} if loads is not None else
                {"fps_scales": tuple(float(x) for x in (fps_scales or (1.0,)))})
        recipes.append(Recipe(name=v.label, source=source, **axes))
    chosen = tuple(policies) if policies else realtime_policies()
    return Sweep(recipes=tuple(recipes), policies=chosen,
                 seeds=sc.seeds if seeds is None else seeds, seed=seed, requests=sc.requests,
                 compat=compat)


# --- loading (cached per process: each worker loads a source once) ---------------------------


def _csv_clock_hz(path: str) -> float:
    """1 GHz for a folder of Sanger CSVs (the attention engine), else 200 MHz (Eyeriss)."""
    names = sorted(n for n in os.listdir(path) if n.endswith(".csv"))
    with open(os.path.join(path, names[0]), encoding="utf-8", errors="replace") as f:
        header = {c.strip() for c in f.readline().split(",")}
    return 1e9 if "50%-skip" in header and "sim_lat" not in header else 200e6


@functools.lru_cache(maxsize=8)
def load_tables(source: WorkloadSource, compat: CompatFlags) -> tuple[tuple, float]:
    """The source's latency tables and engine clock in Hz (a scenario's: the held-out
    samples on its accelerator 0, from which Poisson requests are drawn).

    Raises
    ------
    InputError
        For a missing, empty or malformed CSV folder (from `load_csv_dir`).
    ValueError
        For an unknown synthetic set.
    """
    if source.kind == "synthetic":
        from mmsched.sched.synthetic import synthetic_tables

        tables, clock = synthetic_tables(source.name, seed=source.seed, samples=source.samples)
    elif source.kind == "scenario":
        # exact cycle model on the held-out samples (H-workloads' seam, issue 4)
        tables, clock = _scenario(source, compat).tables, _scenario(source, compat).clock_hz
    else:
        if not os.path.isdir(source.path):
            raise InputError(source.path, "--csv-dir", "a folder of Dysta CSV files",
                             "no such folder" if not os.path.exists(source.path)
                             else "a file")
        from mmsched.sched.dysta_csv import load_csv_dir

        tables = load_csv_dir(source.path, compat=compat)
        clock = _csv_clock_hz(source.path)
    if source.clock_hz is not None:
        clock = source.clock_hz
    return tuple(tables), clock


@functools.lru_cache(maxsize=8)
def _scenario(source: WorkloadSource, compat: CompatFlags):
    """A scenario file profiled with the exact cycle model (cached under build/cache), on
    its system with ``source.hardware`` set on every accelerator."""
    from mmsched.sim.profiled import profile_scenario

    spec = source.path or source.name
    if not source.hardware:
        return profile_scenario(spec, compat=compat)
    from mmsched.sched.scenario import find_scenario

    sc = find_scenario(spec)
    hw = dict(source.hardware)
    # named after its hardware: the profile cache's index (its messages) tells them apart
    return profile_scenario(replace(sc, name=sc.name + hardware_suffix(source.hardware),
                                    system=tuple(replace(c, **hw) for c in sc.system)),
                            compat=compat)


@functools.lru_cache(maxsize=8)
def _static(source: WorkloadSource, compat: CompatFlags):
    """``(static tables per accelerator, time unit)``: a scenario's from its profiling
    samples on each accelerator of its system; a latency-table source's one table set."""
    from mmsched.sched.static import static_tables

    unit = "seconds" if compat.any else "cycles"
    if source.kind == "scenario":  # static tables from the profiling samples only
        return _scenario(source, compat).static, unit
    tables, clock = load_tables(source, compat)
    return (static_tables(tables, time_unit=unit, clock_hz=clock),), unit


@functools.lru_cache(maxsize=32)
def _workloads(source: WorkloadSource, compat: CompatFlags, rates: tuple[float, ...], slo: float,
               requests: int, seed: int, seed_index: int) -> dict[float, Any]:
    from mmsched.sched.streams import poisson_workloads

    tables, clock = load_tables(source, compat)
    # deadlines: SLO x the mean isolated latency on accelerator 0 (the Dysta benchmark's)
    wls = poisson_workloads(tables, rates=list(rates), num_requests=requests, slo=slo, seed=seed,
                          seed_index=seed_index, compat=compat, clock_hz=clock,
                          static=_static(source, compat)[0][0])
    return dict(zip(rates, wls, strict=True))


@functools.lru_cache(maxsize=8)
def _backend(source: WorkloadSource, compat: CompatFlags):
    """One backend per source and process (it caches rows; no per-run state): a scenario's
    per-accelerator exact-cycle-model counters (`mmsched.sim.profiled.ProfiledBackend`), or a
    latency-table source's table backend."""
    from mmsched.sim.backends import make_backend

    if source.kind == "scenario":
        return _scenario(source, compat).backend()
    tables, clock = load_tables(source, compat)
    unit = "seconds" if compat.any else "cycles"
    return make_backend("table", tables=tables, time_unit=unit, clock_hz=clock)


def validate_sources(sweep: Sweep) -> None:
    """Load every source and build each recipe's first workload in this process, so bad input
    fails here, before any work starts (and before a worker would raise it)."""
    seen = set()
    for point in run_points(sweep):
        if point.recipe_index in seen:
            continue
        seen.add(point.recipe_index)
        tables, _ = load_tables(point.recipe.source, sweep.flags)
        if not tables:
            raise InputError(point.recipe.source.path or point.recipe.source.label, "",
                             "at least one model", "none")
        if point.recipe.periodic != (_arrivals(point.recipe.source, sweep.flags) == "periodic"):
            raise InputError(point.recipe.name, "", "load axes that match its arrivals "
                             "(rates for Poisson, FPS scales or loads for periodic)",
                             point.recipe.axis)
        inputs = point_inputs(point)
        context = _context(point, inputs)
        for spec in sweep.policies:
            try:
                _policy(spec, context)
            except ValueError as e:
                raise InputError(f"policy {spec!r}", "", "a valid configuration",
                                 str(e)) from None


def _arrivals(source: WorkloadSource, compat: CompatFlags) -> str:
    return _scenario(source, compat).scenario.arrivals if source.kind == "scenario" else \
        "poisson"


# --- one point ---------------------------------------------------------------------------------


def _num(x: Any) -> Any:
    """Plain Python numbers (numpy scalars would pickle and format differently)."""
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return int(x)
    try:
        return float(x)
    except (TypeError, ValueError):
        return x


@dataclass(frozen=True)
class PointInputs:
    """What a run point simulates: ``workload``; ``tables``, the static tables of each
    accelerator; the timing ``backend``; ``num_accelerators``; ``system`` (the
    `AcceleratorConfig` of each accelerator, empty for latency-table sources); ``transfer``
    (the `TransferModel` the engine charges, None for latency-table sources); for real-time
    points the ``fps_scale`` the frames use and the ``load`` it offers."""

    workload: Any
    tables: tuple
    backend: Any
    num_accelerators: int
    system: tuple = ()
    transfer: Any = None
    fps_scale: float = 0.0
    load: float = 0.0


def point_inputs(point: RunPoint) -> PointInputs:
    """The point's simulator input: the seam where a workload source becomes simulator input.
    Latency-table sources (synthetic sets, Dysta CSVs) go through `mmsched.sched.dysta_csv`:
    ``Sweep.num_accelerators`` identical engines served by the table backend. Scenarios (zoo
    models on the exact cycle model) run on their system: one accelerator per entry, each
    timed by its own profiled counters (`mmsched.sim.profiled.ProfiledBackend`), static
    tables per accelerator from the profiling samples, transfers charged between
    accelerators; Poisson requests over the held-out samples, or periodic frames (real-time
    recipes). A new source kind adds a branch here and in `load_tables`.
    """
    sweep, recipe = point.sweep, point.recipe
    flags = sweep.flags
    static, _ = _static(recipe.source, flags)
    backend = _backend(recipe.source, flags)
    if recipe.source.kind != "scenario":
        workload = _workloads(recipe.source, flags, recipe.rates, point.slo, sweep.requests,
                              sweep.seed, point.seed_index)[point.rate]
        return PointInputs(workload, static * sweep.num_accelerators, backend,
                           sweep.num_accelerators)
    from mmsched.sched.transfer import TransferModel

    ps = _scenario(recipe.source, flags)
    system = tuple(ps.scenario.system)
    transfer = TransferModel(ps.scenario.transfer, system, ps.clock_hz)
    if not recipe.periodic:
        workload = _workloads(recipe.source, flags, recipe.rates, point.slo, sweep.requests,
                              sweep.seed, point.seed_index)[point.rate]
        # the requests of the held-out latency tables, on the models with their layer shapes
        workload = replace(workload, models=_models(recipe.source, flags))
        return PointInputs(workload, static, backend, len(system), system, transfer)
    scale, load = _scale_and_load(ps, recipe, point)
    workload = ps.frames(seed=sweep.seed, seed_index=point.seed_index, fps_scale=scale)
    return PointInputs(workload, static, backend, len(system), system, transfer, scale, load)


@functools.lru_cache(maxsize=8)
def _models(source: WorkloadSource, compat: CompatFlags) -> dict:
    return _scenario(source, compat).models()


def _scale_and_load(ps, recipe: Recipe, point: RunPoint) -> tuple[float, float]:
    """The FPS scale and the offered load of a real-time point (one is given, the other
    follows from the scenario's load at scale 1, `ProfiledScenario.periodic_load`)."""
    base = ps.periodic_load(1.0)
    if recipe.axis == "load":
        return point.load / base, point.load
    return point.fps_scale, point.fps_scale * base


def realtime_meta(sweep: Sweep) -> dict[str, Any]:
    """What a real-time sweep's records mean, for ``run.json``: the metric parameters and,
    per recipe, its system, transfer figures and load at FPS scale 1 (profiles loaded or
    made as `point_inputs` does)."""
    from mmsched.sched import metrics

    recipes = {}
    for r in sweep.recipes:
        if not r.periodic:
            continue
        ps = _scenario(r.source, sweep.flags)
        sc = ps.scenario
        recipes[r.name] = {
            "system": [{"name": c.name, "rows": c.rows, "cols": c.cols, "dense": c.dense,
                        "clock_hz": c.clock_hz} for c in sc.system],
            "transfer": {"bandwidth_bytes_per_s": sc.transfer.bandwidth_bytes_per_s,
                         "pj_per_byte": sc.transfer.pj_per_byte},
            "duration_s": sc.duration_s,
            "load_at_fps_scale_1": ps.periodic_load(1.0)}
    return {"metrics": list(metrics.REALTIME_KEYS + metrics.REALTIME_COUNT_KEYS),
            "per_model_metrics": list(metrics.REALTIME_MODEL_KEYS),
            "xrbench": {"k_per_ms": metrics.XRBENCH_K_PER_MS,
                        "max_energy_mj": metrics.XRBENCH_MAX_ENERGY_MJ},
            "uxcost": "energy_ratio x deadline_factor = E / E_ref x (1 + miss_rate + "
                      "drop_rate) (docs/realtime.md)",
            "recipes": recipes}


def parse_policy_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"dysta"`` -> ``("dysta", {})``; ``"dysta:beta=0.1:predictor=last-one"`` -> the
    registered name and config overrides, values as text: `mmsched.sched.policy.policy_config`
    parses each against its field's declared type and range.

    Raises ValueError for an empty name, a part that is not ``field=value`` or a field given
    twice.
    """
    name, *parts = spec.split(":")
    if not name:
        raise ValueError(f"policy spec {spec!r}: no policy name")
    overrides: dict[str, Any] = {}
    for part in parts:
        field_name, eq, text = part.partition("=")
        if not eq or not field_name:
            raise ValueError(f"policy spec {spec!r}: {part!r} is not field=value")
        if field_name in overrides:
            raise ValueError(f"policy spec {spec!r}: {field_name!r} given twice")
        overrides[field_name] = text
    return name, overrides


def _context(point: RunPoint, inputs: PointInputs):
    """The `PolicyContext` of a point: static tables, system and transfers of its inputs."""
    from mmsched.sched.policy import PolicyContext

    return PolicyContext(tables=inputs.tables, num_accelerators=inputs.num_accelerators,
                         clock_hz=inputs.workload.clock_hz,
                         time_unit=inputs.workload.time_unit, compat=point.sweep.flags,
                         system=inputs.system, transfer=inputs.transfer)


def _policy(spec: str, context):
    from mmsched.sched.policy import make_policy

    name, overrides = parse_policy_spec(spec)
    return make_policy(name, context, **overrides)


def run_point(point: RunPoint, policies: Sequence[str] | None = None) -> PointResult:
    """Run every policy of the sweep (or only ``policies``, a part of them: `run_sweep` splits
    a point among workers this way) on the point's workload, in this process."""
    from mmsched.sim.engine import simulate

    sweep, recipe = point.sweep, point.recipe
    flags = sweep.flags
    inputs = point_inputs(point)
    context = _context(point, inputs)
    base = {"recipe": recipe.name, "workload": recipe.source.label, "mode": sweep.compat}
    out = PointResult(key=point.key)
    for policy_name in sweep.policies if policies is None else policies:
        policy = _policy(policy_name, context)
        keep = point.is_detail and point.seed_index == 0 and policy_name == sweep.gantt_policy
        result = simulate(inputs.workload, policy, inputs.backend,
                          num_accelerators=inputs.num_accelerators, compat=flags,
                          keep_layers=keep, transfer=inputs.transfer,
                          max_layers=None if recipe.periodic else sweep.gantt_layers)
        if recipe.periodic:
            labels = {**base, "policy": policy_name, "fps_scale": float(inputs.fps_scale),
                      "load": float(inputs.load), "seed": point.seed_index}
            _realtime_results(out, labels, point, inputs, result, keep)
        else:
            labels = {**base, "policy": policy_name, "rate": float(point.rate),
                      "slo": float(point.slo), "seed": point.seed_index}
            _poisson_results(out, labels, point, result, keep)
        out.decisions += int(result.decisions)
        out.trace.extend(_trace_rows(labels, policy))
    return out


def _poisson_results(out: PointResult, labels, point: RunPoint, result, keep: bool) -> None:
    from mmsched.sched import metrics

    summary = {k: _num(v) for k, v in metrics.summarize(result.requests).items()}
    out.summary.append({**labels, **summary, "decisions": int(result.decisions)})
    for model, row in sorted(metrics.per_model(result.requests).items()):
        out.per_model.append({**labels, "model": model,
                              **{k: _num(v) for k, v in row.items()}})
    to_s = _to_seconds(result)
    if point.is_detail:
        out.requests.extend(_request_rows(labels, result, to_s))
    if keep:
        out.layers.extend(_layer_rows(labels, result, to_s, point.sweep.gantt_layers))


def _realtime_results(out: PointResult, labels, point: RunPoint, inputs: PointInputs, result,
                      keep: bool) -> None:
    """Summary, per-model, per-frame and layer rows of a real-time run (sched/metrics.py)."""
    from mmsched.sched import metrics

    workload = inputs.workload
    reqs = workload.requests  # ids 0..n-1 (periodic_frames), records sorted by id
    arch = [workload.models[r.model].arch for r in reqs]
    ref = [inputs.backend.reference_energy_pj(r.model, r.sample) for r in reqs]
    summary = metrics.realtime_summary(result.requests, arch, ref)
    out.summary.append({**labels, **{k: _num(v) for k, v in summary.items()},
                        "decisions": int(result.decisions)})
    for model, row in metrics.realtime_per_model(result.requests, arch).items():
        out.per_model.append({**labels, "model": model,
                              **{k: _num(v) for k, v in row.items()}})
    to_s = _to_seconds(result)
    index = workload.meta["frame_index"]
    if point.is_detail:
        for rec, req, name, k in zip(result.requests, reqs, arch, index, strict=True):
            done = not rec.dropped
            out.requests.append({
                **labels, "request": int(rec.id), "model": name, "frame": int(k),
                "key": rec.model, "variant": rec.variant,
                "accelerators": ";".join(str(a) for a in rec.accelerators),
                "arrival_s": to_s(rec.arrival), "deadline_s": to_s(rec.deadline),
                "finish_s": to_s(rec.finish), "latency_s": to_s(rec.finish - rec.arrival)
                if done else math.nan,
                "missed": int(done and rec.finish > rec.deadline),
                "dropped": int(bool(rec.dropped)), "energy_mj": float(rec.energy_pj) * 1e-9,
                "transfer_mj": float(rec.transfer_pj) * 1e-9,
                "depends_on": ";".join(str(d) for d in req.depends_on)})
    if keep:
        window = result.requests[0].arrival + point.sweep.gantt_window_s * workload.clock_hz \
            if result.requests else 0
        names = {r.id: (n, k) for r, n, k in zip(reqs, arch, index, strict=True)}
        req = {r.id: r for r in result.requests}
        for rec in sorted(result.layers, key=lambda x: (x.start, x.accelerator)):
            if rec.start >= window:
                break
            r = req[rec.request]
            name, k = names[rec.request]
            out.layers.append({
                **labels, "request": int(rec.request), "model": name, "frame": int(k),
                "layer": int(rec.layer), "accelerator": int(rec.accelerator),
                "start_s": to_s(rec.start), "end_s": to_s(rec.end),
                "transfer_s": to_s(rec.transfer), "nnz": int(rec.nnz),
                "total": int(rec.total), "energy_mj": float(rec.energy_pj) * 1e-9,
                "transfer_mj": float(rec.transfer_pj) * 1e-9,
                "arrival_s": to_s(r.arrival), "deadline_s": to_s(r.deadline)})


def _trace_rows(labels, policy) -> list[dict[str, Any]]:
    """The policy's `Policy.trace` rows, labelled (checked against the contract)."""
    trace = getattr(policy, "trace", None)
    rows = trace() if trace is not None else None
    if not rows:
        return []
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "time_s" not in row:
            raise ValueError(f"policy {policy.name!r}: trace() row {i} is not a dict with a "
                             f"'time_s' entry")
        clash = set(row) & set(labels)
        if clash:
            raise ValueError(f"policy {policy.name!r}: trace() row {i} uses the reserved "
                             f"column(s) {sorted(clash)}")
        out.append({**labels, **{k: _num(v) for k, v in row.items()}})
    return out


def _to_seconds(result) -> Callable[[Any], float]:
    if result.time_unit == "seconds":
        return float
    clock = float(result.clock_hz)
    return lambda t: t / clock


def _request_rows(labels, result, to_s) -> Iterable[dict[str, Any]]:
    for r in result.requests:
        done = r.finish is not None and not r.dropped
        latency = to_s(r.finish - r.arrival) if done else math.nan
        iso = to_s(r.isolated)
        yield {**labels, "request": int(r.id), "model": r.model, "priority": int(r.priority),
               "arrival_s": to_s(r.arrival), "deadline_s": to_s(r.deadline),
               "finish_s": to_s(r.finish) if done else math.nan, "latency_s": latency,
               "isolated_s": iso, "ntt": latency / iso if done and iso > 0 else math.nan,
               "violated": int((not done) or r.finish > r.deadline),
               "dropped": int(bool(r.dropped))}


def _layer_rows(labels, result, to_s, limit: int) -> Iterable[dict[str, Any]]:
    req = {r.id: r for r in result.requests}
    for rec in sorted(result.layers, key=lambda x: (x.start, x.accelerator)):
        if limit <= 0:
            break
        limit -= 1
        r = req[rec.request]
        yield {**labels, "request": int(rec.request), "model": r.model,
               "layer": int(rec.layer), "accelerator": int(rec.accelerator),
               "start_s": to_s(rec.start), "end_s": to_s(rec.end), "nnz": int(rec.nnz),
               "total": int(rec.total), "arrival_s": to_s(r.arrival),
               "deadline_s": to_s(r.deadline)}


# --- fan-out ---------------------------------------------------------------------------------


def default_workers() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_sweep(sweep: Sweep, *, workers: int | None = None, scheduler_address: str | None = None,
              progress: Callable[[int, int], None] | None = None,
              runner: Callable[[RunPoint], PointResult] = run_point,
              done: dict[tuple, PointResult] | None = None,
              on_result: Callable[[PointResult], None] | None = None) -> list[PointResult]:
    """Run every point of ``sweep``; results sorted by point key (independent of the workers).

    Parameters
    ----------
    workers : int, optional
        Local worker processes; 1 runs in this process. Default: `local_workers`.
    scheduler_address : str, optional
        A ``dask.distributed`` scheduler (``tcp://host:8786``); the workers must have mmsched
        installed. Raises `InputError` when ``dask.distributed`` is not importable.
    progress : callable, optional
        Called as ``progress(done_runs, total_runs)`` after each finished point.
    runner : callable
        The per-point function (tests substitute a fake; must be picklable).
    done : dict, optional
        Results of points finished earlier, by point key (a resumed sweep,
        `mmsched.sim.resume`): those points are not run again and count as done.
    on_result : callable, optional
        Called in this process with each newly simulated point's result, as it arrives
        (before ``progress``).
    """
    every = run_points(sweep)
    first: dict[tuple, RunPoint] = {}
    copies: dict[tuple, int] = {}
    for point in every:
        first.setdefault(point.workload_id, point)
        copies[point.workload_id] = copies.get(point.workload_id, 0) + 1
    id_of_key = {j.key: j.workload_id for j in first.values()}
    earlier = [done[j.key] for j in first.values() if done and j.key in done]
    todo = [j for j in first.values() if not (done and j.key in done)]
    total = sweep.runs
    per_job = len(sweep.policies)
    count = per_job * sum(copies[id_of_key[r.key]] for r in earlier)
    results: list[PointResult] = list(earlier)
    if earlier and progress is not None:
        progress(count, total)

    def tick() -> None:
        nonlocal count
        if on_result is not None:
            on_result(results[-1])
        count += per_job * copies[id_of_key[results[-1].key]]
        if progress is not None:
            progress(count, total)

    if scheduler_address:
        try:
            from dask.distributed import Client, as_completed
        except ImportError:
            raise InputError("--scheduler-address", "", "dask.distributed installed "
                             "(pip install 'mmsched[dask]')",
                             "no module dask.distributed") from None
        try:
            client = Client(scheduler_address)
        except OSError as e:  # unreachable or timed out: nothing ran yet
            raise InputError("--scheduler-address", "", "a reachable dask scheduler "
                             "(tcp://host:port)", str(e)) from None
        with client:
            futures = client.map(runner, todo, pure=False)
            for fut in as_completed(futures):
                results.append(fut.result())
                tick()
    else:
        n = local_workers(sweep, workers, len(todo))
        # Few points for the workers: split each by policy, so that no worker is left
        # running a whole point alone at the end; the parts are joined in policy order.
        parts = len(sweep.policies) if runner is run_point and len(todo) < _SPLIT_BELOW * n \
            else 1
        n = min(n, max(len(todo) * parts, 1))
        if n == 1:
            for point in todo:
                results.append(runner(point))
                tick()
        else:
            from . import fastloop
            from ._pool import process_pool  # no worker outlives an error or interrupt

            fastloop.load()  # built here once, not in every worker

            pending: dict[tuple, list[PointResult | None]] = {}
            with process_pool(n) as pool:
                futures = {}
                for point in _balanced(todo):
                    pending[point.key] = [None] * parts
                    for i in range(parts):
                        args = (point,) if parts == 1 else (point, sweep.policies[i:i + 1])
                        futures[pool.submit(runner, *args)] = (point.key, i)
                for fut in cf.as_completed(futures):
                    key, i = futures[fut]
                    got = pending[key]
                    got[i] = fut.result()
                    if all(r is not None for r in got):
                        results.append(_joined(pending.pop(key)))
                        tick()
    by_id = {id_of_key[r.key]: r for r in results}
    return [_relabel(by_id[j.workload_id], j) for j in every]


_SPLIT_BELOW = 4
"""`run_sweep` splits points by policy when there are fewer than this many per worker."""

QUICK_S = 0.25
"""A local sweep estimated to simulate in less than this (seconds on one core) runs in the
command's process: starting workers and sending them the inputs would cost about as much."""


def local_workers(sweep: Sweep, workers: int | None = None, points: int | None = None) -> int:
    """The worker processes `run_sweep` starts for ``points`` points of ``sweep`` (default:
    all of them): ``workers`` when given, else 1 when the sweep is estimated to take less than
    `QUICK_S`, else `default_workers`."""
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, not {workers!r}")
        return workers
    n = default_workers()
    if n > 1:
        if points is None:
            points = len({p.workload_id for p in run_points(sweep)})
        if _quick(sweep, points):
            return 1
    return n


def _quick(sweep: Sweep, points: int) -> bool:
    """Whether ``points`` points of ``sweep`` are estimated to take less than `QUICK_S`. Only
    one-accelerator latency-table sweeps are estimated (a scenario's system is not known
    before it is loaded): a policy the compiled loop covers at `fastloop.SECONDS_PER_REQUEST`,
    any other at `mmsched.sched.limits.SECONDS_PER_REQUEST`."""
    from mmsched.sched.limits import SECONDS_PER_REQUEST

    from . import fastloop

    if sweep.periodic or sweep.num_accelerators != 1 or any(
            r.source.kind == "scenario" for r in sweep.recipes):
        return False
    compiled = fastloop.available()
    per_request = sum(fastloop.SECONDS_PER_REQUEST
                      if compiled and parse_policy_spec(spec)[0] in fastloop.COVERED
                      else SECONDS_PER_REQUEST for spec in sweep.policies)
    return points * sweep.requests * per_request < QUICK_S


def _joined(parts: Sequence[PointResult]) -> PointResult:
    """One point's result from its per-policy parts, in policy order (the rows `run_point`
    writes when it runs every policy itself)."""
    if len(parts) == 1:
        return parts[0]
    out = PointResult(key=parts[0].key)
    for r in parts:
        out.summary += r.summary
        out.per_model += r.per_model
        out.requests += r.requests
        out.layers += r.layers
        out.trace += r.trace
        out.decisions += r.decisions
    return out


def _relabel(result: PointResult, point: RunPoint) -> PointResult:
    """``result`` as the result of ``point`` (an identical point of another recipe)."""
    if result.key == point.key:
        return result
    name = point.recipe.name

    def rows(rs):
        return [{**r, "recipe": name} for r in rs]

    return PointResult(key=point.key, summary=rows(result.summary),
                     per_model=rows(result.per_model), requests=rows(result.requests),
                     layers=rows(result.layers), trace=rows(result.trace),
                     decisions=result.decisions, reused=True)


def _balanced(todo: Sequence[RunPoint]) -> list[RunPoint]:
    """Submission order: the highest rates (or loads) first (the longest points), so workers
    finish together; the output order is restored by key."""
    return sorted(todo, key=lambda j: (-j.x, j.key))
