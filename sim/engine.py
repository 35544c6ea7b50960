"""The discrete-event co-simulation engine: accelerators, a policy, a timing backend.

Requests arrive (`Workload.requests`), wait until their dependencies finished, and queue;
whenever an accelerator is free and tasks are queued the policy picks one (`Policy.select`) and
that task's next layer runs on the accelerator for the time the backend reports
(`TimingBackend.layer`). Preemption is layer-wise with zero switch cost: a new decision is
taken at every layer boundary over every queued task.

Two loops implement the same semantics:

* the generic loop: one heap of events keyed by ``(time, kind, seq)`` (``seq`` owned by the
  engine, so equal times are processed in a fixed order: layer completions before arrivals,
  then by insertion), any number of accelerators (each timed by the backend as itself;
  an accelerator restricted to some layer kinds, `AcceleratorConfig.layer_kinds` of
  ``policy.context.system``, is offered only the tasks whose next layer it runs),
  dependencies, frame dropping, sub-network choice (`Policy.variant`) and activation
  transfers between accelerators (`mmsched.sched.transfer.TransferModel`);
* a fast loop for the common single-accelerator case without dependencies, frame
  dropping or sub-network choice (no heap: the next event is either the next arrival or the
  end of the running layer). It gives the same records as the generic loop (tested), and it
  is the only loop that can reproduce the Dysta artifact's clock
  (`CompatFlags.clock_rewind`, `CompatFlags.strict_arrivals`). With the dysta, prema and
  sdrm3 policies it runs compiled (`mmsched.sim.fastloop`, the same records bit for bit).

Time is the workload's unit: integer cycles (fixed mode) or float seconds (Dysta-artifact
compat); the engine only adds and compares times, so either works.

Event semantics at time ``t`` (fixed mode): every layer that ends at ``t`` and every request
that arrives at or before ``t`` is processed first, then free accelerators are offered, in
index order, to the policy. With ``CompatFlags.strict_arrivals`` a request arriving exactly at
a layer boundary waits for the next boundary; with ``CompatFlags.clock_rewind`` an idle
accelerator jumps to the next request's arrival even if that is earlier than the end of the
last layer (docs/artifact-compat.md, defect 2).

Transfers: when a request's next layer is dispatched to another accelerator than its last
one, the destination is busy for the transfer's cycles and then the layer's; the transfer's
energy is added to the request's (docs/realtime.md).
"""

from __future__ import annotations

import heapq
import logging
import sys
from bisect import insort
from dataclasses import dataclass, replace

from mmsched.sched.compat import CompatFlags
from mmsched.sched.policy import Policy, Task
from mmsched.sched.transfer import TransferModel
from mmsched.sched.workload import Workload
from mmsched.sim.backends import TimingBackend

log = logging.getLogger(__name__)

_FIXED = CompatFlags()

__all__ = ["LayerRecord", "RequestRecord", "RunResult", "chrome_trace", "simulate"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """The outcome of one request. Times are in the run's unit (`RunResult.time_unit`).

    Attributes
    ----------
    id, model, arch, priority, sample
        From the request (``model`` is the model key).
    arrival, deadline
        From the request.
    start : int | float | None
        When its first layer started (None if it never ran).
    finish : int | float | None
        When its last layer ended, or when it was dropped.
    isolated : int | float
        True isolated latency: the sum of its layer times in layer order.
    dropped : bool
        Dropped by the policy (frame dropping) or because a dependency was dropped.
    energy_pj : float
        Sum of the energy of its executed layers.
    finish_order : int
        Rank of its completion (0 = first request to finish or be dropped).
    seconds_per_unit : float
        Seconds per time unit (``1 / clock_hz`` for cycles, 1.0 for seconds): records are
        self-describing for `mmsched.sched.metrics`.
    layers_run : int
        Layers executed (== the model's layer count unless dropped).
    accelerators : tuple of int
        The accelerators its layers ran on, in first-use order.
    transfer_pj : float
        The part of ``energy_pj`` spent moving activations between accelerators.
    variant : str
        The sub-network's model key when a policy ran the request as one, else "".
    """

    id: int
    model: str
    arch: str
    priority: int
    sample: int
    arrival: int | float
    deadline: int | float
    start: int | float | None
    finish: int | float | None
    isolated: int | float
    dropped: bool
    energy_pj: float
    finish_order: int = -1
    seconds_per_unit: float = 1.0
    layers_run: int = 0
    accelerators: tuple[int, ...] = ()
    transfer_pj: float = 0.0
    variant: str = ""


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One executed layer (kept when ``simulate(..., keep_layers=True)``).

    ``[start, end)`` holds the transfer of its input first (``transfer`` cycles, 0 when the
    request stays on the accelerator) and then the layer; ``energy_pj`` is the layer's,
    ``transfer_pj`` the transfer's.
    """

    request: int
    layer: int
    accelerator: int
    start: int | float
    end: int | float
    nnz: int
    total: int
    energy_pj: float
    transfer: int | float = 0
    transfer_pj: float = 0.0


@dataclass(frozen=True)
class RunResult:
    """Records of one run: ``requests`` sorted by id; ``layers`` in start order (empty unless
    ``keep_layers``); ``decisions``: number of `Policy.select` calls."""

    requests: tuple[RequestRecord, ...]
    layers: tuple[LayerRecord, ...]
    decisions: int
    time_unit: str
    clock_hz: float
    policy: str = ""
    end_time: int | float = 0


class _Book:
    """Per-run bookkeeping shared by both loops (records)."""

    __slots__ = ("backend", "keep_layers", "layers", "order", "records", "spu")

    def __init__(self, workload: Workload, backend: TimingBackend, keep_layers: int) -> None:
        self.backend = backend
        self.keep_layers = keep_layers
        """How many layer records the single-accelerator loops keep (the first by start)."""
        self.layers: list[LayerRecord] = []
        self.order = 0
        self.records: list[RequestRecord] = []
        self.spu = 1.0 if workload.time_unit == "seconds" else 1.0 / workload.clock_hz

    def close(self, task: Task) -> None:
        """Write the record of a finished or dropped task."""
        iso = task.isolated
        req = task.request
        if task.next_layer < task.num_layers:
            # Dropped: the true isolated latency still counts every layer (remaining ones are
            # asked of the backend; they never ran).
            for j in range(task.next_layer, task.num_layers):
                iso += self.backend.layer(0, task.model, j, req.sample).cycles
        single = (0,) if task.next_layer else ()  # the fast loop runs accelerator 0 only
        accs = tuple(task.accs) if task.accs is not None else single
        self.records.append(RequestRecord(
            id=task.id, model=req.model, arch=task.model.arch, priority=req.priority,
            sample=req.sample, arrival=req.arrival, deadline=req.deadline, start=task.start,
            finish=task.finish, isolated=iso, dropped=task.dropped,
            energy_pj=task.energy_pj, finish_order=self.order,
            seconds_per_unit=self.spu, layers_run=task.next_layer, accelerators=accs,
            transfer_pj=task.transfer_pj,
            variant=task.model.key if task.model.key != req.model else ""))
        self.order += 1


def simulate(workload: Workload, policy: Policy, backend: TimingBackend, *,
             num_accelerators: int = 1, compat: CompatFlags = _FIXED,
             keep_layers: bool = False, max_layers: int | None = None,
             transfer: TransferModel | None = None) -> RunResult:
    """Run ``workload`` under ``policy`` with layer times from ``backend``.

    Parameters
    ----------
    workload : Workload
        Requests sorted by (arrival, id); times in ``workload.time_unit``.
    policy : Policy
        A fresh policy instance (policies keep per-run state). Its
        ``context.num_accelerators`` must equal ``num_accelerators``. If it reads true
        layer times (``uses_oracle``) and ``context.oracle`` is None, it is given ``backend``.
    backend : TimingBackend
        Layer times in the workload's unit, and the monitor's non-zero counts.
    num_accelerators : int
        Accelerators, indexed from 0 (keyword-only, positive).
    compat : CompatFlags
        The engine-level Dysta-artifact switches (``clock_rewind``, ``strict_arrivals``);
        they need one accelerator, no dependencies and no frame dropping.
    keep_layers : bool
        Keep one `LayerRecord` per executed layer (for Gantt charts and invariant checks).
    max_layers : int, optional
        With ``keep_layers``: keep only the first ``max_layers`` layers by (start,
        accelerator), as a Gantt chart of the start of the run needs.
    transfer : TransferModel, optional
        Charge activation transfers between accelerators (time on the destination, energy to
        the request); None: transfers are free.

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        Bad parameters, unknown dependency ids, dependency cycles, a policy that returned a
        task not in the ready list, or a policy that idles with nothing left to wait for.
    """
    if not isinstance(num_accelerators, int) or num_accelerators < 1:
        raise ValueError(f"num_accelerators must be a positive integer, not {num_accelerators!r}")
    if policy.context.num_accelerators != num_accelerators:
        raise ValueError(f"the policy was built for {policy.context.num_accelerators} "
                         f"accelerator(s), the run has {num_accelerators}")
    if policy.uses_oracle and policy.context.oracle is None:
        policy.context = replace(policy.context, oracle=backend)
    ids = {r.id for r in workload.requests}
    if len(ids) != len(workload.requests):
        raise ValueError("request ids must be unique")
    reqs = workload.requests
    for a, b in zip(reqs, reqs[1:], strict=False):
        if (b.arrival, b.id) < (a.arrival, a.id):
            raise ValueError(f"workload requests must be sorted by (arrival, id): request "
                             f"{b.id} (arrival {b.arrival}) follows {a.id} (arrival "
                             f"{a.arrival})")
    has_deps = False
    for r in workload.requests:
        if r.depends_on:
            has_deps = True
            missing = [d for d in r.depends_on if d not in ids]
            if missing:
                raise ValueError(f"request {r.id} depends on unknown request(s) {missing}")
    drops = type(policy).should_drop is not Policy.should_drop
    variants = type(policy).variant is not Policy.variant
    engine_compat = compat.clock_rewind or compat.strict_arrivals
    if max_layers is not None and (isinstance(max_layers, bool) or not isinstance(
            max_layers, int) or max_layers < 0):
        raise ValueError(f"max_layers must be a non-negative integer, not {max_layers!r}")
    book = _Book(workload, backend, (max_layers if max_layers is not None else sys.maxsize)
                 if keep_layers else 0)
    restricted = any(c.layer_kinds for c in policy.context.system)
    if num_accelerators == 1 and not has_deps and not drops and not variants and not restricted:
        from .fastloop import run_single as run_compiled  # (it imports this module)

        got = run_compiled(workload, policy, backend, book, compat)
        decisions, end = got if got is not None else _run_single(workload, policy, backend,
                                                                 book, compat)
    else:
        if engine_compat:
            raise ValueError("the compat clock switches (clock_rewind, strict_arrivals) need "
                             "one accelerator, no dependencies, no frame dropping and no "
                             "sub-network choice")
        decisions, end = _run_generic(workload, policy, backend, book, num_accelerators,
                                      transfer)
    records = tuple(sorted(book.records, key=lambda r: r.id))
    layers = book.layers
    if max_layers is not None and len(layers) > max_layers:  # (the multi-accelerator loop)
        layers = sorted(layers, key=lambda x: (x.start, x.accelerator))[:max_layers]
    return RunResult(requests=records, layers=tuple(layers), decisions=decisions,
                     time_unit=workload.time_unit, clock_hz=workload.clock_hz,
                     policy=policy.name, end_time=end)


def _trivial_single(policy: Policy) -> bool:
    """Whether ``select`` may be skipped when one task is ready: only if the class whose
    ``select`` runs declares ``trivial_single`` itself (a subclass that overrides ``select``
    does not inherit the promise)."""
    for klass in type(policy).__mro__:
        if "select" in klass.__dict__:
            return bool(klass.__dict__.get("trivial_single", False))
    return False


def _bad_pick(policy: Policy, task: object) -> ValueError:
    return ValueError(f"policy {policy.name!r} selected {task!r}, which is not ready")


def _run_single(workload: Workload, policy: Policy, backend: TimingBackend, book: _Book,
                compat: CompatFlags) -> tuple[int, int | float]:
    """Single accelerator, no dependencies, no dropping: no heap (see module docstring).

    The hot loop of every sweep: locals only, one ``select`` and one ``on_layer_done`` call
    per layer, the request's whole timing row fetched once when the backend offers ``row``.
    """
    reqs = workload.requests
    models = workload.models
    n = len(reqs)
    select = policy.select
    trivial = _trivial_single(policy)
    on_arrival = policy.on_arrival
    on_done = policy.on_layer_done
    on_finish = policy.on_finish
    layer_fn = backend.layer
    row_fn = getattr(backend, "row", None)
    keep = book.keep_layers
    layers_out = book.layers
    close = book.close
    strict = compat.strict_arrivals
    rewind = compat.clock_rewind
    queue: list[Task] = []
    now: int | float = 0 if workload.time_unit == "cycles" else 0.0
    nxt = 0
    nxt_arrival = reqs[0].arrival if n else None
    done = 0
    decisions = 0
    while done < n:
        # Intake: the queue is in arrival order because requests are sorted by (arrival, id).
        if nxt < n and (not queue or nxt_arrival < now or (nxt_arrival == now and not strict)):
            if not queue and (rewind or nxt_arrival > now):
                now = nxt_arrival
            while True:
                r = reqs[nxt]
                t = Task(r, models[r.model])
                queue.append(t)
                on_arrival(now, t)
                nxt += 1
                if nxt == n:
                    break
                nxt_arrival = reqs[nxt].arrival
                if not (nxt_arrival < now or (nxt_arrival == now and not strict)):
                    break
        task = queue[0] if trivial and len(queue) == 1 else select(now, 0, queue)
        decisions += 1
        if task is None:
            # Deliberate idling: wait for the next arrival, which then joins the queue.
            if nxt >= n:
                raise ValueError(f"policy {policy.name!r} left the accelerator idle with "
                                 f"{len(queue)} task(s) queued and no arrival to wait for")
            if nxt_arrival > now:
                now = nxt_arrival
            r = reqs[nxt]
            t = Task(r, models[r.model])
            queue.append(t)
            on_arrival(now, t)
            nxt += 1
            if nxt < n:
                nxt_arrival = reqs[nxt].arrival
            continue
        j = task.next_layer
        if task.running_on != -1 or j >= task.num_layers:
            raise _bad_pick(policy, task)
        row = task.timings
        if row is not None:
            tm = row[j]
        elif row_fn is not None:
            row = task.timings = row_fn(0, task.model, task.request.sample)
            tm = row[j]
        else:
            tm = layer_fn(0, task.model, j, task.request.sample)
        if j == 0:
            task.start = now
        c = tm.cycles
        task.isolated += c
        if tm.energy_pj:
            task.energy_pj += tm.energy_pj
        if keep:  # (layers start in order here: the first ``keep`` are the ones asked for)
            layers_out.append(LayerRecord(task.id, j, 0, now, now + c, tm.nnz, tm.total,
                                          tm.energy_pj))
            keep -= 1
        now += c
        j += 1
        task.next_layer = j
        task.last_run = now
        on_done(now, task, 0, tm.nnz, tm.total)
        if j == task.num_layers:
            task.finish = now
            queue.remove(task)
            done += 1
            on_finish(now, task)
            close(task)
    return decisions, now


_LAYER_DONE = 0
_ARRIVAL = 1


def _run_generic(workload: Workload, policy: Policy, backend: TimingBackend, book: _Book,
                 num_accelerators: int,
                 transfer: TransferModel | None) -> tuple[int, int | float]:
    """The heap loop: several accelerators, dependencies, frame dropping, sub-networks,
    transfers."""
    reqs = workload.requests
    models = workload.models
    n = len(reqs)
    by_id = {r.id: r for r in reqs}
    dependents: dict[int, list[int]] = {}
    for r in reqs:
        for d in r.depends_on:
            dependents.setdefault(d, []).append(r.id)
    heap: list[tuple] = []
    seq = 0
    for i, r in enumerate(reqs):
        heap.append((r.arrival, _ARRIVAL, seq, i))
        seq += 1
    heapq.heapify(heap)
    tasks: dict[int, Task] = {}          # arrived (constructed) tasks
    finished: set[int] = set()           # ids finished normally
    closed: set[int] = set()             # ids finished or dropped
    doomed: set[int] = set()             # to be dropped at arrival (a dependency was dropped)
    waiting: dict[int, Task] = {}        # arrived, dependencies pending
    queue: list[Task] = []               # ready and not running, (arrival, id) order
    free = [True] * num_accelerators
    drops = type(policy).should_drop is not Policy.should_drop
    variants = type(policy).variant is not Policy.variant
    keep = book.keep_layers
    decisions = 0
    system = policy.context.system
    kinds = [frozenset(system[a].layer_kinds) if a < len(system) and system[a].layer_kinds
             else None for a in range(num_accelerators)]
    now: int | float = 0
    order_key = _order_key

    def enqueue(t: Task, at: int | float) -> None:
        if t.last_run < at:
            t.last_run = at
        if not queue or order_key(queue[-1]) < order_key(t):
            queue.append(t)
        else:
            insort(queue, t, key=order_key)
        policy.on_arrival(at, t)

    def drop(t: Task, at: int | float) -> None:
        t.dropped = True
        t.finish = at if at >= t.arrival else t.arrival
        if t in queue:
            queue.remove(t)
        waiting.pop(t.id, None)
        closed.add(t.id)
        policy.on_finish(at, t)
        book.close(t)
        for did in dependents.get(t.id, ()):
            if did in closed:
                continue
            if did in tasks:
                drop(tasks[did], at)
            else:
                doomed.add(did)

    def release(rid: int, at: int | float) -> None:
        for did in dependents.get(rid, ()):
            w = waiting.get(did)
            if w is not None and all(d in finished for d in w.request.depends_on):
                del waiting[did]
                enqueue(w, at)

    while heap:
        now = heap[0][0]
        while heap and heap[0][0] == now:
            _, kind, _, payload = heapq.heappop(heap)
            if kind == _LAYER_DONE:
                acc, t, tm = payload
                free[acc] = True
                t.running_on = -1
                t.next_layer += 1
                t.last_run = now
                policy.on_layer_done(now, t, acc, tm.nnz, tm.total)
                if t.next_layer == t.num_layers:
                    t.finish = now
                    finished.add(t.id)
                    closed.add(t.id)
                    policy.on_finish(now, t)
                    book.close(t)
                    release(t.id, now)
                else:
                    _requeue(queue, t, order_key)
            else:
                r = reqs[payload]
                t = Task(r, models[r.model])
                if variants:
                    _apply_variant(policy, t, now, models)
                tasks[r.id] = t
                if r.id in doomed or any(d in closed and d not in finished
                                         for d in r.depends_on):
                    drop(t, now)
                elif all(d in finished for d in r.depends_on):
                    enqueue(t, now)
                else:
                    waiting[r.id] = t
        if drops and queue:
            for t in list(queue):
                if policy.should_drop(now, t):
                    drop(t, now)
        for acc in range(num_accelerators):
            if not free[acc] or not queue:
                continue
            ready = queue
            if kinds[acc] is not None:  # only the tasks whose next layer this one runs
                ready = [t for t in queue if t.model.layers[t.next_layer].kind in kinds[acc]]
                if not ready:
                    continue
            task = policy.select(now, acc, ready)
            decisions += 1
            if task is None:
                continue
            if task.running_on != -1 or task not in ready:
                raise _bad_pick(policy, task)
            queue.remove(task)
            j = task.next_layer
            tm = backend.layer(acc, task.model, j, task.request.sample)
            if task.start is None:
                task.start = now
            moved, moved_pj = 0, 0.0
            if task.last_acc != acc:
                if task.accs is None:
                    task.accs = [acc]
                elif acc not in task.accs:
                    task.accs.append(acc)
                if task.last_acc != -1 and transfer is not None:
                    moved, moved_pj = transfer.cost(task.model.layers[j], acc)
                    task.energy_pj += moved_pj
                    task.transfer_pj += moved_pj
            end = now + moved + tm.cycles
            task.running_on = acc
            task.last_acc = acc
            free[acc] = False
            task.isolated += tm.cycles
            if tm.energy_pj:
                task.energy_pj += tm.energy_pj
            if keep:
                book.layers.append(LayerRecord(task.id, j, acc, now, end, tm.nnz, tm.total,
                                               tm.energy_pj, moved, moved_pj))
            heapq.heappush(heap, (end, _LAYER_DONE, seq, (acc, task, tm)))
            seq += 1
        if not heap and queue:
            raise ValueError(f"policy {policy.name!r} left {len(queue)} task(s) queued with "
                             f"every accelerator idle and nothing left to wait for")
    if len(closed) != n:
        stuck = sorted(set(by_id) - closed)
        raise ValueError(f"request(s) {stuck[:10]} never became ready: dependency cycle")
    return decisions, now


def _apply_variant(policy: Policy, task: Task, now: int | float, models) -> None:
    """Run ``task`` as the sub-network the policy picks (checked against the model's)."""
    key = policy.variant(now, task)
    if key is None or key == task.model.key:
        return
    if key not in task.model.variants or key not in models:
        raise ValueError(f"policy {policy.name!r} chose {key!r} for request {task.id}, which "
                         f"is not a sub-network of {task.model.key!r} "
                         f"({', '.join(task.model.variants) or 'none'})")
    task.model = models[key]
    task.num_layers = task.model.num_layers


def chrome_trace(result: RunResult) -> dict:
    """The run's layer timeline as Chrome trace JSON (``chrome://tracing``, Perfetto).

    One complete event (``"ph": "X"``) per executed layer (needs ``keep_layers=True``): the
    accelerator is the thread, the request the event name; times in microseconds. Requests
    appear as instant events at their arrival and finish. Returns the JSON object; write it
    with ``json.dump``.
    """
    scale = 1e6 if result.time_unit == "seconds" else 1e6 / result.clock_hz
    events: list[dict] = []
    for lr in result.layers:
        events.append({"name": f"req {lr.request}", "cat": "layer", "ph": "X", "pid": 0,
                       "tid": lr.accelerator, "ts": lr.start * scale,
                       "dur": (lr.end - lr.start) * scale,
                       "args": {"layer": lr.layer, "nnz": lr.nnz, "total": lr.total}})
    for r in result.requests:
        events.append({"name": f"arrive {r.id} ({r.model})", "cat": "request", "ph": "i",
                       "s": "p", "pid": 0, "tid": 0, "ts": r.arrival * scale})
        if r.finish is not None:
            events.append({"name": f"{'drop' if r.dropped else 'finish'} {r.id}",
                           "cat": "request", "ph": "i", "s": "p", "pid": 0, "tid": 0,
                           "ts": r.finish * scale,
                           "args": {"late": bool(r.finish > r.deadline)}})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"policy": result.policy, "decisions": result.decisions}}


def _order_key(t: Task) -> tuple:
    return (t.arrival, t.id)


def _requeue(queue: list[Task], t: Task, key) -> None:
    """Put a task whose layer just ended back in the queue at its arrival-order place."""
    if not queue or key(queue[-1]) < key(t):
        queue.append(t)
    else:
        insort(queue, t, key=key)


def check_invariants(result: RunResult, workload: Workload,
                     num_accelerators: int = 1) -> list[str]:
    """Engine invariants of a run kept with ``keep_layers``; returns violations (empty = ok).

    Each non-dropped request's layers ran exactly once, in order, after its arrival, one at a
    time; an accelerator runs one layer at a time; every finish is after its arrival; in
    fixed mode (integer cycles) layer starts never go backwards per accelerator.
    """
    bad: list[str] = []
    by_req: dict[int, list[LayerRecord]] = {}
    for lr in result.layers:
        by_req.setdefault(lr.request, []).append(lr)
    for rec in result.requests:
        model = workload.models[rec.model]
        lrs = by_req.get(rec.id, [])
        idx = [lr.layer for lr in lrs]
        if not rec.dropped and idx != list(range(model.num_layers)):
            bad.append(f"request {rec.id}: layers run {idx[:8]}..., expected each once in order")
        if rec.dropped and idx != list(range(len(idx))):
            bad.append(f"request {rec.id}: dropped but layers {idx} not a prefix")
        for a, b in zip(lrs, lrs[1:], strict=False):
            if b.start < a.end:
                bad.append(f"request {rec.id}: layer {b.layer} starts before layer {a.layer} "
                           f"ends")
        if lrs and lrs[0].start < rec.arrival:
            bad.append(f"request {rec.id}: starts at {lrs[0].start} before arrival "
                       f"{rec.arrival}")
        late_enough = rec.finish is not None and (
            rec.finish > rec.arrival or (rec.finish == rec.arrival
                                         and (rec.dropped or rec.isolated == 0)))
        if not late_enough:
            bad.append(f"request {rec.id}: finish {rec.finish} not after arrival {rec.arrival}")
    for acc in range(num_accelerators):
        lrs = [lr for lr in result.layers if lr.accelerator == acc]
        for a, b in zip(lrs, lrs[1:], strict=False):
            if b.start < a.end and result.time_unit == "cycles":
                bad.append(f"accelerator {acc}: layer starting {b.start} overlaps one ending "
                           f"{a.end} (time went backwards)")
    return bad


def idle_while_ready(result: RunResult, workload: Workload,
                     num_accelerators: int = 1) -> list[tuple]:
    """Work-conservation witnesses: ``(time, accelerator, request)`` where an accelerator was
    idle at a layer boundary although a request was ready (arrived, dependencies done, not
    running, not finished). Empty for a work-conserving run (needs ``keep_layers``; fixed
    mode, no dependencies)."""
    out: list[tuple] = []
    busy: dict[int, list[tuple]] = {a: [] for a in range(num_accelerators)}
    for lr in result.layers:
        busy[lr.accelerator].append((lr.start, lr.end))
    events = sorted({lr.end for lr in result.layers} | {r.arrival for r in workload.requests})
    recs = {r.id: r for r in result.requests}
    running_at: dict = {}
    for lr in result.layers:
        running_at.setdefault(lr.request, []).append((lr.start, lr.end))
    for t in events:
        for a in range(num_accelerators):
            if any(s <= t < e for s, e in busy[a]):
                continue
            for r in workload.requests:
                rec = recs[r.id]
                if r.arrival <= t and rec.finish is not None and t < rec.finish and \
                        not any(s <= t < e for s, e in running_at.get(r.id, ())):
                    out.append((t, a, r.id))
                    break
    return out
