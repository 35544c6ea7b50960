"""``mmsched layer-cycles``: cycles, non-zeros, total and energy of one GEMM layer.

A quick what-if: random masks at the given activation density and weight pattern, timed by
the exact cycle model (``analytic``) or an RTL simulator backend.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from mmsched.hw.spec import NAMED_CONFIGS, AcceleratorConfig
from mmsched.sched.model import Layer, Model

HELP = "cycles, non-zeros, total and energy of one GEMM layer on one accelerator"

_CFG_FIELDS = ("rows", "cols", "chunk_depth", "pe_buffer_depth", "load_rows_per_cycle",
               "data_width", "acc_width", "max_k", "act_mem_words", "wt_mem_words",
               "out_mem_words")


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """Accelerator configuration options (shared with ``mmsched verilog accelerator``)."""
    p.add_argument("--config", choices=sorted(NAMED_CONFIGS), default=None,
                   help="start from a named configuration (other options override it)")
    for f in _CFG_FIELDS:
        p.add_argument(f"--{f.replace('_', '-')}", type=int, default=None, metavar="N")
    p.add_argument("--clock-mhz", type=float, default=None)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arguments(p)
    p.add_argument("--m", type=int, required=True, help="GEMM rows (output pixels / tokens)")
    p.add_argument("--n", type=int, required=True, help="GEMM columns (output channels)")
    p.add_argument("--k", type=int, required=True, help="reduction length")
    p.add_argument("--groups", type=int, default=1)
    p.add_argument("--dense", action="store_true", help="dense mode (no skipping)")
    p.add_argument("--act-density", type=float, default=0.5,
                   help="fraction of non-zero activations (default 0.5)")
    p.add_argument("--weight-pattern", default="dense",
                   help="static weight pattern (dense, unstructured20, nm2of4, block4-50, "
                        "filter20, channel50, ...)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="analytic",
                   choices=("analytic", "amaranth", "icarus", "verilator"))
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")


def config_from_args(args: argparse.Namespace) -> AcceleratorConfig:
    base = NAMED_CONFIGS[args.config] if args.config else AcceleratorConfig()
    over = {f: getattr(args, f) for f in _CFG_FIELDS if getattr(args, f) is not None}
    if args.dense:
        over["dense"] = True
    if args.clock_mhz is not None:
        over["clock_hz"] = args.clock_mhz * 1e6
    if "chunk_depth" in over and "pe_buffer_depth" not in over:
        over["pe_buffer_depth"] = max(over["chunk_depth"], base.pe_buffer_depth)
    return dataclasses.replace(base, **over)


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.errors import InputError
    from mmsched.sched.limits import layer_limit
    from mmsched.sim.backends import make_backend
    from mmsched.sim.backends.analytic import UniformMasks

    for opt in ("m", "n", "k", "groups"):
        if getattr(args, opt) < 1:
            raise InputError(f"--{opt}", "", "a positive integer", str(getattr(args, opt)))
    if not 0 <= args.act_density <= 1:
        raise InputError("--act-density", "", "a fraction in [0, 1]", str(args.act_density))
    over = layer_limit(args.m, args.n, args.k)
    if over is not None:
        raise InputError("--m/--n/--k", "", *over)
    cfg = config_from_args(args)
    layer = Layer(name="gemm", kind="matmul", m=args.m, n=args.n, k=args.k, groups=args.groups,
                  weight_pattern=args.weight_pattern)
    model = Model(key=f"gemm_{args.weight_pattern}", arch="gemm", pattern=args.weight_pattern,
                  layers=(layer,))
    masks = UniformMasks(act_density=args.act_density, seed=args.seed,
                         weight_pattern=args.weight_pattern)
    backend = make_backend(args.backend, system=(cfg,), masks=masks)
    cnt = backend.counters(0, model, 0, args.seed)
    out = {"backend": args.backend, "config": cfg.name, "rows": cfg.rows, "cols": cfg.cols,
           "m": args.m, "n": args.n, "k": args.k, "groups": args.groups, "dense": cfg.dense,
           "act_density": args.act_density, "weight_pattern": args.weight_pattern,
           "seed": args.seed, "cycles": cnt.cycles, "seconds": cnt.cycles / cfg.clock_hz,
           "nnz": cnt.nnz, "total": cnt.total, "macs_issued": cnt.macs,
           "macs_skipped": cnt.macs_skipped, "act_reads": cnt.act_reads,
           "wt_reads": cnt.wt_reads, "out_writes": cnt.out_writes, "jobs": cnt.jobs,
           "dram_bytes": cnt.dram_bytes, "energy_pj": cnt.energy_pj(cfg)}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:15s} {v}")
    return 0
