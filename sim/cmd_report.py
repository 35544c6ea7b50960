"""``mmsched report``: rebuild the aggregate table and plots of a run folder from its CSVs.

The separate plotting step of `mmsched.sim.report`: reads ``summary.csv`` (and
``requests.csv`` / ``layers.csv`` when present) of a folder written by ``mmsched run``, and
rewrites ``aggregate.csv``, ``table.txt`` and the PNG plots in place (each file atomically),
printing the table. A malformed or missing ``summary.csv`` is bad input (exit 2).
"""

from __future__ import annotations

import argparse
import sys

HELP = "rebuild the table and plots of a run folder from its tidy CSV files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", metavar="DIR", help="a folder written by mmsched run")


def main(args: argparse.Namespace) -> int:
    from .report import write_report

    table, written = write_report(args.folder)
    sys.stdout.write(table)
    sys.stdout.write(f"wrote {len(written)} files in {args.folder}\n")
    return 0
