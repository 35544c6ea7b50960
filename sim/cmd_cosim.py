"""``mmsched cosim``: one scheduling run with the Dysta scheduler RTL in the loop.

The ``dysta_hw`` policy's scheduler is the generated hardware on an RTL simulator (Amaranth's,
Icarus under cocotb, or Verilator through ctypes); the accelerator stays on the workload's
timing backend (latency tables or the exact cycle model: time advances one layer at a time).
Every RTL response is checked against the bit-exact twin (``--no-check`` skips it). The
pure-Python ``dysta_hw`` run and the float ``dysta`` run of the same workload are printed
alongside, in the table `mmsched run` prints, with whether the per-request finish times are
identical.

``--vcd FILE`` replays the run's first ``--wave-commands`` command words on the Amaranth
simulator into a VCD waveform (a short window; whole runs make huge files).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

from mmsched.sched.errors import InputError

HELP = "co-simulate one run with the Dysta hardware scheduler RTL in the loop"

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .cmd_run import DEFAULT_SCENARIO

    src = p.add_mutually_exclusive_group()
    src.add_argument("--scenario", metavar="NAME",
                     help=f"built-in synthetic set or scenario (as mmsched run; default "
                          f"{DEFAULT_SCENARIO})")
    src.add_argument("--csv-dir", metavar="DIR", help="folder of Dysta artifact CSV files")
    p.add_argument("--rate", metavar="R", help="arrival rate in requests/s (default: the "
                   "scenario's first rate)")
    p.add_argument("--slo", metavar="M", help="SLO multiplier (default: the scenario's first)")
    p.add_argument("--requests", metavar="N", default="200", help="requests (default 200)")
    p.add_argument("--seed", metavar="N", default="1", help="seed (default 1)")
    p.add_argument("--clock-mhz", metavar="F", help="engine clock (default per scenario)")
    p.add_argument("--sim", default="icarus", choices=("amaranth", "icarus", "verilator"),
                   help="RTL simulator (default icarus; verilator is the fastest after a "
                        "one-off build)")
    p.add_argument("--slots", metavar="S", default="64", help="task-table slots (default 64)")
    p.add_argument("--predictor", default="avg", choices=("avg", "last-one"),
                   help="gamma predictor (default avg)")
    p.add_argument("--beta", metavar="B", default="0.01", help="the score's beta (0.01)")
    p.add_argument("--fairness", default="seconds", choices=("seconds", "time-unit"),
                   help="worth of one unit of (w/Iso)/N: seconds (default, as the paper and "
                        "the float dysta policy) or one cycle (time-unit)")
    p.add_argument("--no-check", action="store_true",
                   help="do not check every RTL response against the twin")
    p.add_argument("--build-dir", metavar="DIR", default="build/cosim",
                   help="Verilog, simulator builds (default build/cosim)")
    p.add_argument("--vcd", metavar="FILE", help="write a VCD of the first --wave-commands "
                   "command words (Amaranth replay)")
    p.add_argument("--wave-commands", metavar="N", default="300",
                   help="commands in the --vcd window (default 300)")


def _num(option: str, text: str, conv=float, minimum=None):
    try:
        v = conv(text)
    except ValueError:
        raise InputError(option, "", f"a {'integer' if conv is int else 'number'}",
                         repr(text)) from None
    if minimum is not None and not v >= minimum:
        raise InputError(option, "", f"a value >= {minimum}", repr(text))
    return v


def main(args: argparse.Namespace) -> int:
    from mmsched.sched import metrics
    from mmsched.sched.policy import PolicyContext, make_policy

    from . import experiment
    from .cmd_run import build_sweep
    from .cosim import replay_vcd, run_cosim
    from .engine import simulate
    from .report import aggregate_rows, format_table

    requests = _num("--requests", args.requests, int, 1)
    slots = _num("--slots", args.slots, int, 1)
    beta = _num("--beta", args.beta)
    wave_n = _num("--wave-commands", args.wave_commands, int, 1)
    ns = argparse.Namespace(
        scenario=args.scenario, csv_dir=args.csv_dir, compat="fixed", compat_off=None,
        policies="dysta_hw", rates=args.rate, slo=args.slo, requests=str(requests),
        seeds="1", seed=args.seed, accelerators="1", clock_mhz=args.clock_mhz)
    sweep = build_sweep(ns)
    rec = sweep.recipes[0]
    rec = dataclasses.replace(rec, rates=rec.rates[:1], slos=rec.slos[:1])
    sweep = dataclasses.replace(sweep, recipes=(rec,))
    experiment.validate_sources(sweep)
    job = experiment.jobs(sweep)[0]
    workload, static, backend = experiment.job_inputs(job)
    if workload.time_unit != "cycles":
        raise InputError("--scenario", "", "an integer-cycle workload", workload.time_unit)
    ctx = PolicyContext(tables=(static,), clock_hz=workload.clock_hz,
                        time_unit=workload.time_unit)
    over = {"slots": slots, "predictor": args.predictor, "beta": beta,
            "fairness": args.fairness}
    build_dir = Path(args.build_dir) / f"{args.sim}"
    res = run_cosim(workload, backend, ctx, simulator=args.sim, build_dir=build_dir,
                    policy_overrides=over, check=not args.no_check)
    pure = simulate(workload, make_policy("dysta_hw", ctx, **over), backend)
    flt = simulate(workload, make_policy("dysta", ctx, beta=beta, predictor=args.predictor),
                   backend)
    base = {"recipe": rec.name, "workload": rec.source.label, "mode": "fixed",
            "rate": float(job.rate), "slo": float(job.slo), "seed": 0}
    rows = []
    for name, run in ((f"dysta_hw[rtl:{args.sim}]", res.run), ("dysta_hw", pure),
                      ("dysta", flt)):
        rows.append({**base, "policy": name, **metrics.summarize(run.requests)})
    sys.stdout.write(format_table(aggregate_rows(rows)))
    same = [r.finish for r in res.run.requests] == [r.finish for r in pure.requests]
    hw = res.hw_config
    print(f"RTL ({args.sim}, S={hw.slots}, {hw.predictor}, decision latency "
          f"{hw.decide_latency} cycles): {res.commands} commands, {res.decisions} decisions, "
          f"{res.rtl_cycles} scheduler cycles, {res.run_s:.1f} s ({res.wall_s:.1f} s with the "
          f"build), {res.decisions_per_s:.0f} decisions/s; responses checked against the twin: "
          f"{'no' if args.no_check else 'all equal'}; per-request finish times equal to the "
          f"pure-Python dysta_hw run: {'yes' if same else 'NO'}")
    if args.vcd:
        tmp = f"{args.vcd}.tmp{os.getpid()}"
        replay_vcd(hw, res.words[:wave_n], tmp)
        os.replace(tmp, args.vcd)
        print(f"waveform of the first {min(wave_n, len(res.words))} commands: {args.vcd}")
    return 0 if same else 1
