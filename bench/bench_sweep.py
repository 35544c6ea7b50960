"""Wall time of the full Dysta figure sweep on the built-in synthetic workloads.

The sweep behind the Dysta paper's Fig. 12-15, as the artifact's four scripts run it
(``script/{cnn,attnn}/dysta_comparison_*_across_{arrival_rates,slo}.sh``): CNN across rates
2..6 req/s at SLO x10 and across SLO multipliers 10..150 at 3 and 4 req/s; AttNN across
10..40 req/s at SLO x10 and across SLO multipliers at 30 and 40 req/s; policies fcfs, sjf,
prema, planaria, sdrm3, dysta_oracle, dysta; 1000 requests x 5 seeds; violation rate and ANTT
of each sweep are the figures' 8 panels. Target (issue 2): under 60 s with 2 worker processes.
The artifact needs ~7.7 minutes for it on this machine class.

Prints the number of runs, decisions, wall time (median of ``REPEATS``), worker CPU time and
decisions per second, for ``--jobs 2``, in fixed mode, then once in Dysta-artifact compat
mode.
"""

from __future__ import annotations

import resource
import statistics
import time

from _results import write_results

from mmsched.sim.experiment import Recipe, Sweep, WorkloadSource, run_sweep

POLICIES = ("fcfs", "sjf", "prema", "planaria", "sdrm3", "dysta_oracle", "dysta")
SLOS = (10.0, 25.0, 50.0, 75.0, 100.0, 150.0)
JOBS = 2
REPEATS = 3


def figure_sweep(*, requests: int = 1000, seeds: int = 5, compat: str = "fixed") -> Sweep:
    """The Dysta Fig. 12-15 sweep on the synthetic CNN and AttNN sets."""
    cnn = WorkloadSource(kind="synthetic", name="cnn")
    attnn = WorkloadSource(kind="synthetic", name="attnn")
    recipes = (
        Recipe("cnn_rates", cnn, rates=(2.0, 3.0, 4.0, 5.0, 6.0), slos=(10.0,)),
        Recipe("cnn_slo", cnn, rates=(3.0, 4.0), slos=SLOS),
        Recipe("attnn_rates", attnn, rates=(10.0, 20.0, 30.0, 40.0), slos=(10.0,)),
        Recipe("attnn_slo", attnn, rates=(30.0, 40.0), slos=SLOS),
    )
    return Sweep(recipes=recipes, policies=POLICIES, seeds=seeds, requests=requests,
                 compat=compat)


def _measure(sweep: Sweep, repeats: int) -> dict:
    walls, cpus = [], []
    for _ in range(repeats):
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        results = run_sweep(sweep, workers=JOBS)
        walls.append(time.perf_counter() - t0)
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime)
    simulated = [r for r in results if not r.reused]
    decisions = sum(r.decisions for r in simulated)
    wall = statistics.median(walls)
    print(f"figure sweep ({sweep.compat} mode, {len(sweep.recipes)} sweeps, {len(POLICIES)} "
          f"policies, {sweep.requests} requests x {sweep.seeds} seeds), --jobs {JOBS}:")
    print(f"  runs {sweep.runs} ({len(simulated) * len(POLICIES)} simulated, the rest "
          f"identical to another sweep's point)  decisions simulated {decisions}")
    print(f"  wall {wall:.1f} s (median of {repeats})  worker CPU {statistics.median(cpus):.1f} s"
          f"  {decisions / wall:,.0f} decisions/s  target < 60 s: "
          f"{'met' if wall < 60 else 'MISSED'} (wall counts other load on the machine; "
          f"worker CPU / {JOBS} is about the wall time on an idle machine)")
    return {"mode": sweep.compat, "runs": sweep.runs,
            "runs simulated": len(simulated) * len(POLICIES), "decisions": decisions,
            "jobs": JOBS, "wall s (median)": round(wall, 1), "repeats": repeats,
            "worker CPU s (median)": round(statistics.median(cpus), 1),
            "decisions/s (wall)": round(decisions / wall)}


def main() -> None:
    rows = [_measure(figure_sweep(), REPEATS)]
    # the artifact's semantics bit for bit (its simulator: ~7.7 min for this sweep)
    rows.append(_measure(figure_sweep(compat="dysta-artifact"), 1))
    write_results("sweep", {"Dysta figure sweep (Fig. 12-15), synthetic sets, "
                            f"{len(POLICIES)} policies, 1000 requests x 5 seeds": rows},
                  title="Full Dysta figure sweep (python bench/run.py sweep)",
                  notes="Wall time counts the machine's other load; worker CPU time / jobs is "
                        "about the wall time on an idle machine.")
