"""The RTL timing backend: the accelerator RTL answers `TimingBackend.layer` by running jobs.

`RtlBackend` is the timing backend ``amaranth``, ``icarus`` and ``verilator`` (the adapters in
`mmsched.sim.backends` name the simulator). A driver (`mmsched.sim.rtl.make_driver`) has
``run_jobs(images) -> list[(done: dict, outputs: dict[addr, word])]``: it writes each
`JobImage`'s memories, issues its command, waits for done and reads the outputs back. The
backend cuts a layer into jobs (`mmsched.hw.spec.plan_jobs`, the same plan the exact model
costs), gives the operands values (random non-zero where the masks are set, seeded per
(model key, layer, sample)), sums the done records and checks every result against numpy.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from mmsched.hw.cyclemodel.cycles import Counters, kept_columns, layer_counters
from mmsched.hw.cyclemodel.host import (
    JobImage,
    decode_outputs,
    job_image,
    job_slices,
    operands,
    reference,
    wrap_signed,
)
from mmsched.hw.spec import AcceleratorConfig, plan_jobs
from mmsched.sched.model import Model
from mmsched.sim.backends import LayerTiming

from .errors import RtlMismatch


class Driver(Protocol):
    def run_jobs(self, images: Sequence[JobImage]) -> list[tuple[dict, dict[int, int]]]: ...


def run_gemm(cfg: AcceleratorConfig, driver: Driver, a: np.ndarray, b: np.ndarray
             ) -> tuple[dict, np.ndarray]:
    """Run ``a [G, M, K] . b [G|1, K, N]`` as planned jobs; return (summed done record, result).

    Partial sums of K pieces are added by the host (wrapping to ``acc_width``); only the
    weight columns `kept_columns` maps are run (the others' outputs are zero).
    """
    g, m, k = a.shape
    n_all = b.shape[2]
    keep = kept_columns(b != 0)
    b = b[:, :, keep]
    n = b.shape[2]
    jobs = plan_jobs(cfg, m, n, k)
    images, where = [], []
    for gi in range(g):
        bg = b[gi if b.shape[0] > 1 else 0]
        for job in jobs:
            aj, bj = job_slices(job, a[gi], bg)
            images.append(job_image(cfg, aj, bj, monitor=job.monitor))
            where.append((gi, job))
    res = np.zeros((g, m, n), dtype=np.int64)
    total: dict[str, int] = {}
    for (gi, job), image, (done, words) in zip(where, images, driver.run_jobs(images),
                                               strict=True):
        for key, v in done.items():
            total[key] = total.get(key, 0) + v
        res[gi, job.m0:job.m1, job.n0:job.n1] += decode_outputs(cfg, image, words)
    full = np.zeros((g, m, n_all), dtype=np.int64)
    full[:, :, keep] = res
    return total, wrap_signed(full, cfg.acc_width)


class RtlBackend:
    """A timing backend answering from an RTL simulation of the accelerator.

    Parameters
    ----------
    simulator : str
        ``amaranth``, ``icarus`` or ``verilator`` (its driver: `mmsched.sim.rtl.make_driver`;
        the backend's ``name``).
    system : AcceleratorConfig or sequence of AcceleratorConfig
    masks : mask source (``masks(model, layer_index, sample)``)
    seed : int
        Seeds the operand values (per model key, layer, sample).
    check : bool
        Compare every result with numpy and the counters with the exact model; raise
        `RtlMismatch` on a difference.
    """

    def __init__(self, simulator: str, *,
                 system: AcceleratorConfig | Sequence[AcceleratorConfig], masks,
                 seed: int = 0, check: bool = True, **driver_options) -> None:
        self.name = simulator
        if isinstance(system, AcceleratorConfig):
            system = (system,)
        self.system = tuple(system)
        if not self.system or not all(isinstance(c, AcceleratorConfig) for c in self.system):
            raise ValueError("system must be a non-empty sequence of AcceleratorConfig")
        self.mask_source = masks
        self.seed = seed
        self.check = check
        self._driver_options = driver_options
        self._drivers: dict[int, Driver] = {}

    def make_driver(self, cfg: AcceleratorConfig, **options) -> Driver:
        from . import make_driver

        return make_driver(self.name, cfg, **options)

    def driver(self, accelerator: int) -> Driver:
        if accelerator not in self._drivers:
            if not 0 <= accelerator < len(self.system):
                raise ValueError(f"accelerator must be in [0, {len(self.system)}), "
                                 f"not {accelerator!r}")
            self._drivers[accelerator] = self.make_driver(self.system[accelerator],
                                                          **self._driver_options)
        return self._drivers[accelerator]

    def counters(self, accelerator: int, model: Model, layer_index: int,
                 sample: int) -> Counters:
        drv = self.driver(accelerator)
        cfg = self.system[accelerator]
        act, wm = self.mask_source.masks(model, layer_index, sample)
        act = np.asarray(act)
        act = act[None] if act.ndim == 2 else act
        wm = np.asarray(wm)
        wm = wm[None] if wm.ndim == 2 else wm
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, zlib.crc32(model.key.encode()), layer_index, sample]))
        a, b = operands(cfg, act, wm, rng)
        done, result = run_gemm(cfg, drv, a, b)
        model_cnt = layer_counters(cfg, act, wm)
        cnt = Counters(cycles=done["cycles"], nnz=done["nnz"], total=done["total"],
                       macs=done["macs"], act_reads=done["act_reads"],
                       wt_reads=done["wt_reads"], out_writes=done["out_writes"],
                       jobs=model_cnt.jobs, dense_macs=model_cnt.dense_macs,
                       dram_bytes=model_cnt.dram_bytes)
        if self.check:
            ref = reference(cfg, a, b if b.shape[0] == a.shape[0] else b[0][None])
            if not np.array_equal(result, ref):
                bad = np.argwhere(result != ref)[0]
                raise RtlMismatch(f"{self.name}: result differs from numpy at {tuple(bad)} "
                                  f"(layer {layer_index} of {model.key}, sample {sample}, "
                                  f"seed {self.seed})")
            if cnt != model_cnt:
                raise RtlMismatch(f"{self.name}: counters {cnt} differ from the exact model "
                                  f"{model_cnt} (layer {layer_index} of {model.key}, sample "
                                  f"{sample}, seed {self.seed})")
        return cnt

    def layer(self, accelerator: int, model: Model, layer_index: int,
              sample: int) -> LayerTiming:
        cnt = self.counters(accelerator, model, layer_index, sample)
        cfg = self.system[accelerator]
        return LayerTiming(cycles=cnt.cycles, nnz=cnt.nnz, total=cnt.total,
                           energy_pj=cnt.energy_pj(cfg))
