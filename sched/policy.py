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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
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
class PolicyConfig:
    """Base of every policy's frozen config."""


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
    """The config of policy ``name``: class defaults, then its preset, then ``overrides``."""
    cls = policy_class(name)
    known = {f.name for f in fields(cls.Config)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"policy {name!r}: unknown config field(s) {sorted(unknown)}; "
                         f"known: {sorted(known)}")
    base = cls.Config()
    overrides = {k: _coerce_bool(name, k, v) if isinstance(getattr(base, k), bool) else v
                 for k, v in overrides.items()}
    return replace(base, **{**_PRESETS[name], **overrides})


_TRUE = ("on", "true", "yes", "1")
_FALSE = ("off", "false", "no", "0")


def _coerce_bool(policy: str, field_name: str, value: Any) -> bool:
    """A boolean config field's value from a spec (``dream:tuner=off``): a bool, 0/1, or
    on/off, true/false, yes/no (any case); ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise ValueError(f"policy {policy!r}: {field_name} is on/off (a boolean), not {value!r}")


def make_policy(name: str, context: PolicyContext, **overrides: Any) -> Policy:
    """Build policy ``name`` with its default config (preset applied), fields replaced by
    ``overrides``. The instance's ``name`` is the registered name it was built from."""
    cls = policy_class(name)
    policy = cls(context, policy_config(name, **overrides))
    policy.name = name
    return policy
