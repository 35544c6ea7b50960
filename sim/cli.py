"""The ``mmsched`` command: one subcommand per module, imported only when used.

Each subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``main(args) -> int``. Bad input (`InputError`, `ValueError` from validation) prints one
``error:`` line and exits 2; the library itself never prints (logging only).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from mmsched.sched.errors import InputError

COMMANDS = {
    "run": "mmsched.sim.cmd_run",
    "report": "mmsched.sim.cmd_report",
    "scenarios": "mmsched.sim.cmd_scenarios",
    "profile": "mmsched.sim.cmd_profile",
    "profile-sparsity": "mmsched.sim.cmd_profile_sparsity",
    "models": "mmsched.sim.cmd_models",
    "layer-cycles": "mmsched.sim.cmd_layer_cycles",
    "verilog": "mmsched.sim.cmd_verilog",
    "cosim": "mmsched.sim.cmd_cosim",
}
"""Subcommand -> module. A module not written yet is listed by `mmsched --help` as such."""

EXIT_BAD_INPUT = 2


def _load(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            return None
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``mmsched`` parser. ``only``: a subcommand whose options alone are set up (the
    others are listed but their ``add_arguments``, which may import heavy modules, is not
    called: `main` passes the command being run)."""
    parser = argparse.ArgumentParser(
        prog="mmsched",
        description="Co-simulation of sparse multi-DNN scheduling on sparse accelerators.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        mod = _load(module)
        if mod is None:
            continue
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        if only is None or name == only:
            mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=next((w for w in words if w in COMMANDS), None))
    args = parser.parse_args(argv)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_main", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args._main(args) or 0)
    except (InputError, ValueError) as e:
        print(f"mmsched {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
