"""Workloads: time to build the default scenario, and cycle-model time per request.

* cycle model per request: one whole inference (every layer) of each Dysta model through the
  ``analytic`` backend with the realistic mask source, split into mask generation and the exact
  cycle model; medians over 3 samples;
* scenario build: ``dysta-cnn`` (the Dysta CNN set, 12 model keys x 8 samples) cold (profiled
  into an empty cache) and warm (read back from the cache), as ``mmsched run --scenario`` does.
"""

import statistics
import tempfile
import time

from _results import write_results


def _inference_times(arch, pattern, cfg, samples=(0, 1, 2)):
    from mmsched.sched import zoo
    from mmsched.sched.masks import ProfiledMasks
    from mmsched.sched.profiles import default_profile_stats
    from mmsched.sim.backends.analytic import AnalyticBackend

    m = zoo.model(arch, pattern)
    mask_t, model_t = [], []
    for s in samples:
        src = ProfiledMasks(default_profile_stats([arch]), seed=0)
        be = AnalyticBackend(system=cfg, masks=src, memoise=False)
        t0 = time.perf_counter()
        for j in range(m.num_layers):
            src.masks(m, j, s)  # build (cached by the source)
        t1 = time.perf_counter()
        cycles = sum(be.layer(0, m, j, s).cycles for j in range(m.num_layers))
        t2 = time.perf_counter()
        mask_t.append(t1 - t0)
        model_t.append(t2 - t1)
    return statistics.median(mask_t), statistics.median(model_t), cycles


def main() -> None:
    from mmsched.hw.spec import EYERISS_V2_LIKE, SANGER_LIKE
    from mmsched.sim.profiled import profile_scenario

    print("cycle model per request (one inference; medians of 3 samples)")
    print(f"  {'model':<28} {'engine':<16} {'masks s':>8} {'cycle model s':>14} "
          f"{'latency ms':>11}")
    rows = []
    for arch, pattern, cfg in (("resnet50", "unstructured20", EYERISS_V2_LIKE),
                               ("vgg16", "unstructured20", EYERISS_V2_LIKE),
                               ("mobilenetv1", "unstructured20", EYERISS_V2_LIKE),
                               ("ssd300", "unstructured20", EYERISS_V2_LIKE),
                               ("bert", "dense", SANGER_LIKE),
                               ("bart", "dense", SANGER_LIKE),
                               ("gpt2", "dense", SANGER_LIKE)):
        mt, ct, cyc = _inference_times(arch, pattern, cfg)
        print(f"  {arch + '_' + pattern:<28} {cfg.name:<16} {mt:8.2f} {ct:14.3f} "
              f"{cyc / cfg.clock_hz * 1e3:11.2f}", flush=True)
        rows.append({"model": f"{arch}_{pattern}", "configuration": cfg.name,
                     "mask generation s": round(mt, 3), "cycle model s": round(ct, 4),
                     "latency ms": round(cyc / cfg.clock_hz * 1e3, 2)})
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        ls = profile_scenario("dysta-cnn", cache_dir=cache)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        profile_scenario("dysta-cnn", cache_dir=cache)
        warm = time.perf_counter() - t0
    keys, samples = len(ls.tables), ls.scenario.samples
    print(f"scenario dysta-cnn ({keys} model keys x {samples} samples): cold build "
          f"{cold:.1f} s ({cold / (keys * samples):.2f} s per model-sample), warm load "
          f"{warm:.2f} s")
    write_results("workloads", {
        "cycle model per request (one inference, realistic masks; median of 3 samples)": rows,
        "scenario build, dysta-cnn": {
            "model keys": keys, "samples": samples, "cold build s": round(cold, 1),
            "cold s per model-sample": round(cold / (keys * samples), 2),
            "warm load s": round(warm, 2)},
    }, title="Workloads: cycle model per request, scenario build (python bench/run.py "
             "workloads)")
