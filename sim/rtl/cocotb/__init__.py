"""A cocotb testbench kit for mmsched's generated Verilog (``mmsched verilog accelerator`` and
``mmsched verilog scheduler``), in the style of the cocotbext packages: one driver class per
DUT with ``send``/``recv`` coroutines, the project's exact models as scoreboards, and seeded
random stimulus.

Drivers (use inside a ``@cocotb.test()``; they start the clock and reset the DUT):

- `AcceleratorDriver`: the accelerator top's ports. ``load(image)`` writes a job's
  activation and weight memories, ``send(command)`` issues the job, ``recv()`` returns its
  done record (`DoneRecord`), ``read(addrs)`` reads output words; ``run_job(image)`` is the
  four in a row (`JobResult`).
- `SchedulerDriver`: the Dysta scheduler's command/response stream. ``send(word, gap)``
  issues a command word, ``recv()`` returns the response with its cycles (a
  `mmsched.hw.cyclemodel.dysta_sched.TwinResponse`); ``issue`` is both.

Scoreboards (plain Python, usable without a simulator):

- `AcceleratorScoreboard`: a job's outputs against numpy and its done record against the
  exact cycle model (`mmsched.hw.cyclemodel.cycles.job_counters`); ``expect(job)`` gives the
  expectation, ``compare(expected, result)`` raises `AssertionError` naming what differs,
  ``check(job, result)`` is both.
- `SchedulerScoreboard`: the bit- and cycle-exact twin
  (`mmsched.hw.cyclemodel.dysta_sched.DystaSchedTwin`) fed the same command words.

Stimulus (seeded: pass an int seed or a numpy ``Generator``):

- `random_gemm`: random GEMM operands and sparsity masks of one job (`GemmJob`).
- `random_commands`: a random, state-aware scheduler command sequence.

`load_config` reads the configuration JSON that ``mmsched verilog`` writes beside the Verilog.
Cycle conventions: both drivers count cycles from the reset's release (``cycle``), drive
inputs after a falling clock edge and sample outputs before the next rising one, as the
project's co-simulation hosts do. A walk-through: docs/testbenches.md.
"""

from __future__ import annotations

from .accelerator import AcceleratorDriver, DoneRecord, JobResult
from .scheduler import SchedulerDriver, XResponse
from .scoreboard import AcceleratorScoreboard, Expected, SchedulerScoreboard
from .stimulus import GemmJob, load_config, make_rng, random_commands, random_gemm

__all__ = [
    "AcceleratorDriver",
    "AcceleratorScoreboard",
    "DoneRecord",
    "Expected",
    "GemmJob",
    "JobResult",
    "SchedulerDriver",
    "SchedulerScoreboard",
    "XResponse",
    "load_config",
    "make_rng",
    "random_commands",
    "random_gemm",
]
