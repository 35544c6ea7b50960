"""Timing backends: cycles (and energy) of one layer of one sample on one accelerator.

A backend is one module plus one `register_backend` line. Every backend answers
`TimingBackend.layer`; the RTL backends must agree with the exact cycle model (``analytic``)
to the cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mmsched.sched.model import Model


@dataclass(frozen=True, slots=True)
class LayerTiming:
    """Result of one layer: time (workload unit: cycles, or seconds in compat mode), the
    monitor's non-zero and total input-activation counts, and energy in picojoules."""

    cycles: int | float
    nnz: int
    total: int
    energy_pj: float = 0.0


class TimingBackend(Protocol):
    name: str

    def layer(self, accelerator: int, model: Model, layer_index: int,
              sample: int) -> LayerTiming:
        """Time layer ``layer_index`` of ``model`` for input ``sample`` on ``accelerator``."""
        ...


_BACKENDS: dict[str, Callable[..., TimingBackend]] = {}


def register_backend(name: str) -> Callable[[Callable[..., TimingBackend]],
                                            Callable[..., TimingBackend]]:
    def deco(factory: Callable[..., TimingBackend]) -> Callable[..., TimingBackend]:
        _BACKENDS[name] = factory
        return factory

    return deco


def make_backend(name: str, **kwargs: Any) -> TimingBackend:
    _load_builtin()
    try:
        factory = _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown timing backend {name!r}; known: "
                         f"{', '.join(sorted(_BACKENDS))}") from None
    return factory(**kwargs)


def _load_builtin() -> None:
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
