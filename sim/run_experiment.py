"""``mmsched run --experiment FILE``: run an experiment file's sweeps, resumably.

Before any work: the file is loaded and validated (`mmsched.sim.experiment_file`), the output
folder checked, every workload profiled (cached) and checked (`validate_sources`). Then each
sweep runs on local worker processes or a Dask cluster (`run_sweep`); each finished point is
written at once as a Parquet part (`mmsched.sim.resume`) into the work folder ``OUT.work``
beside the output. A rerun of the same command (after a kill, or after success) skips the
points whose parts exist there or in ``OUT/points``; ``--fresh`` deletes the work folder and
ignores earlier parts.

Output folder (staged and renamed into place): one subfolder per sweep with the outputs of a
plain ``mmsched run`` (``summary.csv`` with the sweep's axis columns, ``aggregate.csv``,
``table.txt``, ``per_model.csv``, ..., ``run.json``, plots), and at the top ``summary.csv``
(every sweep's rows, a ``sweep`` column first), ``points/<sweep>/part-*.parquet`` (the Parquet
dataset of each sweep), ``experiment.toml`` (a copy of the file) and ``experiment.json``
(sweep digests, points, runs). The work folder is removed when the output is in place.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from mmsched.sched.errors import InputError

log = logging.getLogger(__name__)

WORK_SUFFIX = ".work"
POINTS = "points"


def work_folder(out: Path) -> Path:
    """Where an experiment's parts are written while it runs: ``OUT.work`` beside ``OUT``."""
    return out.parent / (out.name + WORK_SUFFIX)


def save_point(folder: Path, es, result) -> Path:
    """Write a newly simulated point of the experiment sweep ``es`` as its Parquet part in
    ``folder`` (`mmsched.sim.resume.write_part`): its summary rows with the sweep's name and
    axis columns. Returns the part's path."""
    from . import resume

    rows = [{"sweep": es.name, **r} for r in es.label_rows(result.summary)]
    return resume.write_part(folder, es.digest, result, rows)


def main(args: argparse.Namespace) -> int:
    """Run ``args.experiment`` into ``args.out`` (the ``run`` command's options)."""
    from . import experiment, resume
    from ._atomic import check_replaceable, staged_dir, write_text
    from ._progress import counter, wanted
    from .cmd_run import _count, check_size, estimate_workers, prepare_sources, write_outputs
    from .experiment_file import load_experiment
    from .report import csv_text

    plain = [o for o, v in (("--scenario", args.scenario), ("--csv-dir", args.csv_dir),
                            ("--policies", args.policies), ("--rates", args.rates),
                            ("--slo", args.slo), ("--requests", args.requests),
                            ("--seeds", args.seeds), ("--fps-scale", args.fps_scale),
                            ("--load", args.load), ("--accelerators", args.accelerators),
                            ("--clock-mhz", args.clock_mhz), ("--compat-off", args.compat_off),
                            ("--compat", None if args.compat == "fixed" else args.compat))
             if v is not None]
    if plain:
        raise InputError("--experiment", "", "no sweep options beside it (the file sets "
                         "the axes)", plain[0])
    exp = load_experiment(args.experiment)
    workers = None if args.jobs is None else _count("--jobs", args.jobs)
    out = Path(args.out)
    check_replaceable(out)
    work = work_folder(out)
    if work.exists() and not work.is_dir():
        raise InputError(str(work), "", "a work folder (or nothing)", "a file")
    show = wanted(args.progress)
    for es in exp.sweeps:  # the sizes first: a sweep too large is refused before any work
        check_size(es.sweep, estimate_workers(args, workers), args.force,
                   f"{args.experiment}: sweep {es.name} (requests, seeds)")
    for es in exp.sweeps:  # profile (cached) and check every workload before any point runs
        prepare_sources(es.sweep, show)
        experiment.validate_sources(es.sweep)

    if args.fresh and work.exists():
        shutil.rmtree(work)
    earlier = [] if args.fresh else [out / POINTS]
    total = exp.points
    update, close = counter(total, "simulating", "point", enabled=show)
    results_of: dict[str, list] = {}
    used: dict[str, list[Path]] = {}
    offset, simulated, skipped = 0, 0, 0
    t0 = time.perf_counter()
    try:
        for es in exp.sweeps:
            sweep = es.sweep
            folder = work / POINTS / es.name
            folder.mkdir(parents=True, exist_ok=True)
            resume.clean_temporaries(folder)
            keys = [p.key for p in experiment.run_points(sweep)]
            found = resume.finished([folder] + [f / es.name for f in earlier], es.digest, keys)
            paths = {k: p for k, (_, p) in found.items()}
            skipped += len(found)
            per = len(sweep.policies)
            base = offset

            def on_result(result, es=es, folder=folder, paths=paths):
                nonlocal simulated
                paths[result.key] = save_point(folder, es, result)
                simulated += 1

            def progress(done, _total, base=base, per=per):
                update(base + done // per, total)

            results = experiment.run_sweep(
                sweep, workers=workers, scheduler_address=args.scheduler_address,
                progress=progress, done={k: r for k, (r, _) in found.items()},
                on_result=on_result)
            results_of[es.name] = [replace(r, summary=es.label_rows(r.summary),
                                           per_model=es.label_rows(r.per_model))
                                   for r in results]
            used[es.name] = [paths[k] for k in sorted(paths)]
            offset += sum(r.points for r in sweep.recipes) * sweep.seeds
    finally:
        close()
    wall_s = time.perf_counter() - t0

    everything = []
    with staged_dir(out) as stage:
        for es in exp.sweeps:
            sub = stage / es.name
            sub.mkdir()
            sys.stdout.write(f"== {es.name}\n")
            write_outputs(sub, es.sweep, results_of[es.name], plots=args.plots)
            everything += [{"sweep": es.name, **row} for r in results_of[es.name]
                           for row in r.summary]
            parts = stage / POINTS / es.name
            parts.mkdir(parents=True)
            for p in used[es.name]:
                resume.link_or_copy(p, parts / p.name)
        write_text(stage / "summary.csv", csv_text(everything))
        write_text(stage / "experiment.toml", Path(args.experiment).read_text(encoding="utf-8"))
        meta = {"experiment": os.path.basename(exp.path), "description": exp.description,
                "points": total, "runs": len(everything),
                "sweeps": [{"name": es.name, "digest": es.digest, "columns": list(es.columns),
                            "points": sum(r.points for r in es.sweep.recipes) * es.sweep.seeds,
                            "runs": es.sweep.runs} for es in exp.sweeps]}
        write_text(stage / "experiment.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(f"{total} points ({simulated} simulated, {skipped} resumed), "
                     f"{len(everything)} runs in {wall_s:.1f} s; results in "
                     f"{os.fspath(out)}/\n")
    return 0
