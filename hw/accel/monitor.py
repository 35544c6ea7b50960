"""The sparsity monitor and activity counters reported with a job's completion."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import AcceleratorConfig

from .layouts import check_config, done_layout


class Monitor(wiring.Component):
    """Counts, per job, what the done record reports (`mmsched.hw.spec.DONE_FIELDS`).

    Parameters
    ----------
    config : AcceleratorConfig

    Ports
    -----
    clear : In(1)
        At this edge: ``cycles <= 1`` (the command-accept cycle), every other counter 0.
    busy : In(1)
        Count this cycle in ``cycles``.
    lane_load : In(1)
        The lanes take a new chunk at this edge; with ``count_nnz`` it adds ``sum(lane_nnz)``
        to ``nnz`` and ``chunk_rows * valid_rows`` to ``total`` (the monitor of Dysta: the
        non-zeros of the layer's input activations, counted once per job row-chunk).
    count_nnz : In(1)
    lane_nnz : In(ArrayLayout(range(chunk_depth + 1), rows))
    chunk_rows : In(range(chunk_depth + 1)), valid_rows : In(range(rows + 1))
    lane_valid : In(rows)
        Stream elements leaving the lanes this cycle; ``macs += popcount * valid_cols``.
    valid_cols : In(range(cols + 1))
    act_read : In(1)
        An activation fetch this cycle (``valid_rows`` words read).
    wt_read, out_write : In(1)
        One weight-memory word read, one output word written this cycle.
    counts : Out(done record)
        The counters (registers), every field ``COUNTER_WIDTH`` bits, wrapping.

    ``latency``: an event at cycle t is in ``counts`` from cycle t + 1 (``cycles`` and the
    memory counts), t + 2 (``macs``) or t + 3 (``nnz``, ``total``): register stages for Fmax.
    """

    latency = 3

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        kc, R, C = config.chunk_depth, config.rows, config.cols
        super().__init__({
            "clear": In(1), "busy": In(1),
            "lane_load": In(1), "count_nnz": In(1),
            "lane_nnz": In(data.ArrayLayout(range(kc + 1), R)),
            "chunk_rows": In(range(kc + 1)), "valid_rows": In(range(R + 1)),
            "lane_valid": In(R), "valid_cols": In(range(C + 1)),
            "act_read": In(1), "wt_read": In(1), "out_write": In(1),
            "counts": Out(done_layout()),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        R, kc, C = cfg.rows, cfg.chunk_depth, cfg.cols
        m = Module()
        c = self.counts
        # Register stages before the wide counters: the lanes' non-zero counts (popcounts of
        # the activation-memory word) are registered, summed in the next cycle, and added in
        # the one after; the products likewise take one stage. This takes the memory ->
        # popcount -> sum -> 48-bit add path apart (it limited Fmax to 31 MHz at 8x8). The
        # done record is read at least 4 cycles after the last lane load (the last phase, the
        # flush and the drain follow it), so it is complete.
        s_nnz = [Signal(range(kc + 1), name=f"s_nnz{r}") for r in range(R)]  # stage 1
        s_count = Signal()
        s_total = Signal(range(R * kc + 1))
        d_nnz = Signal(range(R * kc + 1))  # stage 2
        d_total = Signal(range(R * kc + 1))
        d_macs = Signal(range(R * C + 1))
        ones = sum(self.lane_valid[r] for r in range(R))
        with m.If(self.lane_load & self.count_nnz):  # read only after such a cycle (s_count)
            m.d.sync += [s_nnz[r].eq(self.lane_nnz[r]) for r in range(R)]
        with m.If(self.clear):
            m.d.sync += [c.eq(0), c.cycles.eq(1), s_count.eq(0), d_nnz.eq(0), d_total.eq(0),
                         d_macs.eq(0)]
        with m.Else():
            m.d.sync += [
                s_count.eq(self.lane_load & self.count_nnz),
                s_total.eq(self.chunk_rows * self.valid_rows),
                d_nnz.eq(0), d_total.eq(0),
                d_macs.eq(ones * self.valid_cols),
                c.nnz.eq(c.nnz + d_nnz), c.total.eq(c.total + d_total),
                c.macs.eq(c.macs + d_macs),
            ]
            with m.If(s_count):
                m.d.sync += [d_nnz.eq(sum(s_nnz)), d_total.eq(s_total)]
            with m.If(self.busy):
                m.d.sync += c.cycles.eq(c.cycles + 1)
            with m.If(self.act_read):
                m.d.sync += c.act_reads.eq(c.act_reads + self.valid_rows)
            with m.If(self.wt_read):
                m.d.sync += c.wt_reads.eq(c.wt_reads + 1)
            with m.If(self.out_write):
                m.d.sync += c.out_writes.eq(c.out_writes + 1)
        return m
