"""``mmsched report``: rebuild the aggregate table and plots of a run folder from its CSVs.

The separate plotting step of `mmsched.sim.report`: reads ``summary.csv`` (and
``requests.csv`` / ``layers.csv`` when present) of a folder written by ``mmsched run``, and
rewrites ``aggregate.csv``, ``table.txt`` and the PNG plots in place (each file atomically),
printing the table. Only a folder mmsched wrote (with its ``.mmsched-run`` marker) is written
into, and only after every input file has been read and checked: a missing folder, a file, a
foreign folder or a malformed CSV is bad input (exit 2) and nothing is written.
"""

from __future__ import annotations

import argparse
import sys

HELP = "rebuild the table and plots of a run folder from its tidy CSV files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", metavar="DIR", help="a folder written by mmsched run")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mmsched.sched.errors import InputError

    from ._atomic import MARKER, record_files, run_files
    from .report import load_run, write_report

    folder = Path(args.folder)
    load_run(folder)  # names a missing folder, a file or a bad CSV first
    own = (folder / MARKER).is_file()
    # a sweep's folder inside an experiment's run folder is listed by the parent's marker
    inside = folder.name in (run_files(folder.absolute().parent) or [])
    if not own and not inside:
        raise InputError(str(folder), "", f"a folder written by mmsched run (with its {MARKER} "
                         f"file); report writes only into those", "a folder mmsched did not write")
    table, written = write_report(folder)
    if own:
        record_files(folder, [p.name for p in written])  # the next run replaces them too
    sys.stdout.write(table)
    sys.stdout.write(f"wrote {len(written)} files in {args.folder}\n")
    return 0
