"""Atomic outputs: a whole output folder is staged beside its destination and renamed into
place, so a failed run leaves nothing behind and a reader never sees half a result. Single files
are written by `mmsched.hw.paths.atomic_write` (temporary name in their folder, then renamed),
the one helper every writer of the project uses.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mmsched.hw.paths import atomic_write, current_umask, probe_dir
from mmsched.sched.errors import InputError

from ._signals import deferred

__all__ = ["MARKER", "check_replaceable", "check_writable", "current_umask", "record_files",
           "run_files", "staged_dir", "write_text"]


MARKER = ".mmsched-run"
"""File present in every output folder this module wrote, listing the files it wrote there;
only such folders holding nothing else (or empty ones) are replaced."""
_MARKER_HEAD = "written by mmsched; replaced by the next run. Files:\n"
_LEGACY_OUTPUTS = ("*.csv", "*.png", "table.txt", "run.json")
"""The files an output folder with an older, file-less marker may hold (see `run_files`)."""


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically
    (`mmsched.hw.paths.atomic_write`)."""
    atomic_write(path, text)


def run_files(folder: Path) -> list[str] | None:
    """The names the marker of output folder ``folder`` lists (its own included), or None when
    ``folder`` has no marker."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    names = [ln for ln in text.splitlines()[1:] if ln.strip()]
    if not text.startswith(_MARKER_HEAD):  # an older marker: the names mmsched writes
        names = [p.name for p in folder.iterdir()
                 if any(fnmatch.fnmatch(p.name, pat) for pat in _LEGACY_OUTPUTS)]
    return [MARKER, *names]


def record_files(folder: str | os.PathLike, names: list[str]) -> None:
    """Add ``names`` (files mmsched just wrote into the output folder ``folder``) to its
    marker, so the next run replaces them too."""
    folder = Path(folder)
    known = [n for n in (run_files(folder) or [MARKER]) if n != MARKER]
    known += [n for n in names if n not in known and n != MARKER]
    atomic_write(folder / MARKER, _MARKER_HEAD + "".join(f"{n}\n" for n in sorted(known)))


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and not path.is_symlink():
        path = path.parent
    return path


def check_writable(path: str | os.PathLike, option: str, *, folder: bool = False) -> None:
    """Raise `InputError` (naming ``option``) unless output ``path`` (a file, or a folder
    when ``folder``) can be written: not an existing folder (file) of the other kind, under
    a folder (the nearest existing one above it) that mmsched can create files in, found by
    creating and removing a probe. Called before any work."""
    path = Path(path).absolute()
    if path.is_dir() and not folder:
        raise InputError(str(path), option, "a file name", "an existing folder")
    if path.exists() and not path.is_dir() and folder:
        raise InputError(str(path), option, "a folder (or a new name)", "an existing file")
    base = _existing_ancestor(path.parent)
    if not base.is_dir():
        raise InputError(str(path), option, "a path under a folder", f"{base} is a file")
    try:
        probe_dir(base)
    except OSError as e:
        raise InputError(str(path), option, "a folder mmsched can write in",
                         f"{base}: {e.strerror or e}") from None


def check_replaceable(out: str | os.PathLike, option: str = "--out") -> None:
    """Raise `InputError` (naming ``option``) unless ``out`` can be written: absent with a
    writable folder above it, an empty folder, or an earlier run's folder holding only the
    files mmsched wrote there (files a user added are never deleted).

    Called before any work starts, so a run that would fail at the end fails first. Whether
    the folder is writable is found by creating (and removing) a probe folder in it.
    """
    out = Path(out).absolute()
    if out.is_symlink():
        out = out.resolve()
    check_writable(out, option, folder=True)
    if not out.is_dir() or not any(out.iterdir()):
        return
    mine = run_files(out)
    if mine is None:
        raise InputError(str(out), option, f"a new or empty folder, or an earlier mmsched "
                         f"output folder (with a {MARKER} file)",
                         "a non-empty folder that mmsched did not write")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in mine)
    if foreign:
        raise InputError(str(out), option, "an earlier run folder holding only mmsched's "
                         "files (move yours elsewhere or choose another folder)",
                         f"{len(foreign)} other file(s): {', '.join(foreign[:5])}")


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh staging folder; on normal exit it replaces ``out``, on error (or an
    interrupt: any exception) it vanishes.

    Parent folders of ``out`` that did not exist are created, and removed again if the body
    raises. An existing ``out`` must pass `check_replaceable`; it is renamed aside, the staged
    folder renamed into place, and the old one deleted, so ``out`` is either the old or the new
    complete folder at any moment (except for the instant between the two renames, during
    which signals are held back). A symlink ``out`` stays and points to the new folder (the
    folder it points to is the one replaced). The marker lists the files written.
    """
    out = Path(out).absolute()
    if out.is_symlink():
        out = out.resolve()
    check_replaceable(out)
    created = []
    parent = out.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    stage = None
    try:
        with deferred():  # a signal while the staging folder is made: raised once it is named
            for p in reversed(created):
                p.mkdir()
            stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.",
                                          suffix=".tmp"))
            os.chmod(stage, 0o777 & ~current_umask())  # mkdtemp makes 0700
        yield stage
        record_files(stage, [p.name for p in stage.iterdir()])
        old = None
        with deferred():  # never between the two renames
            if out.exists():
                old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.",
                                            suffix=".old"))
                os.rmdir(old)
                os.replace(out, old)
            os.replace(stage, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        _remove_created(created)
        raise


def _remove_created(created: list[Path]) -> None:
    for p in created:  # deepest first
        with contextlib.suppress(OSError):
            p.rmdir()
