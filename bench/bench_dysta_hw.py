"""Dysta hardware scheduler: decision latency, co-simulation speed, agreement with float dysta,
synthesis.

1. Decision latency in cycles (DECIDE accepted -> response) measured on the RTL for S = 16, 64
   (Amaranth simulator) and 512 (Icarus: its Verilog takes minutes to load), against the target
   ceil(log2 S) + 4.
2. Co-simulated decisions per second per RTL backend (synthetic AttNN set, 60 requests,
   S = 16, every response checked against the twin), and the pure-Python twin's rate.
3. ``dysta_hw`` (fixed point) against the float ``dysta`` policy on the benchmark's synthetic
   CNN (2-6 req/s, plus 8 as overload) and AttNN (20-40 req/s, plus 60) sets, SLO multipliers
   10 and 50, 1000 requests, 2 seeds: decision agreement (both policies fed the same hooks,
   the hardware's pick is run) and the violation rate / ANTT of each policy run on its own.
4. With ``MMSCHED_BENCH_SYNTH=1``: Yosys synth_ecp5 (LUT4, CCU2C, FF, MULT18X18D, DP16KD;
   `eda.ecp5_netlist`) and nextpnr-ecp5 (LFE5U-85F, out of context, router1) Fmax and device
   utilisation for S = 16 and 64 (``MMSCHED_BENCH_SYNTH_SLOTS=16,64,512`` adds S = 512,
   Yosys only and by default only up to LUT mapping, which already gives the final FF, CCU2C,
   MULT18X18D and DP16KD counts: it does not fit the device; ``MMSCHED_BENCH_SYNTH512_FULL=1``
   maps its LUTs too, which needs the native Yosys). Needs ``pip install -e .[synth]``. Logs
   and reports stay in build/synth/dysta_s<S>/.

Each part writes its figures to its own file (``bench/results/dysta_hw_latency.json``,
``_cosim``, ``_agreement``, ``_synth``; see ``docs/results.md``), so running one part leaves
the others' last figures in place.

Environment: ``MMSCHED_BENCH_FAST=1`` skips the S = 512 latency run and shortens part 3;
``MMSCHED_BENCH_PARTS=1,3`` runs only the listed parts (default all).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from _results import write_results
from eda import (
    ECP5_CELLS,
    cells,
    ecp5_netlist,
    ecp5_overflow,
    nextpnr_ecp5,
    yosys,
    yosys_name,
)

from mmsched.hw.spec import DystaOp, SchedulerConfig, pack_dysta_cmd
from mmsched.sched.metrics import summarize
from mmsched.sched.policy import PolicyContext, make_policy
from mmsched.sched.shadow import Shadow
from mmsched.sched.static import static_tables
from mmsched.sched.streams import poisson_workload
from mmsched.sched.synthetic import synthetic_tables
from mmsched.sim.backends.table import TableBackend
from mmsched.sim.engine import simulate

ROOT = Path(__file__).resolve().parents[1]
FAST = os.environ.get("MMSCHED_BENCH_FAST") == "1"


def decision_latency(slots: int, simulator: str) -> tuple[int, float]:
    """Cycles from DECIDE acceptance to its response, and the wall time of the measurement."""
    from mmsched.sim.rtl.amaranth import AmaranthSession
    from mmsched.sim.rtl.icarus import IcarusSession

    t0 = time.perf_counter()
    cfg = SchedulerConfig(slots=slots, models=1, patterns=1, layers=2)
    s = AmaranthSession(cfg) if simulator == "amaranth" else IcarusSession(cfg, timeout_s=3600)
    try:
        s.issue(pack_dysta_cmd(DystaOp.LOAD_LUT, model=0, pattern=0, layer=0, remaining=1000,
                               density=1 << 14))
        for i in range(min(slots, 5)):
            s.issue(pack_dysta_cmd(DystaOp.ADMIT, model=0, pattern=0, deadline=9000 + i))
        r = s.issue(pack_dysta_cmd(DystaOp.DECIDE))
    finally:
        s.close()
    return r.resp_cycle - r.accept_cycle, time.perf_counter() - t0


def _inputs(name: str, rate: float, n: int, slo: float, seed: int):
    tables, clk = synthetic_tables(name)
    st = static_tables(tables, time_unit="cycles", clock_hz=clk)
    wl = poisson_workload(tables, rate=rate, num_requests=n, slo=slo, seed=seed, clock_hz=clk,
                        static=st)
    return wl, TableBackend(tables, time_unit="cycles", clock_hz=clk), \
        PolicyContext(tables=(st,), clock_hz=clk, time_unit="cycles")


def agreement() -> dict:
    print("3. dysta_hw (fixed point) vs float dysta: 1000 requests x 2 seeds per point; S = 64 "
          "(and S = 1024 at the overload points); full = ADMITs refused FULL (host FIFO)")
    print(f"   {'set':5s} {'rate':>4s} {'slo':>4s} {'S':>4s} {'pred':8s} {'agree%':>7s} "
          f"{'viol% fl':>8s} {'viol% hw':>8s} {'ANTT fl':>8s} {'ANTT hw':>8s} {'dANTT%':>7s} "
          f"{'full':>5s} {'hw dec/s':>9s}")
    # the benchmark's ranges plus one overload point per set (8 and 60 req/s), where the
    # queue is long and the fixed-point score decides more often between close candidates
    points = [("cnn", r, s) for r in (2.0, 4.0, 6.0, 8.0) for s in (10.0, 50.0)]
    points += [("attnn", r, s) for r in (20.0, 30.0, 40.0, 60.0) for s in (10.0, 50.0)]
    if FAST:
        points = points[::3]
    worst_v = worst_a = 0.0
    rows = []
    runs = []
    for name, rate, slo in points:
        for pred in ("avg", "last-one") if (name, rate, slo) == points[0] else ("avg",):
            runs.append((name, rate, slo, pred, 64))
        if rate in (8.0, 60.0):
            runs.append((name, rate, slo, "avg", 1024))
    for name, rate, slo, pred, slots in runs:
        same = total = full = 0
        fl_v, hw_v, fl_a, hw_a, rates = [], [], [], [], []
        for seed in (1, 2):
            wl, be, ctx = _inputs(name, rate, 1000, slo, seed)
            sh = Shadow(make_policy("dysta_hw", ctx, predictor=pred, slots=slots),
                        make_policy("dysta", ctx, predictor=pred))
            simulate(wl, sh, be)
            same, total = same + sh.same, total + sh.total
            f = summarize(simulate(wl, make_policy("dysta", ctx, predictor=pred),
                                   be).requests)
            t0 = time.perf_counter()
            pol = make_policy("dysta_hw", ctx, predictor=pred, slots=slots)
            res = simulate(wl, pol, be)
            rates.append(res.decisions / (time.perf_counter() - t0))
            full += pol.refused_full
            h = summarize(res.requests)
            fl_v.append(f["violation_rate"])
            hw_v.append(h["violation_rate"])
            fl_a.append(f["antt"])
            hw_a.append(h["antt"])
        fv, hv = statistics.mean(fl_v), statistics.mean(hw_v)
        fa, ha = statistics.mean(fl_a), statistics.mean(hw_a)
        if not full:
            worst_v = max(worst_v, abs(hv - fv))
            worst_a = max(worst_a, abs(ha - fa) / fa)
        print(f"   {name:5s} {rate:4g} {slo:4g} {slots:4d} {pred:8s} "
              f"{100 * same / total:7.2f} {100 * fv:8.2f} {100 * hv:8.2f} {fa:8.3f} "
              f"{ha:8.3f} {100 * (ha - fa) / fa:7.2f} {full:5d} "
              f"{statistics.median(rates):9.0f}", flush=True)
        rows.append({"set": name, "rate": rate, "slo": slo, "S": slots, "predictor": pred,
                     "agreement %": round(100 * same / total, 2),
                     "violation % float": round(100 * fv, 2),
                     "violation % hw": round(100 * hv, 2), "ANTT float": round(fa, 3),
                     "ANTT hw": round(ha, 3), "ANTT difference %": round(100 * (ha - fa) / fa, 2),
                     "refused FULL": full,
                     "hw decisions/s (median)": round(statistics.median(rates))})
    print(f"   points where the table never filled: worst |violation-rate difference| "
          f"{100 * worst_v:.2f} points, worst relative ANTT difference {100 * worst_a:.2f}%")
    return {"dysta_hw vs float dysta, 1000 requests x 2 seeds (seeds 1, 2)": rows,
            "where the table never filled": {
                "worst violation-rate difference (points)": round(100 * worst_v, 2),
                "worst relative ANTT difference %": round(100 * worst_a, 2)}}


def cosim_speed() -> dict:
    from mmsched.sim.cosim import run_cosim

    print("2. co-simulated decisions/s (synthetic AttNN, 60 requests, S = 16, every response "
          "checked vs the twin; the run alone, then with the RTL build)")
    wl, be, ctx = _inputs("attnn", 30.0, 60, 10.0, 1)
    t0 = time.perf_counter()
    res = simulate(wl, make_policy("dysta_hw", ctx, slots=16), be)
    twin = res.decisions / (time.perf_counter() - t0)
    print(f"   twin (pure Python)  {twin:10.0f} decisions/s")
    rows = [{"scheduler": "twin (pure Python)", "decisions/s": round(twin),
             "decisions": res.decisions}]
    for sim in ("amaranth", "icarus", "verilator"):
        with tempfile.TemporaryDirectory() as d:
            r = run_cosim(wl, be, ctx, simulator=sim, run_dir=d,
                          policy_overrides={"slots": 16})
        print(f"   {sim:18s}  {r.decisions_per_s:10.0f} decisions/s ({r.decisions} decisions, "
              f"{r.commands} commands, {r.rtl_cycles} cycles in {r.run_s:.1f} s; "
              f"{r.wall_s:.1f} s with the build)", flush=True)
        rows.append({"scheduler": f"RTL on {sim}", "decisions/s": round(r.decisions_per_s),
                     "decisions": r.decisions, "commands": r.commands,
                     "RTL cycles": r.rtl_cycles, "run s": round(r.run_s, 2),
                     "with build s": round(r.wall_s, 1)})
    return {"co-simulated decisions per second (synthetic AttNN, 60 requests, S = 16, every "
            "response checked against the twin)": rows}


def _synth(slots: int, pnr: bool, *, premap: bool = False) -> str:
    """Yosys ``synth_ecp5`` of the scheduler with ``slots`` slots (up to, not including, the
    LUT mapping when ``premap``: flip-flops, carry cells, multipliers and block RAMs are then
    final, the other logic still generic gates) and, when ``pnr``, nextpnr-ecp5; a summary
    line. Logs and reports in build/synth/dysta_s<slots>/."""
    from mmsched.hw.dysta.scheduler import scheduler_verilog

    out = ROOT / "build" / "synth" / f"dysta_s{slots}"
    out.mkdir(parents=True, exist_ok=True)
    cfg = SchedulerConfig(slots=slots)
    t0 = time.perf_counter()
    (out / "dysta_sched.v").write_text(scheduler_verilog(cfg))
    t_verilog = time.perf_counter() - t0
    if premap:
        stat = "ecp5_stat_premap.txt"
        (out / "yosys_premap.ys").write_text(
            f"read_verilog dysta_sched.v\nsynth_ecp5 -top dysta_sched -run begin:map_luts\n"
            f"tee -o {stat} stat\n")
        t_yosys, mapper = yosys("yosys_premap.ys", out, 4 * 3600, [stat]), "none"
    else:
        stat = "ecp5_stat.txt"
        t_yosys, mapper = ecp5_netlist(
            ["read_verilog dysta_sched.v", "synth_ecp5 -top dysta_sched -run begin:map_luts"],
            "dysta_sched", "ecp5", out, netlist="ecp5.json", stat=stat,
            source=(out / "dysta_sched.v").read_bytes(), timeout=4 * 3600)
    c = cells((out / stat).read_text(), ECP5_CELLS)
    took = f"Verilog {t_verilog:.0f} s, {yosys_name()} {t_yosys:.0f} s, LUT mapper {mapper}"
    over = ecp5_overflow(c)  # before the LUT mapping: LUT4 = 0, so COMB is a lower bound
    if premap:
        return (f"   S = {slots:3d} (up to LUT mapping): ECP5 {c['CCU2C']:,} CCU2C, "
                f"{c['FF']:,} FF, {c['MULT18']} MULT18X18D, {c['BRAM']} DP16KD ({took}); "
                + (f"does not fit the LFE5U-85F: {', '.join(over)}" if over else
                   "FF, carry, DSP and BRAM fit"))
    line = (f"   S = {slots:3d}: ECP5 {c['LUT4']:,} LUT4 + {c['CCU2C']:,} CCU2C, "
            f"{c['FF']:,} FF, {c['MULT18']} MULT18X18D, {c['BRAM']} DP16KD, "
            f"{c['LUTRAM']} DPR16X4 ({took}); "
            + (f"does not fit the LFE5U-85F: {', '.join(over)}" if over else "fits"))
    if pnr and not over:
        p = nextpnr_ecp5("ecp5.json", out, 24 * 3600, log="nextpnr.log")
        used = ", ".join(f"{k} {a}/{b}" for k, (a, b) in p["util"].items())
        fmax = (f"Fmax {p['fmax_mhz']} MHz" if p["fmax_mhz"] is not None else
                f"not routed, estimate after placement {p['fmax_placed_mhz']} MHz")
        line += (f"; nextpnr LFE5U-85F: {fmax} ({used})"
                 + (f" (nextpnr failed: {p['error'][-200:]})" if "error" in p else "")
                 + f" ({p['seconds']:.0f} s)")
    return line


def main() -> None:
    parts = {int(x) for x in os.environ.get("MMSCHED_BENCH_PARTS", "1,2,3,4").split(",")}
    if 1 in parts:
        print("1. decision latency (cycles, DECIDE accepted -> response) vs ceil(log2 S) + 4")
        sizes = [(16, "amaranth"), (64, "amaranth")] + ([] if FAST else [(512, "icarus")])
        rows = []
        for slots, sim in sizes:
            lat, wall = decision_latency(slots, sim)
            target = (slots - 1).bit_length() + 4
            print(f"   S = {slots:3d} ({sim:8s}): {lat} cycles (target {target}; "
                  f"{'met' if lat <= target else 'MISSED'}; {wall:.0f} s incl. build)",
                  flush=True)
            rows.append({"S": slots, "simulator": sim, "cycles": lat,
                         "ceil(log2 S) + 4": target, "wall s incl. build": round(wall)})
        write_results("dysta_hw_latency", {"decision latency (DECIDE accepted -> response), "
                                           "measured on the RTL": rows},
                      title="Dysta scheduler: decision latency (MMSCHED_BENCH_PARTS=1 python "
                            "bench/run.py dysta_hw)")
    if 2 in parts:
        write_results("dysta_hw_cosim", cosim_speed(),
                      title="Dysta scheduler: co-simulated decisions per second "
                            "(MMSCHED_BENCH_PARTS=2 python bench/run.py dysta_hw)")
    if 3 in parts:
        write_results("dysta_hw_agreement", agreement(),
                      title="dysta_hw against float dysta (MMSCHED_BENCH_PARTS=3 python "
                            "bench/run.py dysta_hw)")
    if 4 not in parts:
        return
    if os.environ.get("MMSCHED_BENCH_SYNTH") == "1":
        print("4. synthesis (Yosys synth_ecp5; nextpnr-ecp5 out of context, LFE5U-85F)")
        sizes = os.environ.get("MMSCHED_BENCH_SYNTH_SLOTS", "16,64")
        full512 = os.environ.get("MMSCHED_BENCH_SYNTH512_FULL") == "1"
        lines = []
        for slots in (int(x) for x in sizes.split(",")):
            line = _synth(slots, pnr=slots <= 64, premap=slots > 64 and not full512)
            print(line, flush=True)
            lines.append({"S": slots, "summary": line.strip()})
        write_results("dysta_hw_synth", {"Yosys synth_ecp5 and nextpnr-ecp5 (LFE5U-85F, out "
                                         "of context)": lines},
                      title="Dysta scheduler: synthesis (MMSCHED_BENCH_SYNTH=1 "
                            "MMSCHED_BENCH_PARTS=4 python bench/run.py dysta_hw)",
                      commands=["MMSCHED_BENCH_SYNTH=1 MMSCHED_BENCH_PARTS=4 "
                                f"MMSCHED_BENCH_SYNTH_SLOTS={sizes} python bench/run.py "
                                "dysta_hw"])
    else:
        print("4. synthesis skipped (MMSCHED_BENCH_SYNTH=1 to run it; slow)")


if __name__ == "__main__":
    main()
