"""The interrupt signals of a command (SIGINT, SIGTERM, SIGHUP) as exceptions, held back over
the few steps that must not be cut in two: the renames that publish an output folder, and the
fork of worker processes.

`install` (called once, by `mmsched.sim.cli`) makes SIGINT raise KeyboardInterrupt and
SIGTERM/SIGHUP raise `Interrupted` in the main thread, so ``finally`` blocks and context
managers clean up on the way out. Inside `deferred` a signal is only recorded, and raised
when the outermost `deferred` block ends. (Blocking the signals with ``pthread_sigmask`` is
not enough: a native thread, e.g. of the BLAS library, takes the signal instead and Python
still runs the handler in the main thread.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

__all__ = ["SIGNALS", "Interrupted", "deferred", "install", "reset_in_worker"]

SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, n))
"""The signals that interrupt a command."""

_depth = 0
_pending: list[int] = []


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived (SIGINT raises KeyboardInterrupt); ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Interrupted(signum)


def _handler(signum: int, frame) -> None:
    if _depth:
        _pending.append(signum)
        return
    _raise(signum)


def install() -> None:
    """Make `SIGNALS` raise (see the module docstring); a no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    for s in SIGNALS:
        signal.signal(s, _handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold `SIGNALS` back for the body: one arriving meanwhile is raised when the outermost
    block ends (after the body's own exception, if any, is handled by the caller)."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending:
            signum = _pending[0]
            _pending.clear()
            _raise(signum)


def reset_in_worker() -> None:
    """In a worker process forked by the CLI (possibly inside `deferred`): SIGINT ignored
    (Ctrl-C reaches the whole process group; the main process stops the workers), SIGTERM
    and SIGHUP back to their default action; a signal already recorded ends the process."""
    global _depth
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for s in SIGNALS:
        if s != signal.SIGINT:
            signal.signal(s, signal.SIG_DFL)
    _depth = 0
    pending = [s for s in _pending if s != signal.SIGINT]
    _pending.clear()
    if pending:
        os.kill(os.getpid(), pending[0])
