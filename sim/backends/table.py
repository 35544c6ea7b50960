"""The ``table`` timing backend: layer times served from `LatencyTable` rows.

The Dysta artifact's CSVs and the synthetic default workloads give, per model key, the
latency and input-activation sparsity of every (sample, layer). Times are returned in the
workload's unit: float seconds unchanged (``time_unit="seconds"``, Dysta-artifact compat), or
integer cycles at ``clock_hz``, rounded to nearest (``time_unit="cycles"``).

The monitor's counts: a table holds a density ``d = 1 - sparsity`` (a float), not a count of
non-zeros, so the backend reports it as the exact binary fraction ``nnz / total ==
d.as_integer_ratio()``; ``nnz / total`` then gives ``d`` back bit for bit, which the
Dysta-artifact compat mode needs. Energy is not known from a table: 0 pJ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmsched.sched.latency_table import LatencyTable, table_models
from mmsched.sched.model import Model
from mmsched.sched.workload import seconds_to_time

from . import LayerTiming, register_backend

__all__ = ["TableBackend", "table_models"]


@register_backend("table")
class TableBackend:
    """Layer times and densities from latency tables (docs/workloads.md).

    Parameters
    ----------
    tables : sequence of LatencyTable
        One per model key; keys must be unique.
    time_unit : str
        ``"cycles"`` or ``"seconds"``.
    clock_hz : float
        The system clock (converts seconds to cycles); positive.

    The same timing is returned for every accelerator. ``layer`` raises KeyError for an
    unknown model key and IndexError for a sample or layer outside the table.
    """

    name = "table"

    def __init__(self, tables: Sequence[LatencyTable], time_unit: str = "cycles",
                 clock_hz: float = 1.0) -> None:
        if time_unit not in ("cycles", "seconds"):
            raise ValueError(f"time_unit must be 'cycles' or 'seconds', not {time_unit!r}")
        if not clock_hz > 0:
            raise ValueError(f"clock_hz must be a positive number, not {clock_hz!r}")
        self.time_unit = time_unit
        self.clock_hz = float(clock_hz)
        self.tables: dict[str, LatencyTable] = {}
        for t in tables:
            if t.key in self.tables:
                raise ValueError(f"two latency tables share the key {t.key!r}")
            self.tables[t.key] = t
        self._rows: dict[tuple[str, int], tuple[LayerTiming, ...]] = {}
        self._cols: dict[str, tuple] = {}

    def _columns(self, key: str, sample: int) -> tuple[list, list[float]]:
        """One sample's layer times in the workload unit and densities, as lists."""
        cols = self._cols.get(key)
        if cols is None:
            t = self.tables[key]
            times = t.latency_s
            if self.time_unit == "cycles":  # seconds_to_time, whole table at once
                scaled = times * self.clock_hz
                times = np.rint(scaled).astype(np.int64) if scaled.max() < 2.0 ** 62 else None
            cols = self._cols[key] = (times, t.density)
        t = self.tables[key]
        if not 0 <= sample < t.samples:
            raise IndexError(f"model {key!r}: sample {sample} outside 0..{t.samples - 1}")
        times, density = cols
        if times is None:  # beyond int64: Python integers
            return ([seconds_to_time(s, self.time_unit, self.clock_hz)
                     for s in t.latency_s[sample].tolist()], density[sample].tolist())
        return times[sample].tolist(), density[sample].tolist()

    def _row(self, key: str, sample: int) -> tuple[LayerTiming, ...]:
        times, density = self._columns(key, sample)
        row = []
        for c, d in zip(times, density, strict=True):
            nnz, total = d.as_integer_ratio()
            row.append(LayerTiming(c, nnz, total, 0.0))
        out = tuple(row)
        self._rows[(key, sample)] = out
        return out

    def layer(self, accelerator: int, model: Model, layer_index: int,
              sample: int) -> LayerTiming:
        row = self._rows.get((model.key, sample))
        if row is None:
            row = self._row(model.key, sample)
        return row[layer_index]

    def row(self, accelerator: int, model: Model, sample: int) -> tuple[LayerTiming, ...]:
        """Every layer of one sample, ``row[j] == layer(accelerator, model, j, sample)``.

        Optional backend method: the engine fetches a request's whole row once instead of
        one call per layer."""
        row = self._rows.get((model.key, sample))
        return row if row is not None else self._row(model.key, sample)

    def row_arrays(self, accelerator: int, model: Model, sample: int
                   ) -> tuple[list, list[float], list[float]]:
        """`row` as plain lists: layer times, monitored densities (``nnz / total``) and
        energies. Optional backend method: the compiled loop (`mmsched.sim.fastloop`) reads
        rows this way."""
        times, density = self._columns(model.key, sample)
        return times, density, [0.0] * len(times)
