"""``mmsched verilog TARGET``: write the Verilog of an RTL top and its configuration (JSON).

Targets are entries of `TARGETS` (name -> `Target`): a one-line help, the target's options and
a builder returning (component, top-module name, configuration as plain data). A new top is one
entry. Files are written to a temporary name and renamed: nothing partial is left on error.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HELP = "write the Verilog of an RTL top (accelerator, ...) and its configuration JSON"


@dataclass(frozen=True)
class Target:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace], tuple[Any, str, dict]]


def _accel_arguments(p: argparse.ArgumentParser) -> None:
    from .cmd_layer_cycles import add_config_arguments

    add_config_arguments(p)
    p.add_argument("--dense", action="store_true", help="dense mode (no skipping)")


def _accel_build(args: argparse.Namespace) -> tuple[Any, str, dict]:
    from mmsched.hw.accel import Accelerator
    from mmsched.hw.accel.build import TOP_NAME

    from .cmd_layer_cycles import config_from_args

    cfg = config_from_args(args)
    return Accelerator(config=cfg), TOP_NAME, cfg.to_dict()


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


def _sched_build(args: argparse.Namespace) -> tuple[Any, str, dict]:
    import dataclasses

    from mmsched.hw.dysta import DystaScheduler

    cfg = _sched_config(args)
    return DystaScheduler(config=cfg), "dysta_sched", dataclasses.asdict(cfg)


def _system_arguments(p: argparse.ArgumentParser) -> None:
    _sched_arguments(p)
    _accel_arguments(p)
    p.add_argument("--accelerators", type=int, default=1,
                   help="identical accelerators next to the scheduler (default 1)")


def _system_build(args: argparse.Namespace) -> tuple[Any, str, dict]:
    from mmsched.hw.system import DystaSystem

    from .cmd_layer_cycles import config_from_args

    if args.accelerators < 1:
        raise ValueError(f"--accelerators must be a positive integer, not {args.accelerators}")
    import dataclasses

    sched = _sched_config(args)
    acc = config_from_args(args)
    top = DystaSystem(scheduler=sched, accelerators=(acc,) * args.accelerators)
    return top, "dysta_system", {"scheduler": dataclasses.asdict(sched),
                                 "accelerators": [acc.to_dict()] * args.accelerators}


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


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(args: argparse.Namespace) -> int:
    from amaranth.back import verilog

    component, top, config = TARGETS[args.target].build(args)
    name = args.name or top
    text = verilog.convert(component, name=name)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / f"{name}.json", json.dumps(config, indent=1) + "\n")
    _write(out / f"{name}.v", text)
    print(f"wrote {out / (name + '.v')} ({len(text.splitlines())} lines) and "
          f"{out / (name + '.json')}")
    return 0
