"""Amaranth layouts built from the spec's field tables (no constant restated here)."""

from __future__ import annotations

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from mmsched.hw.spec import (
    COUNTER_WIDTH,
    DONE_FIELDS,
    AcceleratorConfig,
    command_fields,
    element_fields,
)


def element_layout(cfg: AcceleratorConfig) -> data.StructLayout:
    """A compressed activation-stream element (`mmsched.hw.spec.element_fields`)."""
    return data.StructLayout({name: (signed(w) if s else unsigned(w))
                              for name, (w, s) in element_fields(cfg).items()})


def command_layout(cfg: AcceleratorConfig) -> data.StructLayout:
    """The job command (`mmsched.hw.spec.command_fields`)."""
    return data.StructLayout({name: unsigned(w) for name, w in command_fields(cfg).items()})


def done_layout() -> data.StructLayout:
    """The done record (`mmsched.hw.spec.DONE_FIELDS`)."""
    return data.StructLayout({name: unsigned(COUNTER_WIDTH) for name in DONE_FIELDS})


def act_word_layout(cfg: AcceleratorConfig) -> data.ArrayLayout:
    """One activation-memory word: a row's chunk, element k at bits [k*dw, (k+1)*dw)."""
    return data.ArrayLayout(signed(cfg.data_width), cfg.chunk_depth)


def wt_word_layout(cfg: AcceleratorConfig) -> data.ArrayLayout:
    """One weight-memory word: ``load_rows_per_cycle`` rows of ``cols`` weights; weight
    (row i, column j) at element ``i`` then ``j`` (bits [(i*cols + j)*dw, ...))."""
    return data.ArrayLayout(data.ArrayLayout(signed(cfg.data_width), cfg.cols),
                            cfg.load_rows_per_cycle)


def out_word_layout(cfg: AcceleratorConfig) -> data.ArrayLayout:
    """One output-memory word: the ``cols`` accumulators of one output row."""
    return data.ArrayLayout(signed(cfg.acc_width), cfg.cols)


def check_config(component: object, config: object) -> None:
    """Raise ValueError unless ``config`` is an `AcceleratorConfig` (the half-built component
    is marked as used so Amaranth does not also warn that it was never elaborated)."""
    if not isinstance(config, AcceleratorConfig):
        component._MustUse__silence = True  # Amaranth's unused-elaboratable check
        raise ValueError(f"config must be an AcceleratorConfig, not {config!r}")
