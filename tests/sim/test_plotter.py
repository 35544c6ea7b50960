"""The plot process of ``mmsched run`` (sim/_plotter.py): the same files as drawing here,
errors raised in the command, no process left behind, drawing here when it is gone."""

import multiprocessing as mp
import os
import signal

import pytest

from mmsched.sim import report
from mmsched.sim._plotter import plotter

from .test_report import _layer_rows, _request_rows, _summary_rows

pytestmark = pytest.mark.skipif("fork" not in mp.get_all_start_methods(),
                                reason="the plot process needs fork")


def _run_folder(path):
    path.mkdir()
    (path / "summary.csv").write_text(report.csv_text(_summary_rows()))
    (path / "requests.csv").write_text(report.csv_text(_request_rows()))
    (path / "layers.csv").write_text(report.csv_text(_layer_rows()))
    return path


def _plotters():
    return [p for p in mp.active_children() if p.name == "mmsched-plots"]


def test_plot_process_draws_the_same_files(tmp_path):
    here = _run_folder(tmp_path / "here")
    there = _run_folder(tmp_path / "there")
    _, mine = report.write_report(here)
    with plotter() as draw:
        assert _plotters(), "a plot process runs in the block"
        _, theirs = report.write_report(there, draw=draw)
    assert [p.name for p in mine] == [p.name for p in theirs]
    for a, b in zip(mine, theirs, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert not _plotters()


@pytest.mark.parametrize("figure", ["plot_latency_cdf", "plot_gantt"])
def test_an_error_while_drawing_is_raised_here(tmp_path, monkeypatch, figure):
    """In the plot process (the CDF) or in the process it forks for every other figure (the
    Gantt chart)."""
    def broken(*args):
        raise ValueError("cannot draw this")

    monkeypatch.setattr(report, figure, broken)  # the forked process inherits it
    folder = _run_folder(tmp_path / "r")
    with pytest.raises(ValueError, match="cannot draw this"), plotter() as draw:
        report.write_report(folder, draw=draw)
    assert not _plotters()


def test_the_process_is_stopped_when_the_block_raises():
    with pytest.raises(KeyboardInterrupt), plotter():
        assert _plotters()
        raise KeyboardInterrupt
    assert not _plotters()


def test_plots_are_drawn_here_when_the_process_is_gone(tmp_path):
    folder = _run_folder(tmp_path / "r")
    with plotter() as draw:
        (proc,) = _plotters()
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)
        _, written = report.write_report(folder, draw=draw)
    assert (folder / "latency_cdf.png").read_bytes()[:4] == b"\x89PNG"
    assert {p.name for p in written} >= {"gantt.png", "latency_cdf.png"}


def test_disabled_plotter_starts_no_process(tmp_path):
    with plotter(False) as draw:
        assert not _plotters()
        _, written = report.write_report(_run_folder(tmp_path / "r"), draw=draw)
    assert {p.name for p in written} >= {"gantt.png", "latency_cdf.png"}


def test_background_lowers_only_the_plot_process_priority():
    """Before worker processes start, the plot process yields the CPU to them; until then
    it runs at the command's priority (its import is on the command's critical path)."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    with plotter() as draw:
        (proc,) = _plotters()
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == mine
        draw.background()
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == 19
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_send_cut_short_prints_nothing_and_draws_here(tmp_path, capfd):
    """The pipe closed under the sending thread (the command's block ending on an interrupt
    while the job is sent: the connection's handle is None by then): no traceback from the
    thread, and the plots are drawn in this process when asked for."""
    from mmsched.sim._plotter import _Remote

    class Closed:
        def send(self, obj):
            raise TypeError("'NoneType' object cannot be interpreted as an integer")

        def recv(self):
            raise AssertionError("nothing was sent: nothing to receive")

    folder = _run_folder(tmp_path / "r")
    run = report.load_run(folder)
    written = _Remote(Closed(), pid=0).start(folder, report.aggregate_rows(run["summary.csv"]),
                                             run)()
    assert {p.name for p in written} >= {"gantt.png", "latency_cdf.png"}
    assert "Traceback" not in capfd.readouterr().err
