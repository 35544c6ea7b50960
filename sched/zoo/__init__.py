"""The model zoo: registered architectures as GEMM layer lists, with their published sizes.

Each family lives in its own module (`cnn`, `attention`, `xrbench`) and registers its
architectures with `register`; `layers` returns an architecture's dense layer list and `model`
a `Model` with a static weight pattern applied (``key = f"{arch}_{pattern}"``, the Dysta
naming: the architecture is the key's prefix before the first ``_``, so architecture names
contain no ``_``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

from ..model import Layer, Model

TRANSFORMER_FAMILIES = ("attention", "xr-transformer")
"""Families of transformer models (GELU activations): their sparse inputs take a transformer
sparsity profile (``gelu`` role), even where the description omits the attention matmuls
(XRBench's Emformer and HRViT)."""

WEIGHT_KINDS = ("conv", "dwconv", "fc", "matmul")
"""Layer kinds whose ``B`` operand is a trained weight (the static pattern applies)."""


@dataclass(frozen=True)
class ArchInfo:
    """One registered architecture.

    ``published_macs``: the figure the tests check the layer list against (None when no
    figure exists for exactly this variant; ``macs_source`` then says what is checked instead).
    ``engine``: the accelerator configuration the benchmark runs it on.
    """

    name: str
    family: str
    engine: str
    input: str
    published_macs: float | None
    macs_source: str
    builder: Callable[..., tuple[Layer, ...]]


_REGISTRY: dict[str, ArchInfo] = {}


def register(name: str, *, family: str, engine: str, input: str, published_macs: float | None,
             macs_source: str) -> Callable[[Callable[..., tuple[Layer, ...]]],
                                           Callable[..., tuple[Layer, ...]]]:
    """Decorator registering a layer-list builder under ``name`` (no ``_`` allowed)."""
    if "_" in name:
        raise ValueError(f"architecture name must not contain '_', not {name!r}")

    def deco(fn: Callable[..., tuple[Layer, ...]]) -> Callable[..., tuple[Layer, ...]]:
        if name in _REGISTRY and _REGISTRY[name].builder is not fn:
            raise ValueError(f"architecture {name!r} is registered twice")
        _REGISTRY[name] = ArchInfo(name, family, engine, input, published_macs, macs_source, fn)
        return fn

    return deco


def _load_builtin() -> None:
    from . import attention, cnn, xrbench  # noqa: F401  (register the built-in families)


def arch_names(family: str | None = None) -> list[str]:
    """Registered architecture names (of one family if given), sorted."""
    _load_builtin()
    return sorted(n for n, a in _REGISTRY.items() if family is None or a.family == family)


def arch_info(name: str) -> ArchInfo:
    """The registration of ``name``; ValueError listing the known names if unknown."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: "
                         f"{', '.join(sorted(_REGISTRY))}") from None


@cache
def layers(name: str) -> tuple[Layer, ...]:
    """The dense layer list of architecture ``name`` at its benchmark input size."""
    return arch_info(name).builder()


def model(name: str, pattern: str = "dense") -> Model:
    """Architecture ``name`` with static weight ``pattern`` (see `mmsched.sched.patterns`) on
    every weight layer (`WEIGHT_KINDS`); key ``f"{name}_{pattern}"``. Filter pruning is
    structural (`_filter_pruned`); every other pattern is a mask the accelerator skips.

    Raises ValueError for an unknown architecture or pattern.
    """
    return apply_pattern(layers(name), name, pattern)


def apply_pattern(layer_list: tuple[Layer, ...], arch: str, pattern: str) -> Model:
    """A `Model` of ``layer_list`` (architecture ``arch``) with static weight ``pattern``, as
    `model` builds zoo models (also used for imported ONNX / SCALE-Sim models)."""
    from ..patterns import parse_pattern

    spec = parse_pattern(pattern)
    out = []
    for layer in layer_list:
        if layer.kind not in WEIGHT_KINDS:
            out.append(layer)
        elif spec.kind == "filter":
            out.append(_filter_pruned(layer, spec.sparsity))
        else:
            out.append(replace(layer, weight_pattern=spec.name, weight_density=spec.density))
    return Model(key=f"{arch}_{spec.name}", arch=arch, pattern=spec.name, layers=tuple(out))


def _filter_pruned(layer: Layer, sparsity: float) -> Layer:
    """Filter pruning applied structurally, as deployed: the pruned filters (output
    channels) of a convolution are removed, so ``N`` shrinks and the remaining weights are
    dense. Depthwise, fully connected and detection-head layers keep their outputs (class and
    box counts, channel-wise groups); the following layer's ``K`` is not shrunk (its inputs
    from pruned filters are simply absent work we do not credit: a conservative choice)."""
    if layer.kind != "conv" or "head" in layer.name:
        return layer
    return replace(layer, n=max(1, layer.n - int(round(sparsity * layer.n))))


def weight_params(layer_list: tuple[Layer, ...] | list[Layer]) -> int:
    """Weights of the GEMM layers (``K x N x groups`` of every `WEIGHT_KINDS` layer)."""
    return sum(la.k * la.n * la.groups for la in layer_list if la.kind in WEIGHT_KINDS)


__all__ = ["TRANSFORMER_FAMILIES", "WEIGHT_KINDS", "ArchInfo", "apply_pattern", "arch_info",
           "arch_names", "layers", "model", "register", "weight_params"]
