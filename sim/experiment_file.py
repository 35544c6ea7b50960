"""Experiment files (``experiments/*.toml``): several sweeps, each a cross product of
workloads, policies with config variants, load and SLO axes, seeds and hardware axes.

An experiment file is a list of ``[[sweep]]`` tables (docs/experiments.md). Each becomes one
`mmsched.sim.experiment.Sweep`: its recipes are every workload (``scenario`` names or ``csv``
folders) x every system variant x every combination of the ``[sweep.hardware]`` axes (any
`AcceleratorConfig` field, set on every accelerator of the scenario's system, and ``set``,
a list of tables each setting several fields together, e.g. array shapes); its policies
are every given policy spec x every combination of the ``[sweep.scheduler]`` axes (``slots``,
``predictor``, ``beta``) that the policy has as a config field. The hardware and scheduler
axes become columns of the tidy summary (`ExperimentSweep.label_rows`).

`load_experiment` validates the whole file before anything runs: unknown keys, empty axes,
bad values and impossible hardware (an `AcceleratorConfig` that does not validate) raise one
`InputError` naming the file and the field (``sweep[1].hardware.rows``).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from mmsched.sched.errors import InputError

from .experiment import Sweep, engine_clock_hz, hardware_suffix

TOP_KEYS = ("description", "sweep")
SWEEP_KEYS = ("name", "description", "scenario", "csv", "compat", "compat_off", "policies",
              "rates", "slos", "fps_scales", "loads", "requests", "seeds", "seed",
              "accelerators", "clock_mhz", "hardware", "scheduler")
SCHEDULER_AXES = ("slots", "predictor", "beta")
"""Scheduler axes: config fields of the Dysta policies (``dysta_hw`` has all three; ``dysta``
``predictor`` and ``beta``), applied to every policy of the sweep that has the field."""
SET_AXIS = "set"
"""The hardware axis whose values are tables setting several fields at once (`_sets`)."""
VARIANT_AXIS = "system"
"""The hardware axis choosing a scenario's system variant (``NAME:VARIANT``); its column."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def hardware_fields() -> tuple[str, ...]:
    """The `AcceleratorConfig` fields a hardware axis may set (all but ``name``, ``energy``
    and ``layer_kinds``)."""
    from mmsched.hw.spec import AcceleratorConfig

    return tuple(f.name for f in fields(AcceleratorConfig)
                 if f.name not in ("name", "energy", "layer_kinds"))


@functools.cache
def code_digest() -> str:
    """Hash of every file of the installed program (its code, scenario files, shipped
    profiles; not bytecode caches): a point simulated by other code is never resumed."""
    import mmsched.hw
    import mmsched.sched
    import mmsched.sim

    h = hashlib.sha256()
    for pkg in (mmsched.hw, mmsched.sched, mmsched.sim):
        root = Path(pkg.__file__).parent
        for f in sorted(root.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(f"{pkg.__name__}/{f.relative_to(root).as_posix()}\n".encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def _input_digest(source) -> str:
    """Hash of the files a workload source names: every CSV of a CSV folder, or a scenario
    file ("" for a shipped scenario or a synthetic set: `code_digest` covers them)."""
    if not source.path:
        return ""
    path = Path(source.path)
    files = sorted(path.glob("*.csv")) if source.kind == "csv" else [path]
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}\n".encode())
        h.update(f.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class ExperimentSweep:
    """One ``[[sweep]]`` of an experiment: its ``name`` (the output subfolder), the `Sweep`,
    and the axis columns: ``columns`` (names, in file order), ``recipe_columns`` (recipe name
    -> its hardware values) and ``policy_columns`` (policy spec -> its scheduler values)."""

    name: str
    sweep: Sweep
    columns: tuple[str, ...] = ()
    recipe_columns: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    policy_columns: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()

    @functools.cached_property
    def digest(self) -> str:
        """What the sweep's results depend on, hashed: the sweep as data and its columns, the
        program (`code_digest`) and the files its recipes name (a CSV folder's CSV files, a
        scenario file; not the files a scenario file names in turn): the resume key of its
        points, with the point key (`mmsched.sim.resume`)."""
        from importlib.metadata import version

        doc = {"name": self.name, "sweep": self.sweep.to_dict(), "columns": self.columns,
               "version": version("mmsched"), "code": code_digest(),
               "inputs": [_input_digest(r.source) for r in self.sweep.recipes],
               "recipe_columns": self.recipe_columns, "policy_columns": self.policy_columns}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()
                              ).hexdigest()

    def label_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` (summary, per-model, ... rows of this sweep) with the axis columns after
        the point's labels (before ``seed``'s successors); a policy without a scheduler
        field gets an empty cell."""
        if not self.columns:
            return rows
        by_recipe = {r: dict(v) for r, v in self.recipe_columns}
        by_policy = {p: dict(v) for p, v in self.policy_columns}
        out = []
        for row in rows:
            extra = {**by_recipe.get(row.get("recipe"), {}), **by_policy.get(row.get("policy"),
                                                                             {})}
            cols = {c: extra.get(c, "") for c in self.columns}
            keys = list(row)
            cut = keys.index("seed") + 1 if "seed" in row else len(keys)
            out.append({**{k: row[k] for k in keys[:cut]}, **cols,
                        **{k: row[k] for k in keys[cut:]}})
        return out


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment file: its ``path``, ``description`` and ``sweeps``."""

    path: str
    description: str
    sweeps: tuple[ExperimentSweep, ...]

    @property
    def points(self) -> int:
        """Run points over all sweeps (each runs every policy of its sweep)."""
        return sum(sum(r.points for r in s.sweep.recipes) * s.sweep.seeds for s in self.sweeps)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, expected: str, found: Any) -> InputError:
        return InputError(self.path, where, expected, found if isinstance(found, str)
                          else repr(found))

    def keys(self, table: dict, known: tuple[str, ...], where: str) -> None:
        for k in table:
            if k not in known:
                raise self.fail(f"{where}.{k}" if where else k,
                                f"a known key ({', '.join(known)})", "an unknown key")

    def str_list(self, v: Any, where: str) -> list[str]:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not items:
            raise self.fail(where, "a string or a non-empty list of strings", v)
        for i, x in enumerate(items):
            if not isinstance(x, str) or not x:
                raise self.fail(f"{where}[{i}]", "a non-empty string", x)
        if len(set(items)) != len(items):
            raise self.fail(where, "distinct values", v)
        return items

    def numbers(self, v: Any, where: str) -> tuple[float, ...]:
        if not isinstance(v, list) or not v:
            raise self.fail(where, "a non-empty list of positive numbers", v)
        for i, x in enumerate(v):
            if isinstance(x, bool) or not isinstance(x, (int, float)) \
                    or not (math.isfinite(x) and x > 0):
                raise self.fail(f"{where}[{i}]", "a positive number", x)
        if len(set(v)) != len(v):
            raise self.fail(where, "distinct values", v)
        return tuple(float(x) for x in v)

    def integer(self, v: Any, where: str, minimum: int = 1) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise self.fail(where, f"an integer >= {minimum}", v)
        return v

    def axis(self, v: Any, where: str) -> list:
        """A hardware or scheduler axis: a non-empty list of distinct scalars."""
        if not isinstance(v, list) or not v:
            raise self.fail(where, "a non-empty list of values", v)
        for i, x in enumerate(v):
            if not isinstance(x, (bool, int, float, str)):
                raise self.fail(f"{where}[{i}]", "a number, boolean or string", x)
        if len({(type(x), x) for x in v}) != len(v):
            raise self.fail(where, "distinct values", v)
        return list(v)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file (module docstring); nothing is run.

    Raises `InputError` naming the file and the field on the first problem.
    """
    src = str(path)
    r = _Reader(src)
    try:
        doc = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as e:
        raise InputError(src, "", "a readable experiment file", e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise InputError(src, "", "UTF-8 text", "undecodable bytes") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(src, "", "TOML", str(e)) from None
    r.keys(doc, TOP_KEYS, "")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise r.fail("description", "a string", description)
    tables = doc.get("sweep")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict)
                                                             for t in tables):
        raise r.fail("sweep", "one or more [[sweep]] tables", tables if tables is not None
                     else "none")
    base = Path(path).resolve().parent
    sweeps = []
    for i, table in enumerate(tables):
        sweeps.append(_sweep(r, table, f"sweep[{i}]", base))
    names = [s.name for s in sweeps]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise r.fail(f"sweep[{i}].name", "a name no other sweep has", n)
    return Experiment(src, description, tuple(sweeps))


def _sweep(r: _Reader, t: dict, w: str, base: Path) -> ExperimentSweep:
    from mmsched.sim import cmd_run
    from mmsched.sim.experiment import make_sweep

    r.keys(t, SWEEP_KEYS, w)
    name = t.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise r.fail(f"{w}.name", "a name of letters, digits, '_', '.', '-' (the output "
                     "subfolder)", name if name is not None else "none")
    if ("scenario" in t) == ("csv" in t):
        raise r.fail(w, "one of scenario or csv", "both" if "scenario" in t else "neither")
    if "scenario" in t:
        workloads = [("scenario", s) for s in r.str_list(t["scenario"], f"{w}.scenario")]
    else:
        workloads = [("csv", str(base / p))
                     for p in r.str_list(t["csv"], f"{w}.csv")]
    compat = t.get("compat", "fixed")
    if compat not in ("fixed", "dysta-artifact"):
        raise r.fail(f"{w}.compat", "fixed or dysta-artifact", compat)
    kw: dict[str, Any] = {"compat": compat, "seed": r.integer(t.get("seed", 1), f"{w}.seed", 0)}
    for key, arg in (("rates", "rates"), ("slos", "slos"), ("fps_scales", "fps_scales"),
                     ("loads", "loads")):
        if key in t:
            kw[arg] = r.numbers(t[key], f"{w}.{key}")
    for key in ("requests", "seeds", "accelerators"):
        if key in t:
            kw[key] = r.integer(t[key], f"{w}.{key}")
    if "clock_mhz" in t:
        kw["clock_hz"] = engine_clock_hz(r.numbers([t["clock_mhz"]], f"{w}.clock_mhz")[0],
                                         r.path, f"{w}.clock_mhz")
    options = {"compat_off": "--compat-off", "policies": "--policies"}
    try:
        if "compat_off" in t:
            kw["compat_off"] = cmd_run._compat_off(
                ",".join(r.str_list(t["compat_off"], f"{w}.compat_off")), compat)
        if "policies" in t:
            kw["policies"] = cmd_run._policies(",".join(r.str_list(t["policies"],
                                                                   f"{w}.policies")))
    except InputError as e:
        key = next(k for k, o in options.items() if o == e.source)
        raise r.fail(f"{w}.{key}", e.expected, e.found) from None
    sets = _sets(r, t, f"{w}.hardware")
    hardware = _table(r, t, "hardware", w, (*hardware_fields(), VARIANT_AXIS, SET_AXIS))
    scheduler = _table(r, t, "scheduler", w, SCHEDULER_AXES)
    if hardware and any(kind == "csv" for kind, _ in workloads):
        raise r.fail(f"{w}.hardware", "no hardware axes with csv workloads (latency tables "
                     "fix the hardware; use accelerators or clock_mhz)", "csv")
    variants = hardware.pop(VARIANT_AXIS, [None])
    combos = [set_vals + tuple(zip(hardware, vals, strict=True))
              for set_vals in (sets or [()]) for vals in itertools.product(*hardware.values())]
    pieces: list[Sweep] = []
    recipe_cols: list[tuple[str, tuple]] = []
    for kind, spec in workloads:
        for variant in variants:
            where = spec if variant is None else f"{spec}:{variant}"
            try:
                if kind == "csv":
                    piece = make_sweep(csv_dir=spec, **kw)
                else:
                    piece = make_sweep(scenario=where, **kw)
            except InputError as e:
                raise r.fail(w, e.expected, f"{e.source}: {e.found}" if e.source else e.found
                             ) from None
            for combo in combos:
                if combo:
                    _check_hardware(r, f"{w}.hardware", where, combo)
                for rec in piece.recipes:
                    new = rec if not combo else replace(
                        rec, name=rec.name + hardware_suffix(combo),
                        source=replace(rec.source, hardware=combo))
                    values = ((VARIANT_AXIS, variant),) if variant is not None else ()
                    recipe_cols.append((new.name, values + combo))
                    pieces.append(replace(piece, recipes=(new,)))
    first = pieces[0]
    for p in pieces[1:]:
        for f in ("policies", "seeds", "requests", "num_accelerators", "compat_off"):
            if getattr(p, f) != getattr(first, f):
                raise r.fail(w, f"workloads that agree on {f} (give it in the sweep, or "
                             f"split the sweep)", f"{getattr(first, f)!r} and "
                             f"{getattr(p, f)!r}")
        if p.periodic != first.periodic:
            raise r.fail(w, "only periodic or only Poisson workloads (split the sweep)",
                         "both")
    policies, policy_cols = _scheduler_policies(r, f"{w}.scheduler", first.policies, scheduler)
    recipes = tuple(rec for p in pieces for rec in p.recipes)
    try:
        sweep = replace(first, recipes=recipes, policies=policies, detail=None,
                        gantt_policy=None)
    except ValueError as e:
        raise r.fail(w, "a valid sweep", str(e)) from None
    set_fields = list(dict.fromkeys(k for combo in sets for k, _ in combo))
    columns = tuple(([VARIANT_AXIS] if variants != [None] else []) + set_fields
                    + list(hardware) + list(scheduler))
    return ExperimentSweep(name, sweep, columns, tuple(recipe_cols), tuple(policy_cols))


def _sets(r: _Reader, t: dict, where: str) -> list[tuple[tuple[str, Any], ...]]:
    """The ``set`` hardware axis: a list of tables, each setting several fields together
    (an array shape: ``set = [{rows = 6, cols = 32}, {rows = 24, cols = 8}]``)."""
    table = t.get("hardware", {})
    if not isinstance(table, dict) or SET_AXIS not in table:
        return []
    v = table[SET_AXIS]
    w = f"{where}.{SET_AXIS}"
    if not isinstance(v, list) or not v or not all(isinstance(x, dict) and x for x in v):
        raise r.fail(w, "a non-empty list of non-empty tables of AcceleratorConfig fields", v)
    known = hardware_fields()
    out = []
    for i, x in enumerate(v):
        r.keys(x, known, f"{w}[{i}]")
        for k, val in x.items():
            if not isinstance(val, (bool, int, float, str)):
                raise r.fail(f"{w}[{i}].{k}", "a number, boolean or string", val)
            if k in table:
                raise r.fail(f"{w}[{i}].{k}", f"a field that is not an axis of its own ({k})",
                             val)
        out.append(tuple(x.items()))
    if len(set(out)) != len(out):
        raise r.fail(w, "distinct tables", v)
    return out


def _table(r: _Reader, t: dict, key: str, w: str, known: tuple[str, ...]) -> dict[str, list]:
    table = t.get(key, {})
    if not isinstance(table, dict):
        raise r.fail(f"{w}.{key}", "a table of axes", table)
    r.keys(table, known, f"{w}.{key}")
    return {k: r.axis(v, f"{w}.{key}.{k}") for k, v in table.items() if k != SET_AXIS}


def _check_hardware(r: _Reader, where: str, spec: str, combo: tuple) -> None:
    """Every accelerator of the scenario's system must validate with ``combo`` set."""
    from mmsched.sched.scenario import find_scenario

    sc = find_scenario(spec)
    if sc.source != "zoo":
        raise r.fail(where, "a scenario of zoo models (hardware axes re-profile it)",
                     f"{spec} ({sc.source})")
    for cfg in sc.system:
        try:
            replace(cfg, **dict(combo))
        except (TypeError, ValueError) as e:
            hw = ", ".join(f"{k} = {v!r}" for k, v in combo)
            raise r.fail(where, "hardware every accelerator can have",
                         f"{hw} on {cfg.name} of {spec}: {e}") from None


def _scheduler_policies(r: _Reader, where: str, policies: tuple[str, ...],
                        scheduler: dict[str, list]) -> tuple[tuple[str, ...], list]:
    """Each policy spec x every combination of the scheduler axes it has as config fields."""
    from mmsched.sched.policy import policy_class, policy_config

    from .experiment import parse_policy_spec

    if not scheduler:
        return policies, []
    out, cols, used = [], [], set()
    for spec in policies:
        name, overrides = parse_policy_spec(spec)
        have = {f.name for f in fields(policy_class(name).Config)}
        axes = [k for k in scheduler if k in have]
        for k in axes:
            if k in overrides:
                raise r.fail(f"{where}.{k}", f"policies that do not set {k} themselves", spec)
        for vals in itertools.product(*(scheduler[k] for k in axes)):
            combo = tuple(zip(axes, vals, strict=True))
            new = spec + "".join(f":{k}={v}" for k, v in combo)
            try:
                cfg = policy_config(name, **overrides, **dict(combo))
                if hasattr(cfg, "slots"):  # a hardware scheduler: its table must exist
                    from mmsched.hw.spec import SchedulerConfig

                    SchedulerConfig(slots=cfg.slots, predictor=cfg.predictor, beta=cfg.beta)
            except (TypeError, ValueError) as e:
                raise r.fail(where, f"values {name} accepts", str(e)) from None
            out.append(new)
            cols.append((new, combo))
            used.update(axes)
    for k in scheduler:
        if k not in used:
            raise r.fail(f"{where}.{k}", "a policy of the sweep with this config field "
                         "(dysta_hw: slots, predictor, beta; dysta: predictor, beta)",
                         ", ".join(policies))
    return tuple(out), cols
