"""The static (offline) part of Dysta: per-(model, pattern) latency and density tables.

Built once from profiling runs of a timing backend (or from the artifact's CSVs); the
initial estimate of every request, refined at run time by the monitored sparsity (gamma).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """Averages over profiling samples for one model key (or one architecture).

    ``layer_latency[j]``: mean latency of layer j (workload time unit);
    ``layer_density[j]``: mean input-activation density (1 - sparsity) of layer j;
    ``isolated_latency``: mean over samples of the whole-model latency.
    ``remaining[j]``: sum of ``layer_latency[j:]`` (``remaining[num_layers] == 0``), each
    suffix summed left to right (O(L^2) once) so that policies read it in O(1) and it equals,
    bit for bit, the Dysta artifact's ``sum(remaining_list)`` at every layer boundary.
    """

    key: str
    layer_latency: tuple[float, ...]
    layer_density: tuple[float, ...]
    isolated_latency: float
    samples: int
    remaining: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.layer_latency) != len(self.layer_density):
            raise ValueError(f"profile {self.key!r}: {len(self.layer_latency)} latencies but "
                             f"{len(self.layer_density)} densities")
        if not self.remaining:
            object.__setattr__(self, "remaining", suffix_sums_ltr(self.layer_latency))


def suffix_sums_ltr(values) -> tuple[float, ...]:
    """``out[j] = sum(values[j:])`` with each suffix added left to right (``out[-1] == 0``).

    Python's ``sum`` of a list is a left-to-right fold; reproducing it per suffix keeps float
    results identical to re-summing the remaining list at every decision (Dysta artifact).
    """
    vals = [float(v) for v in values]
    out = []
    for j in range(len(vals)):
        acc = 0.0
        for v in vals[j:]:
            acc += v
        out.append(acc)
    out.append(0.0)
    return tuple(out)


@dataclass(frozen=True)
class StaticTables:
    """Profiles per model key (``pattern``) and per architecture (``arch``).

    ``arch_of[key]`` names the architecture of a model key. Multi-accelerator systems hold one
    `StaticTables` per accelerator (see `sched.policy.PolicyContext.tables`).
    """

    pattern: Mapping[str, ModelProfile]
    arch: Mapping[str, ModelProfile]
    arch_of: Mapping[str, str]

    def profile(self, key: str, level: str = "pattern") -> ModelProfile:
        """The profile of model ``key`` at ``level`` ``pattern`` or ``arch``."""
        if level == "pattern":
            return self.pattern[key]
        if level == "arch":
            return self.arch[self.arch_of[key]]
        raise ValueError(f"level must be 'pattern' or 'arch', not {level!r}")
