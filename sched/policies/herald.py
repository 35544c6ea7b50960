"""Herald-like static layer-to-accelerator assignment.

After Kwon, Lai, Pellauer, Krishna, Chen, Chandra, "Heterogeneous Dataflow Accelerators for
Multi-DNN Workloads" (Herald), HPCA'21: layers of every model are assigned *offline* to the
sub-accelerator that suits them, with load balancing, and run there. Here, once per policy
instance, every layer of every model key in the static tables is assigned greedily: layers in
decreasing order of their best static latency (ties: model key, layer index), each to the
accelerator that minimises its accumulated load plus the layer's static latency there (ties:
lower index), whose load then grows by that latency (the "longest processing time first"
rule for unrelated machines). Every model counts once: the policy is not told frame rates.
At run time an accelerator runs only layers assigned to it, first come first served among
them (the engine's ``ready`` order); if no ready request's next layer is assigned to it, it
stays idle. On one accelerator every layer is assigned to it: FCFS. On a system whose
accelerators run only some layer kinds (`AcceleratorConfig.layer_kinds`), a layer assigned
to an accelerator that cannot run its kind goes to the capable accelerator where its static
latency is least.

Deviations from Herald: Herald co-designs the partitioning of the hardware and orders layers
with its own scheduler over a known workload; we keep the accelerators as given, balance
static latency only (not energy), and order at run time by arrival.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import Policy, PolicyConfig, PolicyContext, Task, param, register


@register("herald")
class Herald(Policy):
    """Run a request's next layer only on the accelerator it was assigned to offline."""

    @dataclass(frozen=True)
    class Config(PolicyConfig):
        level: str = param("arch", choices=("arch", "pattern"))
        """Static latencies of the ``"arch"`` (default) or ``"pattern"`` means."""

    def __init__(self, context: PolicyContext, config: PolicyConfig | None = None) -> None:
        super().__init__(context, config)
        if not context.tables:
            raise ValueError("herald needs static tables (PolicyContext.tables is empty)")
        self.assignment = assign_layers(context.tables, self.config.level)
        """``assignment[key][j]``: the accelerator of layer ``j`` of model ``key``."""
        self._capable: dict[tuple[str, int], int] = {}
        self._restricted = any(c.layer_kinds for c in context.system)

    def _target(self, task: Task) -> int:
        key, j = task.model.key, task.next_layer
        a = self.assignment[key][j]
        if not self._restricted:
            return a
        hit = self._capable.get((key, j))
        if hit is None:
            kind, system = task.model.layers[j].kind, self.context.system
            hit = a
            if not system[a].runs(kind):
                lat = [t.profile(key, self.config.level).layer_latency[j]
                       for t in self.context.tables]
                hit = min((b for b in range(len(system)) if system[b].runs(kind)),
                          key=lambda b: (lat[b], b))
            self._capable[(key, j)] = hit
        return hit

    def select(self, now: int | float, accelerator: int, ready: Sequence[Task]) -> Task | None:
        for t in ready:
            if self._target(t) == accelerator:
                return t
        return None


def assign_layers(tables, level: str = "arch") -> dict[str, tuple[int, ...]]:
    """The offline assignment (module docstring) of every model key in ``tables[0]``."""
    n = len(tables)
    keys = sorted(tables[0].pattern)
    lat = {k: [t.profile(k, level).layer_latency for t in tables] for k in keys}
    items = []
    for k in keys:
        for j in range(len(lat[k][0])):
            items.append((-min(lat[k][a][j] for a in range(n)), k, j))
    items.sort()
    load = [0.0] * n
    out = {k: [0] * len(lat[k][0]) for k in keys}
    for _, k, j in items:
        best = min(range(n), key=lambda a: (load[a] + lat[k][a][j], a))
        load[best] += lat[k][best][j]
        out[k][j] = best
    return {k: tuple(v) for k, v in out.items()}
