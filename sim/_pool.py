"""Local worker processes that never outlive their command.

`process_pool` is a `concurrent.futures.ProcessPoolExecutor` whose workers leave Ctrl-C to
the main process (a terminal sends SIGINT to the whole process group) and die at once on
SIGTERM; when the body raises (an error, KeyboardInterrupt, the CLI's SIGTERM exception),
pending work is cancelled and the workers are terminated and reaped before the exception
goes on, so no worker is left spinning or sleeping after an interrupted sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ._signals import deferred, reset_in_worker

__all__ = ["process_pool"]


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    reset_in_worker()  # forked inside `deferred` (`_Pool.submit`), with the CLI's handlers
    if initializer is not None:
        initializer(*initargs)


class _Pool(cf.ProcessPoolExecutor):
    def submit(self, fn, /, *args, **kwargs):
        with deferred():  # workers are forked here: none may start with the CLI's handlers
            return super().submit(fn, *args, **kwargs)


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel what has not started, terminate the worker processes and reap them."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public handle <3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join(timeout=5)


@contextlib.contextmanager
def process_pool(max_workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple = (), **kwargs: Any) -> Iterator[cf.ProcessPoolExecutor]:
    """A process pool for the body (``kwargs``: e.g. ``mp_context``); on normal exit it is
    shut down waiting for its work, on any exception its workers are terminated first."""
    pool = _Pool(max_workers=max_workers, initializer=_start_worker,
                                  initargs=(initializer, initargs), **kwargs)
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
