"""A process that draws a run's plots, started before the run's serial start.

Importing matplotlib costs about 0.3 s of CPU; drawing follows once every row exists. `plotter`
forks one process when the command starts: it imports matplotlib while this process loads its
inputs (a core that would otherwise sit idle), then waits. When the rows exist, ``draw.start``
sends them over a pipe, and the process draws into the same folder
(`mmsched.sim.report.draw_plots`) while this one writes the files; it answers with the paths
written, or the exception raised.

Only where ``fork`` exists (no re-import of the program; Linux, macOS); elsewhere, and if the
process is gone, the plots are drawn in this process. The process leaves SIGINT to this one
and dies with it (`mmsched.sim._signals.reset_in_worker`); it is stopped when the block ends,
on an error or interrupt too.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._signals import deferred, reset_in_worker

__all__ = ["plotter"]


def _serve(conn, parent_end) -> None:
    reset_in_worker()
    parent_end.close()  # so that a recv here sees the end of the command
    from .report import _pyplot, plot_jobs

    _pyplot()  # the import this process exists for
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the command ended
            return
        if job is None:
            return
        try:
            conn.send((True, _draw_split(plot_jobs(*job))))
        except Exception as e:
            conn.send((False, e))


def _draw_split(jobs: list[Callable[[], list[Path]]]) -> list[Path]:
    """Run the figure ``jobs``, every other one in a process forked from this one (matplotlib
    imported, the rows in memory: nothing to send) when there are two or more and a second
    CPU; the paths written, in job order. The fork's exception is raised here; if it dies
    without a word, its jobs are drawn here."""
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return [p for job in jobs for p in job()]
    theirs_idx = range(1, len(jobs), 2)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fork: draw, answer, leave without running any exit handler
        code = 0
        try:
            os.close(r)
            try:
                answer = (True, [jobs[i]() for i in theirs_idx])
            except Exception as e:
                answer = (False, e)
            with os.fdopen(w, "wb") as f:
                try:
                    pickle.dump(answer, f)
                except Exception as e:  # an exception that does not pickle
                    pickle.dump((False, RuntimeError(repr(e))), f)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    try:
        mine = {i: jobs[i]() for i in range(0, len(jobs), 2)}
    finally:
        with os.fdopen(r, "rb") as f:
            data = f.read()
        os.waitpid(pid, 0)
    if data:
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        theirs = dict(zip(theirs_idx, value, strict=True))
    else:
        theirs = {i: jobs[i]() for i in theirs_idx}
    return [p for i in range(len(jobs)) for p in (mine[i] if i % 2 == 0 else theirs[i])]


def _local(folder: Path, agg: list, run: dict[str, Any]) -> list[Path]:
    from .report import draw_plots

    return draw_plots(folder, agg, run)


class _Local:
    """Draws in this process, when the result is asked for."""

    def start(self, folder: Path, agg: list, run: dict[str, Any]) -> Callable[[], list[Path]]:
        return lambda: _local(folder, agg, run)

    def __call__(self, folder: Path, agg: list, run: dict[str, Any]) -> list[Path]:
        return self.start(folder, agg, run)()

    def background(self) -> None:
        """Worker processes are starting: the plot process takes only the CPU they leave."""


class _Remote(_Local):
    """Draws in the plot process: `start` sends the job (from a thread: the process may still
    be importing matplotlib, and a large job fills the pipe) and returns the wait for the
    paths written; the plots are drawn here if the process is gone."""

    def __init__(self, conn, pid: int) -> None:
        self.conn = conn
        self.pid = pid

    def background(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # (no setpriority: not POSIX)
            os.setpriority(os.PRIO_PROCESS, self.pid, 19)

    def start(self, folder: Path, agg: list, run: dict[str, Any]) -> Callable[[], list[Path]]:
        sent: list[bool] = []

        def send() -> None:
            # The process gone (OSError), or the pipe closed under this thread by the end of
            # the block (an error or interrupt in the command: ValueError, or TypeError once
            # the connection's handle is None): nothing sent, and nothing to report here.
            with contextlib.suppress(OSError, ValueError, TypeError):
                self.conn.send((folder, agg, run))
                sent.append(True)

        sender = threading.Thread(target=send, name="mmsched-plots-send", daemon=True)
        sender.start()

        def wait() -> list[Path]:
            sender.join()
            try:
                if not sent:
                    raise EOFError
                ok, value = self.conn.recv()
            except (EOFError, OSError):  # the process is gone: draw here
                return _local(folder, agg, run)
            if not ok:
                raise value
            return value

        return wait


@contextlib.contextmanager
def plotter(enabled: bool = True) -> Iterator[_Local]:
    """``draw(folder, agg, run)`` for the block: `mmsched.sim.report.draw_plots` in the plot
    process (started now), or in this process when ``enabled`` is false or ``fork`` is not
    available. ``draw.start(folder, agg, run)`` starts drawing and returns the wait for the
    paths written."""
    if not enabled or "fork" not in mp.get_all_start_methods():
        yield _Local()
        return
    ctx = mp.get_context("fork")
    conn, child = ctx.Pipe()
    with deferred():  # the child must not start with the command's signal handlers
        proc = ctx.Process(target=_serve, args=(child, conn), name="mmsched-plots", daemon=True)
        proc.start()
    child.close()
    try:
        yield _Remote(conn, proc.pid)
        with contextlib.suppress(OSError):
            conn.send(None)  # done: the process returns
        proc.join(timeout=5)
    finally:
        conn.close()
        if proc.is_alive():  # an error or interrupt in the block, or a stuck process
            proc.terminate()
        proc.join(timeout=5)
