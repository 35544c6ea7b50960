"""Host encodings: packing, command and done layouts, memory images."""

import numpy as np
import pytest

from mmsched.hw.cyclemodel.host import (
    decode_outputs,
    job_image,
    pack,
    pack_command,
    unpack,
    unpack_done,
    wrap_signed,
)
from mmsched.hw.spec import COUNTER_WIDTH, DONE_FIELDS, AcceleratorConfig, command_fields


@pytest.mark.parametrize("width", [3, 5, 8, 16, 24, 32])
def test_pack_unpack_roundtrip(width):
    rng = np.random.default_rng(width)
    v = rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=17)
    word = pack(v, width)
    ref = 0
    for i, x in enumerate(v.tolist()):
        ref |= (x & ((1 << width) - 1)) << (i * width)
    assert word == ref
    assert (unpack(word, width, 17) == v).all()


def test_command_and_done_layouts():
    cfg = AcceleratorConfig(rows=3, cols=5)
    f = command_fields(cfg)
    word = pack_command(cfg, m=7, n=9, k=11, monitor=1)
    assert word & ((1 << f["m"]) - 1) == 7
    assert word >> (sum(f.values()) - 1) == 1  # monitor is the top bit
    with pytest.raises(ValueError, match="does not fit"):
        pack_command(cfg, m=1 << f["m"])
    done = sum(i << (COUNTER_WIDTH * j) for j, i in enumerate(range(1, len(DONE_FIELDS) + 1)))
    assert list(unpack_done(done).values()) == list(range(1, len(DONE_FIELDS) + 1))


def test_image_decodes_to_layout():
    cfg = AcceleratorConfig(rows=2, cols=3, chunk_depth=4, pe_buffer_depth=4,
                            load_rows_per_cycle=3, acc_width=24, max_k=16)
    a = np.arange(5 * 6).reshape(5, 6) % 7 - 3
    b = np.arange(6 * 4).reshape(6, 4) % 5 - 2
    img = job_image(cfg, a, b)
    assert len(img.act) == 5 * 2  # rows x chunks (invalid rows not written)
    assert len(img.wt) == 2 * (2 + 1)  # n tiles x (2 words + 1 word)
    words = {addr: pack(np.full(cfg.cols, row * 10 + n0), cfg.acc_width)
             for addr, row, n0 in img.out}
    out = decode_outputs(cfg, img, words)
    assert out.shape == (5, 4) and out[3, 3] == 33 and out[4, 0] == 40
    assert wrap_signed(np.array([1 << 23]), 24)[0] == -(1 << 23)
