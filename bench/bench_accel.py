"""Accelerator benchmarks: exact-model time per inference, RTL backends' simulated cycles/s.

Run: ``python bench/run.py accel``. Medians of repeated runs (the machine is noisy).

1. Exact cycle model (`mmsched.hw.cyclemodel.cycles.layer_counters`) over a whole ResNet-50
   inference on the Eyeriss-V2-like configuration and BERT-base at sequence 384 on the
   Sanger-like one (layer shapes from `mmsched.sched.zoo`; uniform random masks, activation
   density 0.5 where activations are sparse, ``unstructured20`` weights): time with the masks
   already drawn (what the analytic backend pays per layer) and with mask drawing.
2. Simulated cycles per second of the RTL backends on a 16x16 array (one GEMM each, sized to
   the simulator's speed), the Verilator one both end to end (Python job packing included) and
   inside the C harness' run loop; and the exact model's "cycles per second" on the same GEMM
   for the model/RTL speed ratio.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from _results import write_results

from mmsched.hw.cyclemodel.cycles import layer_counters
from mmsched.hw.cyclemodel.host import operands
from mmsched.hw.spec import EYERISS_V2_LIKE, SANGER_LIKE, AcceleratorConfig
from mmsched.sched import zoo
from mmsched.sim.backends.analytic import UniformMasks

REPEATS = 5
ARRAY_16 = AcceleratorConfig(name="bench16x16", rows=16, cols=16, chunk_depth=16,
                             pe_buffer_depth=16, load_rows_per_cycle=4, max_k=1024,
                             act_mem_words=512, wt_mem_words=1024, out_mem_words=2048)


def _median_time(fn, repeats=REPEATS):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _model_inference(arch: str, cfg: AcceleratorConfig, pattern: str) -> dict:
    model = zoo.model(arch, pattern)
    masks = UniformMasks(act_density=0.5, seed=1)
    drawn = [masks.masks(model, i, 0) for i in range(model.num_layers)]

    def run_model():
        return sum(layer_counters(cfg, a, w).cycles for a, w in drawn)

    def run_with_masks():
        return sum(layer_counters(cfg, *masks.masks(model, i, 0)).cycles
                   for i in range(model.num_layers))

    t_model, cycles = _median_time(run_model)
    t_all, _ = _median_time(run_with_masks, 3)
    print(f"exact model  {arch:9s} on {cfg.name:16s} {model.num_layers:3d} layers  "
          f"{cycles:>12,d} cycles ({cycles / cfg.clock_hz * 1e3:8.2f} ms at "
          f"{cfg.clock_hz / 1e6:.0f} MHz)  model {t_model:.3f} s (median of {REPEATS}), "
          f"with mask drawing {t_all:.3f} s")
    return {"model": f"{arch}_{pattern}", "configuration": cfg.name,
            "layers": model.num_layers, "cycles": int(cycles),
            "latency ms": round(cycles / cfg.clock_hz * 1e3, 2),
            "exact model s": round(t_model, 4), "with mask drawing s": round(t_all, 4)}


def _gemm(cfg, m, n, k, seed=0):
    rng = np.random.default_rng(seed)
    act = rng.random((1, m, k)) < 0.5
    wm = rng.random((1, k, n)) < 0.8
    a, b = operands(cfg, act, wm, rng)
    return act, wm, a, b


def _model_rate(cfg, act, wm):
    t, cnt = _median_time(lambda: layer_counters(cfg, act, wm))
    return cnt.cycles / t


def _compiler() -> str:
    """The C++ compiler that builds the Verilated model (Verilator's makefile runs ``c++``)."""
    import subprocess

    try:
        run = subprocess.run(["c++", "--version"], capture_output=True, text=True, check=False)
    except OSError as e:
        return f"c++ not runnable ({e})"
    return f"c++ = {run.stdout.splitlines()[0] if run.stdout else '?'}"


def _rtl_rates() -> list[dict]:
    from mmsched.sim.rtl.backend import run_gemm

    cfg = ARRAY_16
    print(f"RTL backends on a {cfg.rows}x{cfg.cols} array (medians of 3 runs):", flush=True)
    rows: list[dict] = []

    def report(name, rate, mrate, note):
        print(f"  {name:24s} {rate:>14,.0f} simulated cycles/s   exact model "
              f"{mrate:>16,.0f} cycles/s = {mrate / rate:>10,.0f}x   {note}", flush=True)
        rows.append({"backend": name, "simulated cycles/s": round(rate),
                     "exact model cycles/s": round(mrate),
                     "model / RTL": round(mrate / rate), "note": note})

    # Verilator: a large GEMM
    try:
        from mmsched.sim.rtl.verilator import VerilatorDriver

        t0 = time.perf_counter()
        drv = VerilatorDriver(cfg)
        build = time.perf_counter() - t0
        act, wm, a, b = _gemm(cfg, 1024, 128, 512)
        rates, inner, cpu = [], [], []
        for _ in range(3):
            c0, s0, r0, rc0 = drv.cycles, time.perf_counter(), drv.run_seconds, drv.run_cycles
            p0 = drv.run_cpu_seconds
            done, _ = run_gemm(cfg, drv, a, b)
            rates.append((drv.cycles - c0) / (time.perf_counter() - s0))
            inner.append((drv.run_cycles - rc0) / (drv.run_seconds - r0))
            cpu.append((drv.run_cycles - rc0) / (drv.run_cpu_seconds - p0))
        mr = _model_rate(cfg, act, wm)
        report("verilator (end to end)", statistics.median(rates), mr,
               f"build/load {build:.0f} s, GEMM 1024x128x512, {done['cycles']:,d} cycles")
        report("verilator (C run loop)", statistics.median(inner), mr, "wall clock")
        report("verilator (C run loop)", statistics.median(cpu), mr,
               "per CPU second of the run loop (robust to a loaded machine)")
        print(f"  verilator model compiled by: {_compiler()}", flush=True)
    except RuntimeError as e:
        print(f"verilator: skipped ({e})")
        rows.append({"backend": "verilator", "note": f"skipped ({e})"})
    # Icarus via cocotb: a medium GEMM, one simulator launch per call
    try:
        from mmsched.sim.rtl.icarus import IcarusDriver

        drv = IcarusDriver(cfg)
        act, wm, a, b = _gemm(cfg, 64, 32, 64)
        rates = []
        for _ in range(3):
            c0, s0 = drv.cycles, time.perf_counter()
            run_gemm(cfg, drv, a, b)
            rates.append((drv.cycles - c0) / (time.perf_counter() - s0))
        report("icarus (cocotb)", statistics.median(rates), _model_rate(cfg, act, wm),
               "GEMM 64x32x64, simulator start included")
    except Exception as e:  # report and go on: the other backends still run
        print(f"icarus: skipped ({type(e).__name__}: {e})")
        rows.append({"backend": "icarus (cocotb)", "note": f"skipped ({type(e).__name__})"})
    # Amaranth simulator: a small GEMM
    from mmsched.sim.rtl.amaranth import AmaranthDriver

    drv = AmaranthDriver(cfg)
    act, wm, a, b = _gemm(cfg, 16, 16, 32)
    rates = []
    for _ in range(3):
        c0, s0 = drv.cycles, time.perf_counter()
        run_gemm(cfg, drv, a, b)
        rates.append((drv.cycles - c0) / (time.perf_counter() - s0))
    report("amaranth (pysim)", statistics.median(rates), _model_rate(cfg, act, wm),
           "GEMM 16x16x32")
    return rows


def _realism() -> dict:
    """Dense mode vs SCALE-Sim's output-stationary formula, and cycles vs sparsity."""
    import dataclasses

    from mmsched.sim.backends.analytic import uniform_weight_mask

    cfg = EYERISS_V2_LIKE
    dense = dataclasses.replace(cfg, dense=True)
    print(f"dense mode vs SCALE-Sim v2 OS (ceil(M/R) ceil(N/C) (K + R + C - 2)), {cfg.name}:")
    vs_scalesim, vs_density, vs_pattern = [], [], []
    for m, n, k in ((3136, 64, 576), (784, 128, 1152), (196, 256, 2304), (49, 512, 4608),
                    (384, 768, 768), (12544, 64, 147)):
        ours = layer_counters(dense, np.ones((m, k), bool), np.ones((k, n), bool)).cycles
        ss = -(-m // cfg.rows) * -(-n // cfg.cols) * (k + cfg.rows + cfg.cols - 2)
        print(f"  M={m:5d} N={n:4d} K={k:4d}: ours {ours:>10,d}  SCALE-Sim {ss:>10,d}  "
              f"ratio {ours / ss:.3f}")
        vs_scalesim.append({"M": m, "N": n, "K": k, "ours": int(ours), "SCALE-Sim OS": ss,
                            "ratio": round(ours / ss, 3)})
    rng = np.random.default_rng(0)
    m, n, k = 784, 128, 1152
    print(f"cycles vs activation density (M={m} N={n} K={k}, dense weights), {cfg.name}:")
    wm = np.ones((k, n), bool)
    base = layer_counters(dense, np.ones((m, k), bool), wm).cycles
    for d in (1.0, 0.75, 0.5, 0.25, 0.1, 0.0):
        c = layer_counters(cfg, rng.random((m, k)) < d, wm).cycles
        print(f"  density {d:4.2f}: {c:>10,d} cycles ({c / base:.3f} of dense mode)")
        vs_density.append({"activation density": d, "cycles": int(c),
                           "of dense mode": round(c / base, 3)})
    print(f"cycles vs static weight pattern (same layer, activation density 0.5), {cfg.name}:")
    act = rng.random((m, k)) < 0.5
    for pat in ("dense", "unstructured50", "nm2of4", "block4-50", "filter50", "channel50"):
        w = uniform_weight_mask(pat, k, n, rng=np.random.default_rng(1))[0]
        c = layer_counters(cfg, act, w)
        print(f"  {pat:15s}: {c.cycles:>10,d} cycles ({c.cycles / base:.3f} of dense mode), "
              f"MACs issued {c.macs / c.dense_macs:.3f} of dense")
        vs_pattern.append({"weight pattern": pat, "cycles": int(c.cycles),
                           "of dense mode": round(c.cycles / base, 3),
                           "MACs issued, of dense": round(c.macs / c.dense_macs, 3)})
    return {
        f"dense mode vs SCALE-Sim v2 OS formula ({cfg.name})": vs_scalesim,
        f"cycles vs activation density (M={m} N={n} K={k}, dense weights, {cfg.name})":
            vs_density,
        f"cycles vs static weight pattern (same layer, activation density 0.5, {cfg.name})":
            vs_pattern,
    }


def main() -> None:
    figures = _realism()
    figures["exact model, one inference (uniform masks, activation density 0.5; median of "
            f"{REPEATS})"] = [_model_inference("resnet50", EYERISS_V2_LIKE, "unstructured20"),
                              _model_inference("bert", SANGER_LIKE, "dense")]
    write_results("accel", figures, title="Accelerator: realism and speed "
                  "(python bench/run.py accel)")  # written before the slow RTL part too
    figures[f"RTL backends, {ARRAY_16.rows}x{ARRAY_16.cols} array (medians of 3)"] = \
        _rtl_rates()
    write_results("accel", figures, title="Accelerator: realism and speed "
                  "(python bench/run.py accel)",
                  notes="Simulated cycles per second depend on the machine's other load; the "
                        "'C run loop' CPU figure is the least sensitive to it.")


if __name__ == "__main__":
    main()
