"""``mmsched profile-sparsity``: measure dynamic sparsity of real models on real inputs.

Needs the ``real`` extra (``pip install -e '.[real]'``). Writes one profile JSON per model
(`mmsched.sched.profiles` format) to ``--out`` (default: the current folder), atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "measure per-(layer, sample) activation sparsity of real models (needs the real extra)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from mmsched.sched.real_sparsity import PROFILERS

    p.add_argument("--models", default=",".join(PROFILERS),
                   help=f"comma-separated, from: {', '.join(PROFILERS)} (default: all)")
    p.add_argument("--samples", type=int, default=16, help="inputs per model (default 16)")
    p.add_argument("--out", default=".", help="output folder (default: current folder)")


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.profiles import save_profile
    from mmsched.sched.real_sparsity import PROFILERS

    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in PROFILERS]
    if unknown or not names:
        raise ValueError(f"unknown profile model(s) {unknown}; known: {', '.join(PROFILERS)}")
    if args.samples < 1:
        raise ValueError(f"--samples must be a positive integer, not {args.samples}")
    profiles = [PROFILERS[n](samples=args.samples) for n in names]  # all run before any write
    for prof in profiles:
        path = Path(args.out) / f"{prof.name}.json"
        save_profile(prof, path)
        print(f"{path}: {prof.samples} samples x {len(prof.layer_names)} layers, mean density "
              f"{prof.density.mean():.3f}")
    return 0
