"""The engine's single-accelerator loop, compiled (fastloop.c), for the Dysta benchmark's policies.

`mmsched.sim.engine.simulate` hands a run here first. When the run is one this loop covers
(one accelerator, no dependencies, no frame dropping, one of the policies below as the
registry builds it, a backend with ``row_arrays``), the C transcription in ``fastloop.c``
runs it and the records are built from its arrays; otherwise `run_single` returns None and
the Python loop runs. Both give the same records, bit for bit (tests/sim/test_fastloop.py
compares them over random workloads, every policy, variant and compat switch, in cycles
and in seconds): the C code performs the Python code's floating-point operations in the
same order, compiled without fused multiply-add.

Covered (`COVERED`): ``dysta``, ``dysta_naive``, ``dysta_oracle``, ``prema``,
``prema_sparse``, ``sdrm3``, ``sdrm3_sparse``, ``sjf``, ``sjf_sparse``, ``fcfs``, ``edf``,
``planaria`` and ``rr``, with any config and `CompatFlags`. Not covered: ``dysta_hw`` (its
fixed-point twin is the reference), the multi-accelerator policies. Times must be exact in
a double: integer cycles below 2^53 (``time_unit="cycles"``, every arrival and layer time an
int) or float seconds.

The library is compiled at first use with the system C compiler (``$CC``, else the one
Python was built with, else ``cc``) into the build folder (`mmsched.hw.paths.build_dir`),
keyed by the source, the compiler and the flags, and shared by later processes (in a
private temporary folder when the build folder is not usable). Without a compiler every run
takes the Python loop (said with ``-v``); a compiler that fails gives one warning.
``MMSCHED_FASTLOOP=0`` turns the compiled loop off (the Python loop then runs every case;
results are the same).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import operator
import os
import platform
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
import weakref
from functools import reduce
from pathlib import Path

import numpy as np

from mmsched.sched.compat import CompatFlags
from mmsched.sched.policies._base import EstimatePolicy
from mmsched.sched.policies.dysta import Dysta
from mmsched.sched.policies.edf import EDF
from mmsched.sched.policies.fcfs import FCFS
from mmsched.sched.policies.planaria import Planaria
from mmsched.sched.policies.prema import PREMA
from mmsched.sched.policies.rr import RoundRobin, stream_of
from mmsched.sched.policies.sdrm3 import SDRM3
from mmsched.sched.policies.sjf import SJF
from mmsched.sched.policy import Policy
from mmsched.sched.workload import Workload

from .backends import TimingBackend
from .engine import LayerRecord, RequestRecord, _trivial_single

log = logging.getLogger(__name__)

__all__ = ["COVERED", "SECONDS_PER_REQUEST", "available", "load", "run_single"]

SOURCE = Path(__file__).with_name("fastloop.c")
FLAGS = ("-O2", "-std=c99", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math")
"""No fused multiply-add and no value-changing optimisation: the Python code's rounding."""

_EXACT = 2 ** 53

_I64 = ctypes.c_int64
_F64 = ctypes.c_double
_P = ctypes.c_void_p


class _Params(ctypes.Structure):  # fastloop.c's Params, field for field
    _fields_ = [("n", _I64), ("arrival", _P), ("deadline", _P), ("prio", _P), ("row", _P),
                ("prof", _P), ("nlayers", _P), ("stream", _P), ("cycles", _P),
                ("density", _P), ("ncycles", _I64), ("rem", _P), ("lay", _P), ("dens", _P),
                ("kind", _I64), ("monitor", _I64), ("last_one", _I64), ("sparse", _I64),
                ("trivial", _I64), ("oracle", _I64), ("beta", _F64), ("fair", _F64),
                ("alpha", _F64), ("resources", _F64), ("cumulative", _I64),
                ("shared_gamma", _I64), ("per_layer", _I64), ("compat_max", _I64),
                ("strict", _I64), ("rewind", _I64), ("keep", _I64)]


class _Output(ctypes.Structure):
    _fields_ = [("start", _P), ("finish", _P), ("order", _P), ("lreq", _P), ("lj", _P),
                ("lstart", _P), ("decisions", _I64), ("end", _F64)]


_lib: ctypes.CDLL | None = None
_tried = False


def _compiler() -> list[str] | None:
    for cand in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc"):
        if cand:
            cmd = shlex.split(cand)
            if cmd and shutil.which(cmd[0]):
                return cmd
    return None


class _CompileError(OSError):
    """The compiler refused the source."""


def _built(cc: list[str], lib_path: Path) -> ctypes.CDLL:
    """The library at ``lib_path``, compiled there first unless it exists (atomically: a
    concurrent build of the same key leaves one complete file)."""
    from mmsched.hw.paths import atomic_path

    if not lib_path.is_file():
        with atomic_path(lib_path, suffix=".so") as tmp:
            run = subprocess.run([*cc, *FLAGS, "-o", str(tmp), str(SOURCE)],
                                 capture_output=True, text=True, check=False)
            if run.returncode:
                raise _CompileError(f"{' '.join(cc)} failed: {run.stderr.strip()[-500:]}")
    return ctypes.CDLL(str(lib_path))


def load() -> ctypes.CDLL | None:
    """The compiled loop, built at first use (module docstring); None when it is turned off
    or cannot be built. Called in the parent before worker processes fork, so that they share
    one build."""
    global _lib, _tried
    if os.environ.get("MMSCHED_FASTLOOP", "1") == "0":
        return None
    if _tried:
        return _lib
    _tried = True
    cc = _compiler()
    if cc is None:  # (said only with -v: the results are the same, a line on every command
        # of a machine without a compiler would be noise)
        log.info("no C compiler found ($CC or cc): simulations run in the slower pure-Python "
                 "loop (same results)")
        return None
    from mmsched.hw.paths import build_dir

    try:
        key = hashlib.sha256(b"\0".join([SOURCE.read_bytes(), " ".join(cc).encode(),
                                         " ".join(FLAGS).encode(), platform.machine().encode()]))
        name = f"fastloop-{key.hexdigest()[:16]}.so"
        try:
            lib = _built(cc, build_dir() / "fastloop" / name)
        except _CompileError:
            raise
        except OSError:  # the build folder is not usable: build in a private one, load it
            with tempfile.TemporaryDirectory(prefix="mmsched-fastloop-") as tmp:
                lib = _built(cc, Path(tmp) / name)
    except OSError as e:
        log.warning("the compiled simulation loop could not be built (%s): simulations run "
                    "in the slower pure-Python loop (same results)", e)
        return None
    lib.mm_fastloop.argtypes = [ctypes.POINTER(_Params), ctypes.POINTER(_Output)]
    lib.mm_fastloop.restype = ctypes.c_int
    _lib = lib
    return lib


def available() -> bool:
    """Whether the compiled loop can run here (builds it if needed)."""
    return load() is not None


COVERED = ("dysta", "dysta_naive", "dysta_oracle", "prema", "prema_sparse", "sdrm3",
           "sdrm3_sparse", "sjf", "sjf_sparse", "fcfs", "edf", "planaria", "rr")
"""The registered names `_form` covers: every single-accelerator policy of the Dysta
benchmark and its baselines."""

SECONDS_PER_REQUEST = 15e-6
"""Time per request and policy of a run in the compiled loop, the records and metrics
included (about 7x less than the Python loop's `mmsched.sched.limits.SECONDS_PER_REQUEST`):
9 runs of 1000 requests of the Dysta CSVs (about 33 layers each) in 0.135 s on one core."""


_KINDS = {Dysta: 0, PREMA: 1, SDRM3: 2, SJF: 3, FCFS: 4, EDF: 5, Planaria: 6, RoundRobin: 7}
"""fastloop.c's policy kinds."""


def _form(policy: Policy) -> dict | None:
    """The kernel's policy fields, or None for a policy it does not cover. Exact types only:
    a subclass may change any hook. ``profiled``: whether the policy reads static profiles
    (an `EstimatePolicy`)."""
    kind = _KINDS.get(type(policy))
    if kind is None:
        return None
    form = {"kind": kind, "trivial": int(_trivial_single(policy)),
            "profiled": isinstance(policy, EstimatePolicy)}
    if form["profiled"]:
        form.update(monitor=int(policy._monitor), last_one=int(policy._last_one))
    cfg = policy.config
    if kind == 0:
        form.update(beta=cfg.beta, fair=policy._fair_unit, oracle=int(policy._oracle))
    elif kind == 1:
        form.update(sparse=int(cfg.sparse), cumulative=int(policy._cumulative),
                    shared_gamma=int(policy._shared_gamma))
    elif kind == 2:
        form.update(sparse=int(cfg.sparse), alpha=cfg.alpha, per_layer=int(policy._per_layer),
                    compat_max=int(policy._compat_max))
    elif kind == 6:
        form.update(resources=cfg.resources, compat_max=int(policy._compat))
    return form


class _Row:
    """One (model key, sample) row in the kernel's form, with the record's sums."""

    __slots__ = ("cycles", "density", "energy", "exact", "isolated")

    def __init__(self, arrays: tuple[list, list, list], length: int, ints: bool) -> None:
        cycles, density, energies = (a[:length] for a in arrays)
        self.cycles = cycles
        self.density = density
        # the engine's accumulators, left to right as it adds them (sum() of floats may
        # compensate), energy only where non-zero
        self.isolated = reduce(operator.add, cycles, 0)
        self.energy = reduce(operator.add, filter(None, energies), 0.0)
        self.exact = len(cycles) == length and set(map(type, cycles)) == {
            int if ints else float} and (not ints or abs(self.isolated) < _EXACT)


_row_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rows_of(backend: TimingBackend) -> dict:
    try:
        return _row_cache.setdefault(backend, {})
    except TypeError:  # not weakly referable: rows are converted per run
        return {}


def run_single(workload: Workload, policy: Policy, backend: TimingBackend, book,
               compat: CompatFlags) -> tuple[int, int | float] | None:
    """Run `mmsched.sim.engine._run_single`'s case in the compiled loop, writing ``book``'s
    records; returns ``(decisions, end)``, or None (nothing written) when the compiled loop
    does not cover the run or is not available."""
    form = _form(policy)
    reqs = workload.requests
    row_fn = getattr(backend, "row_arrays", None)
    if form is None or row_fn is None or not hasattr(backend, "row") or not reqs \
            or load() is None:
        return None
    ints = workload.time_unit == "cycles"
    arrival = [r.arrival for r in reqs]
    deadline = [r.deadline for r in reqs]
    if set(map(type, arrival)) != {int if ints else float}:
        return None
    if ints and (max(map(abs, arrival)) >= _EXACT or max(
            (abs(d) for d in deadline if type(d) is not float), default=0) >= _EXACT):
        return None  # (beyond the exact integers of a double)
    models = workload.models
    cache = _rows_of(backend)
    profiles: dict[str, int] = {}
    rem: list[float] = []
    lay: list[float] = []
    dens: list[float] = []
    cycles: list = []
    density: list[float] = []
    slots: dict[tuple[str, int], tuple[int, int, int, _Row]] = {}
    per_request = []
    for r in reqs:
        rk = (r.model, r.sample)
        slot = slots.get(rk)
        if slot is None:  # first request of this (model, sample) in the run
            model = models[r.model]
            n_layers = model.num_layers
            key = model.key
            p = profiles.get(key)
            if p is None:
                if n_layers < 1:
                    return None
                p = profiles[key] = len(rem)
                if form["profiled"]:
                    prof, pattern_density = policy._profile(key)
                    if len(prof.layer_latency) != n_layers:
                        return None
                    rem.extend(prof.remaining)
                    lay.extend(prof.layer_latency)
                    dens.extend(pattern_density)
                else:  # (read by no policy without profiles)
                    rem.extend([0.0] * (n_layers + 1))
                    lay.extend([0.0] * n_layers)
                    dens.extend([0.0] * n_layers)
                lay.append(0.0)
                dens.append(0.0)
            row = cache.get((key, r.sample))
            if row is None:
                row = cache[(key, r.sample)] = _Row(row_fn(0, model, r.sample), n_layers, ints)
            if not row.exact:
                return None
            slot = slots[rk] = (len(cycles), p, n_layers, row)
            cycles.extend(row.cycles)
            density.extend(row.density)
        per_request.append(slot)
    row_off, prof_off, nlayers, req_rows = (list(c) for c in zip(*per_request, strict=True))
    if ints and abs(arrival[-1]) + sum(r.isolated for r in req_rows) >= _EXACT:
        return None  # the run could end past the exact integers of a double
    streams: dict = {}  # rr: numbered in order of first arrival, as RoundRobin.on_arrival
    stream = [streams.setdefault(stream_of(r), len(streams)) for r in reqs] \
        if form["kind"] == _KINDS[RoundRobin] else [0] * len(reqs)
    return _call(workload, backend, book, compat, form, req_rows, {
        "arrival": arrival, "deadline": deadline, "prio": [r.priority for r in reqs],
        "row": row_off, "prof": prof_off, "nlayers": nlayers, "stream": stream,
        "cycles": cycles, "density": density, "rem": rem, "lay": lay, "dens": dens})


_INT_FIELDS = ("row", "prof", "nlayers", "stream")


def _call(workload: Workload, backend: TimingBackend, book, compat: CompatFlags, form: dict,
          req_rows: list[_Row], arrays: dict[str, list]) -> tuple[int, int | float] | None:
    n = len(req_rows)
    held = {name: np.ascontiguousarray(values, dtype=np.int64 if name in _INT_FIELDS
                                       else np.float64)
            for name, values in arrays.items()}
    keep = min(book.keep_layers, int(held["nlayers"].sum()))  # every layer runs
    log_len = max(keep, 1)
    out = {"start": np.zeros(n), "finish": np.zeros(n), "order": np.zeros(n, np.int64),
           "lreq": np.zeros(log_len, np.int64), "lj": np.zeros(log_len, np.int64),
           "lstart": np.zeros(log_len)}
    params = _Params(n=n, strict=int(compat.strict_arrivals), rewind=int(compat.clock_rewind),
                     keep=int(keep), ncycles=len(held["cycles"]),
                     **{k: v for k, v in form.items() if k != "profiled"},
                     **{name: a.ctypes.data for name, a in held.items()})
    res = _Output(**{name: a.ctypes.data for name, a in out.items()})
    rc = _lib.mm_fastloop(ctypes.byref(params), ctypes.byref(res))
    if rc:
        return None  # the Python loop runs the case again and reports it
    ints = workload.time_unit == "cycles"
    conv = (lambda a: a.astype(np.int64).tolist()) if ints else (lambda a: a.tolist())
    start, finish = conv(out["start"]), conv(out["finish"])
    order = out["order"].tolist()
    reqs = workload.requests
    models = workload.models
    spu = book.spu
    per_model = {}  # arch, layers, variant ("": the request runs its own model)
    for key, model in models.items():
        per_model[key] = (model.arch, model.num_layers, model.key if model.key != key else "")
    book.records.extend(
        RequestRecord(r.id, r.model, arch, r.priority, r.sample, r.arrival, r.deadline, t0, t1,
                      row.isolated, False, row.energy, rank, spu, n_layers, (0,), 0.0,
                      variant)
        for r, row, t0, t1, rank, (arch, n_layers, variant) in zip(
            reqs, req_rows, start, finish, order, (per_model[r.model] for r in reqs),
            strict=True))
    if keep:
        layers = book.layers
        rows: dict[int, tuple] = {}
        for k, j, t0 in zip(out["lreq"][:keep].tolist(), out["lj"][:keep].tolist(),
                            conv(out["lstart"][:keep]), strict=True):
            row = rows.get(k)
            if row is None:
                r = reqs[k]
                row = rows[k] = backend.row(0, models[r.model], r.sample)
            tm = row[j]
            layers.append(LayerRecord(reqs[k].id, j, 0, t0, t0 + tm.cycles, tm.nnz, tm.total,
                                      tm.energy_pj))
    book.order = n
    end = int(res.end) if ints else float(res.end)
    return int(res.decisions), end
