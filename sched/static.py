"""The static (offline) part of Dysta: per-(model, pattern) latency and density tables.

Built once from profiling runs of a timing backend (or from the artifact's CSVs); the
initial estimate of every request, refined at run time by the monitored sparsity (gamma).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .latency_table import LatencyTable


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """Averages over profiling samples for one model key (or one architecture).

    ``layer_latency[j]``: mean latency of layer j (workload time unit);
    ``layer_density[j]``: mean input-activation density (1 - sparsity) of layer j;
    ``isolated_latency``: mean over samples of the whole-model latency.
    ``remaining[j]``: sum of ``layer_latency[j:]`` (``remaining[num_layers] == 0``), each
    suffix summed left to right (O(L^2) once) so that policies read it in O(1) and it equals,
    bit for bit, the Dysta artifact's ``sum(remaining_list)`` at every layer boundary.
    ``layer_energy[j]``: mean energy of layer j in picojoules over the profiling samples, when
    the profile comes from an energy-aware backend (the exact cycle model,
    `mmsched.sched.static_profile.static_tables_from_runs`); empty for latency tables.
    """

    key: str
    layer_latency: tuple[float, ...]
    layer_density: tuple[float, ...]
    isolated_latency: float
    samples: int
    remaining: tuple[float, ...] = ()
    layer_energy: tuple[float, ...] = ()

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


def _fold(values) -> float:
    acc = 0.0
    for v in values:
        acc += v
    return acc


def static_tables(tables: Sequence[LatencyTable], *, time_unit: str = "cycles",
                  clock_hz: float | None = None,
                  samples: Sequence[int] | None = None) -> StaticTables:
    """Dysta's static tables from latency tables (docs/artifact-compat.md, "Static averages").

    Per key ("pattern"): per-layer mean latency and mean sparsity over ``samples`` (default:
    all), density ``1 - mean sparsity``, isolated latency = mean over samples of the
    per-sample sum. Per architecture: the sample-count-weighted means over its keys, in the
    order of ``tables`` (a key that is its own architecture, as Sanger's, is copied). The
    arithmetic follows the artifact's order, so compat values agree bit for bit. Times are
    in ``time_unit``: seconds, or cycles at ``clock_hz`` (each layer time rounded to a whole
    cycle first, as the table backend serves it).

    Raises ValueError for an empty sequence, an empty sample selection or a zero isolated
    latency (policies divide by it).
    """
    if not tables:
        raise ValueError("static_tables needs at least one latency table")
    if time_unit not in ("cycles", "seconds"):
        raise ValueError(f"time_unit must be 'cycles' or 'seconds', not {time_unit!r}")
    if time_unit == "cycles" and not (clock_hz is not None and clock_hz > 0):
        raise ValueError(f"clock_hz must be a positive number of Hz for cycles, not "
                         f"{clock_hz!r}")
    pattern: dict[str, ModelProfile] = {}
    raw: dict[str, tuple[int, float, np.ndarray, np.ndarray]] = {}
    for t in tables:
        idx = list(range(t.samples)) if samples is None else [s for s in samples
                                                               if 0 <= s < t.samples]
        if not idx:
            raise ValueError(f"{t.key}: no profiling samples selected")
        lat = t.latency_s if time_unit == "seconds" else np.rint(t.latency_s * clock_hz)
        acc_l = np.zeros(t.layers)
        acc_s = np.zeros(t.layers)
        e2e = []
        for s in idx:
            acc_l = acc_l + lat[s]
            acc_s = acc_s + t.sparsity[s]
            e2e.append(_fold(lat[s].tolist()))
        avg_l = np.divide(acc_l, len(idx))
        avg_s = np.divide(acc_s, len(idx))
        iso = float(np.mean(e2e))
        if not iso > 0:
            raise ValueError(f"{t.key}: mean isolated latency must be positive, found {iso}")
        pattern[t.key] = ModelProfile(key=t.key, layer_latency=tuple(avg_l.tolist()),
                                      layer_density=tuple((1 - avg_s).tolist()),
                                      isolated_latency=iso, samples=len(idx))
        raw[t.key] = (len(idx), iso, avg_l, avg_s)
    groups: dict[str, list[LatencyTable]] = {}
    for t in tables:
        groups.setdefault(t.arch, []).append(t)
    arch: dict[str, ModelProfile] = {}
    for a, members in groups.items():
        if len(members) == 1 and members[0].key == a:
            p = pattern[a]
            arch[a] = p
            continue
        lens = {m.layers for m in members}
        if len(lens) != 1:
            raise ValueError(f"architecture {a!r}: its keys have different layer counts "
                             f"{sorted(lens)}")
        total = 0
        iso_acc = 0.0
        lat_acc = np.zeros(members[0].layers)
        sp_acc = np.zeros(members[0].layers)
        for m in members:
            nb, iso, avg_l, avg_s = raw[m.key]
            total += nb
            iso_acc += nb * iso
            lat_acc = lat_acc + nb * avg_l
            sp_acc = sp_acc + nb * avg_s
        arch[a] = ModelProfile(key=a, layer_latency=tuple((lat_acc / total).tolist()),
                               layer_density=tuple((1 - sp_acc / total).tolist()),
                               isolated_latency=iso_acc / total, samples=total)
    return StaticTables(pattern=pattern, arch=arch, arch_of={t.key: t.arch for t in tables})
