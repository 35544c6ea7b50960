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

from mmsched.sched.errors import InputError

HELP = "profile a scenario with the exact cycle model and write its static Dysta tables"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario name or TOML file")
    p.add_argument("--out", default=None,
                   help="output JSON (default: <scenario>.static.json; with several "
                        "accelerators, one file per accelerator: <stem>.acc<i>.json)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="profile cache folder (default $MMSCHED_CACHE_DIR or the user cache)")
    p.add_argument("--ship", action="store_true",
                   help="developers: regenerate the profile caches shipped with the package "
                        "(every shipped scenario and variant; `make caches`) instead")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on stderr (default: only when stderr is a terminal)")


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.scenario import find_scenario
    from mmsched.sched.static_profile import save_static_tables
    from mmsched.sim.profiled import profile_scenario

    from ._progress import wanted

    show = wanted(args.progress)
    if args.ship:
        from mmsched.sim.profiled import SHIPPED_DIR, ship_caches

        if args.scenario or args.out:
            raise InputError("--ship", "", "no scenario and no --out (it regenerates every "
                             "shipped scenario's caches)", args.scenario or args.out)
        manifest = ship_caches(cache_dir=args.cache_dir, progress=show)
        files = {e["file"] for e in manifest["entries"].values()}
        size = sum((SHIPPED_DIR / f).stat().st_size for f in files)
        print(f"{SHIPPED_DIR}: {len(manifest['entries'])} cache entries in {len(files)} files, "
              f"{size / 1024:.0f} KiB")
        return 0
    if not args.scenario:
        raise InputError("mmsched profile", "", "a scenario name or file (or --ship)", "none")
    from ._atomic import check_writable

    sc = find_scenario(args.scenario)
    out = Path(args.out or f"{sc.name}.static.json")
    paths = ([out] if len(sc.system) == 1 else
             [out.with_name(f"{out.stem}.acc{i}{out.suffix}") for i in range(len(sc.system))])
    for path in {out, *paths}:  # before profiling
        check_writable(path, "--out")
    if args.cache_dir is not None and Path(args.cache_dir).exists() and \
            not Path(args.cache_dir).is_dir():
        raise InputError(args.cache_dir, "--cache-dir", "a folder", "a file")
    ls = profile_scenario(sc, cache_dir=args.cache_dir, progress=show)
    for i, (path, st) in enumerate(zip(paths, ls.static, strict=True)):
        meta = {"scenario": sc.name, "accelerator": sc.system[i].name,
                "time_unit": ls.time_unit, "clock_hz": ls.clock_hz,
                "profiling_samples": list(sc.profiling_samples),
                "heldout_samples": list(sc.heldout_samples), "mask_seed": sc.mask_seed}
        save_static_tables(st, path, meta=meta)
        print(f"{path}: {len(st.pattern)} model keys, {len(sc.profiling_samples)} profiling "
              f"samples, accelerator {sc.system[i].name}")
    return 0
