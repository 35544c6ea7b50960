"""``mmsched verilog TARGET``: write the Verilog of an RTL top and its configuration (JSON).

Targets are entries of `TARGETS` (name -> `Target`): a one-line help, the target's options and
a builder returning the configuration of the top of that name (`mmsched.sim.rtl.build.TOPS`).
The text is `mmsched.sim.rtl.build.verilog_text`'s, the same every simulator here runs (with
the Icarus time-0 fix, inert elsewhere), so testbenches run on it as written (see
docs/testbenches.md). ``--name`` must be a Verilog identifier and ``-o`` a writable folder,
both checked first; files are written atomically (`mmsched.hw.paths.atomic_write`).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HELP = "write the Verilog of an RTL top (accelerator, ...) and its configuration JSON"


@dataclass(frozen=True)
class Target:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace], Any]


def _accel_arguments(p: argparse.ArgumentParser) -> None:
    from .cmd_layer_cycles import add_config_arguments

    add_config_arguments(p)
    p.add_argument("--dense", action="store_true", help="dense mode (no skipping)")


def _accel_build(args: argparse.Namespace):
    from .cmd_layer_cycles import config_from_args

    return config_from_args(args)


def _sched_arguments(p: argparse.ArgumentParser) -> None:
    from mmsched.hw.spec import SchedulerConfig

    d = SchedulerConfig()
    for name in ("slots", "models", "patterns", "layers", "wait_shift", "fair_shift"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(d, name),
                       help=f"SchedulerConfig.{name} (default {getattr(d, name)})")
    p.add_argument("--predictor", default=d.predictor, choices=("avg", "last-one"))
    p.add_argument("--beta", type=float, default=d.beta, help=f"default {d.beta}")


def _sched_config(args: argparse.Namespace):
    from mmsched.hw.spec import SchedulerConfig

    return SchedulerConfig(slots=args.slots, models=args.models, patterns=args.patterns,
                           layers=args.layers, predictor=args.predictor, beta=args.beta,
                           wait_shift=args.wait_shift, fair_shift=args.fair_shift)


def _sched_build(args: argparse.Namespace):
    return _sched_config(args)


def _system_arguments(p: argparse.ArgumentParser) -> None:
    _sched_arguments(p)
    _accel_arguments(p)
    p.add_argument("--accelerators", type=int, default=1,
                   help="identical accelerators next to the scheduler (default 1)")


def _system_build(args: argparse.Namespace):
    from mmsched.sim.rtl.build import SystemConfig

    from .cmd_layer_cycles import config_from_args

    if args.accelerators < 1:
        raise ValueError(f"--accelerators must be a positive integer, not {args.accelerators}")
    return SystemConfig(_sched_config(args), (config_from_args(args),) * args.accelerators)


TARGETS: dict[str, Target] = {
    "accelerator": Target("the sparse systolic accelerator top (hw/accel)", _accel_arguments,
                          _accel_build),
    "scheduler": Target("the Dysta hardware scheduler (hw/dysta)", _sched_arguments,
                        _sched_build),
    "system": Target("the Dysta scheduler plus accelerators (hw/system.py)", _system_arguments,
                     _system_build),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, t in TARGETS.items():
        tp = sub.add_parser(name, help=t.help, description=t.help)
        t.add_arguments(tp)
        tp.add_argument("-o", "--out", default="build", help="output folder (default build/)")
        tp.add_argument("--name", default=None, help="top module name (default: the target's)")


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
"""A top module name: a plain Verilog identifier (also a safe file name in ``--out``)."""


def main(args: argparse.Namespace) -> int:
    from mmsched.hw.paths import atomic_write
    from mmsched.sched.errors import InputError
    from mmsched.sim.rtl.build import TOPS, config_data, verilog_text

    from ._atomic import check_writable

    name = TOPS[args.target].module if args.name is None else args.name
    if not _IDENTIFIER.fullmatch(name):
        raise InputError("--name", "", "a Verilog identifier (a letter or _, then letters, "
                         "digits or _; at most 128)", repr(name))
    out = Path(args.out)
    check_writable(out, "-o/--out", folder=True)  # before the (slow) elaboration
    config = TARGETS[args.target].build(args)
    text = verilog_text(args.target, config, name=name)
    atomic_write(out / f"{name}.json", json.dumps(config_data(args.target, config), indent=1)
                 + "\n")
    atomic_write(out / f"{name}.v", text)
    print(f"wrote {out / (name + '.v')} ({len(text.splitlines())} lines) and "
          f"{out / (name + '.json')}")
    return 0
