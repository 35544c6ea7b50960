"""Measured dynamic-sparsity profiles: per-(layer, sample) activation density and spread.

A profile is what ``mmsched profile-sparsity`` measured by running a real model on real
inputs (`mmsched.sched.real_sparsity`, behind the ``real`` extra). Profiles ship in the
package (``sched/data/profiles/*.json``, small) so default runs need no extra.

For each profiled layer (in execution order) it holds a ``role`` and, per sample, the
`~mmsched.sched.masks.LayerStats` of the layer's sparse input: ``density`` (fraction of
non-zeros), ``row_cv`` and ``col_cv`` (coefficient of variation of the per-row / per-column
densities of the GEMM operand ``A``: rows = pixels or tokens or queries, columns = channels or
features or keys). Roles:

``relu``  zeros of a ReLU/ReLU6 output (exact zeros)
``gelu``  GELU outputs with ``|y| <= gelu_threshold`` (near-zeros a sparse engine skips)
``attn``  attention probabilities below ``attn_threshold`` (Sanger-style pruning of ``P``)

`ProfileStats` maps the sparse layers of a zoo model onto a profile of another (usually
smaller) real network of the same family by role and relative depth: zoo layer ``i`` of ``n``
layers of a role takes profiled layer ``round(i (p - 1) / (n - 1))`` of the ``p`` profiled
layers of that role, and zoo sample ``s`` takes profiled sample ``s mod samples``. The mapping
keeps each layer's measured density and spread and the sample-to-sample variation (which is
what Dysta's gamma tracks); it does not claim the zoo model would have exactly these values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from mmsched.hw.paths import atomic_open

from .errors import InputError, read_json
from .masks import LayerStats
from .model import Model

ROLES = ("relu", "gelu", "attn")
FORMAT = "mmsched-sparsity-profile/1"


@dataclass(frozen=True, eq=False)
class SparsityProfile:
    """Per-(sample, layer) statistics of one real model on real inputs.

    ``density``, ``row_cv``, ``col_cv``: float ``[samples, layers]``; ``roles[j]`` in `ROLES`;
    ``meta``: provenance (package, version, inputs, thresholds, command).
    """

    name: str
    layer_names: tuple[str, ...]
    roles: tuple[str, ...]
    density: np.ndarray
    row_cv: np.ndarray
    col_cv: np.ndarray
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.density), len(self.layer_names))
        for label in ("density", "row_cv", "col_cv"):
            arr = np.asarray(getattr(self, label), dtype=np.float64)
            if arr.ndim != 2 or arr.shape != shape or arr.size == 0:
                raise ValueError(f"profile {self.name!r}: {label} must be [samples, "
                                 f"{len(self.layer_names)}], found {arr.shape}")
            arr.setflags(write=False)
            object.__setattr__(self, label, arr)
        if len(self.roles) != len(self.layer_names):
            raise ValueError(f"profile {self.name!r}: one role per layer needed")

    @property
    def samples(self) -> int:
        return self.density.shape[0]

    def stats(self, sample: int, layer: int) -> LayerStats:
        return LayerStats(float(self.density[sample, layer]), float(self.row_cv[sample, layer]),
                          float(self.col_cv[sample, layer]))

    def layers_of(self, role: str) -> list[int]:
        return [j for j, r in enumerate(self.roles) if r == role]

    def to_json(self) -> dict:
        return {"format": FORMAT, "name": self.name, "meta": dict(self.meta),
                "layers": [{"name": n, "role": r} for n, r in zip(self.layer_names, self.roles,
                                                                   strict=True)],
                "density": np.round(self.density, 5).tolist(),
                "row_cv": np.round(self.row_cv, 4).tolist(),
                "col_cv": np.round(self.col_cv, 4).tolist()}


def save_profile(profile: SparsityProfile, path: str | os.PathLike) -> None:
    """Write ``profile`` as JSON atomically (temp file in the same folder, then rename)."""
    with atomic_open(path) as f:
        json.dump(profile.to_json(), f, separators=(",", ":"))
        f.write("\n")


def load_profile(path: str | os.PathLike) -> SparsityProfile:
    """Read a profile JSON; InputError(file, field, expected, found) on anything malformed."""
    return _from_json(read_json(path, "profile file"), str(path))


def _from_json(doc: object, src: str) -> SparsityProfile:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(src, "format", repr(FORMAT),
                         repr(doc.get("format") if isinstance(doc, dict) else doc))
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise InputError(src, "layers", "a non-empty list", repr(layers)[:40])
    for i, la in enumerate(layers):
        if not isinstance(la, dict) or la.get("role") not in ROLES:
            raise InputError(src, f"layers[{i}].role", f"one of {ROLES}",
                             repr(la.get("role") if isinstance(la, dict) else la))
    arrays = {}
    for key, lo, hi in (("density", 0.0, 1.0), ("row_cv", 0.0, np.inf), ("col_cv", 0.0, np.inf)):
        try:
            arr = np.asarray(doc.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(src, key, "a [samples, layers] array of numbers",
                             "non-numbers") from None
        if arr.ndim != 2 or arr.shape[1] != len(layers) or arr.shape[0] == 0:
            raise InputError(src, key, f"[samples, {len(layers)}]", str(arr.shape))
        bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
        if bad.any():
            s, j = map(int, np.argwhere(bad)[0])
            raise InputError(src, f"{key}[{s}][{j}]", f"a number in [{lo}, {hi}]",
                             repr(float(arr[s, j])))
        arrays[key] = arr
    if not arrays["density"].shape == arrays["row_cv"].shape == arrays["col_cv"].shape:
        raise InputError(src, "row_cv/col_cv", "the shape of density",
                         f"{arrays['row_cv'].shape}/{arrays['col_cv'].shape}")
    return SparsityProfile(name=str(doc.get("name", Path(src).stem)),
                           layer_names=tuple(str(la.get("name", i)) for i, la in
                                             enumerate(layers)),
                           roles=tuple(la["role"] for la in layers), meta=doc.get("meta", {}),
                           **arrays)


def builtin_profile_names() -> list[str]:
    """Names of the profiles shipped in ``sched/data/profiles``."""
    root = resources.files("mmsched.sched").joinpath("data/profiles")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def builtin_profile(name: str) -> SparsityProfile:
    """A shipped profile by name; ValueError listing the known ones."""
    root = resources.files("mmsched.sched").joinpath("data/profiles")
    f = root.joinpath(f"{name}.json")
    if not f.is_file():
        raise ValueError(f"unknown sparsity profile {name!r}; known: "
                         f"{', '.join(builtin_profile_names())}")
    with resources.as_file(f) as p:
        return load_profile(p)


def resolve_profile(name_or_path: str) -> SparsityProfile:
    """A shipped profile by name, else a profile JSON file by path (a scenario's ``sparsity``
    field, resolved by the scenario reader)."""
    if name_or_path in builtin_profile_names():
        return builtin_profile(name_or_path)
    return load_profile(name_or_path)


def layer_role(model: Model, layer_index: int) -> str | None:
    """The profile role of a zoo layer's sparse input, or None for a dense input."""
    layer = model.layers[layer_index]
    if not layer.act_sparse:
        return None
    if layer.kind == "attn_pv":
        return "attn"
    if layer.kind in ("attn_qk",):
        return None
    return "gelu" if _is_transformer(model) else "relu"


def _is_transformer(model: Model) -> bool:
    """Attention GEMMs, or a zoo architecture of a transformer family
    (`mmsched.sched.zoo.TRANSFORMER_FAMILIES`)."""
    if any(la.kind in ("attn_qk", "attn_pv") for la in model.layers):
        return True
    from . import zoo

    try:
        return zoo.arch_info(model.arch).family in zoo.TRANSFORMER_FAMILIES
    except ValueError:
        return False


class ProfileStats:
    """Target statistics for zoo layers from measured profiles (module docstring).

    ``profiles``: per architecture name, or ``"*"`` for every architecture without its own.
    A zoo layer whose role the chosen profile lacks raises ValueError naming both.
    """

    def __init__(self, profiles: Mapping[str, SparsityProfile]) -> None:
        self.profiles = dict(profiles)
        self._maps: dict[str, list[int | None]] = {}

    def _profile(self, arch: str) -> SparsityProfile:
        try:
            return self.profiles[arch] if arch in self.profiles else self.profiles["*"]
        except KeyError:
            raise ValueError(f"no sparsity profile for model {arch!r}; have "
                             f"{sorted(self.profiles)}") from None

    def mapping(self, model: Model) -> list[int | None]:
        """Profiled layer index of each zoo layer (None for dense-input layers)."""
        if model.arch in self._maps:
            return self._maps[model.arch]
        prof = self._profile(model.arch)
        roles = [layer_role(model, j) for j in range(model.num_layers)]
        out: list[int | None] = [None] * model.num_layers
        for role in ROLES:
            zoo_idx = [j for j, r in enumerate(roles) if r == role]
            if not zoo_idx:
                continue
            prof_idx = prof.layers_of(role)
            if not prof_idx:
                raise ValueError(f"sparsity profile {prof.name!r} has no {role!r} layers, "
                                 f"needed by model {model.arch!r}")
            n, p = len(zoo_idx), len(prof_idx)
            for i, j in enumerate(zoo_idx):
                out[j] = prof_idx[round(i * (p - 1) / (n - 1)) if n > 1 else 0]
        self._maps[model.arch] = out
        return out

    def stats(self, model: Model, layer_index: int, sample: int) -> LayerStats:
        j = self.mapping(model)[layer_index]
        if j is None:
            return LayerStats(1.0)
        prof = self._profile(model.arch)
        return prof.stats(sample % prof.samples, j)


SEQ384_ARCHS = ("bert",)
"""Zoo transformers the benchmark runs at sequence 384 (the others at 128)."""


def default_profile_name(arch: str, family: str) -> str:
    """The shipped profile a model takes by default: CNNs ``mobilenetv2-relu6``, transformers
    (`mmsched.sched.zoo.TRANSFORMER_FAMILIES`) MiniLM at their benchmark sequence length
    (``minilm-l6-s384`` for `SEQ384_ARCHS`, else ``minilm-l6-s128``); docs/workloads.md,
    "Real dynamic sparsity"."""
    from .zoo import TRANSFORMER_FAMILIES

    if family in TRANSFORMER_FAMILIES:
        return f"minilm-l6-s{384 if arch in SEQ384_ARCHS else 128}"
    return "mobilenetv2-relu6"


def default_profile_stats(archs: Sequence[str] | None = None) -> ProfileStats:
    """`default_profile_name` of every zoo architecture (or of ``archs``)."""
    from . import zoo

    names = archs if archs is not None else zoo.arch_names()
    return ProfileStats({a: builtin_profile(default_profile_name(a, zoo.arch_info(a).family))
                         for a in names})
