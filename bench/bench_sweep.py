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
mode. Then the experiment machinery (``mmsched run --experiment``: points written as Parquet
parts, resumable): run points/s with 1 and 2 local workers and on a Dask LocalCluster, and its
overhead per point against the simulation time of the Dysta CNN points (target < 5 %).
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path

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


POINT_RATES = (5.0, 7.0, 9.0)
POINT_SLOS = (10.0, 50.0)
POINT_SEEDS = 6
POINTS = len(POINT_RATES) * len(POINT_SLOS) * POINT_SEEDS
"""Dysta CNN points (our workloads, exact-cycle-model profiles) for the points/s figures:
rates x SLOs per seed index, every policy of `POLICIES` at each."""
POINTS_EXPERIMENT = f"""
[[sweep]]
name = "cnn"
scenario = "dysta-cnn"
policies = {json.dumps(list(POLICIES))}
rates = {json.dumps(list(POINT_RATES))}
slos = {json.dumps(list(POINT_SLOS))}
requests = 1000
seeds = {POINT_SEEDS}
"""


def _experiment_wall(path: Path, out: Path, extra: list[str]) -> float:
    """Wall seconds of ``mmsched run --experiment`` (fresh: every point simulated, each
    written as a Parquet part, the tidy CSVs and tables at the end; no plots)."""
    from mmsched.sim.cli import main as cli

    t0 = time.perf_counter()
    code = cli(["run", "--experiment", str(path), "--out", str(out), "--no-plots",
                "--no-progress", "--fresh", *extra])
    assert code == 0, code
    return time.perf_counter() - t0


def points_per_second() -> dict:
    """Run points/s of an experiment file with 1 and 2 local workers and on a Dask
    LocalCluster (2 worker processes on loopback, started before the clock), and the
    experiment machinery's overhead per point against the simulation time.

    The overhead is measured point by point, in this process, right after the point's
    simulation (`run_point`, CPU time): what the machinery does per point besides simulating,
    i.e. sending the point to a worker and the result back (pickling both ways), labelling
    the rows with the axis columns, and writing the point's Parquet part (JSON record
    included). CPU time of the same process side by side, so the machine's other load
    (it is shared) cancels out; the wall-clock points/s rows include it.
    """
    import contextlib
    import io
    import pickle
    import tempfile

    from mmsched.sim.experiment import run_point, run_points
    from mmsched.sim.experiment_file import load_experiment
    from mmsched.sim.run_experiment import save_point

    quiet = contextlib.redirect_stdout(io.StringIO())
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.toml"
        path.write_text(POINTS_EXPERIMENT)
        (es,) = load_experiment(path).sweeps
        points = run_points(es.sweep)
        parts = Path(tmp) / "parts"
        parts.mkdir()
        # warm this process's caches and imports (profiles load, pyarrow is imported once
        # per process, not per point)
        save_point(parts, es, run_point(points[0]))
        sim = over = 0.0
        for p in points:
            c0 = time.process_time()
            r = run_point(p)
            c1 = time.process_time()
            p2 = pickle.loads(pickle.dumps(p))
            r2 = pickle.loads(pickle.dumps(r))
            save_point(parts, es, r2)
            c2 = time.process_time()
            assert p2.key == p.key
            sim, over = sim + c1 - c0, over + c2 - c1
        from dask.distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, quiet:
            for label, extra in (("1 local worker", ["--jobs", "1"]),
                                 ("2 local workers", ["--jobs", "2"]),
                                 ("Dask LocalCluster, 2 workers",
                                  ["--scheduler-address", cluster.scheduler_address])):
                walls[label] = _experiment_wall(path, Path(tmp) / "out", extra)
    n = len(points)
    rows = []
    for label, wall in walls.items():
        rows.append({"engine": label, "points": n, "wall s": round(wall, 2),
                     "points/s": round(n / wall, 2)})
        print(f"  {label}: {n / wall:.2f} points/s ({wall:.1f} s for {n} points, wall, on a "
              f"shared machine)")
    pct = 100 * over / sim
    print(f"  per point: simulation {1e3 * sim / n:.0f} ms CPU, machinery {1e3 * over / n:.1f} "
          f"ms CPU = {pct:.2f} % (target < 5 %: {'met' if pct < 5 else 'MISSED'})")
    return {"rows": rows, "per point": {
        "points": n, "simulation CPU ms per point": round(1e3 * sim / n, 1),
        "machinery CPU ms per point (pickle both ways, labels, Parquet part)":
            round(1e3 * over / n, 2),
        "machinery / simulation (%)": round(pct, 2), "target < 5 %": pct < 5}}


def main() -> None:
    print(f"experiment points/s (Dysta CNN points, {len(POLICIES)} policies x 1000 requests "
          "each):")
    pps = points_per_second()
    rows = [_measure(figure_sweep(), REPEATS)]
    # the artifact's semantics bit for bit (its simulator: ~7.7 min for this sweep)
    rows.append(_measure(figure_sweep(compat="dysta-artifact"), 1))
    write_results("sweep", {"Dysta figure sweep (Fig. 12-15), synthetic sets, "
                            f"{len(POLICIES)} policies, 1000 requests x 5 seeds": rows,
                            "Experiment run points/s (mmsched run --experiment, fresh, "
                            f"wall): {POINTS} Dysta CNN points (dysta-cnn, exact-cycle-model "
                            f"profiles), {len(POLICIES)} policies x 1000 requests each":
                            pps["rows"],
                            "Experiment machinery per point vs simulation (CPU time, same "
                            "process)": pps["per point"]},
                  title="Full Dysta figure sweep (python bench/run.py sweep)",
                  notes="Wall time counts the machine's other load; worker CPU time / jobs is "
                        "about the wall time on an idle machine.")
