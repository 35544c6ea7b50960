"""``mmsched profile``: the static (offline) Dysta tables of a scenario, as a file.

Runs the exact cycle model over the scenario's profiling samples (cached under
``build/cache``) and writes, per accelerator of its system, the per-(model, pattern, layer)
average latency (cycles of the system clock) and density, and the isolated latencies: the
`StaticTables` the dysta policies and the hardware scheduler's LUTs load. The held-out samples
are left for experiments. Files are written atomically; nothing is written on an error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "profile a scenario with the exact cycle model and write its static Dysta tables"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario name or TOML file")
    p.add_argument("--out", default=None,
                   help="output JSON (default: <scenario>.static.json; with several "
                        "accelerators, one file per accelerator: <stem>.acc<i>.json)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="profile cache folder (default $MMSCHED_CACHE_DIR or the user cache)")


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.scenario import find_scenario
    from mmsched.sched.static_profile import save_static_tables
    from mmsched.sim.profiled import profile_scenario

    sc = find_scenario(args.scenario)
    ls = profile_scenario(sc, cache_dir=args.cache_dir)
    out = Path(args.out or f"{sc.name}.static.json")
    paths = ([out] if len(sc.system) == 1 else
             [out.with_name(f"{out.stem}.acc{i}{out.suffix}") for i in range(len(sc.system))])
    for i, (path, st) in enumerate(zip(paths, ls.static, strict=True)):
        meta = {"scenario": sc.name, "accelerator": sc.system[i].name,
                "time_unit": ls.time_unit, "clock_hz": ls.clock_hz,
                "profiling_samples": list(sc.profiling_samples),
                "heldout_samples": list(sc.heldout_samples), "mask_seed": sc.mask_seed}
        save_static_tables(st, path, meta=meta)
        print(f"{path}: {len(st.pattern)} model keys, {len(sc.profiling_samples)} profiling "
              f"samples, accelerator {sc.system[i].name}")
    return 0
