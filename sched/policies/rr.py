"""Round-robin over the model streams, at layer granularity (RR).

The classic time-sharing rule (e.g. the round-robin baseline of PREMA, HPCA'20, and of the
real-time multi-model schedulers compared in DREAM, arXiv 2212.03414): the streams take turns.
A stream is a request's ``stream`` (the periodic model stream of an XRBench frame) or, for
Poisson requests (``stream == -1``), its requested model key. Streams are numbered in the
order they are first seen; a pointer walks them cyclically. Each free accelerator takes the
ready request of the first stream at or after the pointer that has one (within a stream the
earliest arrival, the engine's ``ready`` order), and the pointer moves past that stream, so
consecutive layers go to different streams whenever several are ready. Reads no estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import Policy, PolicyConfig, Task, register


def stream_of(request):
    """The stream a request belongs to: its periodic stream, else (Poisson) its model."""
    s = request.stream
    return s if s >= 0 else request.model


@register("rr")
class RoundRobin(Policy):
    """The ready request of the next stream in cyclic order (the pointer moves even with one
    ready request, so the engine must call `select` every time)."""

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        """Round-robin has no parameters."""

    def __init__(self, context, config=None) -> None:
        super().__init__(context, config)
        self._pos: dict = {}
        self._ptr = 0

    def on_arrival(self, now: int | float, task: Task) -> None:
        s = stream_of(task.request)
        if s not in self._pos:
            self._pos[s] = len(self._pos)

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        pos = self._pos
        m = len(pos)
        ptr = self._ptr
        best = None
        br = m
        for t in ready:
            r = (pos[stream_of(t.request)] - ptr) % m
            if r < br:
                br = r
                best = t
                if r == 0:
                    break
        self._ptr = (ptr + br + 1) % m
        return best
