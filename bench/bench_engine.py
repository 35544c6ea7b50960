"""Engine speed: scheduling decisions per second, per policy, on the default CNN workload.

The built-in synthetic CNN set (`mmsched.sched.synthetic`, 12 model keys, Eyeriss-V2-like at
200 MHz), fixed mode, one accelerator, 1000 requests, SLO x10, at offered loads 0.5, 0.9 and
1.1 (rate = load / mean isolated latency over the model keys). A decision is one
`Policy.select` call (one per executed layer). Each figure is the median of ``REPEATS`` runs
(wall clock, `time.perf_counter`; the CPU-time rate is printed too, since the machine is
shared). Target (issue 2): dysta at load 0.9 >= 200,000 decisions/s.

Then the compiled loop (`mmsched.sim.fastloop`, the default where it applies) against the
Python loop on the same runs, for the policies it covers; compat mode (``--compat
dysta-artifact``) for dysta and sdrm3 at load ~0.9; and the
engine part of the Dysta figure sweep (the 8 recipes of Fig. 12-15 as in
``bench_sweep.py``, unique (set, rate, SLO) points, 7 policies, 1000 requests) for one seed in
this process: its CPU time x 5 seeds / 2 workers estimates the sweep's wall time on 2 idle
cores without the sweep runner's overhead (``bench_sweep.py`` measures the real thing).
"""

from __future__ import annotations

import os
import statistics
import time

from _results import write_results

from mmsched.sched import synthetic
from mmsched.sched.compat import CompatFlags
from mmsched.sched.policy import PolicyContext, make_policy, policy_names
from mmsched.sched.static import static_tables
from mmsched.sched.streams import poisson_workload
from mmsched.sim import fastloop
from mmsched.sim.backends.table import TableBackend
from mmsched.sim.engine import simulate

LOADS = (0.5, 0.9, 1.1)
REQUESTS = 1000
REPEATS = 3
SWEEP_POLICIES = ("fcfs", "sjf", "prema", "planaria", "sdrm3", "dysta_oracle", "dysta")
SLOS = (10.0, 25.0, 50.0, 75.0, 100.0, 150.0)
SWEEP_POINTS = {
    "cnn": sorted({(r, 10.0) for r in (2.0, 3.0, 4.0, 5.0, 6.0)}
                  | {(r, s) for r in (3.0, 4.0) for s in SLOS}),
    "attnn": sorted({(r, 10.0) for r in (10.0, 20.0, 30.0, 40.0)}
                    | {(r, s) for r in (30.0, 40.0) for s in SLOS}),
}


def _setup(name: str):
    tables, clock = synthetic.synthetic_tables(name, seed=0)
    st = static_tables(tables, time_unit="cycles", clock_hz=clock)
    backend = TableBackend(tables, time_unit="cycles", clock_hz=clock)
    return tables, clock, st, backend


def _time(wl, name, st, backend, clock):
    walls, cpus = [], []
    for _ in range(REPEATS):
        policy = make_policy(name, PolicyContext(tables=(st,), clock_hz=clock))
        t0, c0 = time.perf_counter(), time.process_time()
        res = simulate(wl, policy, backend)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return res.decisions, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    tables, clock, st, backend = _setup("cnn")
    iso_s = statistics.fmean(st.pattern[t.key].isolated_latency for t in tables) / clock
    names = policy_names()
    print(f"decisions/s, synthetic CNN set (mean isolated latency {iso_s * 1e3:.1f} ms), "
          f"{REQUESTS} requests, SLO x10, fixed mode, median of {REPEATS} (wall; CPU)")
    print(f"{'policy':14s}" + "".join(f"{'load ' + str(load):>26s}" for load in LOADS))
    workloads = [poisson_workload(tables, rate=load / iso_s, num_requests=REQUESTS, slo=10.0,
                                seed=1, clock_hz=clock, static=st) for load in LOADS]
    rows = []
    for name in names:
        cells = []
        row = {"policy": name}
        for load, wl in zip(LOADS, workloads, strict=True):
            dec, wall, cpu = _time(wl, name, st, backend, clock)
            cells.append(f"{dec / wall:>12,.0f} ;{dec / cpu:>11,.0f}")
            row[f"load {load} wall/s"] = round(dec / wall)
            row[f"load {load} CPU/s"] = round(dec / cpu)
        rows.append(row)
        print(f"{name:14s}" + "".join(f"{c:>26s}" for c in cells), flush=True)
    # The compiled loop against the Python loop, same runs (sim/fastloop.py).
    loops = []
    if fastloop.available():
        print("compiled loop / Python loop (MMSCHED_FASTLOOP=0), CPU decisions/s, whole "
              "simulate() calls (records included)")
        for name in fastloop.COVERED:
            cells = []
            row = {"policy": name}
            for load, wl in zip(LOADS, workloads, strict=True):
                dec, _, cpu_c = _time(wl, name, st, backend, clock)
                os.environ["MMSCHED_FASTLOOP"] = "0"
                try:
                    _, _, cpu_p = _time(wl, name, st, backend, clock)
                finally:
                    del os.environ["MMSCHED_FASTLOOP"]
                cells.append(f"{dec / cpu_c:>11,.0f} /{dec / cpu_p:>9,.0f} ={cpu_p / cpu_c:5.1f}x")
                row[f"load {load} compiled CPU/s"] = round(dec / cpu_c)
                row[f"load {load} Python CPU/s"] = round(dec / cpu_p)
                row[f"load {load} ratio"] = round(cpu_p / cpu_c, 1)
            loops.append(row)
            print(f"{name:14s}" + "".join(f"{c:>32s}" for c in cells), flush=True)
    else:
        print("compiled loop not available (no C compiler): not compared")
    # Compat mode (float seconds, the artifact's arithmetic), dysta and sdrm3 at load 0.9.
    compat = CompatFlags.dysta_artifact()
    st_s = static_tables(tables, time_unit="seconds")
    backend_s = TableBackend(tables, "seconds", clock)
    wl = poisson_workload(tables, rate=round(0.9 / iso_s), num_requests=REQUESTS, slo=10.0,
                        seed=1, compat=compat, clock_hz=clock, static=st_s)
    compat_rows = []
    for name in ("dysta", "sdrm3"):
        walls = []
        for _ in range(REPEATS):
            ctx = PolicyContext(tables=(st_s,), clock_hz=clock, time_unit="seconds",
                                compat=compat)
            policy = make_policy(name, ctx)
            t0 = time.perf_counter()
            res = simulate(wl, policy, backend_s, compat=compat)
            walls.append(time.perf_counter() - t0)
        print(f"compat mode, {name} at load ~0.9 (rate {round(0.9 / iso_s)}): "
              f"{res.decisions / statistics.median(walls):,.0f} decisions/s (wall)")
        compat_rows.append({"policy": name, "rate": round(0.9 / iso_s),
                            "decisions/s (wall)": round(res.decisions
                                                        / statistics.median(walls))})
    cpu_total = 0.0
    decisions = 0
    for set_name, points in SWEEP_POINTS.items():
        tables, clock, st, backend = _setup(set_name)
        for rate, slo in points:
            wl = poisson_workload(tables, rate=rate, num_requests=REQUESTS, slo=slo, seed=1,
                                clock_hz=clock, static=st)
            for name in SWEEP_POLICIES:
                policy = make_policy(name, PolicyContext(tables=(st,), clock_hz=clock))
                c0 = time.process_time()
                res = simulate(wl, policy, backend)
                cpu_total += time.process_time() - c0
                decisions += res.decisions
    runs = sum(len(p) for p in SWEEP_POINTS.values()) * len(SWEEP_POLICIES)
    print(f"figure sweep, engine only, one seed: {runs} unique runs, {decisions:,} decisions, "
          f"CPU {cpu_total:.1f} s ({decisions / cpu_total:,.0f} decisions/s); x5 seeds / 2 "
          f"workers ~ {cpu_total * 5 / 2:.0f} s wall on 2 idle cores (target < 60 s)")
    write_results("engine", {
        "setup": {"workload": "synthetic CNN set, fixed mode, one accelerator",
                  "requests": REQUESTS, "slo": 10.0, "repeats (median)": REPEATS,
                  "mean isolated latency ms": round(iso_s * 1e3, 2)},
        "decisions per second by policy and offered load": rows,
        "compiled loop against the Python loop, CPU decisions/s": loops,
        "compat mode (dysta-artifact), load ~0.9": compat_rows,
        "figure sweep, engine only, one seed": {
            "unique runs": runs, "decisions": decisions, "CPU s": round(cpu_total, 1),
            "decisions per CPU second": round(decisions / cpu_total),
            "estimated wall s for 5 seeds on 2 idle cores": round(cpu_total * 5 / 2)},
    }, title="Engine speed (python bench/run.py engine)",
        notes="A decision is one Policy.select call (one per executed layer). Wall-clock "
              "rates depend on the machine's other load; CPU-time rates less so.")
