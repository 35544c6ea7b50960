"""Synthesis figures of the accelerator (``make synth``; slow, not in CI).

For each configuration (8x8, 16x16 and the 192-PE Eyeriss-V2-like one): Yosys ``synth_ecp5``
(LUT4, flip-flops, MULT18X18D, DP16KD block RAMs), Yosys ``synth_xilinx -family xc7`` (LUTs,
flip-flops, DSP48E1, block RAMs) and nextpnr-ecp5 place and route out of context on an
LFE5U-85F for the maximum clock frequency. A configuration that needs more multipliers than
the device has (156 MULT18X18D: 16x16 and 192 PEs need one per PE) is placed from a second
netlist in which the PE multipliers of as many whole array rows as fit (with the design's other
multipliers) stay on MULT18X18D and the rest are built from LUTs (`hybrid_front`); its figures
are reported beside the all-DSP ones as ``ecp5_pnr``. Tools from PyPI (``pip install -e
.[synth]``; `eda`): Yosys 0.70 native (pyosys) or WebAssembly, nextpnr-ecp5 WebAssembly.
Results are printed and written to build/synth/results.json after every step (tool logs stay
in build/synth/<config>/); at the end the table of every configuration in results.json goes to
``bench/results/synth.json`` (`_results.write_results`), from which ``bench/report.py`` builds
docs/results.md.

Usage: ``python bench/synth.py [--configs 8x8,16x16,192pe] [--no-pnr] [--reuse]
[--router router1|router2] [--timeout S]``
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys

from eda import (
    ECP5_85F,
    ECP5_CELLS,
    XC7_CELLS,
    cells,
    ecp5_netlist,
    nextpnr_ecp5,
    share_file,
    yosys,
    yosys_name,
)

from mmsched.hw.accel import TOP_NAME, accelerator_verilog
from mmsched.hw.paths import atomic_write, build_dir
from mmsched.hw.spec import EYERISS_V2_LIKE, AcceleratorConfig

CONFIGS = {
    "8x8": AcceleratorConfig(name="synth_8x8", rows=8, cols=8),
    "16x16": AcceleratorConfig(name="synth_16x16", rows=16, cols=16),
    "192pe": dataclasses.replace(EYERISS_V2_LIKE),
}


_MUL2DSP = ("-D DSP_A_MAXWIDTH=18 -D DSP_B_MAXWIDTH=18 -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 "
            "-D DSP_NAME=$__MUL18X18")  # synth_ecp5's own mapping (Yosys synth_lattice.cc)


def _dsp_map() -> str:
    """Yosys's ECP5 MULT18X18D techmap file: its name changed between releases."""
    return share_file("lattice/dsp_map_18x18.v", "lattice/dsp_map.v", "ecp5/dsp_map.v")


def hybrid_front(verilog: str, dsp_rows: int) -> list[str]:
    """Yosys commands up to the LUT mapping (`eda.ecp5_scripts`): ``synth_ecp5`` with its coarse
    stage spelled out so that only the PE multipliers of array rows ``0 .. dsp_rows-1`` (and
    the monitor's) go to MULT18X18D; the others are built from LUTs as radix-4 Booth
    multipliers (Yosys ``booth``: on 16x16, 40,526 LUT4 against 47,581 for ``synth_ecp5``'s
    own soft multipliers, and 33.7 against 28.0 MHz estimated after placement)."""
    rows = " ".join(f"n:*pe_{r}_* %u" for r in range(dsp_rows)).replace(" %u", "", 1)
    dsp_sel = f"t:$mul n:*monitor.* {rows} %u %i" if dsp_rows else "t:$mul n:*monitor.* %i"
    coarse = ["proc -latches error", "check", "flatten", "tribuf -logic", "deminout",
              "opt_expr", "check", "opt_clean", "opt -nodffe -nosdff", "fsm", "opt", "wreduce",
              "peepopt", "opt_clean", "share", "techmap -map +/cmp2lut.v -D LUT_WIDTH=4",
              "opt_expr", "opt_clean", "select -set dspmul " + dsp_sel,
              f"techmap -map +/mul2dsp.v -map {_dsp_map()} {_MUL2DSP} @dspmul",
              "booth", "alumacc", "opt", "memory -nomap", "opt_clean"]
    return [f"read_verilog {verilog}", f"synth_ecp5 -top {TOP_NAME} -run begin:coarse",
            *coarse, f"synth_ecp5 -top {TOP_NAME} -run map_ram:map_luts"]


def synth_one(name: str, cfg: AcceleratorConfig, *, pnr: bool, timeout: float,
              save=lambda res: None, reuse: bool = False, router: str = "router1") -> dict:
    """ECP5 synthesis, place and route (Fmax), then Xilinx-7 synthesis of one configuration;
    ``save(res)`` is called with the figures so far after each step. ``reuse``: keep the
    ECP5 netlists of an earlier run from the same Verilog and scripts (`ecp5_netlist`)."""
    out = build_dir() / "synth" / name
    out.mkdir(parents=True, exist_ok=True)
    vpath = out / f"{TOP_NAME}.v"  # Amaranth's text as is (no simulator fixes)
    (out / f"{TOP_NAME}.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    vpath.write_text(accelerator_verilog(cfg))
    verilog = vpath.read_bytes()
    res: dict = {"config": name, "pes": cfg.pes, "rows": cfg.rows, "cols": cfg.cols,
                 "yosys": yosys_name(), "verilog_sha256": hashlib.sha256(verilog).hexdigest()}
    t, mapper = ecp5_netlist([f"read_verilog {vpath.name}",
                              f"synth_ecp5 -top {TOP_NAME} -run begin:map_luts"], TOP_NAME,
                             "ecp5", out, netlist="ecp5.json", stat="ecp5_stat.txt",
                             source=verilog, timeout=timeout, reuse=reuse)
    res["ecp5"] = dict(cells((out / "ecp5_stat.txt").read_text(), ECP5_CELLS), mapper=mapper)
    res["ecp5_seconds"] = None if t is None else round(t, 1)
    save(res)
    if pnr:
        netlist = "ecp5.json"
        if res["ecp5"]["MULT18"] > ECP5_85F["MULT18"]:
            netlist = "ecp5_hybrid.json"
            other = res["ecp5"]["MULT18"] - cfg.pes  # the monitor's
            dsp_rows = max(0, min(cfg.rows, (ECP5_85F["MULT18"] - other) // cfg.cols))
            hstat = "ecp5_hybrid_stat.txt"
            t, mapper = ecp5_netlist(hybrid_front(vpath.name, dsp_rows), TOP_NAME, "hybrid",
                                     out, netlist=netlist, stat=hstat, source=verilog,
                                     timeout=timeout, reuse=reuse)
            res["ecp5_pnr"] = dict(cells((out / hstat).read_text(), ECP5_CELLS),
                                   variant=f"PE rows 0..{dsp_rows - 1} on DSPs, the rest Booth "
                                           "multipliers in LUTs",
                                   dsp_rows=dsp_rows, mapper=mapper,
                                   seconds=None if t is None else round(t, 1))
        p = nextpnr_ecp5(netlist, out, timeout, router=router)  # log: out/pnr.log
        res.update(fmax_mhz=p["fmax_mhz"], fmax_placed_mhz=p["fmax_placed_mhz"],
                   pnr_seconds=p["seconds"], pnr_util=p["util"], router=router)
        if "error" in p:  # e.g. does not fit the device: recorded, the run goes on
            res["pnr_error"] = p["error"]
        save(res)
    (out / "xc7.ys").write_text(f"read_verilog {vpath.name}\nsynth_xilinx -family xc7 -flatten "
                                f"-top {TOP_NAME}\ntee -o xc7_stat.txt stat\n")
    t = yosys("xc7.ys", out, timeout, ["xc7_stat.txt"])
    res["xc7"] = cells((out / "xc7_stat.txt").read_text(), XC7_CELLS)
    res["xc7_seconds"] = round(t, 1)
    save(res)
    return res


# what a place-and-route run adds to a configuration's entry
PNR_KEYS = ("ecp5_pnr", "fmax_mhz", "fmax_placed_mhz", "pnr_seconds", "pnr_util", "router",
            "pnr_error")


def merge_entry(res: dict, earlier: dict | None) -> dict:
    """``res`` as results.json keeps it: a run without (or not yet through) place and route
    keeps the place-and-route figures of the earlier entry when both were made from the same
    Verilog, marked ``pnr_from_earlier_run``; otherwise ``res`` as it is."""
    if ("pnr_seconds" in res or not earlier or "pnr_seconds" not in earlier
            or earlier.get("verilog_sha256") != res.get("verilog_sha256")):
        return res
    kept = {k: earlier[k] for k in PNR_KEYS if k in earlier}
    return {**res, **kept, "pnr_from_earlier_run": True}


def _secs(t: float | None) -> str:
    """A tool's run time for the summary line; None when an earlier run was reused."""
    return "reused" if t is None else f"{t:.0f} s"


def _fmax(r: dict) -> str:
    """The place-and-route result for the summary line."""
    if "pnr_seconds" not in r:
        return "Fmax not run"
    kept = " (earlier run, same Verilog)" if r.get("pnr_from_earlier_run") else ""
    if r["fmax_mhz"] is not None:
        return f"Fmax {r['fmax_mhz']} MHz ({r['router']}, {_secs(r['pnr_seconds'])}){kept}"
    return (f"not routed ({r.get('pnr_error', '')[-120:]!r}); estimate after placement "
            f"{r['fmax_placed_mhz']} MHz{kept}")


def summary_row(r: dict) -> dict:
    """One configuration's figures for bench/results/synth.json (a flat table row)."""
    e, x = r["ecp5"], r.get("xc7", {})
    row = {"config": r["config"], "PEs": r["pes"], "yosys": r.get("yosys"),
           "ECP5 LUT4": e["LUT4"], "ECP5 CCU2C": e["CCU2C"], "ECP5 FF": e["FF"],
           "MULT18X18D": e["MULT18"], "DP16KD": e["BRAM"], "DPR16X4": e["LUTRAM"],
           "LUT mapper": e.get("mapper"), "XC7 LUT": x.get("LUT"), "XC7 FF": x.get("FF"),
           "DSP48E1": x.get("DSP"), "RAMB": x.get("BRAM"), "XC7 LUTRAM/SRL": x.get("LUTRAM")}
    if "ecp5_pnr" in r:
        q = r["ecp5_pnr"]
        row.update({"placed netlist": q["variant"], "placed LUT4": q["LUT4"],
                    "placed CCU2C": q["CCU2C"], "placed MULT18X18D": q["MULT18"]})
    if "pnr_seconds" in r:
        row.update({"Fmax MHz": r["fmax_mhz"],
                    "estimated after placement MHz": r["fmax_placed_mhz"],
                    "router": r.get("router"), "place and route s": r["pnr_seconds"]})
    return row


def main(argv: list[str] | None = None) -> int:
    from _results import write_results  # here: tests load this file without bench/ on the path

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="8x8,16x16,192pe")
    p.add_argument("--no-pnr", action="store_true", help="skip nextpnr (Fmax)")
    p.add_argument("--timeout", type=float, default=12 * 3600,
                   help="seconds per tool run (default 12 h: the 16x16 place and route ran "
                        "over 2 h on a 2-core machine)")
    p.add_argument("--router", choices=("router1", "router2"), default="router1",
                   help="nextpnr router (default %(default)s)")
    p.add_argument("--reuse", action="store_true",
                   help="keep earlier ECP5 netlists made from the same Verilog and script")
    args = p.parse_args(argv)
    path = build_dir() / "synth" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)

    def entries() -> dict:
        try:
            return {r["config"]: r for r in json.loads(path.read_text())}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    before = entries()  # what the runs of this invocation may keep figures from

    def save(res: dict) -> None:
        """Merge into results.json (one entry per configuration, other runs kept), atomically."""
        now = entries()
        now[res["config"]] = merge_entry(res, before.get(res["config"]))
        atomic_write(path, json.dumps(list(now.values()), indent=1))

    for name in args.configs.split(","):
        if name not in CONFIGS:
            p.error(f"unknown config {name!r}; known: {', '.join(CONFIGS)}")
    for name in args.configs.split(","):
        r = merge_entry(synth_one(name, CONFIGS[name], pnr=not args.no_pnr,
                                  timeout=args.timeout, save=save, reuse=args.reuse,
                                  router=args.router), before.get(name))
        e, x = r["ecp5"], r["xc7"]
        print(f"{name:6s} {r['pes']:4d} PEs | ECP5: {e['LUT4']:7d} LUT4 {e['FF']:7d} FF "
              f"{e['MULT18']:4d} MULT18 {e['BRAM']:4d} DP16KD {e['LUTRAM']:5d} DPR16X4 "
              f"({_secs(r['ecp5_seconds'])}) | XC7: {x['LUT']:7d} LUT {x['FF']:7d} FF "
              f"{x['DSP']:4d} DSP48 {x['BRAM']:4d} RAMB {x['LUTRAM']:5d} LUTRAM/SRL "
              f"({_secs(r['xc7_seconds'])}) | {_fmax(r)}", flush=True)
        if "ecp5_pnr" in r:
            q = r["ecp5_pnr"]
            print(f"       placed: {q['variant']} ({e['MULT18']} MULT18 > "
                  f"{ECP5_85F['MULT18']}): {q['LUT4']:7d} LUT4 {q['FF']:7d} FF "
                  f"{q['MULT18']:4d} MULT18 {q['BRAM']:4d} DP16KD {q['LUTRAM']:5d} DPR16X4 "
                  f"({q['mapper']})",
                  flush=True)
    write_results("synth", {"accelerator, per configuration (Yosys synth_ecp5 and "
                            "synth_xilinx; nextpnr-ecp5 LFE5U-85F, out of context, --freq 100)":
                            [summary_row(r) for r in entries().values()]},
                  title="Accelerator synthesis (python bench/synth.py)",
                  commands=["python bench/synth.py " + " ".join(argv or sys.argv[1:])])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
