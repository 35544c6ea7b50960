"""Scoreboards: the project's exact models as the reference of a testbench (plain Python)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mmsched.hw.cyclemodel.cycles import job_counters
from mmsched.hw.cyclemodel.dysta_sched import DystaSchedTwin, TwinResponse
from mmsched.hw.cyclemodel.host import decode_outputs, reference
from mmsched.hw.spec import DONE_FIELDS, AcceleratorConfig, SchedulerConfig

from .accelerator import JobResult
from .stimulus import GemmJob


@dataclass
class Expected:
    """What the accelerator must answer for a job: its done record (field -> value, from the
    exact cycle model) and its ``[M, N]`` outputs (numpy, wrapped to the accumulator width).
    Mutable, so a testbench can perturb it (e.g. to see a check fail)."""

    done: dict[str, int]
    outputs: np.ndarray
    label: str = field(default="")


class AcceleratorScoreboard:
    """Checks accelerator jobs: outputs against numpy, the done record against the exact cycle
    model, the measured accept-to-done span against the record's ``cycles``.

    ``checked`` counts the jobs compared so far.
    """

    def __init__(self, config: AcceleratorConfig) -> None:
        self.config = config
        self.checked = 0

    def expect(self, job: GemmJob) -> Expected:
        """The expectation of ``job`` (see `Expected`)."""
        cfg = self.config
        ref = job_counters(cfg, job.act_mask, job.weight_mask)
        return Expected({f: getattr(ref, f) for f in DONE_FIELDS}, reference(cfg, job.a, job.b),
                        f"M={job.m} N={job.n} K={job.k}")

    def compare(self, expected: Expected, result: JobResult, image=None, *,
                where: str = "") -> None:
        """AssertionError naming the first difference between ``expected`` and ``result``
        (``image``: the job's `JobImage`, to decode the output words; ``where``: a label for
        the message, e.g. the seed and job number)."""
        if image is None:
            raise ValueError("compare needs the job's image to decode the output words")
        label = " ".join(x for x in (where, expected.label) if x)
        got = decode_outputs(self.config, image, result.words)
        if not np.array_equal(got, expected.outputs):
            bad = tuple(int(i) for i in np.argwhere(got != expected.outputs)[0])
            raise AssertionError(f"{label}: output {bad} is {got[bad]}, expected "
                                 f"{expected.outputs[bad]}")
        want = {f: expected.done[f] for f in result.done}
        if result.done != want:
            diff = {f: (result.done[f], want[f]) for f in want if result.done[f] != want[f]}
            raise AssertionError(f"{label}: done record differs from the exact cycle model "
                                 f"(field: (RTL, model)) {diff}")
        if result.span != result.done["cycles"]:
            raise AssertionError(f"{label}: measured accept-to-done span {result.span} != the "
                                 f"record's cycles {result.done['cycles']}")
        self.checked += 1

    def check(self, job: GemmJob, result: JobResult, *, where: str = "") -> None:
        """`compare` ``result`` with `expect` of ``job``."""
        self.compare(self.expect(job), result, job.image, where=where)


class SchedulerScoreboard:
    """The scheduler's bit- and cycle-exact twin, fed the words the testbench sends.

    ``expect(word, gap)`` advances the twin and returns the response the RTL must give (value
    and cycles); ``check(word, gap, got)`` also compares. Call them in the order the commands
    are sent. ``checked`` counts the responses compared.
    """

    def __init__(self, config: SchedulerConfig) -> None:
        self.config = config
        self.twin = DystaSchedTwin(config)
        self.checked = 0

    def expect(self, word: int, gap: int = 0) -> TwinResponse:
        return self.twin.issue(word, gap)

    def compare(self, expected: TwinResponse, got: TwinResponse, *, word: int | None = None,
                where: str = "") -> None:
        if got != expected:
            what = f"command {self.checked}" + (f" (word {word:#x})" if word is not None else "")
            raise AssertionError(f"{where + ', ' if where else ''}{what}, cycle "
                                 f"{expected.accept_cycle}: RTL {got}, twin {expected}")
        self.checked += 1

    def check(self, word: int, gap: int, got: TwinResponse, *, where: str = "") -> None:
        self.compare(self.expect(word, gap), got, word=word, where=where)
