"""Scenario files (TOML): which models, patterns and accelerators, and how requests arrive.

A scenario is validated once at load; every error is an `InputError` naming the file, the
field (``models[2].arch``), what was expected and what was found. Fields:

=================== ============================================================================
``name``            str, required
``description``     str
``source``          ``"zoo"`` (default: models from the model zoo or files, timed by the exact
                    cycle model on ``system``) or ``"synthetic"`` (a built-in synthetic table
                    set, `mmsched.sched.synthetic`, named by ``synthetic``; no ``system`` or
                    ``models``: the set fixes both)
``synthetic``       str: the synthetic set (``source = "synthetic"``)
``arrivals``        ``"poisson"`` (Dysta: requests at ``rate`` req/s, model uniform over the
                    model keys, priority uniform over 1/3/9, deadline = arrival + SLO x mean
                    isolated latency) or ``"periodic"`` (XRBench: each model at its ``fps``,
                    deadline = next frame, cascades)
``system``          list, required: accelerators, each a configuration name of
                    `mmsched.hw.spec.NAMED_CONFIGS` or a table of `AcceleratorConfig` fields
                    (``base`` = a named configuration whose fields the others override;
                    ``layer_kinds`` = the layer kinds it runs, default all)
``variants``        table: alternative systems by name (``{"2x2k" = [...]}``), chosen with
                    ``NAME:VARIANT`` (`find_scenario`); ``system`` is the default one
``rates``           list of numbers > 0 (req/s; poisson): the default sweep
``slos``            list of numbers > 0: SLO multipliers (poisson)
``requests``        int > 0: requests per run (poisson)
``seeds``           int > 0: seed indices per run point (default 3)
``duration_s``      number > 0: simulated seconds of frames (periodic)
``samples``         int >= 2: inputs per model (finite, cached); the first ``profile_samples``
                    build the static tables, the others (held-out) are what requests draw
``profile_samples`` int >= 1, < ``samples``
``mask_seed``       int >= 0: seed of the activation and weight masks
``[transfer]``      table (multi-accelerator systems): ``bandwidth_gb_s`` (> 0, GB/s of the DRAM
                    path activations take between accelerators, default 16) and ``pj_per_byte``
                    (>= 0, default 325); `mmsched.sched.transfer.TransferCost`
``[[models]]``      required, non-empty: ``arch`` (a zoo model) or ``file`` (an ONNX model or
                    a SCALE-Sim topology CSV, relative to the scenario file; ``arch`` then
                    names it, default the file stem), ``input_shapes`` (ONNX: the shapes of
                    dynamic inputs, ``{images = [1, 3, 640, 640]}``), ``patterns`` (list of
                    weight patterns, default ``["dense"]``), ``sparsity`` (a shipped sparsity
                    profile, default by family, or a profile ``.json`` file relative to the
                    scenario, e.g. from ``mmsched profile-sparsity --onnx``), and for periodic
                    scenarios ``fps`` (> 0), ``after`` (an upstream arch) and ``probability``
                    (in [0, 1], of running after it); Supernets: ``subnets`` (the model's
                    sub-networks, largest first: a list of ``{arch = ZOO_ARCH, accuracy =
                    PERCENT, source = "where published"}``, or ``"zoo"`` for the zoo's published
                    family of the arch, `mmsched.sched.zoo.xrbench.SUPERNETS`), ``accuracy``
                    and ``accuracy_source`` (the model's own; required with a ``subnets`` list)
=================== ============================================================================

A Supernet entry yields, per pattern, the model (``variants`` = its sub-networks' keys of that
pattern) and each sub-network as a model of its own architecture (its own static tables and
profile), which the profiler profiles like any model (`ModelEntry.models`).
"""

from __future__ import annotations

import contextlib
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path

from .errors import InputError
from .model import Model
from .transfer import TransferCost

ARRIVALS = ("poisson", "periodic")

SOURCES = ("zoo", "synthetic")

_TOP = {"name", "description", "source", "synthetic", "arrivals", "system", "variants", "rates",
        "slos", "requests", "seeds", "duration_s", "samples", "profile_samples", "mask_seed",
        "models", "transfer"}
_TRANSFER = {"bandwidth_gb_s", "pj_per_byte"}
_MODEL = {"arch", "file", "input_shapes", "patterns", "sparsity", "fps", "after", "probability",
          "subnets", "accuracy", "accuracy_source"}
_SUBNET = {"arch", "accuracy", "source"}


@dataclass(frozen=True)
class ModelEntry:
    """One architecture of a scenario with its static patterns (one model key each).

    ``layers``: the layer list of a model imported from a file (``file`` field: ONNX or a
    SCALE-Sim topology CSV); None for zoo models. ``subnets``: Supernet sub-networks, largest
    first, as ``(zoo arch, accuracy %, source)``; ``accuracy`` / ``accuracy_source``: the
    model's own published accuracy (None / "" when not stated).
    """

    arch: str
    patterns: tuple[str, ...] = ("dense",)
    sparsity: str | None = None
    fps: float | None = None
    after: str | None = None
    probability: float = 1.0
    layers: tuple | None = field(default=None, compare=False, repr=False)
    subnets: tuple[tuple[str, float, str], ...] = ()
    accuracy: float | None = None
    accuracy_source: str = ""

    @property
    def archs(self) -> tuple[str, ...]:
        """The entry's architectures: its own, then its sub-networks'."""
        return (self.arch,) + tuple(a for a, _, _ in self.subnets)

    @property
    def family(self) -> str:
        """``attention`` when the model has attention GEMMs, else its zoo family (``cnn``
        for imported models without attention)."""
        if self.layers is None:
            from . import zoo

            return zoo.arch_info(self.arch).family
        return ("attention" if any(la.kind in ("attn_qk", "attn_pv") for la in self.layers)
                else "cnn")

    def models(self) -> list[Model]:
        """One `Model` per pattern, then (Supernets) one per sub-network and pattern; a
        model's ``variants`` are its sub-networks' keys of the same pattern."""
        from dataclasses import replace

        from . import zoo

        base = zoo.layers(self.arch) if self.layers is None else self.layers
        out = []
        for p in self.patterns:
            m = zoo.apply_pattern(base, self.arch, p)
            out.append(replace(m, variants=tuple(f"{a}_{m.pattern}" for a, _, _ in self.subnets),
                               accuracy=self.accuracy, accuracy_source=self.accuracy_source))
        for a, acc, src in self.subnets:
            for p in self.patterns:
                out.append(replace(zoo.model(a, p), accuracy=acc, accuracy_source=src))
        return out


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see the module docstring for the fields)."""

    name: str
    system: tuple  # of AcceleratorConfig
    models: tuple[ModelEntry, ...]
    description: str = ""
    source: str = "zoo"
    synthetic: str = ""
    arrivals: str = "poisson"
    rates: tuple[float, ...] = (3.0,)
    slos: tuple[float, ...] = (10.0,)
    requests: int = 1000
    seeds: int = 3
    duration_s: float = 1.0
    samples: int = 8
    profile_samples: int = 4
    mask_seed: int = 0
    path: str = field(default="", compare=False)
    """The file it was read from ("" for a scenario built in Python)."""
    variants: tuple[tuple[str, tuple], ...] = field(default=(), compare=False)
    variant: str = ""
    transfer: TransferCost = field(default_factory=TransferCost)
    """What moving activations between two accelerators costs (the ``[transfer]`` table)."""

    def with_variant(self, name: str) -> Scenario:
        """This scenario on its system variant ``name`` (ValueError listing the known ones)."""
        from dataclasses import replace

        table = dict(self.variants)
        if name not in table:
            raise ValueError(f"scenario {self.name!r} has no system variant {name!r}; known: "
                             f"{', '.join(table) or 'none'}")
        return replace(self, system=table[name], variant=name)

    @property
    def label(self) -> str:
        """``name`` or ``name:variant``."""
        return f"{self.name}:{self.variant}" if self.variant else self.name

    @property
    def clock_hz(self) -> float:
        """The system clock: the first accelerator's."""
        return float(self.system[0].clock_hz)

    @property
    def profiling_samples(self) -> tuple[int, ...]:
        return tuple(range(self.profile_samples))

    @property
    def heldout_samples(self) -> tuple[int, ...]:
        return tuple(range(self.profile_samples, self.samples))

    def run_probability(self, arch: str) -> float:
        """The probability that a frame of ``arch`` runs: the product of the cascade
        probabilities up its chain of ``after`` models (1.0 for a model without one)."""
        entries = {e.arch: e for e in self.models}
        p, up = entries[arch].probability, entries[arch].after
        while up is not None:
            p *= entries[up].probability
            up = entries[up].after
        return p

    def model_list(self) -> list[Model]:
        """Every (arch, pattern) as a zoo `Model`, in file order."""
        return [m for e in self.models for m in e.models()]


def _type_name(v: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


class _Reader:
    def __init__(self, src: str, doc: dict, base=None) -> None:
        self.src, self.doc, self.base = src, doc, base

    def fail(self, where: str, expected: str, found: object) -> InputError:
        return InputError(self.src, where, expected, found if isinstance(found, str)
                          else repr(found))

    def get(self, table: dict, key: str, where: str, kind: str, default=None, *,
            required: bool = False, positive: bool = False, minimum: float | None = None):
        if key not in table:
            if required:
                raise self.fail(where, f"a field {key!r}", "it missing")
            return default
        v = table[key]
        if kind == "str":
            if not isinstance(v, str):
                raise self.fail(where, "a string", f"{_type_name(v)} {v!r}")
            return v
        if kind in ("int", "number"):
            ok = isinstance(v, int) and not isinstance(v, bool)
            if kind == "number":
                ok = ok or (isinstance(v, float) and math.isfinite(v))
            if not ok:
                what = "an integer" if kind == "int" else "a finite number"
                found = v if isinstance(v, float) else f"{_type_name(v)} {v!r}"
                raise self.fail(where, what, str(found))
            if positive and not v > 0:
                raise self.fail(where, "a number > 0", repr(v))
            if minimum is not None and v < minimum:
                raise self.fail(where, f"a number >= {minimum:g}", repr(v))
            return v
        if kind in ("numbers", "strs"):
            if not isinstance(v, list) or not v:
                raise self.fail(where, "a non-empty list", f"{_type_name(v)} {v!r}")
            for i, x in enumerate(v):
                self.get({"x": x}, "x", f"{where}[{i}]", {"numbers": "number",
                                                          "strs": "str"}[kind],
                         positive=positive)
            return tuple(v)
        raise AssertionError(kind)


def _accelerator(r: _Reader, v: object, where: str):
    from mmsched.hw.spec import NAMED_CONFIGS, AcceleratorConfig

    if isinstance(v, str):
        if v not in NAMED_CONFIGS:
            raise r.fail(where, f"an accelerator name ({', '.join(sorted(NAMED_CONFIGS))}) or "
                         f"a table of AcceleratorConfig fields", repr(v))
        return NAMED_CONFIGS[v]
    if not isinstance(v, dict):
        raise r.fail(where, "an accelerator name or a table", f"{_type_name(v)} {v!r}")
    known = {f.name for f in fields(AcceleratorConfig)} - {"energy"}
    base = NAMED_CONFIGS.get(v.get("base", ""), None) if isinstance(v.get("base"), str) else None
    unknown = set(v) - known - {"base"}
    if unknown:
        raise r.fail(f"{where}.{sorted(unknown)[0]}", f"an AcceleratorConfig field "
                     f"({', '.join(sorted(known))})", "an unknown field")
    if "base" in v and base is None:
        raise r.fail(f"{where}.base", f"one of {', '.join(sorted(NAMED_CONFIGS))}",
                     repr(v["base"]))
    from dataclasses import replace

    from .model import LAYER_KINDS

    kwargs = {k: x for k, x in v.items() if k != "base"}
    if "layer_kinds" in kwargs:
        kinds = kwargs["layer_kinds"]
        if not isinstance(kinds, list) or not kinds:
            raise r.fail(f"{where}.layer_kinds", f"a non-empty list of layer kinds "
                         f"({', '.join(LAYER_KINDS)})", f"{_type_name(kinds)} {kinds!r}")
        for j, k in enumerate(kinds):
            if k not in LAYER_KINDS:
                raise r.fail(f"{where}.layer_kinds[{j}]", f"a layer kind "
                             f"({', '.join(LAYER_KINDS)})", repr(k))
        if len(set(kinds)) != len(kinds):
            raise r.fail(f"{where}.layer_kinds", "distinct layer kinds", repr(kinds))
        kwargs["layer_kinds"] = tuple(kinds)
    # Each field's type and range are AcceleratorConfig's own checks (one place); its
    # "FIELD must be EXPECTED, not FOUND" is told as this file's field, expected and found.
    try:
        return replace(base, **kwargs) if base is not None else AcceleratorConfig(**kwargs)
    except (TypeError, ValueError) as e:
        m = _MUST_BE.match(str(e))
        if m and m["field"] in kwargs:
            raise r.fail(f"{where}.{m['field']}", m["expected"], m["found"]) from None
        raise r.fail(where, "a valid accelerator configuration", str(e)) from None


_MUST_BE = re.compile(r"(?P<field>\w+) must be (?P<expected>.+?), not (?P<found>.+)\Z", re.S)
"""An `AcceleratorConfig` error about one field (``"rows must be a positive integer, not 0"``)."""


def parse_scenario(doc: dict, source: str, *, base=None) -> Scenario:
    """Validate a parsed TOML document (module docstring); InputError on the first problem.

    ``base``: the folder relative model files are read from (a path or an
    `importlib.resources` Traversable); default the folder of ``source``."""
    from . import zoo
    from .patterns import parse_pattern
    from .profiles import builtin_profile_names

    r = _Reader(source, doc, base)
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise r.fail(unknown[0], f"a scenario field ({', '.join(sorted(_TOP))})",
                     "an unknown field")
    name = r.get(doc, "name", "name", "str", required=True)
    source = r.get(doc, "source", "source", "str", "zoo")
    if source not in SOURCES:
        raise r.fail("source", f"one of {SOURCES}", repr(source))
    arrivals = r.get(doc, "arrivals", "arrivals", "str", "poisson")
    if arrivals not in ARRIVALS:
        raise r.fail("arrivals", f"one of {ARRIVALS}", repr(arrivals))
    if source == "synthetic":
        return _synthetic_scenario(r, doc, name, arrivals, source)
    if "synthetic" in doc:
        raise r.fail("synthetic", "no 'synthetic' field (it names the set of a scenario with "
                     "source = \"synthetic\")", "one")
    if "system" not in doc:
        raise r.fail("system", "a field 'system'", "it missing")
    sysv = doc["system"]
    if not isinstance(sysv, list) or not sysv:
        raise r.fail("system", "a non-empty list of accelerators", f"{_type_name(sysv)} "
                     f"{sysv!r}")
    system = tuple(_accelerator(r, v, f"system[{i}]") for i, v in enumerate(sysv))
    variants = []
    vv = doc.get("variants", {})
    if not isinstance(vv, dict):
        raise r.fail("variants", "a table of named systems", f"{_type_name(vv)} {vv!r}")
    for vname, vsys in vv.items():
        if not isinstance(vsys, list) or not vsys:
            raise r.fail(f"variants.{vname}", "a non-empty list of accelerators",
                         f"{_type_name(vsys)} {vsys!r}")
        variants.append((vname, tuple(_accelerator(r, v, f"variants.{vname}[{i}]")
                                      for i, v in enumerate(vsys))))
    rates, slos, requests, seeds = _axes(r, doc)
    transfer = _transfer(r, doc)
    from .limits import MAX_DURATION_S, MAX_SAMPLES

    duration = r.get(doc, "duration_s", "duration_s", "number", 1.0, positive=True)
    if duration > MAX_DURATION_S:
        raise r.fail("duration_s", f"a number <= {MAX_DURATION_S:g} (MAX_DURATION_S)",
                     repr(duration))
    samples = r.get(doc, "samples", "samples", "int", 8, minimum=2)
    if samples > MAX_SAMPLES:
        raise r.fail("samples", f"an integer <= {MAX_SAMPLES:,} (MAX_SAMPLES)", repr(samples))
    prof = r.get(doc, "profile_samples", "profile_samples", "int", min(4, samples - 1),
                 minimum=1)
    if prof >= samples:
        raise r.fail("profile_samples", f"an integer < samples ({samples}), so some samples "
                     "are held out", repr(prof))
    mask_seed = r.get(doc, "mask_seed", "mask_seed", "int", 0, minimum=0)
    if "models" not in doc:
        raise r.fail("models", "a field 'models' ([[models]] tables)", "it missing")
    mv = doc["models"]
    if not isinstance(mv, list) or not mv:
        raise r.fail("models", "a non-empty list of [[models]] tables", f"{_type_name(mv)}")
    known_archs = zoo.arch_names()
    profiles = builtin_profile_names()
    entries: list[ModelEntry] = []
    for i, m in enumerate(mv):
        w = f"models[{i}]"
        if not isinstance(m, dict):
            raise r.fail(w, "a table", f"{_type_name(m)} {m!r}")
        bad = sorted(set(m) - _MODEL)
        if bad:
            raise r.fail(f"{w}.{bad[0]}", f"a model field ({', '.join(sorted(_MODEL))})",
                         "an unknown field")
        layers = None
        if "input_shapes" in m and "file" not in m:
            raise r.fail(f"{w}.input_shapes", "a 'file' field (input_shapes are the shapes "
                         "of an ONNX model's dynamic inputs)", "no file")
        if "file" in m:
            fname = r.get(m, "file", f"{w}.file", "str")
            shapes = _input_shapes(r, m.get("input_shapes"), f"{w}.input_shapes")
            layers, stem = _import_model(r, fname, f"{w}.file", shapes, f"{w}.input_shapes")
            arch = r.get(m, "arch", f"{w}.arch", "str", stem)
            if not arch or "_" in arch:
                raise r.fail(f"{w}.arch", "a name without '_'", repr(arch))
        else:
            arch = r.get(m, "arch", f"{w}.arch", "str", required=True)
            if arch not in known_archs:
                raise r.fail(f"{w}.arch", f"a zoo model ({', '.join(known_archs)}) or a "
                             f"'file' field", repr(arch))
        patterns = r.get(m, "patterns", f"{w}.patterns", "strs", ("dense",))
        for j, p in enumerate(patterns):
            try:
                parse_pattern(p)
            except ValueError as e:
                raise r.fail(f"{w}.patterns[{j}]", "a weight pattern", str(e)) from None
        if len(set(patterns)) != len(patterns):
            raise r.fail(f"{w}.patterns", "distinct patterns", repr(list(patterns)))
        sparsity = r.get(m, "sparsity", f"{w}.sparsity", "str")
        if sparsity is not None and sparsity not in profiles:
            sparsity = _profile_path(r, sparsity, f"{w}.sparsity", profiles)
        fps = r.get(m, "fps", f"{w}.fps", "number", positive=True)
        if arrivals == "periodic" and fps is None:
            raise r.fail(f"{w}.fps", "a field 'fps' (periodic arrivals)", "it missing")
        after = r.get(m, "after", f"{w}.after", "str")
        prob = r.get(m, "probability", f"{w}.probability", "number", 1.0, minimum=0)
        if prob > 1:
            raise r.fail(f"{w}.probability", "a number in [0, 1]", repr(prob))
        subnets, accuracy, acc_src = _subnets(r, m, w, arch, known_archs)
        entries.append(ModelEntry(arch, tuple(patterns), sparsity, fps, after, float(prob),
                                  layers, subnets, accuracy, acc_src))
    archs = [e.arch for e in entries]
    if len(set(archs)) != len(archs):
        dup = next(a for a in archs if archs.count(a) > 1)
        raise r.fail("models", "each arch once (list its patterns together)", repr(dup))
    for i, e in enumerate(entries):
        for j, (a, _, _) in enumerate(e.subnets):
            if a in archs or any(a in o.archs[1:] for o in entries[:i]):
                raise r.fail(f"models[{i}].subnets[{j}].arch", "an arch that is no other "
                             "model or sub-network of this scenario", repr(a))
    for i, e in enumerate(entries):
        if e.after is not None and e.after not in archs:
            raise r.fail(f"models[{i}].after", f"an arch of this scenario ({', '.join(archs)})",
                         repr(e.after))
        seen, up = {e.arch}, e.after
        while up is not None:  # cascades must not loop
            if up in seen:
                raise r.fail(f"models[{i}].after", "a cascade without cycles",
                             f"a cycle through {up!r}")
            seen.add(up)
            up = entries[archs.index(up)].after
    for where, accs in (("system", system),
                        *((f"variants.{vname}", vsys) for vname, vsys in variants)):
        _check_runnable(r, where, accs, entries)
    return Scenario(name=name, system=system, models=tuple(entries),
                    description=r.get(doc, "description", "description", "str", ""),
                    arrivals=arrivals, rates=rates, slos=slos, requests=requests, seeds=seeds,
                    duration_s=float(duration), samples=samples, profile_samples=prof,
                    mask_seed=mask_seed, path=r.src, variants=tuple(variants),
                    transfer=transfer)


def _transfer(r: _Reader, doc: dict) -> TransferCost:
    """The ``[transfer]`` table (defaults: `TransferCost`'s)."""
    tv = doc.get("transfer", {})
    if not isinstance(tv, dict):
        raise r.fail("transfer", "a table with bandwidth_gb_s and pj_per_byte",
                     f"{_type_name(tv)} {tv!r}")
    bad = sorted(set(tv) - _TRANSFER)
    if bad:
        raise r.fail(f"transfer.{bad[0]}", f"a transfer field ({', '.join(sorted(_TRANSFER))})",
                     "an unknown field")
    default = TransferCost()
    bw = r.get(tv, "bandwidth_gb_s", "transfer.bandwidth_gb_s", "number",
               default.bandwidth_bytes_per_s / 1e9, positive=True)
    pj = r.get(tv, "pj_per_byte", "transfer.pj_per_byte", "number", default.pj_per_byte,
               minimum=0)
    return TransferCost(bandwidth_bytes_per_s=float(bw) * 1e9, pj_per_byte=float(pj))


def _subnets(r: _Reader, m: dict, w: str, arch: str, known_archs: list[str]
             ) -> tuple[tuple[tuple[str, float, str], ...], float | None, str]:
    """A ``[[models]]`` entry's Supernet fields: ``(subnets, accuracy, accuracy_source)``."""
    from .zoo.xrbench import SUPERNETS

    def accuracy(table: dict, key: str, where: str, required: bool) -> float | None:
        v = r.get(table, key, where, "number", required=False)
        if v is None:
            if required:
                raise r.fail(where, "a number: the published accuracy in percent", "it missing")
            return None
        if not 0 < v <= 100:
            raise r.fail(where, "an accuracy in percent, in (0, 100]", repr(v))
        return float(v)

    def source(table: dict, key: str, where: str, required: bool) -> str:
        v = r.get(table, key, where, "str", "")
        if required and not v.strip():
            raise r.fail(where, "a non-empty string: where the accuracy is published",
                         repr(v) if key in table else "it missing")
        return v

    sub = m.get("subnets")
    if sub is None:
        acc = accuracy(m, "accuracy", f"{w}.accuracy", False)
        return (), acc, source(m, "accuracy_source", f"{w}.accuracy_source", acc is not None)
    if sub == "zoo":
        if arch not in SUPERNETS:
            raise r.fail(f"{w}.subnets", f"a list of sub-networks ('zoo' only for an arch with "
                         f"a published family: {', '.join(sorted(SUPERNETS))})", repr(arch))
        (_, acc, src), *rest = SUPERNETS[arch]
        if "accuracy" in m or "accuracy_source" in m:
            acc = accuracy(m, "accuracy", f"{w}.accuracy", True)
            src = source(m, "accuracy_source", f"{w}.accuracy_source", True)
        return tuple((a, float(x), s) for a, x, s in rest), acc, src
    if not isinstance(sub, list) or not sub:
        raise r.fail(f"{w}.subnets", "a non-empty list of {arch, accuracy, source} tables or "
                     "\"zoo\"", f"{_type_name(sub)} {sub!r}")
    out = []
    for j, t in enumerate(sub):
        wj = f"{w}.subnets[{j}]"
        if not isinstance(t, dict):
            raise r.fail(wj, "a table {arch, accuracy, source}", f"{_type_name(t)} {t!r}")
        bad = sorted(set(t) - _SUBNET)
        if bad:
            raise r.fail(f"{wj}.{bad[0]}", "a sub-network field (arch, accuracy, source)",
                         "an unknown field")
        a = r.get(t, "arch", f"{wj}.arch", "str", required=True)
        if a not in known_archs:
            raise r.fail(f"{wj}.arch", f"a zoo model ({', '.join(known_archs)})", repr(a))
        if a == arch or a in [x for x, _, _ in out]:
            raise r.fail(f"{wj}.arch", "a sub-network other than the model and the ones "
                         "before it", repr(a))
        out.append((a, accuracy(t, "accuracy", f"{wj}.accuracy", True),
                    source(t, "source", f"{wj}.source", True)))
    acc = accuracy(m, "accuracy", f"{w}.accuracy", True)
    return tuple(out), acc, source(m, "accuracy_source", f"{w}.accuracy_source", True)


def _check_runnable(r: _Reader, where: str, system: tuple, entries: list) -> None:
    """Every layer of every model (and sub-network) must run on some accelerator of the
    system (`AcceleratorConfig.layer_kinds`)."""
    if not any(cfg.layer_kinds for cfg in system):
        return
    for e in entries:
        for m in e.models():
            missing = sorted({la.kind for la in m.layers
                              if not any(cfg.runs(la.kind) for cfg in system)})
            if missing:
                raise r.fail(where, f"an accelerator able to run every layer of model "
                             f"{m.key!r} (layer_kinds of each: "
                             f"{'; '.join(','.join(c.layer_kinds) or 'all' for c in system)})",
                             f"no accelerator for its {', '.join(missing)} layers")


def _axes(r: _Reader, doc: dict) -> tuple[tuple[float, ...], tuple[float, ...], int, int]:
    """The default sweep axes: rates, SLO multipliers (distinct values), requests, seeds."""
    out = []
    for key, default in (("rates", (3.0,)), ("slos", (10.0,))):
        values = tuple(float(x) for x in r.get(doc, key, key, "numbers", default,
                                                positive=True))
        if len(set(values)) != len(values):
            raise r.fail(key, "distinct values", repr(list(doc[key])))
        out.append(values)
    requests = r.get(doc, "requests", "requests", "int", 1000, positive=True)
    seeds = r.get(doc, "seeds", "seeds", "int", 3, positive=True)
    return out[0], out[1], requests, seeds


def _synthetic_scenario(r: _Reader, doc: dict, name: str, arrivals: str,
                        source: str) -> Scenario:
    """A scenario over a built-in synthetic table set: the set fixes models and engine."""
    from mmsched.hw.spec import NAMED_CONFIGS

    from .synthetic import ENGINES, SETS

    if arrivals != "poisson":
        raise r.fail("arrivals", "\"poisson\" (synthetic sets are Poisson benchmarks)",
                     repr(arrivals))
    fixed = sorted({"system", "variants", "models", "samples", "profile_samples", "mask_seed",
                    "duration_s", "transfer"} & set(doc))
    if fixed:
        raise r.fail(fixed[0], "no such field in a synthetic scenario (its set fixes the "
                     "models and the engine)", "one")
    synthetic = r.get(doc, "synthetic", "synthetic", "str", required=True)
    if synthetic not in SETS:
        raise r.fail("synthetic", f"a synthetic set ({', '.join(SETS)})", repr(synthetic))
    rates, slos, requests, seeds = _axes(r, doc)
    return Scenario(name=name, system=(NAMED_CONFIGS[ENGINES[synthetic]],), models=(),
                    description=r.get(doc, "description", "description", "str", ""),
                    source=source, synthetic=synthetic, arrivals=arrivals, rates=rates,
                    slos=slos, requests=requests, seeds=seeds, path=r.src)


@contextlib.contextmanager
def _beside(r: _Reader, fname: str) -> Iterator[Path]:
    """A file named relative to the scenario file's folder, as a real path: a shipped
    scenario's files are read through `importlib.resources` (``r.base``), so they resolve
    inside the installed package, zipped or not."""
    path = Path(fname)
    if path.is_absolute():
        yield path
    elif r.base is not None:
        with resources.as_file(r.base.joinpath(*path.parts)) as p:
            yield p
    elif r.src and not r.src.startswith("<"):
        yield Path(r.src).parent / path
    else:
        yield path


def _input_shapes(r: _Reader, v: object, where: str) -> dict[str, tuple[int, ...]] | None:
    """``input_shapes = {images = [1, 3, 640, 640]}``: input name -> positive integers."""
    if v is None:
        return None
    if not isinstance(v, dict) or not v:
        raise r.fail(where, "a table of input name = [dimensions]", f"{_type_name(v)} {v!r}")
    out = {}
    for name, dims in v.items():
        if not isinstance(dims, list) or not dims or any(
                not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in dims):
            raise r.fail(f"{where}.{name}", "a non-empty list of positive integers",
                         f"{_type_name(dims)} {dims!r}")
        out[name] = tuple(dims)
    return out


def _profile_path(r: _Reader, value: str, where: str, shipped: list[str]) -> str:
    """A sparsity profile file (``.json``, relative to the scenario file), checked now;
    returned as the path the mask source loads."""
    if not value.endswith(".json"):
        raise r.fail(where, f"a shipped profile ({', '.join(shipped)}) or a profile .json "
                     "file (mmsched profile-sparsity --onnx)", repr(value))
    from .profiles import load_profile

    with _beside(r, value) as path:
        try:
            load_profile(path)
        except InputError as e:
            raise r.fail(where, "a readable sparsity profile file", str(e)) from None
        return str(path.resolve())


def _import_model(r: _Reader, fname: str, where: str, input_shapes: dict | None = None,
                  shapes_where: str = "") -> tuple[tuple, str]:
    """Layers of a model file (relative to the scenario file's folder, `_beside`) and its
    stem name.

    Errors inside the model file come from its importer (`InputError` naming that file and
    its line or field); errors of ``input_shapes`` and a wrong extension name the scenario
    field."""
    import re

    path = Path(fname)
    stem = re.sub(r"[^a-z0-9-]", "", path.stem.lower()) or "imported"
    suffix = path.suffix.lower()
    if suffix not in (".onnx", ".csv"):
        raise r.fail(where, "an .onnx model or a SCALE-Sim topology .csv", repr(fname))
    if input_shapes is not None and suffix != ".onnx":
        raise r.fail(shapes_where, "no input_shapes (they apply to .onnx models)", repr(fname))
    with _beside(r, fname) as p:
        if suffix == ".onnx":
            from .onnx_import import load_onnx

            return load_onnx(p, name=stem, input_shapes=input_shapes,
                             shapes_where=(r.src, shapes_where)).layers, stem
        from .topology import load_topology

        return load_topology(p, name=stem).layers, stem


def load_scenario_file(path: str | Path, *, base=None) -> Scenario:
    """Read and validate a scenario TOML file (``base``: see `parse_scenario`)."""
    src = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as e:
        raise InputError(src, "", "a readable scenario file", e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise InputError(src, "", "UTF-8 text", "undecodable bytes") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(src, "", "TOML", str(e)) from None
    return parse_scenario(doc, src, base=base)


def _builtin_dir():
    return resources.files("mmsched.sched").joinpath("data/scenarios")


def builtin_scenario_names() -> list[str]:
    """The scenarios shipped in ``sched/data/scenarios`` (file stems), sorted."""
    return sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


def find_scenario(name_or_path: str, *, option: str = "") -> Scenario:
    """A shipped scenario by name, or a TOML file by path, optionally ``:VARIANT`` (a system
    variant of the file).

    Raises `InputError` for a bad file, an unknown variant, or a name that is neither a
    shipped scenario nor a file (naming ``option``, e.g. ``--scenario``, when given).
    """
    base, sep, variant = name_or_path.rpartition(":")
    if not sep or not variant or "/" in variant or "\\" in variant:
        base, variant = name_or_path, ""
    sc = _find(base, option)
    if variant:
        if variant not in dict(sc.variants):
            raise InputError(base, "variant", "one of its system variants "
                             f"({', '.join(dict(sc.variants)) or 'it has none'})",
                             repr(variant))
        sc = sc.with_variant(variant)
    return sc


def _find(name_or_path: str, option: str) -> Scenario:
    f = _builtin_dir().joinpath(f"{name_or_path}.toml")
    if f.is_file():
        with resources.as_file(f) as p:
            sc = load_scenario_file(p, base=_builtin_dir())
        return sc
    if name_or_path.endswith(".toml") or "/" in name_or_path or Path(name_or_path).exists():
        return load_scenario_file(name_or_path)
    expected = f"a scenario .toml file or one of {', '.join(builtin_scenario_names())}"
    if option:
        raise InputError(option, "", expected, repr(name_or_path))
    raise InputError(name_or_path, "", expected, "neither")
