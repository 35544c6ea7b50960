"""The host side of the integrated system top (`mmsched.hw.system.DystaSystem`), shared by its
sessions on every simulator: the response record and the packing of the system's own ports."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mmsched.hw.spec import AcceleratorConfig


@dataclass(frozen=True)
class HostResponse:
    """A scheduler response on the system's host port: ``resp_cycle`` (simulation cycle),
    ``now`` (the scheduler's counter then), the decoded response, and ``sent`` (the system's
    last internal LAYER_DONE: count, slot, nnz, total)."""

    resp_cycle: int
    now: int
    op: int
    status: int
    slot: int
    value: int
    sent: tuple[int, int, int, int]


@functools.cache
def event_fields() -> tuple[tuple[str, int, int], ...]:
    """(name, bit offset, width) of the ``sent`` port's fields count, slot, nnz, total."""
    from amaranth.hdl import Shape

    from mmsched.hw.system import event_layout

    lay = event_layout()
    return tuple((name, lay[name].offset, Shape.cast(lay[name].shape).width) for name in
                 ("count", "slot", "nnz", "total"))


def decode_sent(word: int) -> tuple[int, int, int, int]:
    """The ``sent`` port's value as (count, slot, nnz, total)."""
    return tuple((word >> off) & ((1 << w) - 1) for _, off, w in event_fields())


@functools.cache
def _job_offsets(cfg: AcceleratorConfig) -> tuple[int, int, int]:
    from mmsched.hw.system import job_layout

    lay = job_layout(cfg)
    return lay["slot"].offset, lay["last"].offset, lay["job"].offset


def job_word(cfg: AcceleratorConfig, slot: int, last: bool, command: int) -> int:
    """A tagged job (`mmsched.hw.system.job_layout`) as one int."""
    so, lo, jo = _job_offsets(cfg)
    return (slot << so) | (int(last) << lo) | (command << jo)
