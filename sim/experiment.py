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
    Sanger CSVs; a scenario's own clock is always used).
    """

    kind: str = "synthetic"
    name: str = "cnn"
    path: str = ""
    seed: int = 0
    samples: int = 100
    clock_hz: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {SOURCE_KINDS}, not {self.kind!r}")
        if self.kind == "csv" and not self.path:
            raise ValueError("a csv source needs a path")
        if self.kind == "scenario" and not (self.name or self.path):
            raise ValueError("a scenario source needs a scenario name or file path")
        if self.clock_hz is not None and not self.clock_hz > 0:
            raise ValueError(f"clock_hz must be positive, not {self.clock_hz!r}")

    @property
    def label(self) -> str:
        """Short name for tables: ``synthetic:cnn``, ``scenario:<name>`` or
        ``csv:<folder name>``."""
        if self.kind == "synthetic":
            return f"synthetic:{self.name}"
        if self.kind == "scenario":
            return f"scenario:{self.name or os.path.basename(self.path)}"
        return f"csv:{os.path.basename(os.path.normpath(self.path))}"


@dataclass(frozen=True)
class Recipe:
    """One figure's run points: every rate (in this order) x every SLO multiplier."""

    name: str
    source: WorkloadSource
    rates: tuple[float, ...]
    slos: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.rates or not self.slos:
            raise ValueError(f"recipe {self.name!r}: needs at least one rate and one SLO")
        for what, values in (("rate", self.rates), ("SLO multiplier", self.slos)):
            for v in values:
                if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                    raise ValueError(f"recipe {self.name!r}: {what} must be a positive "
                                     f"number, not {v!r}")


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
        if self.detail is None:
            r = self.recipes[0]
            object.__setattr__(self, "detail", (r.name, max(r.rates), min(r.slos)))
        if self.gantt_policy is None:
            object.__setattr__(self, "gantt_policy",
                               "dysta" if "dysta" in self.policies else self.policies[0])

    @property
    def flags(self) -> CompatFlags:
        """The compat switches of this sweep."""
        return replace(CompatFlags.from_mode(self.compat),
                       **dict.fromkeys(self.compat_off, False))

    @property
    def runs(self) -> int:
        """Number of simulations (run points x policies)."""
        return sum(len(r.rates) * len(r.slos) for r in self.recipes) * self.seeds * len(
            self.policies)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunPoint:
    """One workload: a (recipe, seed index, SLO, rate) point; every policy runs on it."""

    sweep: Sweep
    recipe_index: int
    seed_index: int
    slo: float
    rate: float

    @property
    def recipe(self) -> Recipe:
        return self.sweep.recipes[self.recipe_index]

    @property
    def key(self) -> tuple:
        """Sort key of the point's results: recipe order, then rate, SLO, seed index."""
        return (self.recipe_index, self.rate, self.slo, self.seed_index)

    @property
    def is_detail(self) -> bool:
        name, rate, slo = self.sweep.detail
        return (self.recipe.name, self.rate, self.slo) == (name, rate, slo)

    @property
    def workload_id(self) -> tuple:
        """What the point's results depend on besides the sweep's common fields: two points of
        different recipes with one ``workload_id`` give identical results (run once).

        Fixed mode seeds each rate's requests from (seed, seed index, rate); compat mode draws
        a seed index's rates in order from one stream, so the rates up to this one count.
        """
        rates = self.recipe.rates
        stream = rates[:rates.index(self.rate) + 1] if self.sweep.flags.any else (self.rate,)
        return (self.recipe.source, stream, self.slo, self.seed_index, self.is_detail)


@dataclass
class PointResult:
    """What a point returns (plain data, cheap to pickle).

    ``summary``: one row per policy; ``per_model``: one row per (policy, model);
    ``requests``: per-request rows when the point is the detail point; ``layers``: the Gantt
    window when the point is the detail point at seed index 0.
    """

    key: tuple
    summary: list[dict[str, Any]] = field(default_factory=list)
    per_model: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0
    reused: bool = False
    """True when copied from an identical point of another recipe (not simulated again)."""


def run_points(sweep: Sweep) -> list[RunPoint]:
    """The sweep's run points, in key order."""
    out = [RunPoint(sweep, i, s, slo, rate)
           for i, r in enumerate(sweep.recipes)
           for rate in r.rates for slo in r.slos for s in range(sweep.seeds)]
    return sorted(out, key=lambda j: j.key)


DEFAULT_SCENARIO = "dysta-cnn"
"""The scenario of a sweep that names none (``mmsched run`` with no arguments)."""
DEFAULT_POLICIES = ("fcfs", "sjf", "sjf_sparse", "prema", "prema_sparse", "planaria", "sdrm3",
                    "sdrm3_sparse", "dysta", "dysta_naive", "dysta_oracle")
"""The policies of the Dysta benchmark (docs/scheduling.md), the default set."""
CSV_DEFAULTS = ((3.0, 4.0), (10.0,), 1000, 5)
"""Rates, SLO multipliers, requests and seeds for a folder of Dysta CSVs (the artifact's
scripts)."""


def make_sweep(*, scenario: str | None = None, csv_dir: str | None = None,
               rates: Sequence[float] | None = None, slos: Sequence[float] | None = None,
               requests: int | None = None, seeds: int | None = None, seed: int = 1,
               policies: Sequence[str] | None = None, compat: str = "fixed",
               compat_off: Sequence[str] = (), accelerators: int = 1,
               clock_hz: float | None = None) -> Sweep:
    """The one constructor of a `Sweep` from a workload and axes, shared by the commands.

    The workload is ``csv_dir`` (a folder of Dysta CSVs, defaults `CSV_DEFAULTS`) or
    ``scenario`` (a shipped scenario name or a TOML file, optionally ``:VARIANT``; default
    `DEFAULT_SCENARIO`), whose file holds the default axes. Axes given here replace the
    defaults. ``clock_hz`` overrides the engine clock of table workloads (synthetic sets, CSV
    folders); a zoo scenario's accelerators set their own clock. ``policies``: policy specs
    (default `DEFAULT_POLICIES`). In compat mode, a non-integer rate turns the
    ``integer_rates`` switch off for the sweep, with a warning.

    Raises `InputError` naming the option at fault (as the commands spell it).
    """
    from mmsched.sched.scenario import builtin_scenario_names, find_scenario

    if csv_dir is not None:
        d_rates, d_slos, d_requests, d_seeds = CSV_DEFAULTS
        source = WorkloadSource(kind="csv", path=csv_dir, clock_hz=clock_hz)
        name = source.label.removeprefix("csv:") or "csv"
    else:
        spec = scenario or DEFAULT_SCENARIO
        sc = find_scenario(spec, option="--scenario")
        if sc.arrivals != "poisson":
            raise InputError("--scenario", "", "a Poisson scenario (periodic XRBench "
                             "scenarios are not run by mmsched run yet)", repr(spec))
        d_rates, d_slos, d_requests, d_seeds = sc.rates, sc.slos, sc.requests, sc.seeds
        if sc.source == "synthetic":
            source = WorkloadSource(kind="synthetic", name=sc.synthetic, clock_hz=clock_hz)
        else:
            if clock_hz is not None:
                raise InputError("--clock-mhz", "", "no --clock-mhz with a scenario of zoo "
                                 "models (its accelerators set the clock)",
                                 f"--scenario {spec}")
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
                 num_accelerators=accelerators, compat_off=compat_off)


# --- loading (cached per process: each worker loads a source once) ---------------------------


def _csv_clock_hz(path: str) -> float:
    """1 GHz for a folder of Sanger CSVs (the attention engine), else 200 MHz (Eyeriss)."""
    names = sorted(n for n in os.listdir(path) if n.endswith(".csv"))
    with open(os.path.join(path, names[0]), encoding="utf-8", errors="replace") as f:
        header = {c.strip() for c in f.readline().split(",")}
    return 1e9 if "50%-skip" in header and "sim_lat" not in header else 200e6


@functools.lru_cache(maxsize=8)
def load_tables(source: WorkloadSource, compat: CompatFlags) -> tuple[tuple, float]:
    """The source's latency tables and engine clock in Hz.

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
    """A scenario file profiled with the exact cycle model (cached under build/cache)."""
    from mmsched.sim.profiled import profile_scenario

    return profile_scenario(source.path or source.name, compat=compat)


@functools.lru_cache(maxsize=8)
def _static(source: WorkloadSource, compat: CompatFlags):
    from mmsched.sched.static import static_tables

    unit = "seconds" if compat.any else "cycles"
    if source.kind == "scenario":  # static tables from the profiling samples only
        return _scenario(source, compat).static[0], unit
    tables, clock = load_tables(source, compat)
    return static_tables(tables, time_unit=unit, clock_hz=clock), unit


@functools.lru_cache(maxsize=32)
def _workloads(source: WorkloadSource, compat: CompatFlags, rates: tuple[float, ...], slo: float,
               requests: int, seed: int, seed_index: int) -> dict[float, Any]:
    from mmsched.sched.streams import poisson_workloads

    tables, clock = load_tables(source, compat)
    wls = poisson_workloads(tables, rates=list(rates), num_requests=requests, slo=slo, seed=seed,
                          seed_index=seed_index, compat=compat, clock_hz=clock,
                          static=_static(source, compat)[0])
    return dict(zip(rates, wls, strict=True))


@functools.lru_cache(maxsize=8)
def _backend(source: WorkloadSource, compat: CompatFlags):
    """One table backend per source and process (it caches rows; no per-run state)."""
    from mmsched.sim.backends import make_backend

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
        workload, static, _ = point_inputs(point)
        context = _context(sweep, workload, static)
        for spec in sweep.policies:
            try:
                _policy(spec, context)
            except ValueError as e:
                raise InputError(f"policy {spec!r}", "", "a valid configuration",
                                 str(e)) from None


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


def point_inputs(point: RunPoint) -> tuple[Any, Any, Any]:
    """The point's ``(Workload, StaticTables, timing backend)``: the seam where a workload
    source becomes simulator input. Latency-table sources (synthetic sets, Dysta CSVs) go
    through `mmsched.sched.dysta_csv`; scenarios (zoo models on the exact cycle model) through
    the held-out latency tables and profiling static tables of `_scenario`. A new source kind
    adds a branch here and in `load_tables`.
    """
    sweep, recipe = point.sweep, point.recipe
    flags = sweep.flags
    static, _ = _static(recipe.source, flags)
    workload = _workloads(recipe.source, flags, recipe.rates, point.slo, sweep.requests,
                          sweep.seed, point.seed_index)[point.rate]
    return workload, static, _backend(recipe.source, flags)


def parse_policy_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"dysta"`` -> ``("dysta", {})``; ``"dysta:beta=0.1:predictor=last-one"`` -> the
    registered name and config overrides (values: int, float, ``true``/``false``, else text).

    Raises ValueError for an empty name or a part that is not ``field=value``.
    """
    name, *parts = spec.split(":")
    if not name:
        raise ValueError(f"policy spec {spec!r}: no policy name")
    overrides: dict[str, Any] = {}
    for part in parts:
        field_name, eq, text = part.partition("=")
        if not eq or not field_name:
            raise ValueError(f"policy spec {spec!r}: {part!r} is not field=value")
        overrides[field_name] = _value(text)
    return name, overrides


def _value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def _context(sweep: Sweep, workload, static):
    from mmsched.sched.policy import PolicyContext

    return PolicyContext(tables=(static,) * sweep.num_accelerators,
                         num_accelerators=sweep.num_accelerators,
                         clock_hz=workload.clock_hz, time_unit=workload.time_unit,
                         compat=sweep.flags)


def _policy(spec: str, context):
    from mmsched.sched.policy import make_policy

    name, overrides = parse_policy_spec(spec)
    return make_policy(name, context, **overrides)


def run_point(point: RunPoint) -> PointResult:
    """Run every policy of the sweep on the point's workload (in this process)."""
    from mmsched.sched import metrics
    from mmsched.sim.engine import simulate

    sweep, recipe = point.sweep, point.recipe
    flags = sweep.flags
    workload, static, backend = point_inputs(point)
    context = _context(sweep, workload, static)
    base = {"recipe": recipe.name, "workload": recipe.source.label, "mode": sweep.compat}
    out = PointResult(key=point.key)
    for policy_name in sweep.policies:
        policy = _policy(policy_name, context)
        keep = point.is_detail and point.seed_index == 0 and policy_name == sweep.gantt_policy
        result = simulate(workload, policy, backend, num_accelerators=sweep.num_accelerators,
                          compat=flags, keep_layers=keep)
        labels = {**base, "policy": policy_name, "rate": float(point.rate),
                  "slo": float(point.slo), "seed": point.seed_index}
        summary = {k: _num(v) for k, v in metrics.summarize(result.requests).items()}
        out.summary.append({**labels, **summary, "decisions": int(result.decisions)})
        out.decisions += int(result.decisions)
        for model, row in sorted(metrics.per_model(result.requests).items()):
            out.per_model.append({**labels, "model": model,
                                  **{k: _num(v) for k, v in row.items()}})
        to_s = _to_seconds(result)
        if point.is_detail:
            out.requests.extend(_request_rows(labels, result, to_s))
        if keep:
            out.layers.extend(_layer_rows(labels, result, to_s, sweep.gantt_layers))
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
    for rec in sorted(result.layers, key=lambda x: (x.start, x.accelerator))[:limit]:
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
              runner: Callable[[RunPoint], PointResult] = run_point) -> list[PointResult]:
    """Run every point of ``sweep``; results sorted by point key (independent of the workers).

    Parameters
    ----------
    workers : int, optional
        Local worker processes (default `default_workers`); 1 runs in this process.
    scheduler_address : str, optional
        A ``dask.distributed`` scheduler (``tcp://host:8786``); the workers must have mmsched
        installed. Raises `InputError` when ``dask.distributed`` is not importable.
    progress : callable, optional
        Called as ``progress(done_runs, total_runs)`` after each finished point.
    runner : callable
        The per-point function (tests substitute a fake; must be picklable).
    """
    every = run_points(sweep)
    first: dict[tuple, RunPoint] = {}
    copies: dict[tuple, int] = {}
    for point in every:
        first.setdefault(point.workload_id, point)
        copies[point.workload_id] = copies.get(point.workload_id, 0) + 1
    todo = list(first.values())
    id_of_key = {j.key: j.workload_id for j in todo}
    total = sweep.runs
    per_job = len(sweep.policies)
    done = 0
    results: list[PointResult] = []

    def tick() -> None:
        nonlocal done
        done += per_job * copies[id_of_key[results[-1].key]]
        if progress is not None:
            progress(done, total)

    if scheduler_address:
        try:
            from dask.distributed import Client, as_completed
        except ImportError:
            raise InputError("--scheduler-address", "", "dask.distributed installed "
                             "(pip install 'mmsched[dask]')",
                             "no module dask.distributed") from None
        with Client(scheduler_address) as client:
            futures = client.map(runner, todo, pure=False)
            for fut in as_completed(futures):
                results.append(fut.result())
                tick()
    else:
        n = default_workers() if workers is None else workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"workers must be a positive integer, not {n!r}")
        n = min(n, len(todo))
        if n == 1:
            for point in todo:
                results.append(runner(point))
                tick()
        else:
            with cf.ProcessPoolExecutor(max_workers=n) as pool:
                futures = [pool.submit(runner, point) for point in _balanced(todo)]
                for fut in cf.as_completed(futures):
                    results.append(fut.result())
                    tick()
    by_id = {id_of_key[r.key]: r for r in results}
    return [_relabel(by_id[j.workload_id], j) for j in every]


def _relabel(result: PointResult, point: RunPoint) -> PointResult:
    """``result`` as the result of ``point`` (an identical point of another recipe)."""
    if result.key == point.key:
        return result
    name = point.recipe.name

    def rows(rs):
        return [{**r, "recipe": name} for r in rs]

    return PointResult(key=point.key, summary=rows(result.summary),
                     per_model=rows(result.per_model), requests=rows(result.requests),
                     layers=rows(result.layers), decisions=result.decisions, reused=True)


def _balanced(todo: Sequence[RunPoint]) -> list[RunPoint]:
    """Submission order: the highest rates first (the longest points), so workers finish
    together; the output order is restored by key."""
    return sorted(todo, key=lambda j: (-j.rate, j.key))
