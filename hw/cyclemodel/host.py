"""The host side of the accelerator, in numpy: memory images of a job, command and done
encodings, output decoding, operand values from masks.

One encoding shared by every driver (Amaranth simulator, cocotb, Verilator): the layouts are
those of `mmsched.hw.accel.controller.Controller`'s docstring and `mmsched.hw.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmsched.hw.spec import (
    COUNTER_WIDTH,
    DONE_FIELDS,
    AcceleratorConfig,
    Job,
    act_write_fields,
    command_fields,
    wt_write_fields,
)

_NP_UINT = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}


def pack(values, width: int) -> int:
    """Pack integers (two's complement, ``width`` bits each) LSB first into one int."""
    arr = np.asarray(values).ravel()
    if width in _NP_UINT:  # byte-aligned: through the buffer protocol
        return int.from_bytes(arr.astype(np.int64).astype(_NP_UINT[width]).tobytes(), "little")
    out, mask = 0, (1 << width) - 1
    for i, v in enumerate(arr.tolist()):
        out |= (int(v) & mask) << (i * width)
    return out


def unpack(word: int, width: int, count: int, *, signed: bool = True) -> np.ndarray:
    """Inverse of `pack`: ``count`` fields of ``width`` bits as int64."""
    if width in _NP_UINT:
        raw = word.to_bytes(count * width // 8, "little")
        arr = np.frombuffer(raw, dtype=_NP_UINT[width]).astype(np.int64)
    else:
        mask = (1 << width) - 1
        arr = np.array([(word >> (i * width)) & mask for i in range(count)], dtype=np.int64)
    if signed:
        arr = np.where(arr >= 1 << (width - 1), arr - (1 << width), arr)
    return arr


def wrap_signed(x: np.ndarray, width: int) -> np.ndarray:
    """Two's-complement wrap of int64 values to ``width`` bits."""
    x = np.asarray(x, dtype=np.int64)
    m = np.int64(1) << width
    return ((x + (m >> 1)) % m) - (m >> 1)


def pack_fields(layout: dict[str, int], **fields: int) -> int:
    """Pack named unsigned fields (``layout``: name -> bits, LSB first) into one int."""
    out, off = 0, 0
    for name, width in layout.items():
        v = int(fields.get(name, 0))
        if not 0 <= v < 1 << width:
            raise ValueError(f"field {name} = {v} does not fit {width} bits")
        out |= v << off
        off += width
    return out


def pack_command(cfg: AcceleratorConfig, **fields: int) -> int:
    """The command word (`mmsched.hw.spec.command_fields`)."""
    return pack_fields(command_fields(cfg), **fields)


def pack_act_write(cfg: AcceleratorConfig, bank: int, addr: int, word: int) -> int:
    """The host activation write port's value (`mmsched.hw.spec.act_write_fields`)."""
    return pack_fields(act_write_fields(cfg), en=1, bank=bank, addr=addr, data=word)


def pack_wt_write(cfg: AcceleratorConfig, addr: int, word: int) -> int:
    """The host weight write port's value (`mmsched.hw.spec.wt_write_fields`)."""
    return pack_fields(wt_write_fields(cfg), en=1, addr=addr, data=word)


def unpack_done(word: int) -> dict[str, int]:
    """The done record as a dict (`mmsched.hw.spec.DONE_FIELDS`)."""
    mask = (1 << COUNTER_WIDTH) - 1
    return {name: (word >> (i * COUNTER_WIDTH)) & mask for i, name in enumerate(DONE_FIELDS)}


@dataclass(frozen=True)
class JobImage:
    """Everything a driver writes and reads for one job.

    ``act``: (bank, addr, word) writes; ``wt``: (addr, word) writes; ``command``: the packed
    command; ``out``: (addr, row, n0) reads: output word ``addr`` holds row ``row`` of columns
    ``n0 .. n0+cols-1``; ``m, n``: the job's output shape.
    """

    act: list[tuple[int, int, int]]
    wt: list[tuple[int, int]]
    command: int
    out: list[tuple[int, int, int]]
    m: int
    n: int


def job_image(cfg: AcceleratorConfig, a: np.ndarray, b: np.ndarray, *, monitor: bool = True,
              act_base: int = 0, wt_base: int = 0, out_base: int = 0) -> JobImage:
    """Memory image of the job ``a [M, K] . b [K, N]`` (ints within ``data_width``)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    m, k = a.shape
    n = b.shape[1]
    R, C, kc, lw, wpc = (cfg.rows, cfg.cols, cfg.chunk_depth, cfg.load_rows_per_cycle,
                         cfg.words_per_chunk)
    dw = cfg.data_width
    nc, nt, mt = -(-k // kc), -(-n // C), -(-m // R)
    ap = np.zeros((mt * R, nc * kc), dtype=np.int64)
    ap[:m, :k] = a
    bp = np.zeros((nc * kc + wpc * lw, nt * C), dtype=np.int64)
    bp[:k, :n] = b
    act = []
    for t in range(mt):
        for r in range(R):
            row = t * R + r
            if row >= m:
                continue
            for c in range(nc):
                act.append((r, act_base + t * nc + c, pack(ap[row, c * kc:(c + 1) * kc], dw)))
    wt = []
    for j in range(nt):
        for c in range(nc):
            rows_c = min(kc, k - c * kc)
            for w in range(-(-rows_c // lw)):
                r0 = c * kc + w * lw
                blk = bp[r0:r0 + lw, j * C:(j + 1) * C]
                wt.append((wt_base + (j * nc + c) * wpc + w, pack(blk, dw)))
    out = [(out_base + (t * nt + j) * R + r, t * R + r, j * C)
           for t in range(mt) for j in range(nt) for r in range(R) if t * R + r < m]
    cmd = pack_command(cfg, m=m, n=n, k=k, act_base=act_base, wt_base=wt_base,
                       out_base=out_base, monitor=int(monitor))
    return JobImage(act=act, wt=wt, command=cmd, out=out, m=m, n=n)


def decode_outputs(cfg: AcceleratorConfig, image: JobImage, words: dict[int, int]
                   ) -> np.ndarray:
    """The job's ``[M, N]`` result from the output words read at ``image.out`` addresses."""
    res = np.zeros((image.m, -(-image.n // cfg.cols) * cfg.cols), dtype=np.int64)
    for addr, row, n0 in image.out:
        res[row, n0:n0 + cfg.cols] = unpack(words[addr], cfg.acc_width, cfg.cols)
    return res[:, :image.n]


def operands(cfg: AcceleratorConfig, act_mask: np.ndarray, weight_mask: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random non-zero integer values (within ``data_width``) where the masks are True."""
    lo, hi = -(1 << (cfg.data_width - 1)), (1 << (cfg.data_width - 1))

    def vals(mask):
        v = rng.integers(lo, hi - 1, size=mask.shape)
        v = np.where(v >= 0, v + 1, v)  # skip 0: [lo, -1] U [1, hi - 1]
        return np.where(mask, v, 0)

    return vals(np.asarray(act_mask)), vals(np.asarray(weight_mask))


def reference(cfg: AcceleratorConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a . b`` wrapped to the accumulator width (what the output memory holds)."""
    return wrap_signed(np.asarray(a, np.int64) @ np.asarray(b, np.int64), cfg.acc_width)


def job_slices(job: Job, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The operands of ``job`` cut from the layer's ``a [M, K]`` and ``b [K, N]``."""
    return a[job.m0:job.m1, job.k0:job.k1], b[job.k0:job.k1, job.n0:job.n1]
