"""The ``mmsched`` command: one subcommand per module, imported only when used.

Each subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``main(args) -> int``. This module is the one place that turns failures into exit codes
(docs/errors.md):

- bad input (`InputError`, `ValueError` from validation) and an output or cache file that
  cannot be written (`OSError` naming a file): one ``error:`` line, exit 2;
- SIGINT (Ctrl-C), SIGTERM, SIGHUP: the command unwinds (worker processes stopped, staging
  folders removed), one line saying whether earlier results were kept, exit 128 + the signal
  number (130, 143, 129);
- a closed standard output (``mmsched scenarios | head -1``): quiet exit 141 (128 + SIGPIPE).

The library itself never prints (logging only).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys

from mmsched.sched.errors import InputError

from . import _signals

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


def _prog(args: argparse.Namespace) -> str:
    """``mmsched run``, or ``mmsched`` before a command is known: how messages begin."""
    return f"mmsched {args.command}" if args.command else "mmsched"


def _interrupted(args: argparse.Namespace, signum: int) -> int:
    """The one line after an interrupt, and the exit code 128 + ``signum``. A command with an
    ``--out`` (written atomically) says whether it was left as it was."""
    out = getattr(args, "out", None)
    what = ""
    if out is not None:
        kept = os.path.lexists(out)
        what = f"; earlier results kept in {out}" if kept else "; nothing written"
    print(f"{_prog(args)}: interrupted ({signal.Signals(signum).name}){what}",
          file=sys.stderr)
    return 128 + signum


def _stdout_closed() -> int:
    """The reader of stdout went away: nothing more to say to it (and no flush error at
    exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)


def main(argv: list[str] | None = None) -> int:
    _signals.install()
    args = argparse.Namespace(command=None)  # until parsed (an interrupt there is quiet too)
    try:
        words = sys.argv[1:] if argv is None else argv
        parser = build_parser(only=next((w for w in words if w in COMMANDS), None))
        args = parser.parse_args(argv)
        logging.basicConfig(level=(logging.WARNING, logging.INFO,
                                   logging.DEBUG)[min(args.verbose, 2)],
                            format="%(levelname)s %(name)s: %(message)s")
        if not getattr(args, "_main", None):
            parser.print_help()
            return EXIT_BAD_INPUT
        code = int(args._main(args) or 0)
        sys.stdout.flush()
        return code
    except (InputError, ValueError) as e:
        print(f"{_prog(args)}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return _interrupted(args, signal.SIGINT)
    except _signals.Interrupted as e:
        return _interrupted(args, e.signum)
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as e:
        if e.filename is None:
            raise
        print(f"{_prog(args)}: error: {e.filename}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
