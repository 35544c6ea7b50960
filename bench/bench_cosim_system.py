"""Co-simulation with the accelerator in RTL too (`mmsched.sim.cosim.run_system_cosim`): wall
time and simulated cycles per second of whole runs of the ``cosim-tiny`` scenario with the scheduler
and the accelerator in one simulation, per simulator (medians of ``REPEATS`` runs; the first
run of a configuration also builds it: its wall time is printed separately).

``MMSCHED_BENCH_COSIM_REQUESTS`` overrides the Verilator run's requests (default 400).
"""

import os
import statistics
import time

from _results import write_results

REPEATS = 3
POINTS = (  # simulator, requests, task-table slots
    ("verilator", int(os.environ.get("MMSCHED_BENCH_COSIM_REQUESTS", "400")), 16),
    ("icarus", 4, 3),
    ("amaranth", 4, 4),
)


def _inputs(requests: int):
    from mmsched.sched.policy import PolicyContext
    from mmsched.sched.scenario import find_scenario
    from mmsched.sim.cosim import HeldoutMasks
    from mmsched.sim.profiled import mask_source, profile_scenario

    sc = find_scenario("cosim-tiny")
    loaded = profile_scenario(sc, cache_dir=False)
    wl = loaded.workloads(rates=sc.rates, slo=sc.slos[0], requests=requests, seed=2)[0]
    ctx = PolicyContext(tables=(loaded.static[0],), clock_hz=wl.clock_hz,
                        time_unit=wl.time_unit)
    masks = HeldoutMasks(mask_source(sc)[0], sc.heldout_samples, sc.model_list())
    return sc, wl, ctx, masks


def main() -> None:
    import tempfile

    from mmsched.sim.cosim import run_system_cosim

    print(f"{'simulator':10} {'requests':>8} {'S':>3} {'layers':>6} {'jobs':>5} "
          f"{'accel cyc':>9} {'sim cyc':>8} {'run s':>6} {'cycles/s':>9} {'1st wall s':>10}")
    rows = []
    for sim, requests, slots in POINTS:
        sc, wl, ctx, masks = _inputs(requests)
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(REPEATS):
                t0 = time.perf_counter()
                res = run_system_cosim(wl, masks, ctx, sc.system[0], simulator=sim,
                                       policy_overrides={"slots": slots},
                                       run_dir=os.path.join(tmp, "system"))
                runs.append((res, time.perf_counter() - t0 if i == 0 else None))
        first = runs[0][1]
        res = runs[0][0]
        run_s = statistics.median(r.run_s for r, _ in runs)
        print(f"{sim:10} {requests:8d} {slots:3d} {len(res.events):6d} {res.jobs:5d} "
              f"{res.accel_cycles:9d} {res.sim_cycles:8d} {run_s:6.2f} "
              f"{res.sim_cycles / run_s:9.0f} {first:10.1f}", flush=True)
        rows.append({"simulator": sim, "requests": requests, "slots": slots,
                     "layers": len(res.events), "jobs": res.jobs,
                     "accelerator cycles": res.accel_cycles,
                     "simulated cycles": res.sim_cycles, "run s (median)": round(run_s, 2),
                     "simulated cycles/s": round(res.sim_cycles / run_s),
                     "first run wall s (with build)": round(first, 1)})
    write_results("cosim_system", {
        f"cosim-tiny, scheduler and accelerator in one RTL simulation (medians of {REPEATS})":
            rows}, title="Co-simulation with the accelerator in RTL (python bench/run.py "
                         "cosim_system)")
