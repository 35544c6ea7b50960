"""Heterogeneous systems whose accelerators run only some layer kinds
(`AcceleratorConfig.layer_kinds`): the engine offers an accelerator only the tasks whose next
layer it runs; a scenario whose system cannot run a model is refused at load."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mmsched.hw.spec import AcceleratorConfig
from mmsched.sched.errors import InputError
from mmsched.sched.latency_table import LatencyTable
from mmsched.sched.model import Layer, Model
from mmsched.sched.policy import PolicyContext, make_policy, policy_names
from mmsched.sched.scenario import load_scenario_file
from mmsched.sched.static import static_tables
from mmsched.sched.workload import Request, Workload
from mmsched.sim.backends import LayerTiming
from mmsched.sim.engine import check_invariants, simulate

CLOCK = 1e9
SYSTEM = (AcceleratorConfig(rows=4, cols=4, clock_hz=CLOCK, layer_kinds=("conv",)),
          AcceleratorConfig(rows=4, cols=4, clock_hz=CLOCK, layer_kinds=("fc", "matmul")))


class _Backend:
    """Every layer takes 100 cycles on accelerator 0 and 150 on 1 (both could time any)."""

    name = "stub"

    def layer(self, accelerator, model, layer_index, sample):
        return LayerTiming(100 + 50 * accelerator, 1, 2, 1.0)


def _workload(n=12):
    kinds = ("conv", "fc", "conv", "matmul")
    model = Model(key="n_d", arch="n", pattern="d",
                  layers=tuple(Layer(f"l{j}", k, 4, 4, 4) for j, k in enumerate(kinds)))
    reqs = tuple(Request(id=i, model="n_d", sample=0, arrival=37 * i, deadline=37 * i + 5000)
                 for i in range(n))
    st = static_tables([LatencyTable("n_d", "n", "d", np.full((1, 4), 1e-7), np.zeros((1, 4)))],
                       time_unit="cycles", clock_hz=CLOCK)
    return Workload(models={"n_d": model}, requests=reqs, clock_hz=CLOCK), st


@pytest.mark.parametrize("name", ["fcfs", "rr", "edf", "herald", "prema", "planaria", "sdrm3",
                                  "dysta", "dream", "dream_sparse"])
def test_each_layer_runs_on_an_accelerator_of_its_kind(name):
    if name not in policy_names():
        pytest.skip(f"{name} is not registered")
    wl, st = _workload()
    ctx = PolicyContext(tables=(st, st), num_accelerators=2, clock_hz=CLOCK, system=SYSTEM)
    res = simulate(wl, make_policy(name, ctx), _Backend(), num_accelerators=2, keep_layers=True)
    kinds = [la.kind for la in wl.models["n_d"].layers]
    assert res.layers and all(SYSTEM[lr.accelerator].runs(kinds[lr.layer]) for lr in res.layers)
    assert {lr.accelerator for lr in res.layers} == {0, 1}
    assert check_invariants(res, wl, 2) == []
    assert all(r.finish is not None and not r.dropped for r in res.requests)


def test_a_policy_picking_a_task_the_accelerator_cannot_run_is_refused():
    from mmsched.sched.policies.fcfs import FCFS

    class _Blind(FCFS):
        def select(self, now, accelerator, ready):
            return self._all[0]

        def on_arrival(self, now, task):
            self._all = [*getattr(self, "_all", []), task]

    wl, st = _workload(2)
    ctx = PolicyContext(tables=(st, st), num_accelerators=2, clock_hz=CLOCK, system=SYSTEM)
    with pytest.raises(ValueError, match="not ready"):
        simulate(wl, _Blind(ctx), _Backend(), num_accelerators=2)


SCENARIO = """
name = "kinds"
arrivals = "periodic"
duration_s = 0.05
system = [{base = "sanger_like", name = "convs", rows = 32, cols = 32, layer_kinds = ["conv"]},
          {base = "sanger_like", name = "gemms", rows = 32, cols = 32, layer_kinds = ["fc"]}]
[[models]]
arch = "xrkd"
fps = 30.0
"""


def test_scenario_system_must_run_every_model(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(SCENARIO)
    sc = load_scenario_file(f)
    assert [c.layer_kinds for c in sc.system] == [("conv",), ("fc",)]
    f.write_text(SCENARIO.replace('layer_kinds = ["fc"]', 'layer_kinds = ["matmul"]')
                 .replace('layer_kinds = ["conv"]', 'layer_kinds = ["attn_qk"]'))
    with pytest.raises(InputError, match=r"s.toml: system: expected an accelerator able to "
                                         r"run every layer of model 'xrkd_dense'.*found no "
                                         r"accelerator for its conv"):
        load_scenario_file(f)
    f.write_text(SCENARIO.replace('layer_kinds = ["fc"]', 'layer_kinds = ["fcc"]'))
    with pytest.raises(InputError, match=r"system\[1\]\.layer_kinds\[0\]: expected a layer kind"):
        load_scenario_file(f)
    out = tmp_path / "out"
    f.write_text(SCENARIO.replace('layer_kinds = ["conv"]', 'layer_kinds = ["attn_pv"]'))
    run = subprocess.run([sys.executable, "-m", "mmsched.sim", "run", "--scenario", str(f),
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("error:") == 1 and "no accelerator for its conv" in run.stderr
    assert not out.exists()
