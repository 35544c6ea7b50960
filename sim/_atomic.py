"""Atomic outputs: a whole output folder is staged beside its destination and renamed into
place, so a failed run leaves nothing behind and a reader never sees half a result. Single files
are written by `mmsched.hw.paths.atomic_write` (temporary name in their folder, then renamed),
the one helper every writer of the project uses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mmsched.hw.paths import atomic_write, current_umask
from mmsched.sched.errors import InputError

__all__ = ["MARKER", "check_replaceable", "current_umask", "staged_dir", "write_text"]


MARKER = ".mmsched-run"
"""File present in every output folder this module wrote; only such folders (or empty ones)
are replaced."""


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically
    (`mmsched.hw.paths.atomic_write`)."""
    atomic_write(path, text)


def check_replaceable(out: str | os.PathLike) -> None:
    """Raise `InputError` unless ``out`` is absent, an empty folder or an earlier run's folder.

    Called before any work starts, so a run that would fail at the end fails first.
    """
    out = Path(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(str(out), "--out", "a folder (or a new name)", "an existing file")
    if any(out.iterdir()) and not (out / MARKER).is_file():
        raise InputError(str(out), "--out", f"a new or empty folder, or an earlier mmsched "
                         f"output folder (with a {MARKER} file)",
                         "a non-empty folder that mmsched did not write")


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh staging folder; on normal exit it replaces ``out``, on error it vanishes.

    Parent folders of ``out`` that did not exist are created, and removed again if the body
    raises. An existing ``out`` must pass `check_replaceable`; it is renamed aside, the staged
    folder renamed into place, and the old one deleted, so ``out`` is either the old or the new
    complete folder at any moment (except for the instant between the two renames).
    """
    out = Path(out).absolute()
    check_replaceable(out)
    created = []
    parent = out.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    for p in reversed(created):
        p.mkdir()
    try:
        stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        os.chmod(stage, 0o777 & ~current_umask())  # mkdtemp makes 0700
    except BaseException:
        _remove_created(created)
        raise
    try:
        yield stage
        atomic_write(stage / MARKER, "written by mmsched; replaced by the next run\n")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
            os.rmdir(old)
            os.replace(out, old)
        os.replace(stage, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        _remove_created(created)
        raise


def _remove_created(created: list[Path]) -> None:
    for p in created:  # deepest first
        with contextlib.suppress(OSError):
            p.rmdir()
