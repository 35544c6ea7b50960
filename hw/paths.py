"""Where mmsched keeps the files it generates: resolved at every call, never inside the package.

The bottom layer of the project (standard library and ``platformdirs`` only), so that ``hw``,
``sched`` and ``sim`` resolve folders one way:

- `cache_dir`: profile caches (content-keyed, safe to share between checkouts and versions):
  ``$MMSCHED_CACHE_DIR``, else the per-user cache folder (``$XDG_CACHE_HOME/mmsched`` or
  ``~/.cache/mmsched`` on Linux, the platform's equivalent elsewhere);
- `build_dir`: generated Verilog and RTL simulator builds (keyed by their sources and tool
  versions): ``$MMSCHED_BUILD_DIR``, else ``<cache_dir>/build``.

Neither folder is created here; writers create what they write, through `atomic_write` /
`atomic_open` / `atomic_path`: every file mmsched writes goes to a temporary name in its
destination folder and is renamed over the destination once complete, so a reader (another
process sharing the cache, a user looking at a results folder) never sees half a file, and a
failed or interrupted write leaves the old file, or nothing, behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_dir", "atomic_open", "atomic_path", "atomic_write", "build_dir", "cache_dir",
           "current_umask", "probe_dir"]


def cache_dir() -> Path:
    """The profile-cache folder (see the module docstring), read from the environment now."""
    env = os.environ.get("MMSCHED_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mmsched", appauthor=False))


def build_dir() -> Path:
    """The folder of generated Verilog and simulator builds (see the module docstring)."""
    env = os.environ.get("MMSCHED_BUILD_DIR")
    if env:
        return Path(env).expanduser()
    return cache_dir() / "build"


# --- atomic files ------------------------------------------------------------------------------


def current_umask() -> int:
    """The process umask (read by setting and restoring it; not thread-safe)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on normal exit it is renamed over ``path``.

    For writers that take a file name (a plotting library, a tool run in a subprocess). The
    temporary file exists (empty) when the body starts; ``suffix`` is its ending, for writers
    that pick a format from it. It gets a normal new file's permissions (``0o666`` minus the
    umask). If the body raises, the temporary file is removed and ``path`` is left as it was.
    Missing parent folders of ``path`` are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing (``mode`` ``"w"``: UTF-8 text with
    ``\\n`` line ends, or ``"wb"``), for writers that stream; on normal exit the file is closed
    and renamed over ``path`` (see `atomic_path`)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', not {mode!r}")
    with atomic_path(path) as tmp:
        kwargs = {"encoding": "utf-8", "newline": "\n"} if mode == "w" else {}
        with open(tmp, mode, **kwargs) as f:
            yield f


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh empty folder beside ``path``; on normal exit it is renamed to ``path``,
    on error (or interrupt) removed.

    For build folders keyed by their inputs: when ``path`` already exists with content
    (another process published the same build first), the new folder is discarded. Missing
    parent folders of ``path`` are created; the folder gets a new folder's permissions.
    """
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:  # made inside the try: an interrupt just after it still removes it
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700
        try:
            os.replace(tmp, path)
        except OSError:  # a complete build is there already
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise


def probe_dir(folder: str | os.PathLike) -> None:
    """Raise OSError unless a file can be created in the existing folder ``folder`` (a probe
    file is created and removed): whether outputs can go there, asked before the work."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".mmsched-probe.")
    os.close(fd)
    os.unlink(name)


def atomic_write(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically: text as UTF-8 with ``\\n`` line ends, bytes as
    they are (see `atomic_path`)."""
    with atomic_open(path, "wb" if isinstance(data, bytes | bytearray) else "w") as f:
        f.write(data)
