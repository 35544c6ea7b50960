"""``mmsched run``: a scheduling sweep (policies x load axis x seeds) to a folder.

The workload is a scenario (``--scenario``: a shipped scenario name or a scenario TOML file,
``NAME:VARIANT`` for a system variant; `mmsched scenarios` lists them) or a folder of Dysta
artifact CSVs (``--csv-dir``). With no arguments it runs the default scenario, ``dysta-cnn``
(the Dysta CNN benchmark: zoo models with real-sparsity profiles, timed by the exact cycle
model, see `mmsched.sim.profiled`) exactly as ``--scenario dysta-cnn``: the scenario file
holds the default axes, and options given on the command line replace them. A scenario's
first use profiles it with the cycle model; the counters are cached
(`mmsched.hw.paths.cache_dir`). ``--compat dysta-artifact`` reproduces the artifact's
simulator (defects included, each one switchable off with ``--compat-off``).

Real-time runs: a periodic (XRBench) scenario, ``--scenario xr-vr-gaming`` (every system
variant of the file, one recipe each) or ``xr-vr-gaming:3k+1k`` (one), runs frames at each
model's FPS for the scenario's ``duration_s`` on the variant's accelerators
(docs/realtime.md). Its load axis is ``--fps-scale LIST`` (every model's FPS multiplied) or
``--load LIST`` (the FPS scale offering that load); ``--rates``, ``--slo``, ``--requests``,
``--accelerators``, ``--clock-mhz`` and ``--compat dysta-artifact`` do not apply and are
refused. The default policies are the registered real-time set
(`mmsched.sim.experiment.REALTIME_POLICIES`). Its tables carry UXCost, miss and drop rates,
energy per frame and the XRBench score; ``requests.csv`` one row per frame of each recipe's
largest axis value; ``trace.csv`` what policies report over time (`Policy.trace`).

Output folder (staged and renamed into place, so a failed run writes nothing):
``summary.csv`` (tidy: one row per policy, rate, SLO multiplier and seed index),
``aggregate.csv`` and ``table.txt`` (arithmetic and geometric means over seeds; the table is
printed too), ``per_model.csv``, ``requests.csv`` (per-request rows of the detail point),
``layers.csv`` (a Gantt window), ``trace.csv`` (when a policy reports a trace),
``run.json`` (the sweep as data) and the PNG plots of `mmsched.sim.report`.

Compat mode and real-valued rates: the artifact's own command line accepts only integer
rates (docs/artifact-compat.md, defect 7c, `CompatFlags.integer_rates`), but its arithmetic
(``random.expovariate(rate)``) is defined for any positive rate. ``mmsched run`` keeps rates
real in both modes: in compat mode an integer rate (``3`` or ``3.0``) gives exactly the
artifact's stream, and a rate such as 2.5 turns the ``integer_rates`` switch off for that
sweep, runs with the artifact's arithmetic otherwise unchanged, and logs a warning that no
artifact result exists to compare it with.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

from mmsched.sched.errors import InputError

HELP = "run a scheduling sweep (default: the dysta-cnn scenario on the exact cycle model)"

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .experiment import DEFAULT_POLICIES, DEFAULT_SCENARIO, REALTIME_POLICIES

    src = p.add_mutually_exclusive_group()
    src.add_argument("--scenario", metavar="NAME",
                     help=f"a shipped scenario (mmsched scenarios lists them; default "
                          f"{DEFAULT_SCENARIO}) or a scenario .toml file, optionally "
                          f"NAME:VARIANT for a system variant")
    src.add_argument("--csv-dir", metavar="DIR",
                     help="folder of Dysta artifact CSV files (Eyeriss or Sanger format)")
    p.add_argument("--compat", default="fixed", choices=("fixed", "dysta-artifact"),
                   help="fixed (default, correct) or dysta-artifact (reproduce the artifact, "
                        "defects included)")
    p.add_argument("--compat-off", metavar="LIST",
                   help="with --compat dysta-artifact: artifact defects NOT to reproduce, "
                        "comma-separated CompatFlags names (e.g. listing_order,clock_rewind)")
    p.add_argument("--policies", metavar="LIST",
                   help="comma-separated policy names, or 'all' (default: the Dysta set "
                        f"{','.join(DEFAULT_POLICIES)}; for periodic scenarios the "
                        f"registered ones of {','.join(REALTIME_POLICIES)}); "
                        "NAME:field=value[:field=value] sets config fields, e.g. "
                        "dysta:beta=0.1:predictor=last-one")
    p.add_argument("--rates", metavar="LIST",
                   help="arrival rates in requests/s, comma-separated (default per scenario)")
    p.add_argument("--slo", metavar="LIST",
                   help="SLO multipliers of the isolated latency (default per scenario)")
    p.add_argument("--requests", metavar="N", help="requests per run (default per scenario)")
    p.add_argument("--seeds", metavar="N", help="seed indices per point (default per scenario)")
    p.add_argument("--seed", metavar="N", default="1", help="base seed (default 1)")
    p.add_argument("--fps-scale", metavar="LIST",
                   help="periodic scenarios: multiply every model's FPS by each value, "
                        "comma-separated (default 1; deadlines stay at the next frame)")
    p.add_argument("--load", metavar="LIST",
                   help="periodic scenarios: offered loads, comma-separated (e.g. "
                        "0.5,0.7,0.9,1.1,1.3): each runs at the FPS scale giving that load, "
                        "the sum over models of fps x probability x isolated latency on its "
                        "fastest accelerator, over the accelerators")
    p.add_argument("--accelerators", metavar="N",
                   help="identical accelerators of table workloads (synthetic sets, "
                        "--csv-dir; default 1, the Dysta setting); a zoo scenario runs on "
                        "its own system (choose a variant with NAME:VARIANT)")
    p.add_argument("--clock-mhz", metavar="F",
                   help="engine clock of table workloads (synthetic sets, --csv-dir; default: "
                        "200 for CNN/Eyeriss, 1000 for AttNN/Sanger)")
    p.add_argument("--jobs", metavar="N",
                   help="local worker processes (default: the CPUs available)")
    p.add_argument("--scheduler-address", metavar="ADDR",
                   help="run on a dask.distributed cluster (tcp://host:8786) instead")
    p.add_argument("--out", metavar="DIR", default="results/run",
                   help="output folder, replaced if it holds an earlier run "
                        "(default results/run)")
    p.add_argument("--force", action="store_true",
                   help="run even when the estimated peak memory is beyond the stated bound "
                        "(docs/errors.md, Limits)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: only when stderr is a terminal)")
    p.add_argument("--experiment", metavar="FILE",
                   help="run an experiment file (experiments/*.toml: several sweeps with "
                        "hardware and scheduler axes; resumable, docs/experiments.md) instead "
                        "of the sweep the options describe")
    p.add_argument("--fresh", action="store_true",
                   help="with --experiment: start over (ignore points finished earlier)")
    p.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="draw the PNG plots after the table is printed (default); --no-plots "
                        "for scripted sweeps (mmsched report DIR draws them later)")


# --- argument parsing (every error is an InputError naming the option) -----------------------


def _numbers(option: str, text: str) -> tuple[float, ...]:
    items = [s.strip() for s in text.split(",")]
    out = []
    for i, s in enumerate(items, start=1):
        try:
            v = float(s)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v > 0):
            raise InputError(option, f"item {i}", "a positive number", repr(s))
        out.append(v)
    if len(set(out)) != len(out):
        raise InputError(option, "", "distinct values", repr(text))
    return tuple(out)


def _count(option: str, text: str, *, minimum: int = 1) -> int:
    try:
        v = int(text)
    except (TypeError, ValueError):
        v = None
    if v is None or v < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InputError(option, "", what, repr(text))
    return v


def _policies(text: str | None) -> tuple[str, ...]:
    from mmsched.sched.policy import policy_names

    known = policy_names()
    if text is None:
        return None
    if text.strip() == "all":
        return tuple(known)
    from mmsched.sched.policy import ConfigValueError, policy_class, policy_config

    from .experiment import parse_policy_spec

    specs = [s.strip() for s in text.split(",")]
    for spec in specs:
        try:
            name, overrides = parse_policy_spec(spec)
        except ValueError as e:
            raise InputError("--policies", "", "NAME or NAME:field=value[:...]",
                             f"{spec!r} ({e})") from None
        if name not in known:
            raise InputError("--policies", "", f"policy names from: {', '.join(known)}",
                             repr(name))
        valid = f"valid keys of {name}: {policy_class(name).Config.help()}"
        try:
            policy_config(name, **overrides)
        except ConfigValueError as e:
            raise InputError("--policies", repr(spec), f"{e.field_name} = {e.expected} ({valid})",
                             e.found) from None
        except ValueError:
            from dataclasses import fields

            unknown = sorted(set(overrides) - {f.name for f in fields(policy_class(name).Config)})
            raise InputError("--policies", repr(spec), valid,
                             f"unknown config field(s) {', '.join(map(repr, unknown))}") from None
    if len(set(specs)) != len(specs):
        raise InputError("--policies", "", "distinct names", repr(text))
    return tuple(specs)


def _compat_off(text: str | None, mode: str) -> tuple[str, ...]:
    if text is None:
        return ()
    from dataclasses import fields

    from mmsched.sched.compat import CompatFlags

    if mode != "dysta-artifact":
        raise InputError("--compat-off", "", "--compat dysta-artifact as well",
                         f"--compat {mode}")
    known = [f.name for f in fields(CompatFlags)]
    names = [s.strip() for s in text.split(",")]
    for name in names:
        if name not in known:
            raise InputError("--compat-off", "", f"compat flag names from: {', '.join(known)}",
                             repr(name))
    return tuple(dict.fromkeys(names))


def build_sweep(args: argparse.Namespace):
    """The `Sweep` the arguments describe (validated; nothing is run or written)."""
    from .experiment import engine_clock_hz, make_sweep

    clock_hz = None
    if args.clock_mhz is not None:
        clock_hz = engine_clock_hz(_numbers("--clock-mhz", args.clock_mhz)[0], "--clock-mhz")
    return make_sweep(
        scenario=args.scenario, csv_dir=args.csv_dir,
        rates=None if args.rates is None else _numbers("--rates", args.rates),
        slos=None if args.slo is None else _numbers("--slo", args.slo),
        requests=None if args.requests is None else _count("--requests", args.requests),
        seeds=None if args.seeds is None else _count("--seeds", args.seeds),
        seed=_count("--seed", args.seed, minimum=0), policies=_policies(args.policies),
        compat=args.compat, compat_off=_compat_off(args.compat_off, args.compat),
        accelerators=None if args.accelerators is None else _count("--accelerators",
                                                                   args.accelerators),
        clock_hz=clock_hz,
        fps_scales=None if args.fps_scale is None else _numbers("--fps-scale", args.fps_scale),
        loads=None if args.load is None else _numbers("--load", args.load))


def check_size(sweep, workers: int, force: bool, where: str = "--requests/--seeds") -> None:
    """Refuse a Poisson sweep whose simulated span (requests / rate) is beyond
    `mmsched.sched.limits.MAX_SPAN_S`, or whose estimated peak memory is beyond
    ``MAX_RUN_MEMORY_BYTES`` unless ``force``; print the estimate (stderr) when the run is
    long (over a minute) or large (over 1 GiB). Before any work. ``where``: what set the
    requests and seeds, named in the error (the options, or the scenario file)."""
    from mmsched.sched.limits import (
        MAX_RUN_MEMORY_BYTES,
        MAX_SPAN_S,
        SECONDS_PER_REQUEST,
        run_memory_bytes,
    )

    if sweep.periodic:
        return
    for rate in sorted({r for rec in sweep.recipes for r in rec.rates}):
        if sweep.requests / rate > MAX_SPAN_S:
            raise InputError("--rates", f"rate {rate:g}", f"a rate >= requests / MAX_SPAN_S = "
                             f"{sweep.requests / MAX_SPAN_S:.3g} req/s (a simulated span of at "
                             f"most {MAX_SPAN_S:g} s)", f"{sweep.requests / rate:.3g} s")
    memory = run_memory_bytes(sweep.requests, len(sweep.policies), sweep.seeds, workers,
                              sweep.runs)
    seconds = SECONDS_PER_REQUEST * sweep.runs * sweep.requests / workers
    what = (f"{sweep.runs:,} runs x {sweep.requests:,} requests: about {seconds / 60:,.1f} "
            f"min on {workers} worker(s), about {memory / 2**30:,.1f} GiB peak memory (rough)")
    if memory > MAX_RUN_MEMORY_BYTES and not force:
        raise InputError(where, "", f"an estimated peak memory <= "
                         f"{MAX_RUN_MEMORY_BYTES / 2**30:g} GiB (MAX_RUN_MEMORY_BYTES; --force "
                         f"runs it anyway)", what)
    if seconds > 60 or memory > 2**30:
        sys.stderr.write(f"mmsched run: estimate: {what}\n")


def prepare_sources(sweep, enabled: bool) -> None:
    """Profile the sweep's zoo scenarios now (cached; a bar per model and accelerator when
    they are not cached yet), so the long step of a first run shows what it is doing."""
    for recipe in sweep.recipes:
        src = recipe.source
        if src.kind == "scenario":
            from .profiled import profile_scenario

            profile_scenario(src.path or src.name, compat=sweep.flags, progress=enabled)


def estimate_workers(args: argparse.Namespace, workers: int | None) -> int:
    """The workers a run's time and memory estimate assumes (`check_size`): ``--jobs``, else
    one per CPU; 1 on a Dask cluster (its size is not known here)."""
    if args.scheduler_address is not None:
        return 1
    from .experiment import default_workers

    return default_workers() if workers is None else workers


def _size_source(args: argparse.Namespace) -> str:
    """The options that set the run's size, as the memory-bound error names them, with the
    values not given on the command line said to come from the scenario or CSV folder."""
    missing = [o for o, v in (("--requests", args.requests), ("--seeds", args.seeds))
               if v is None]
    if not missing:
        return "--requests/--seeds"
    from .experiment import DEFAULT_SCENARIO

    source = (f"--csv-dir {args.csv_dir}" if args.csv_dir else
              f"scenario {args.scenario or DEFAULT_SCENARIO}")
    return f"--requests/--seeds ({' and '.join(missing)} not given: from {source})"


# --- main ------------------------------------------------------------------------------------


def run_rows(results) -> dict[str, list[dict]]:
    """The rows of each CSV of a run (`mmsched.sim.report.load_run`'s form, an absent file
    empty) from the sweep's results."""
    from .report import RUN_FILES

    return {name: [row for r in results for row in getattr(r, name.removesuffix(".csv"))]
            for name in RUN_FILES}


def write_run(folder: Path, sweep, results, rows: dict[str, list[dict]] | None = None) -> None:
    """Write the tidy CSVs and ``run.json`` of ``results`` into ``folder`` (``rows``: their
    `run_rows`, when already made)."""
    from ._atomic import write_text
    from .report import csv_text

    rows = run_rows(results) if rows is None else rows
    summary = rows["summary.csv"]
    for name, table in rows.items():
        if table or name in ("summary.csv", "per_model.csv"):
            write_text(folder / name, csv_text(table))
    meta = {"sweep": sweep.to_dict(), "runs": len(summary),
            "decisions": sum(r.decisions for r in results)}
    if sweep.periodic:  # what the real-time columns mean, and the cross-system geomeans
        from .experiment import realtime_meta
        from .report import aggregate_rows, geomean_rows

        meta["realtime"] = realtime_meta(sweep)
        meta["realtime"]["geomean"] = geomean_rows(aggregate_rows(summary))
    write_text(folder / "run.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")


def _print_table(table: str) -> None:
    sys.stdout.write(table)
    sys.stdout.flush()


def write_outputs(folder: Path, sweep, results, *, plots: bool, draw=None) -> None:
    """A sweep's output files in ``folder``: `write_run`, then the report (`mmsched.sim.report.
    write_report`), its table printed. With ``draw``, a `mmsched.sim._plotter.plotter`'s, the
    plot process starts drawing from the rows in memory first, while this process writes the
    files."""
    from .report import aggregate_rows, write_report

    rows = run_rows(results)
    wait = None
    if plots and draw is not None:
        wait = draw.start(folder, aggregate_rows(rows["summary.csv"]), rows)
    write_run(folder, sweep, results, rows)
    write_report(folder, plots=plots, on_table=_print_table, rows=rows,
                 draw=None if wait is None else lambda *_: wait())


def main(args: argparse.Namespace) -> int:
    if args.experiment is not None:  # several sweeps from a file, resumable
        from . import run_experiment

        return run_experiment.main(args)
    if args.fresh:
        raise InputError("--fresh", "", "--experiment FILE as well", "no --experiment")
    from ._plotter import plotter

    # first: the plot process imports matplotlib while this one imports the simulator, loads
    # the inputs and simulates (an error below stops it)
    with plotter(args.plots) as draw:
        return _run(args, draw)


def _run(args: argparse.Namespace, draw) -> int:
    from . import experiment
    from ._atomic import check_replaceable, staged_dir
    from ._progress import counter, wanted

    sweep = build_sweep(args)
    workers = None if args.jobs is None else _count("--jobs", args.jobs)
    out = Path(args.out)
    check_replaceable(out)
    check_size(sweep, estimate_workers(args, workers), args.force, _size_source(args))
    show = wanted(args.progress)
    prepare_sources(sweep, show)  # a scenario's first use profiles it with the cycle model
    experiment.validate_sources(sweep)
    if args.scheduler_address is None:
        workers = experiment.local_workers(sweep, workers)
        if workers > 1:  # the plot process's import yields to them
            draw.background()
    update, close = counter(sweep.runs, "simulating", "run", enabled=show)
    t0 = time.perf_counter()
    try:
        results = experiment.run_sweep(sweep, workers=workers,
                                       scheduler_address=args.scheduler_address,
                                       progress=update)
    finally:
        close()
    wall_s = time.perf_counter() - t0

    with staged_dir(out) as stage:
        write_outputs(stage, sweep, results, plots=args.plots, draw=draw)
    decisions = sum(r.decisions for r in results)
    sys.stdout.write(f"{sweep.runs} runs, {decisions} decisions in {wall_s:.1f} s; "
                     f"results in {os.fspath(out)}/\n")
    return 0
