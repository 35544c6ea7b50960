"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from mmsched.sched.compat import CompatFlags
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.policy import PolicyContext
from mmsched.sched.static import static_tables
from mmsched.sched.streams import poisson_workload
from mmsched.sim.backends.table import TableBackend

_FIXED = CompatFlags()


def _table_run(tables: Sequence[LatencyTable], *, rate: float, requests: int, slo: float,
               clock_hz: float, seed: int = 1, compat: CompatFlags = _FIXED,
               accelerators: int = 1):
    """(workload, table backend, policy context) of one Poisson run point over ``tables``:
    static tables in the mode's time unit, the request stream, the backend serving the
    tables and a context with one copy of the static tables per accelerator."""
    unit = "seconds" if compat.any else "cycles"
    st = static_tables(tables, time_unit=unit, clock_hz=clock_hz)
    wl = poisson_workload(tables, rate=rate, num_requests=requests, slo=slo, seed=seed,
                          compat=compat, clock_hz=clock_hz, static=st)
    backend = TableBackend(tables, time_unit=unit, clock_hz=clock_hz)
    ctx = PolicyContext(tables=(st,) * accelerators, num_accelerators=accelerators,
                        clock_hz=clock_hz, time_unit=unit, compat=compat)
    return wl, backend, ctx


@pytest.fixture
def table_run() -> Callable:
    """Factory of one run point over latency tables: ``table_run(tables, rate=, requests=,
    slo=, clock_hz=, seed=1, compat=CompatFlags(), accelerators=1)`` returns
    ``(workload, backend, context)``."""
    return _table_run
