"""Benchmark figures as files: ``bench/results/<name>.json`` (private helper of bench/).

Every benchmark prints its figures and also hands them to `write_results`, which stores them
with what is needed to read them later: the machine (platform, CPU count, Python), the date,
the commit of this repository (``git rev-parse --short HEAD``) and whether the working tree
had uncommitted changes (``dirty``). ``bench/report.py`` turns the files into
``docs/results.md``; prose never restates a measured figure.

File layout (one JSON object)::

    {"bench": name, "title": str, "machine": {...}, "date": ISO 8601 (UTC),
     "commit": "abc1234", "dirty": false, "figures": {...}, ...extra keys}

``figures`` holds scalars, dicts of scalars (printed as two-column tables) and lists of
dicts (printed as tables, one row per dict). Extra keys (``notes``, ``commands``,
``provenance``) are printed as they are.

Import it from a benchmark's ``main`` (or at module level in ``bench_*.py``, which
``bench/run.py`` runs with bench/ on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from mmsched.hw.paths import atomic_open

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
"""Where the figures go: ``bench/results/`` (committed)."""


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        run = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def commit_info(where: Path = HERE) -> dict[str, Any]:
    """``{"commit": short hash or None, "dirty": bool or None}`` of the checkout at ``where``.

    ``dirty``: tracked files differ from HEAD. Untracked files and the benchmarks' own outputs
    (``bench/results/``, ``docs/results.md``, rewritten by every run) do not count."""
    rev = _git(["rev-parse", "--short", "HEAD"], where)
    # exclusion-only pathspecs: every tracked file of the repository but these
    status = _git(["status", "--porcelain", "--untracked-files=no", "--",
                   ":(top,exclude)bench/results", ":(top,exclude)docs/results.md"], where)
    return {"commit": rev, "dirty": None if status is None else bool(status)}


def machine_info() -> dict[str, Any]:
    """Platform, CPU count and Python version (no host name, no paths)."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(OSError):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    return info


def _package_commit() -> dict[str, Any] | None:
    """The commit of the checkout the measured ``mmsched`` package was imported from, when it
    is not this one (an editable install of another worktree); None otherwise."""
    mod = sys.modules.get("mmsched.sim") or sys.modules.get("mmsched.hw") \
        or sys.modules.get("mmsched.sched")
    if mod is None or not getattr(mod, "__file__", None):
        return None
    pkg_dir = Path(mod.__file__).resolve().parent
    top = _git(["rev-parse", "--show-toplevel"], pkg_dir)
    here = _git(["rev-parse", "--show-toplevel"], HERE)
    if top is None or top == here:
        return None
    return commit_info(pkg_dir)


def write_results(name: str, figures: dict, **extra: Any) -> Path:
    """Write ``bench/results/<name>.json`` atomically (temporary file, then rename).

    ``figures``: what the benchmark printed, as data. ``extra``: more top-level keys
    (``title``, ``notes``, ``commands``, ``provenance``). Returns the path written.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"results name must be a plain file stem, not {name!r}")
    doc: dict[str, Any] = {"bench": name}
    doc.update({k: v for k, v in extra.items() if k == "title"})
    doc["machine"] = machine_info()
    doc["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    doc.update(commit_info())
    pkg = _package_commit()
    if pkg is not None:
        doc["package_commit"] = pkg
    doc["figures"] = figures
    doc.update({k: v for k, v in extra.items() if k != "title"})
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    with atomic_open(path) as f:
        json.dump(doc, f, indent=1, default=_plain)
        f.write("\n")
    return path


def _plain(x: Any) -> Any:
    """JSON for numpy scalars and paths (figures often come out of numpy)."""
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, Path):
        return x.name
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
