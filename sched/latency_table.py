"""Per-(sample, layer) latency and input-activation sparsity of one model key.

The in-memory form of a Dysta artifact CSV (docs/workloads.md), and of any workload whose
layer times are known as a table (the synthetic default workloads, profiles of the cycle
model). The ``table`` timing backend serves layer times from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import Layer, Model


@dataclass(frozen=True, eq=False)
class LatencyTable:
    """Latency and sparsity of ``samples x layers`` runs of one model key.

    Attributes
    ----------
    key : str
        Model key, e.g. ``resnet50_unstructured20`` (the CSV file stem).
    arch : str
        Architecture (the key's prefix before the first ``_`` for CNN CSVs).
    pattern : str
        Static sparsity pattern name (the rest of the key).
    latency_s : numpy.ndarray
        float64 ``[samples, layers]``, seconds, all >= 0.
    sparsity : numpy.ndarray
        float64 ``[samples, layers]``, fraction of zero input activations, in [0, 1].
    source : str
        Where it came from (a file path, or ``synthetic:<seed>``), for error messages.
    """

    key: str
    arch: str
    pattern: str
    latency_s: np.ndarray
    sparsity: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        lat = np.asarray(self.latency_s, dtype=np.float64)
        sp = np.asarray(self.sparsity, dtype=np.float64)
        if lat.ndim != 2 or lat.shape != sp.shape or lat.size == 0:
            raise ValueError(f"{self.source or self.key}: latency and sparsity must be non-empty "
                             f"[samples, layers] arrays of one shape, found {lat.shape} and "
                             f"{sp.shape}")
        if not np.all(np.isfinite(lat)) or np.any(lat < 0):
            raise ValueError(f"{self.source or self.key}: latencies must be finite and >= 0")
        if not np.all(np.isfinite(sp)) or np.any((sp < 0) | (sp > 1)):
            raise ValueError(f"{self.source or self.key}: sparsities must be in [0, 1]")
        lat.setflags(write=False)
        sp.setflags(write=False)
        object.__setattr__(self, "latency_s", lat)
        object.__setattr__(self, "sparsity", sp)

    @property
    def samples(self) -> int:
        return self.latency_s.shape[0]

    @property
    def layers(self) -> int:
        return self.latency_s.shape[1]

    @property
    def density(self) -> np.ndarray:
        """1 - sparsity."""
        return 1.0 - self.sparsity


def table_models(tables: Sequence[LatencyTable]) -> dict[str, Model]:
    """One `Model` of ``table`` layers per latency table, keyed by the table's key."""
    out: dict[str, Model] = {}
    for t in tables:
        layers = tuple(Layer(name=f"layer{j}", kind="table", m=0, n=0, k=0)
                       for j in range(t.layers))
        out[t.key] = Model(key=t.key, arch=t.arch, pattern=t.pattern, layers=layers)
    return out
