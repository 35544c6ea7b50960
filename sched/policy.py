"""The policy interface and registry.

A policy has one required method, `Policy.select`, called by the engine whenever an
accelerator is free and tasks are ready; optional hooks tell it about arrivals, finished layers
(with the hardware monitor's non-zero count) and finished requests. A policy keeps its own
per-task state (dicts keyed by ``task.id``); the engine's `Task` records are read-only to it.
Policies register by name with `register`, each with a frozen ``Config`` dataclass holding the
paper's defaults; `make_policy` builds one by name and raises on unknown names, listing the
known ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import Field, dataclass, field, fields, replace
from typing import Any, ClassVar

from .compat import CompatFlags
from .model import Model
from .static import StaticTables
from .workload import Request


class Task:
    """The engine's record of one request in flight. Read-only to policies.

    Times are in the workload's unit. ``last_run``: when its last layer finished (its arrival
    before the first layer); ``next_layer``: index of the next layer to run (== ``num_layers``
    when done); ``running_on``: accelerator index while a layer runs, else -1; ``last_acc``:
    the accelerator its last layer ran on (-1 before the first). ``model`` is the model it
    runs: the requested one, or the sub-network `Policy.variant` chose at arrival.
    ``isolated``, ``energy_pj`` (layers and transfers), ``transfer_pj``, ``accs`` (the
    accelerators used, in first-use order) and ``timings`` are the engine's accumulators and
    cache.
    """

    __slots__ = ("id", "request", "model", "num_layers", "next_layer", "arrival", "deadline",
                 "priority", "last_run", "running_on", "last_acc", "start", "finish", "dropped",
                 "isolated", "energy_pj", "transfer_pj", "accs", "timings")

    def __init__(self, request: Request, model: Model) -> None:
        self.id = request.id
        self.request = request
        self.model = model
        self.num_layers = model.num_layers
        self.next_layer = 0
        self.arrival = request.arrival
        self.deadline = request.deadline
        self.priority = request.priority
        self.last_run = request.arrival
        self.running_on = -1
        self.last_acc = -1
        self.start = None
        self.finish = None
        self.dropped = False
        self.isolated = 0          # engine: sum of the executed layers' times
        self.energy_pj = 0.0       # engine: executed layers' and transfers' energy
        self.transfer_pj = 0.0     # engine: the transfers' part of energy_pj
        self.accs = None           # engine: list of accelerators used (multi-accelerator loop)
        self.timings = None        # engine: the backend's whole row, when it offers one

    def __repr__(self) -> str:
        return (f"Task(id={self.id}, model={self.model.key!r}, layer={self.next_layer}/"
                f"{self.num_layers}, arrival={self.arrival}, deadline={self.deadline})")


@dataclass(frozen=True)
class PolicyContext:
    """What a policy may know besides the tasks.

    ``tables[a]``: the static tables profiled on accelerator ``a`` (one entry on a
    single-accelerator system). ``compat``: the Dysta-artifact defect switches (all off in the
    default, correct mode). ``system[a]``: the `AcceleratorConfig` of accelerator ``a`` when
    the workload is timed on a described system (empty for latency-table workloads).
    ``transfer``: the `mmsched.sched.transfer.TransferModel` the engine charges when a request
    moves between accelerators (None: transfers are free).
    """

    tables: tuple[StaticTables, ...]
    num_accelerators: int = 1
    clock_hz: float = 1.0
    time_unit: str = "cycles"
    compat: CompatFlags = field(default_factory=CompatFlags)
    system: tuple = ()
    transfer: Any = None
    oracle: Any = None
    """A timing backend the oracle policies (``uses_oracle``) may query for true layer times.
    `mmsched.sim.engine.simulate` fills it with the run's backend when left ``None``."""


@dataclass(frozen=True)
class Range:
    """The values a numeric config field accepts: ``lo``/``hi`` bounds (None: unbounded),
    each inclusive unless ``*_open``. Numbers are always finite (no nan, no inf)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        return not (self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi))

    def __str__(self) -> str:
        if self.lo is not None and self.hi is not None:
            return (f"in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}"
                    f"{')' if self.hi_open else ']'}")
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {self.lo:g}"
        if self.hi is not None:
            return f"{'<' if self.hi_open else '<='} {self.hi:g}"
        return "finite"


def param(default: Any, *, lo: float | None = None, hi: float | None = None,
          lo_open: bool = False, hi_open: bool = False,
          choices: Sequence[str] | None = None) -> Any:
    """A config field with its declared range (numbers) or ``choices`` (text), stored as the
    field's metadata: the one place a policy states what its fields accept.

    ``beta: float = param(0.01, lo=0)``; ``level: str = param("arch", choices=("arch",
    "pattern"))``. `PolicyConfig` checks every field against it when built.
    """
    meta: dict[str, Any] = {"range": Range(lo, hi, lo_open, hi_open)}
    if choices is not None:
        meta = {"choices": tuple(choices)}
    return field(default=default, metadata=meta)


class ConfigValueError(ValueError):
    """A config field given a value of the wrong type or outside its declared range."""

    def __init__(self, field_name: str, expected: str, found: str) -> None:
        self.field_name, self.expected, self.found = field_name, expected, found
        super().__init__(f"{field_name}: expected {expected}, found {found}")

    def __reduce__(self):
        return (type(self), (self.field_name, self.expected, self.found))


def _kind(f: Field) -> str:
    """``"bool"``, ``"int"``, ``"float"`` or ``"str"``: the declared type of a config field."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if kind not in ("bool", "int", "float", "str"):
        raise TypeError(f"config field {f.name!r}: type {kind!r} is not bool, int, float or str")
    return kind


def describe_field(f: Field) -> str:
    """What field ``f`` accepts, in words: ``"a number >= 0"``, ``"one of avg, last-one"``."""
    kind = _kind(f)
    if kind == "bool":
        return "on/off"
    if kind == "str":
        choices = f.metadata.get("choices")
        return f"one of {', '.join(choices)}" if choices else "text"
    rng = f.metadata.get("range", Range())
    what = "an integer" if kind == "int" else "a number"
    return what if str(rng) == "finite" and kind == "int" else f"{what} {rng}"


def _coerce(f: Field, value: Any) -> Any:
    """``value`` (text from a spec, or a Python value) as field ``f``'s declared type, checked
    against its range or choices; `ConfigValueError` otherwise."""
    kind = _kind(f)
    expected = describe_field(f)
    bad = ConfigValueError(f.name, expected, repr(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if kind == "str":
        if not isinstance(value, str):
            raise bad
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise bad
        return value
    if isinstance(value, bool):
        raise bad
    if isinstance(value, str):
        try:
            value = float(value) if kind == "float" or not value.strip().lstrip(
                "+-").isdigit() else int(value)
        except ValueError:
            raise bad from None
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise bad
    elif isinstance(value, int | float):
        value = float(value)
    else:
        raise bad
    if value not in f.metadata.get("range", Range()):
        raise bad
    return value


@dataclass(frozen=True)
class PolicyConfig:
    """Base of every policy's frozen config.

    Fields are ``bool``, ``int``, ``float`` or ``str``; `param` declares a number's range or a
    text's choices. Building a config checks every field (`ConfigValueError`); numbers are
    finite.
    """

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            c = _coerce(f, v)
            if c != v or type(c) is not type(v):
                object.__setattr__(self, f.name, c)

    @classmethod
    def help(cls) -> str:
        """Every field and what it accepts: ``"beta (a number >= 0), predictor (one of avg,
        last-one)"``."""
        return ", ".join(f"{f.name} ({describe_field(f)})" for f in fields(cls)) or "none"


class Policy:
    """Base class: subclass, set ``Config``, implement `select`, decorate with `register`."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[PolicyConfig]] = PolicyConfig
    uses_oracle: ClassVar[bool] = False
    """True when the policy reads true layer times from ``context.oracle``."""
    trivial_single: ClassVar[bool] = False
    """True when ``select`` with one ready task returns it and changes no state: the engine
    may then skip the call (it still counts the decision). Declare it in the class that
    defines ``select``; subclasses overriding ``select`` do not inherit it."""

    def __init__(self, context: PolicyContext, config: PolicyConfig | None = None) -> None:
        self.context = context
        self.config = config if config is not None else self.Config()

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        """Pick the task whose next layer runs on ``accelerator`` now, or None to leave it idle.

        ``ready`` is in arrival order (ties by request id) and never empty.
        """
        raise NotImplementedError

    def on_arrival(self, now: int | float, task: Task) -> None:
        """A request arrived (is queued). Default: nothing."""

    def on_layer_done(self, now: int | float, task: Task, accelerator: int, nnz: int,
                      total: int) -> None:
        """Layer ``task.next_layer - 1`` finished on ``accelerator``; the monitor counted
        ``nnz`` non-zero input activations out of ``total``. Default: nothing."""

    def on_finish(self, now: int | float, task: Task) -> None:
        """The request finished or was dropped. Default: nothing."""

    def should_drop(self, now: int | float, task: Task) -> bool:
        """Whether to drop a queued task (frame dropping). Default: never."""
        return False

    def variant(self, now: int | float, task: Task) -> str | None:
        """Supernets: the key of the sub-network (one of ``task.model.variants``) to run this
        request as, or None to run the requested model. Asked once, when the request arrives,
        before `on_arrival`. Default: None."""
        return None

    def trace(self) -> list[dict[str, float]]:
        """Optional: values the policy reports over time (e.g. DREAM's score weights), asked
        once after the run.

        A list of rows in time order, each a dict with ``time_s`` (simulated seconds: a time
        ``t`` of the run is ``t / context.clock_hz`` in cycles mode) and named numbers, the
        same names in every row; a name must not be one of the run's label columns (recipe,
        workload, mode, policy, rate, slo, fps_scale, load, seed). ``mmsched run`` stores the
        rows of every run in ``trace.csv`` and plots them (``trace.png``). Keep it small (one
        row per tuning step, not per decision). Default: no rows.
        """
        return []


_REGISTRY: dict[str, type[Policy]] = {}
_PRESETS: dict[str, dict[str, Any]] = {}


def register(name: str, **preset: Any) -> Callable[[type[Policy]], type[Policy]]:
    """Class decorator: register a policy under ``name``.

    ``preset`` registers a named variant of the class: config fields that differ from the
    class defaults (``register("sjf_sparse", sparse=True)(SJF)``). Variants are config fields,
    never name suffixes; the class keeps the name of its first registration.
    """

    def deco(cls: type[Policy]) -> type[Policy]:
        if name in _REGISTRY and (_REGISTRY[name] is not cls or _PRESETS[name] != preset):
            raise ValueError(f"policy {name!r} is registered twice")
        known = {f.name for f in fields(cls.Config)}
        if set(preset) - known:
            raise ValueError(f"policy {name!r}: unknown config field(s) "
                             f"{sorted(set(preset) - known)}; known: {sorted(known)}")
        if not cls.name:
            cls.name = name
        _REGISTRY[name] = cls
        _PRESETS[name] = dict(preset)
        return cls

    return deco


def _load_builtin() -> None:
    from . import policies  # noqa: F401  (registers the built-in policies)


def policy_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def policy_class(name: str) -> type[Policy]:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known policies: "
                         f"{', '.join(sorted(_REGISTRY))}") from None


def policy_config(name: str, **overrides: Any) -> PolicyConfig:
    """The config of policy ``name``: class defaults, then its preset, then ``overrides``.

    Override values may be text (``"0.1"``, ``"off"``, from a ``NAME:field=value`` spec) or
    Python values; each is parsed as its field's declared type and checked against its range
    (`param`). Raises `ConfigValueError` naming the field, or ValueError for unknown fields;
    both messages list the valid fields.
    """
    cls = policy_class(name)
    by_name = {f.name: f for f in fields(cls.Config)}
    unknown = set(overrides) - set(by_name)
    if unknown:
        raise ValueError(f"policy {name!r}: unknown config field(s) {sorted(unknown)}; "
                         f"valid: {cls.Config.help()}")
    return replace(cls.Config(), **{**_PRESETS[name], **overrides})  # typed: __post_init__


_TRUE = ("on", "true", "yes", "1")
_FALSE = ("off", "false", "no", "0")


def make_policy(name: str, context: PolicyContext, **overrides: Any) -> Policy:
    """Build policy ``name`` with its default config (preset applied), fields replaced by
    ``overrides``. The instance's ``name`` is the registered name it was built from."""
    cls = policy_class(name)
    policy = cls(context, policy_config(name, **overrides))
    policy.name = name
    return policy
