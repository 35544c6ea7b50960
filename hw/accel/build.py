"""Verilog of the accelerator top, generated once per configuration and cached in the build
folder (`mmsched.hw.paths.build_dir`)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path

from mmsched.hw.paths import build_dir
from mmsched.hw.spec import AcceleratorConfig

TOP_NAME = "accelerator"


@functools.cache
def _sources_digest() -> bytes:
    """SHA-256 of the RTL sources, read once per process: the Verilog a process writes comes
    from the modules it imported, so a source edited later must not change its cache key."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for p in [*sorted(here.glob("*.py")), *sorted((here.parent / "spec").glob("*.py"))]:
        h.update(p.read_bytes())
    return h.digest()


def rtl_hash(cfg: AcceleratorConfig) -> str:
    """Hash of the configuration and of the RTL sources (a changed block rebuilds)."""
    h = hashlib.sha256(json.dumps(cfg.to_dict(), sort_keys=True).encode())
    h.update(_sources_digest())
    return h.hexdigest()[:16]


def write_verilog(cfg: AcceleratorConfig, out_dir: str | Path | None = None, *,
                  name: str = TOP_NAME) -> Path:
    """Write ``<name>.v`` and ``<name>.json`` (the configuration) into ``out_dir``.

    Without ``out_dir``: ``build/rtl/<hash>/``, reused when present. Returns the .v path.
    Written to a temporary name and renamed, so a reader never sees a partial file.
    """
    from amaranth.back import verilog

    from .top import Accelerator

    cached = out_dir is None
    out = Path(out_dir) if out_dir is not None else build_dir() / "rtl" / rtl_hash(cfg)
    vpath = out / f"{name}.v"
    if cached and vpath.exists():
        return vpath
    out.mkdir(parents=True, exist_ok=True)
    text = verilog.convert(Accelerator(config=cfg), name=name)
    for path, body in ((out / f"{name}.json", json.dumps(cfg.to_dict(), indent=1)),
                       (vpath, text)):
        tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
        tmp.write_text(body)
        os.replace(tmp, path)
    return vpath


_AUTO_TRIGGER = re.compile(r"reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;")


def icarus_verilog(vpath: Path) -> Path:
    """A copy of ``vpath`` that Icarus Verilog 11 evaluates correctly at time 0.

    Yosys's Verilog gives each ``always @*`` block a dummy trigger register initialised to 0,
    so that simulators evaluate the block once at start; Icarus applies the initialiser
    without an event, leaving outputs of blocks whose inputs never change (an FSM resting in
    its reset state) at X. The copy flips each trigger in an ``initial #0`` block.
    """
    out = vpath.with_name(vpath.stem + "_icarus.v")
    if out.exists() and out.stat().st_mtime >= vpath.stat().st_mtime:
        return out
    text = _AUTO_TRIGGER.sub(lambda m: f"reg {m[1]} = 0;\n  initial #0 {m[1]} = 1;",
                             vpath.read_text())
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, out)
    return out
