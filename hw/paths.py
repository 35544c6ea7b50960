"""Where mmsched keeps the files it generates: resolved at every call, never inside the package.

The bottom layer of the project (standard library and ``platformdirs`` only), so that ``hw``,
``sched`` and ``sim`` resolve folders one way:

- `cache_dir`: profile caches (content-keyed, safe to share between checkouts and versions):
  ``$MMSCHED_CACHE_DIR``, else the per-user cache folder (``$XDG_CACHE_HOME/mmsched`` or
  ``~/.cache/mmsched`` on Linux, the platform's equivalent elsewhere);
- `build_dir`: generated Verilog and RTL simulator builds (keyed by their sources and tool
  versions): ``$MMSCHED_BUILD_DIR``, else ``<cache_dir>/build``.

Neither folder is created here; writers create what they write.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["build_dir", "cache_dir"]


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
