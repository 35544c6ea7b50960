"""`AcceleratorConfig` validates every field it owns, once, at construction: the clock within
[MIN_CLOCK_HZ, MAX_CLOCK_HZ] and finite, the name a string, sizes integers (not bools), dense
a bool, the energy an `EnergyTable` of finite figures. The CLI, scenario and experiment files
rely on these checks instead of repeating them."""

import ast
import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest

import mmsched.sched.limits as limits
from mmsched.hw.spec import (
    EYERISS_V2_LIKE,
    MAX_CLOCK_HZ,
    MIN_CLOCK_HZ,
    SANGER_LIKE,
    AcceleratorConfig,
    EnergyTable,
)

ROOT = Path(__file__).resolve().parents[2]
CLOCK = r"clock_hz must be a number of Hz in \[1000, 1e\+12\] \(MIN_CLOCK_HZ, MAX_CLOCK_HZ\), "


@pytest.mark.parametrize("clock", [
    math.inf, -math.inf, math.nan, 0, 0.0, -0.0, -1, -200e6, True, False,
    999.999, MIN_CLOCK_HZ / 2, MAX_CLOCK_HZ * (1 + 1e-9), 1e13, 10**13, 10**400, 1e308,
    "200e6", None, [200e6], 200e6 + 0j,
])
def test_bad_clock_refused(clock):
    with pytest.raises(ValueError, match=CLOCK + re.escape(f"not {clock!r}") + "$"):
        AcceleratorConfig(clock_hz=clock)


@pytest.mark.parametrize("clock", [MIN_CLOCK_HZ, MAX_CLOCK_HZ, 1000, 10**12, 200e6, 10**9,
                                   np.float64(1e9)])
def test_clock_bounds_are_inclusive_and_ints_accepted(clock):
    assert AcceleratorConfig(clock_hz=clock).clock_hz == clock


def test_clock_accepted_exactly_within_the_bounds_seeded():
    rng = np.random.default_rng(20240611)
    for v in 10.0 ** rng.uniform(-3, 16, 300):
        inside = MIN_CLOCK_HZ <= v <= MAX_CLOCK_HZ
        try:
            AcceleratorConfig(clock_hz=float(v))
        except ValueError as e:
            assert not inside, (v, e)
            assert re.match(CLOCK, str(e))
        else:
            assert inside, v


@pytest.mark.parametrize("base", [AcceleratorConfig(), EYERISS_V2_LIKE, SANGER_LIKE])
def test_replace_revalidates_the_clock(base):
    """The CLI (``--clock-mhz``) and experiment hardware axes override a named config."""
    with pytest.raises(ValueError, match=CLOCK + "not inf$"):
        dataclasses.replace(base, clock_hz=math.inf)
    assert dataclasses.replace(base, clock_hz=1e8).clock_hz == 1e8


@pytest.mark.parametrize("name", [3, 3.0, None, True, b"eyeriss", ["a"], ("a",)])
def test_name_must_be_a_string(name):
    with pytest.raises(ValueError, match=re.escape(f"name must be a string, not {name!r}")):
        AcceleratorConfig(name=name)


@pytest.mark.parametrize(("kw", "match"), [
    ({"rows": True}, "rows must be a positive integer, not True"),
    ({"max_k": False}, "max_k must be a positive integer, not False"),
    ({"cols": 8.0}, "cols must be a positive integer, not 8.0"),
    ({"act_mem_words": "256"}, "act_mem_words must be a positive integer, not '256'"),
    ({"wt_mem_words": -1}, "wt_mem_words must be a positive integer, not -1"),
    ({"dense": 1}, "dense must be a bool, not 1"),
    ({"dense": "yes"}, "dense must be a bool, not 'yes'"),
    ({"energy": {"mac_pj": 0.3}}, "energy must be an EnergyTable, not dict"),
    ({"layer_kinds": ["conv"]}, "layer_kinds must be a tuple"),
    ({"layer_kinds": ("conv", "conv")}, "layer_kinds must be a tuple of distinct"),
])
def test_other_fields_typed(kw, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        AcceleratorConfig(**kw)


def test_type_checks_come_before_relations():
    """A wrongly typed field is named as such, not as a failed comparison (TypeError)."""
    with pytest.raises(ValueError, match="chunk_depth must be a positive integer, not '32'"):
        AcceleratorConfig(chunk_depth="32", pe_buffer_depth=16)
    with pytest.raises(ValueError, match=CLOCK + "not 'fast'$"):
        AcceleratorConfig(chunk_depth=32, pe_buffer_depth=16, clock_hz="fast")


@pytest.mark.parametrize("value", [math.inf, math.nan, -1.0, True, "0.3", None])
def test_energy_figures_finite_and_not_bool(value):
    with pytest.raises(ValueError, match=re.escape(f"mac_pj must be a finite number >= 0, "
                                                   f"not {value!r}")):
        EnergyTable(mac_pj=value)
    assert EnergyTable(mac_pj=0, dram_pj_per_byte=1e6).mac_pj == 0


def test_from_dict_round_trip_and_validation():
    for cfg in (AcceleratorConfig(), EYERISS_V2_LIKE, SANGER_LIKE):
        assert AcceleratorConfig.from_dict(cfg.to_dict()) == cfg
    bad = {**SANGER_LIKE.to_dict(), "clock_hz": math.inf}
    with pytest.raises(ValueError, match=CLOCK + "not inf$"):
        AcceleratorConfig.from_dict(bad)


def test_clock_bounds_defined_once_in_hw_spec():
    """hw cannot import sched (layering): sched.limits re-exports hw.spec's definition."""
    assert (limits.MIN_CLOCK_HZ, limits.MAX_CLOCK_HZ) == (1e3, 1e12)
    assert limits.MIN_CLOCK_HZ is MIN_CLOCK_HZ and limits.MAX_CLOCK_HZ is MAX_CLOCK_HZ
    assert {"MIN_CLOCK_HZ", "MAX_CLOCK_HZ"} <= set(limits.__all__)
    defined = []
    for folder in ("hw", "sched", "sim"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text())):
                targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                           if isinstance(node, ast.AnnAssign) else [])
                defined += [f"{f.relative_to(ROOT)}:{t.id}" for t in targets
                            if isinstance(t, ast.Name) and t.id in ("MIN_CLOCK_HZ", "MAX_CLOCK_HZ")]
    assert sorted(defined) == ["hw/spec/accelerator.py:MAX_CLOCK_HZ",
                               "hw/spec/accelerator.py:MIN_CLOCK_HZ"]
