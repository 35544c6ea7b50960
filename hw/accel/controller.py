"""The controller: runs one job (a GEMM that fits the on-chip memories) tile by tile."""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from mmsched.hw.spec import JOB_OVERHEAD_CYCLES, AcceleratorConfig

from .layouts import check_config, command_layout, done_layout


class Controller(wiring.Component):
    """Sequences a job: tiles (m-tile major, n-tile minor), chunks, flush and drain.

    The timing (hw/spec/accelerator.py) as the FSM runs it, for one job accepted at cycle a:

    - ``START`` (cycle a+1): reset the tile pointers.
    - per tile: ``PRELOAD`` fetches chunk 0 (weight loader start, activation word read in
      its first cycle) and lasts until the loader is idle: L(0) = nwords + 2 cycles; the
      lanes load chunk 0 at its last edge. ``PHASE`` streams chunk c; in its first cycle it
      fetches chunk c+1 (if any) into the other bank; it ends in the first cycle where every
      lane has at most one element left and the loader is idle: P = max(S, L(c+1), 1); the
      lanes then load chunk c+1, or the FSM moves on to ``FLUSH`` (``cols`` cycles) and
      ``DRAIN`` (``rows`` cycles: the array shifts down, the bottom row is written to the
      output memory at ``out_base + tile_index*rows + r`` for rows r with m < M).
    - ``DONE``: the done record is valid from cycle e with ``cycles`` = e - a; it waits for
      ``done.ready``, then ``IDLE`` accepts the next command.

    Memory layouts a host must follow (word addresses):

    - activations: bank r, ``act_base + mt*chunks + c`` = row ``mt*rows + r``, chunk c
      (zero-padded beyond K);
    - weights: ``wt_base + (nt*chunks + c)*words_per_chunk + w`` = rows
      ``c*chunk_depth + w*load_rows_per_cycle + i``, columns ``nt*cols + j`` (zero-padded);
    - outputs: ``out_base + (mt*n_tiles + nt)*rows + r``.

    ``latency`` = JOB_OVERHEAD_CYCLES (``START`` plus the step into ``DONE``): the job's
    cycles are its tiles' cycles plus ``latency``.
    """

    latency = JOB_OVERHEAD_CYCLES

    def __init__(self, *, config: AcceleratorConfig) -> None:
        check_config(self, config)
        self._cfg = config
        R, C, kc = config.rows, config.cols, config.chunk_depth
        wpc = max(2, config.words_per_chunk)
        super().__init__({
            "cmd": In(stream.Signature(command_layout(config))),
            "done": Out(stream.Signature(done_layout())),
            "counts": In(done_layout()),
            "busy": Out(1),
            "act_rd_addr": Out(config.act_addr_width), "act_rd_en": Out(1),
            "ld_start": Out(1), "ld_base": Out(config.wt_addr_width),
            "ld_nwords": Out(range(wpc + 1)), "ld_bank": Out(1), "ld_idle": In(1),
            "lane_load": Out(1), "lane_kvalid": Out(kc), "lane_bank": Out(1),
            "lane_row_valid": Out(R), "lane_last": In(R),
            "shift": Out(1), "out_wr_en": Out(1), "out_wr_addr": Out(config.out_addr_width),
            "mon_clear": Out(1), "mon_busy": Out(1), "mon_count_nnz": Out(1),
            "mon_chunk_rows": Out(range(kc + 1)), "mon_valid_rows": Out(range(R + 1)),
            "mon_valid_cols": Out(range(C + 1)), "mon_act_read": Out(1),
        })

    @property
    def config(self) -> AcceleratorConfig:
        return self._cfg

    def elaborate(self, platform) -> Module:
        cfg = self._cfg
        R, C, kc, lw = cfg.rows, cfg.cols, cfg.chunk_depth, cfg.load_rows_per_cycle
        wpc = cfg.words_per_chunk
        m = Module()

        job = Signal(command_layout(cfg))
        m0 = Signal(cfg.m_width + 1)
        n0 = Signal(cfg.n_width + 1)
        c0 = Signal(cfg.k_width + 1)
        ci = Signal(range(cfg.max_k + 1))
        nchunks = Signal.like(ci)
        wt_ptr = Signal(cfg.wt_addr_width + 1)
        tile_wt = Signal.like(wt_ptr)
        mt_act = Signal(cfg.act_addr_width + 1)
        tile_out = Signal(cfg.out_addr_width + 1)
        cnt = Signal(range(max(R, C) + 1))
        first = Signal()  # first cycle of PRELOAD / PHASE: fetch
        fetch_rows = Signal(range(kc + 1))
        fetch_bank = Signal()

        # --- combinational tile facts
        valid_rows = Signal(range(R + 1))
        valid_cols = Signal(range(C + 1))
        m.d.comb += [
            valid_rows.eq(Mux(job.m - m0 >= R, R, job.m - m0)),
            valid_cols.eq(Mux(job.n - n0 >= C, C, job.n - n0)),
            self.lane_row_valid.eq(Cat(*(m0 + r < job.m for r in range(R)))),
            self.mon_valid_rows.eq(valid_rows), self.mon_valid_cols.eq(valid_cols),
            self.mon_count_nnz.eq(job.monitor & (n0 == 0)),
            self.mon_chunk_rows.eq(fetch_rows),
            self.lane_kvalid.eq(Cat(*(Const(i, range(kc + 1)) < fetch_rows
                                      for i in range(kc)))),
            self.lane_bank.eq(fetch_bank),
        ]
        nwords_of = Array(Const(-(-r // lw), range(wpc + 1)) for r in range(kc + 1))
        has_next = Signal()
        m.d.comb += has_next.eq(c0 + kc < job.k)

        def fetch(f_c0, f_ci, f_wt, f_bank):
            rows = Signal(range(kc + 1), name="f_rows")
            m.d.comb += [
                rows.eq(Mux(job.k - f_c0 >= kc, kc, job.k - f_c0)),
                self.ld_start.eq(1), self.ld_base.eq(f_wt), self.ld_nwords.eq(nwords_of[rows]),
                self.ld_bank.eq(f_bank),
                self.act_rd_en.eq(1), self.act_rd_addr.eq(mt_act + f_ci),
                self.mon_act_read.eq(1),
            ]
            m.d.sync += [fetch_rows.eq(rows), fetch_bank.eq(f_bank)]

        def enter_tile(wt):
            m.d.sync += [ci.eq(0), c0.eq(0), wt_ptr.eq(wt), tile_wt.eq(wt), first.eq(1)]

        with m.FSM(name="ctrl"):
            with m.State("IDLE"):
                m.d.comb += self.cmd.ready.eq(1)
                with m.If(self.cmd.valid):
                    m.d.sync += job.eq(self.cmd.payload)
                    m.d.comb += self.mon_clear.eq(1)
                    m.next = "START"
            with m.State("START"):
                m.d.comb += self.mon_busy.eq(1)
                m.d.sync += [m0.eq(0), n0.eq(0), mt_act.eq(job.act_base),
                             tile_out.eq(job.out_base)]
                enter_tile(job.wt_base)
                m.next = "PRELOAD"
            with m.State("PRELOAD"):
                m.d.comb += self.mon_busy.eq(1)
                with m.If(first):
                    fetch(c0, ci, wt_ptr, 0)
                    m.d.sync += first.eq(0)
                with m.Elif(self.ld_idle):
                    m.d.comb += self.lane_load.eq(1)
                    m.d.sync += first.eq(1)
                    m.next = "PHASE"
            with m.State("PHASE"):
                m.d.comb += self.mon_busy.eq(1)
                with m.If(first & has_next):
                    fetch(c0 + kc, ci + 1, wt_ptr + wpc, ~ci[0])
                m.d.sync += first.eq(0)
                with m.If(self.lane_last.all() & self.ld_idle & ~(first & has_next)):
                    with m.If(has_next):
                        m.d.comb += self.lane_load.eq(1)
                        m.d.sync += [ci.eq(ci + 1), c0.eq(c0 + kc), wt_ptr.eq(wt_ptr + wpc),
                                     first.eq(1)]
                    with m.Else():
                        m.d.sync += [nchunks.eq(ci + 1), cnt.eq(0)]
                        m.next = "FLUSH"
            with m.State("FLUSH"):
                m.d.comb += self.mon_busy.eq(1)
                m.d.sync += cnt.eq(cnt + 1)
                with m.If(cnt == C - 1):
                    m.d.sync += cnt.eq(0)
                    m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += self.mon_busy.eq(1)
                row = Signal(range(R), name="drain_row")
                m.d.comb += [row.eq(R - 1 - cnt), self.shift.eq(1),
                             self.out_wr_en.eq(m0 + row < job.m),
                             self.out_wr_addr.eq(tile_out + row)]
                m.d.sync += cnt.eq(cnt + 1)
                with m.If(cnt == R - 1):
                    m.d.sync += [cnt.eq(0), tile_out.eq(tile_out + R)]
                    with m.If(n0 + C >= job.n):
                        m.d.sync += [n0.eq(0), m0.eq(m0 + R), mt_act.eq(mt_act + nchunks)]
                        enter_tile(job.wt_base)
                        with m.If(m0 + R >= job.m):
                            m.next = "DONE"
                        with m.Else():
                            m.next = "PRELOAD"
                    with m.Else():
                        m.d.sync += n0.eq(n0 + C)
                        enter_tile(wt_ptr + wpc)
                        m.next = "PRELOAD"
            with m.State("DONE"):
                m.d.comb += [self.done.valid.eq(1), self.done.payload.eq(self.counts)]
                with m.If(self.done.ready):
                    m.next = "IDLE"
        m.d.comb += self.busy.eq(~self.cmd.ready)
        return m
