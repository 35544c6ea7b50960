"""``mmsched cosim``: one scheduling run with the Dysta scheduler RTL in the loop.

The ``dysta_hw`` policy's scheduler is the generated hardware on an RTL simulator (Amaranth's,
Icarus under cocotb, or Verilator through ctypes; `mmsched.sim.rtl`): Verilator when it is
installed, else Icarus (the choice is printed on stderr; ``--sim`` overrides). By default
(``--accel model``) the accelerator stays on the workload's timing backend (latency tables or
the exact cycle model: time advances one layer at a time). Every RTL response is checked
against the bit-exact twin (``--no-check`` skips it). The pure-Python ``dysta_hw`` run and the
float ``dysta`` run of the same workload are printed alongside, in the table `mmsched run`
prints, with whether the per-request finish times are identical.

``--accel rtl`` runs the accelerator in RTL too: the scheduler and the accelerator in ONE
simulation of the system top (`mmsched.sim.cosim.run_system_cosim`; Verilator, or
``amaranth`` or ``icarus`` for tiny runs), each layer executed on the request's own masks,
the scheduler fed by the accelerator's monitor. It needs a scenario of GEMM layers and a
small run: the shipped scenario ``cosim-tiny`` is made for it; a run whose estimated wall time
exceeds ``--rtl-budget-s`` is refused with the estimate. Its row is printed with the
exact-model co-simulation's.

``--vcd FILE`` replays the run's first ``--wave-commands`` command words on the Amaranth
simulator into a VCD waveform (a short window; whole runs make huge files).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
from pathlib import Path

from mmsched.hw.paths import atomic_path
from mmsched.sched.errors import InputError

HELP = "co-simulate one run with the Dysta hardware scheduler RTL in the loop"

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .experiment import DEFAULT_SCENARIO

    src = p.add_mutually_exclusive_group()
    src.add_argument("--scenario", metavar="NAME",
                     help=f"built-in synthetic set or scenario (as mmsched run; default "
                          f"{DEFAULT_SCENARIO}), or cosim-tiny (tiny models on a 4x4 array, "
                          f"for --accel rtl)")
    src.add_argument("--csv-dir", metavar="DIR", help="folder of Dysta artifact CSV files")
    p.add_argument("--rate", metavar="R", help="arrival rate in requests/s (default: the "
                   "scenario's first rate)")
    p.add_argument("--slo", metavar="M", help="SLO multiplier (default: the scenario's first)")
    p.add_argument("--requests", metavar="N",
                   help="requests (default 200; cosim-tiny: its own 12)")
    p.add_argument("--seed", metavar="N", default="1", help="seed (default 1)")
    p.add_argument("--clock-mhz", metavar="F", help="engine clock (default per scenario)")
    p.add_argument("--sim", choices=("amaranth", "icarus", "verilator"),
                   help="RTL simulator (default verilator when installed, else icarus; "
                        "verilator is the fastest after a one-off build)")
    p.add_argument("--accel", metavar="MODE", default="model",
                   help="the accelerator: 'model' (default: its exact cycle model or the "
                        "workload's latency table, one step per layer) or 'rtl' (the "
                        "accelerator RTL in the same simulation as the scheduler, the "
                        "system top; verilator, or amaranth or icarus for tiny runs; "
                        "small scenarios such as --scenario cosim-tiny)")
    p.add_argument("--rtl-budget-s", metavar="S", default="300",
                   help="with --accel rtl: refuse runs estimated to take longer than S "
                        "seconds of simulation (default 300)")
    p.add_argument("--slots", metavar="S", default="64", help="task-table slots (default 64)")
    p.add_argument("--predictor", default="avg", choices=("avg", "last-one"),
                   help="gamma predictor (default avg)")
    p.add_argument("--beta", metavar="B", default="0.01", help="the score's beta (0.01)")
    p.add_argument("--fairness", default="seconds", choices=("seconds", "time-unit"),
                   help="worth of one unit of (w/Iso)/N: seconds (default, as the paper and "
                        "the float dysta policy) or one cycle (time-unit)")
    p.add_argument("--no-check", action="store_true",
                   help="do not check every RTL response against the twin")
    p.add_argument("--run-dir", metavar="DIR",
                   help="simulator logs and waveforms (default: a temporary folder in the "
                        "build folder, removed after a clean run; simulator builds are "
                        "cached in $MMSCHED_BUILD_DIR)")
    p.add_argument("--vcd", metavar="FILE", help="write a VCD of the first --wave-commands "
                   "command words (Amaranth replay); with --accel rtl (--sim amaranth): of "
                   "the whole system simulation")
    p.add_argument("--wave-commands", metavar="N", default="300",
                   help="commands in the --vcd window (default 300)")


def _num(option: str, text: str, conv=float, minimum=None):
    try:
        v = conv(text)
    except ValueError:
        raise InputError(option, "", f"a {'integer' if conv is int else 'number'}",
                         repr(text)) from None
    if minimum is not None and not (v >= minimum and math.isfinite(v)):
        what = "a positive number" if minimum == 1e-12 else f"a finite value >= {minimum}"
        raise InputError(option, "", what, repr(text))
    return v


def _workload(args, requests: int | None, accel: str):
    """(workload, static tables, timing backend, row labels, loaded scenario or None)."""
    from mmsched.sched.scenario import find_scenario
    from mmsched.sim.cosim import TINY_SCENARIO
    from mmsched.sim.profiled import profile_scenario

    from . import experiment

    seed = _num("--seed", args.seed, int, 0)
    if args.scenario == TINY_SCENARIO:
        if args.clock_mhz is not None:
            raise InputError("--clock-mhz", "", "no --clock-mhz with a scenario (its "
                             "accelerator sets the clock)", f"--scenario {TINY_SCENARIO}")
        sc = find_scenario(TINY_SCENARIO)
        loaded = profile_scenario(sc, cache_dir=False)  # profiled in well under a second
        rate = sc.rates[0] if args.rate is None else _num("--rate", args.rate, float, 1e-12)
        slo = sc.slos[0] if args.slo is None else _num("--slo", args.slo, float, 1e-12)
        wl = loaded.workloads(rates=[rate], slo=slo, requests=requests or sc.requests,
                              seed=seed)[0]
        base = {"recipe": sc.name, "workload": f"scenario:{sc.name}", "mode": "fixed",
                "rate": float(rate), "slo": float(slo), "seed": 0}
        return wl, loaded.static[0], loaded.backend(), base, loaded
    clock_hz = None
    if args.clock_mhz is not None:
        clock_hz = experiment.engine_clock_hz(_num("--clock-mhz", args.clock_mhz, float, 1e-12),
                                              "--clock-mhz")
    sweep = experiment.make_sweep(
        scenario=args.scenario, csv_dir=args.csv_dir,
        rates=None if args.rate is None else (_num("--rate", args.rate, float, 1e-12),),
        slos=None if args.slo is None else (_num("--slo", args.slo, float, 1e-12),),
        requests=requests or 200, seeds=1, seed=seed, policies=("dysta_hw",),
        clock_hz=clock_hz)
    rec = sweep.recipes[0]
    loaded = None
    if accel == "rtl":
        if rec.source.kind != "scenario":
            raise InputError("--accel rtl", "", f"a scenario of GEMM layers "
                             f"({TINY_SCENARIO}, a shipped scenario or a .toml file)",
                             rec.source.label)
        loaded = profile_scenario(rec.source.path or rec.source.name)
        if len(loaded.scenario.system) != 1:
            raise InputError("--accel rtl", "", "a scenario with one accelerator",
                             f"{len(loaded.scenario.system)} in {rec.source.label}")
    experiment.validate_sources(sweep)
    point = next(p for p in experiment.run_points(sweep)
                 if (p.rate, p.slo) == (rec.rates[0], rec.slos[0]))
    inputs = experiment.point_inputs(point)
    # a scenario's backend serves the exact model's integer monitor counts, as the RTL
    # accelerator reports them (a table source's holds densities as binary fractions)
    workload, static, backend = inputs.workload, inputs.tables[0], inputs.backend
    base = {"recipe": rec.name, "workload": rec.source.label, "mode": "fixed",
            "rate": float(point.rate), "slo": float(point.slo), "seed": 0}
    return workload, static, backend, base, loaded


def main(args: argparse.Namespace) -> int:
    from mmsched.sched import metrics
    from mmsched.sched.policy import PolicyContext, make_policy

    from .cosim import SYSTEM_SIMULATORS, replay_vcd, run_cosim
    from .engine import simulate
    from .report import aggregate_rows, format_table
    from .rtl import default_simulator

    requests = None if args.requests is None else _num("--requests", args.requests, int, 1)
    slots = _num("--slots", args.slots, int, 1)
    beta = _num("--beta", args.beta)
    wave_n = _num("--wave-commands", args.wave_commands, int, 1)
    budget_s = _num("--rtl-budget-s", args.rtl_budget_s, float, 0)
    accel = args.accel
    if accel not in ("model", "rtl"):
        raise InputError("--accel", "", "model or rtl", repr(accel))
    sim = args.sim
    if sim is None:
        sim = default_simulator()
        print(f"mmsched cosim: simulator {sim} ("
              f"{'installed' if sim == 'verilator' else 'Verilator is not installed'}; "
              f"--sim overrides)", file=sys.stderr)
    args = argparse.Namespace(**{**vars(args), "sim": sim})
    if accel == "rtl" and args.sim not in SYSTEM_SIMULATORS:  # (all of them today)
        raise InputError("--sim", "with --accel rtl", " or ".join(SYSTEM_SIMULATORS), args.sim)
    if accel == "rtl" and args.vcd and args.sim != "amaranth":
        raise InputError("--vcd", "with --accel rtl", "--sim amaranth (the whole system "
                         "simulation is written; Icarus: cocotb's waves are not wired)",
                         f"--sim {args.sim}")
    workload, static, backend, base, loaded = _workload(args, requests, accel)
    if workload.time_unit != "cycles":
        raise InputError("--scenario", "", "an integer-cycle workload", workload.time_unit)
    if accel == "rtl":
        system = _rtl_preflight(workload, backend, loaded, args.sim, budget_s, slots)
    ctx = PolicyContext(tables=(static,), clock_hz=workload.clock_hz,
                        time_unit=workload.time_unit)
    over = {"slots": slots, "predictor": args.predictor, "beta": beta,
            "fairness": args.fairness}
    run_dir = Path(args.run_dir) / args.sim if args.run_dir else None
    res = run_cosim(workload, backend, ctx, simulator=args.sim, run_dir=run_dir,
                    policy_overrides=over, check=not args.no_check)
    pure = simulate(workload, make_policy("dysta_hw", ctx, **over), backend)
    flt = simulate(workload, make_policy("dysta", ctx, beta=beta, predictor=args.predictor),
                   backend)
    # the waveform goes to a temporary name renamed into place at the end (nothing partial
    # is left behind on an error or interrupt)
    with contextlib.ExitStack() as stack:
        tmp_vcd = (str(stack.enter_context(atomic_path(args.vcd, suffix=".vcd")))
                   if args.vcd else None)
        sys_res = None
        if accel == "rtl":
            from .cosim import HeldoutMasks, run_system_cosim
            from .profiled import mask_source

            sc = loaded.scenario
            masks = HeldoutMasks(mask_source(sc)[0], sc.heldout_samples, sc.model_list())
            sys_res = run_system_cosim(workload, masks, ctx, system, simulator=args.sim,
                                       policy_overrides=over, check=not args.no_check,
                                       seed=_num("--seed", args.seed, int, 0),
                                       vcd_path=tmp_vcd,
                                       run_dir=run_dir / "system" if run_dir else None)
        runs = [(f"dysta_hw[rtl:{args.sim}]", res.run), ("dysta_hw", pure), ("dysta", flt)]
        if sys_res is not None:
            runs.insert(0, (f"dysta_hw[rtl:{args.sim},accel:rtl]", sys_res.run))
        rows = [{**base, "policy": name, **metrics.summarize(run.requests)} for name, run in runs]
        sys.stdout.write(format_table(aggregate_rows(rows)))
        finishes = [r.finish for r in pure.requests]
        same = [r.finish for r in res.run.requests] == finishes
        hw = res.hw_config
        print(f"RTL ({args.sim}, S={hw.slots}, {hw.predictor}, decision latency "
              f"{hw.decide_latency} cycles): {res.commands} commands, {res.decisions} decisions, "
              f"{res.rtl_cycles} scheduler cycles, {res.run_s:.1f} s ({res.wall_s:.1f} s with the "
              f"build), {res.decisions_per_s:.0f} decisions/s; responses checked against the twin: "
              f"{'no' if args.no_check else 'all equal'}; per-request finish times equal to the "
              f"pure-Python dysta_hw run: {'yes' if same else 'NO'}")
        if sys_res is not None:
            counts_ok, layers = _monitor_counts_match(sys_res, workload, backend)
            sys_same = [r.finish for r in sys_res.run.requests] == finishes
            same = same and sys_same and counts_ok
            print(f"RTL system ({args.sim}, scheduler and {system.rows}x{system.cols} accelerator "
                  f"in one simulation): {layers} layers, {sys_res.accel_cycles} accelerator "
                  f"cycles, {sys_res.sim_cycles} simulated cycles in {sys_res.run_s:.1f} s "
                  f"({sys_res.cycles_per_s:.0f} cycles/s; {sys_res.wall_s:.1f} s with the "
                  f"build); responses checked against the twin: "
                  f"{'no' if args.no_check else 'all equal'}; monitor counts the scheduler saw "
                  f"equal to the exact model's: {'yes' if counts_ok else 'NO'}; per-request "
                  f"finish times equal to the exact-model co-simulation and the pure-Python "
                  f"dysta_hw run: {'yes' if sys_same else 'NO'}")
        if args.vcd and sys_res is not None:
            print(f"waveform of the whole system simulation: {args.vcd}")
        elif args.vcd:
            replay_vcd(hw, res.words[:wave_n], tmp_vcd)
            print(f"waveform of the first {min(wave_n, len(res.words))} commands: {args.vcd}")
        return 0 if same else 1


def _rtl_preflight(workload, backend, loaded, simulator: str, budget_s: float,
                   slots: int):
    """The accelerator of ``loaded``'s scenario, after checking the run fits ``budget_s``."""
    from .cosim import estimate_rtl_seconds

    acc = loaded.scenario.system[0]
    if workload.clock_hz != acc.clock_hz:
        raise InputError("--clock-mhz", "with --accel rtl", "the accelerator's clock "
                         f"({acc.clock_hz / 1e6:g} MHz)", f"{workload.clock_hz / 1e6:g} MHz")
    cycles, est_s = estimate_rtl_seconds(workload, backend, acc, simulator, slots=slots)
    log.info("--accel rtl: about %d accelerator cycles, ~%.0f s on %s", cycles, est_s,
             simulator)
    if est_s > budget_s:
        raise InputError("--accel rtl", f"{len(workload.requests)} requests of "
                         f"{loaded.scenario.name} on a {acc.rows}x{acc.cols} array, "
                         f"S = {slots}",
                         f"a run estimated under --rtl-budget-s {budget_s:g} s (use a smaller "
                         f"scenario such as cosim-tiny, fewer --requests, or raise "
                         f"--rtl-budget-s)",
                         f"about {cycles:.3g} accelerator cycles, ~{est_s:.3g} s on "
                         f"{simulator}")
    return acc


def _monitor_counts_match(sys_res, workload, backend) -> tuple[bool, int]:
    """Whether each layer's (non-zero, total) the scheduler was sent equals the exact
    model's for that request's sample (and the layers are those the engine ran)."""
    by_id = {r.id: r for r in workload.requests}
    layers = sys_res.run.layers
    if len(layers) != len(sys_res.events):
        return False, len(layers)
    for rec, ev in zip(layers, sys_res.events, strict=True):
        req = by_id[rec.request]
        ref = backend.layer(0, workload.models[req.model], rec.layer, req.sample)
        if (ev.nnz, ev.total) != (ref.nnz, ref.total) or (rec.nnz, rec.total) != (ev.nnz,
                                                                                  ev.total):
            return False, len(layers)
    return True, len(layers)
