"""DystaSystem in Amaranth's simulator: a decision, a real accelerator job on the chosen slot,
the monitor loop closed in hardware (LAYER_DONE from the done record), all vs the twin and the
accelerator's exact cycle model."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from mmsched.hw.cyclemodel.cycles import layer_counters
from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin
from mmsched.hw.cyclemodel.host import job_image, operands, unpack_done
from mmsched.hw.spec import (
    AcceleratorConfig,
    DystaOp,
    DystaStatus,
    SchedulerConfig,
    pack_dysta_cmd,
    unpack_dysta_resp,
)
from mmsched.hw.system import DystaSystem

ACC = AcceleratorConfig(rows=3, cols=5, chunk_depth=4, pe_buffer_depth=4, load_rows_per_cycle=3,
                        max_k=16, acc_width=24, act_mem_words=6, wt_mem_words=10,
                        out_mem_words=30)
SCHED = SchedulerConfig(slots=3, models=1, patterns=1, layers=3, wait_shift=0, fair_shift=10)


@pytest.mark.rtl
def test_system_closes_the_monitor_loop():
    seed = 77
    rng = np.random.default_rng(seed)
    dut = DystaSystem(scheduler=SCHED, accelerators=(ACC, ACC))
    twin = DystaSchedTwin(SCHED)
    log: list[tuple] = []

    async def bench(ctx):
        ctx.set(dut.host_resp.ready, 1)
        for a in range(2):
            ctx.set(getattr(dut, f"acc{a}_done").ready, 1)

        async def host(word):
            ctx.set(dut.host_cmd.payload.as_value(), word)
            ctx.set(dut.host_cmd.valid, 1)
            while not ctx.get(dut.host_cmd.ready):
                await ctx.tick()
            now = ctx.get(dut.now)
            await ctx.tick()
            ctx.set(dut.host_cmd.valid, 0)
            while not ctx.get(dut.host_resp.valid):
                await ctx.tick()
            r = unpack_dysta_resp(ctx.get(dut.host_resp.payload.as_value()))
            await ctx.tick()
            return now, r

        for j in range(3):
            _, r = await host(pack_dysta_cmd(DystaOp.LOAD_LUT, model=0, pattern=0, layer=j,
                                             remaining=3000 - 1000 * j, density=1 << 14))
            assert twin.load_lut(0, 0, j, 3000 - 1000 * j, 1 << 14) == r["status"]
        _, r = await host(pack_dysta_cmd(DystaOp.LOAD_ISO, model=0, pattern=0, weight=1000))
        assert twin.load_iso(0, 0, 1000) == r["status"]
        for d in (50_000, 40_000):
            now, r = await host(pack_dysta_cmd(DystaOp.ADMIT, model=0, pattern=0, deadline=d))
            st, slot, seq = twin.admit(0, 0, d, 0, now)
            assert (r["status"], r["slot"], r["value"]) == (st, slot, seq)
        for t in range(2):  # two decisions, two jobs on two accelerators
            now, r = await host(pack_dysta_cmd(DystaOp.DECIDE))
            st, slot, score = twin.decide(now)
            assert (r["status"], r["slot"], r["value"]) == (st, slot, score), f"seed {seed}"
            m, n, k = (int(x) for x in rng.integers(1, 9, size=3))
            am = rng.random((1, m, k)) < 0.5
            wm = rng.random((1, k, n)) < 0.8
            a, b = operands(ACC, am, wm, rng)
            img = job_image(ACC, a[0], b[0])
            acc = t
            for bank, addr, word in img.act:
                wr = getattr(dut, f"acc{acc}_act_wr")
                ctx.set(wr.as_value(), 0)
                ctx.set(wr.en, 1)
                ctx.set(wr.bank, bank)
                ctx.set(wr.addr, addr)
                ctx.set(wr.data.as_value(), word)
                await ctx.tick()
            ctx.set(getattr(dut, f"acc{acc}_act_wr").en, 0)
            for addr, word in img.wt:
                wr = getattr(dut, f"acc{acc}_wt_wr")
                ctx.set(wr.en, 1)
                ctx.set(wr.addr, addr)
                ctx.set(wr.data.as_value(), word)
                await ctx.tick()
            ctx.set(getattr(dut, f"acc{acc}_wt_wr").en, 0)
            job = getattr(dut, f"acc{acc}_job")
            ctx.set(job.payload.slot, slot)
            ctx.set(job.payload.last, 1)
            ctx.set(job.payload.job.as_value(), img.command)
            ctx.set(job.valid, 1)
            while not ctx.get(job.ready):
                await ctx.tick()
            await ctx.tick()
            ctx.set(job.valid, 0)
            done = getattr(dut, f"acc{acc}_done")
            while not ctx.get(done.valid):
                await ctx.tick()
            rec = unpack_done(ctx.get(done.payload.as_value()))
            ref = layer_counters(ACC, am, wm)
            assert (rec["cycles"], rec["nnz"], rec["total"]) == (ref.cycles, ref.nnz,
                                                                 ref.total), f"seed {seed}"
            await ctx.tick()
            # the system sends LAYER_DONE itself; its response shows on host_resp
            while not ctx.get(dut.host_resp.valid):
                await ctx.tick()
            r = unpack_dysta_resp(ctx.get(dut.host_resp.payload.as_value()))
            log.append((slot, rec["nnz"], rec["total"], r))
            assert r["op"] == DystaOp.LAYER_DONE and r["status"] == DystaStatus.OK
            # its time: the counter in the cycle the scheduler accepted it (response cycle -
            # latency)
            acc_now = ctx.get(dut.now) - SCHED.latency(DystaOp.LAYER_DONE, 0)
            st, gamma = twin.layer_done(slot, rec["nnz"], rec["total"], acc_now)
            assert (r["slot"], r["value"]) == (slot, gamma), f"seed {seed}: {r} vs {gamma}"
            await ctx.tick()
            # the observation port: what the scheduler was sent
            assert (ctx.get(dut.sent.count), ctx.get(dut.sent.slot), ctx.get(dut.sent.nnz),
                    ctx.get(dut.sent.total)) == (t + 1, slot, rec["nnz"], rec["total"]), \
                f"seed {seed}"
        now, r = await host(pack_dysta_cmd(DystaOp.DECIDE))
        st, slot, score = twin.decide(now)
        assert (r["status"], r["slot"], r["value"]) == (st, slot, score), f"seed {seed}"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(log) == 2 and all(total > 0 for _, _, total, _ in log)
