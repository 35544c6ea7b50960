"""``mmsched scenarios``: list the shipped scenarios (or given files) with their load.

The load at a rate is the offered work over the system's capacity: ``rate x mean isolated
latency / accelerators`` for Poisson scenarios (model keys drawn uniformly; isolated latencies
on accelerator 0), and for periodic ones the load of `ProfiledScenario.periodic_load` (``sum
of fps x cascade probability x isolated latency on the model's fastest accelerator /
accelerators``, docs/realtime.md), with isolated latencies from the exact cycle model, or
from the tables of a synthetic set.

Listing never profiles (it reads the scenario files alone, in well under a second): where the
profiles are cached or shipped with the package the load is exact; otherwise it is an
estimate, printed ``~0.41 (est.)``: each layer's cycles from the exact cycle model in dense
mode (`mmsched.hw.cyclemodel.cycles.dense_cycles`, from the shape: no mask is drawn) times
the mean density of its input activations in the sparsity profile over the profiling samples
(1 for dense inputs). The estimate ignores the load imbalance between rows (the busiest row
sets a chunk's time), so it is low for layers with a large spread; ``mmsched profile NAME``
makes it exact.
"""

from __future__ import annotations

import argparse
import math

from mmsched.sched.errors import InputError

HELP = "list scenarios with their models, system and load at a given rate"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="*", metavar="NAME_OR_FILE",
                   help="scenario names or TOML files, optionally NAME:VARIANT for a system "
                        "variant (default: every shipped scenario)")
    p.add_argument("--rate", type=float, default=None,
                   help="arrival rate in req/s for the load column (default: each scenario's "
                        "own rates)")
    p.add_argument("--no-load", action="store_true",
                   help="skip the load column")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="profile cache folder (default $MMSCHED_CACHE_DIR or the user cache)")


def _synthetic_load_text(sc, rate: float | None) -> str:
    """Load of a synthetic table set: rate x the mean over its keys of the mean isolated
    latency (one engine)."""
    from mmsched.sched.static import static_tables
    from mmsched.sched.synthetic import synthetic_tables

    tables, _ = synthetic_tables(sc.synthetic)
    st = static_tables(tables, time_unit="seconds")
    iso = sum(p.isolated_latency for p in st.pattern.values()) / len(st.pattern)
    rates = (rate,) if rate is not None else sc.rates
    return ", ".join(f"{r:g}/s: {r * iso:.2f}" for r in rates)


def _load_text(ls, rate: float | None) -> str:
    sc = ls.scenario
    n_acc = len(sc.system)
    if sc.arrivals == "periodic":
        return f"{ls.periodic_load():.2f}"
    rates = (rate,) if rate is not None else sc.rates
    return ", ".join(f"{r:g}/s: {ls.load(r) / n_acc:.2f}" for r in rates)


def _estimate_iso_s(sc, accelerator: int = 0) -> dict[str, float]:
    """Estimated isolated latency (seconds) of every model key on ``accelerator`` (module
    docstring): dense-mode cycles (`dense_cycles`, from the layer shape) x mean profiled
    input density, layer by layer."""
    from mmsched.hw.cyclemodel.cycles import dense_cycles
    from mmsched.sim.profiled import mask_source

    cfg = sc.system[accelerator]
    masks, _ = mask_source(sc)
    samples = list(sc.profiling_samples)
    out = {}
    for e in sc.models:
        for m in e.models():
            cycles = 0.0
            for j, la in enumerate(m.layers):
                dens = sum(masks.layer_stats(m, j, s).density for s in samples) / len(samples)
                cycles += dense_cycles(cfg, la.groups, la.m, la.n, la.k) * dens
            out[m.key] = cycles / cfg.clock_hz
    return out


def _estimate_text(sc, rate: float | None) -> str:
    n_acc = len(sc.system)
    if sc.arrivals == "periodic":  # as ProfiledScenario.periodic_load, on estimates
        per_config: dict[str, dict[str, float]] = {}
        for a, cfg in enumerate(sc.system):
            if repr(cfg) not in per_config:
                per_config[repr(cfg)] = _estimate_iso_s(sc, a)
        work = 0.0
        for e in sc.models:
            fastest = min(sum(iso[f"{e.arch}_{q}"] for q in e.patterns) / len(e.patterns)
                          for iso in per_config.values())
            work += (e.fps or 0.0) * sc.run_probability(e.arch) * fastest
        return f"~{work / n_acc:.2f} (est.)"
    iso = _estimate_iso_s(sc)
    mean = sum(iso.values()) / len(iso)
    rates = (rate,) if rate is not None else sc.rates
    return ", ".join(f"{r:g}/s: ~{r * mean / n_acc:.2f} (est.)" for r in rates)


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.scenario import builtin_scenario_names, find_scenario
    from mmsched.sim.profiled import profile_scenario

    if args.rate is not None and not (math.isfinite(args.rate) and args.rate > 0):
        raise InputError("--rate", "", "a finite number of requests/s > 0", f"{args.rate:g}")
    names = args.scenarios or builtin_scenario_names()
    # validate all before any output
    scenarios = [find_scenario(n, option="scenarios") for n in names]
    rows = [("scenario", "arrivals", "system", "variants", "models", "load")]
    for sc in scenarios:
        if sc.source == "synthetic":
            models = f"synthetic set {sc.synthetic}"
            load = "-" if args.no_load else _synthetic_load_text(sc, args.rate)
        else:
            keys = sum(len(e.patterns) for e in sc.models)
            models = f"{keys} keys ({','.join(e.arch for e in sc.models)})"
            ls = None if args.no_load else profile_scenario(sc, cache_dir=args.cache_dir,
                                                             only_cached=True)
            load = ("-" if args.no_load else _load_text(ls, args.rate) if ls is not None
                    else _estimate_text(sc, args.rate))
        rows.append((sc.label, sc.arrivals, "+".join(c.name for c in sc.system),
                     ",".join(n for n, _ in sc.variants) or "-", models, load))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0
