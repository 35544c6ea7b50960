"""Amaranth layouts of the scheduler's records, built from `mmsched.hw.spec` (not restated)."""

from __future__ import annotations

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from mmsched.hw.spec import (
    DYSTA_ARG_FIELDS,
    DYSTA_CMD_FIELDS,
    DYSTA_LAYER_ID_BITS,
    DYSTA_MODEL_ID_BITS,
    DYSTA_PATTERN_ID_BITS,
    DYSTA_RESP_FIELDS,
    DYSTA_SEQ_BITS,
    DYSTA_WEIGHT_BITS,
    SchedulerConfig,
)


def _struct(fields) -> data.StructLayout:
    return data.StructLayout({name: unsigned(width) for name, width in fields})


def cmd_layout() -> data.StructLayout:
    """The command record; ``arg`` is a union of the per-op views."""
    members = {name: unsigned(width) for name, width in DYSTA_CMD_FIELDS}
    members["arg"] = data.UnionLayout({view: _struct(f) for view, f in DYSTA_ARG_FIELDS.items()})
    return data.StructLayout(members)


def resp_layout() -> data.StructLayout:
    return _struct(DYSTA_RESP_FIELDS)


def p_shape(cfg: SchedulerConfig):
    """P = D - R, signed."""
    return signed(max(cfg.time_bits, cfg.r_bits) + 1)


def np_shape(cfg: SchedulerConfig):
    """N x P, signed (exact)."""
    return signed(p_shape(cfg).width + cfg.n_bits)


def nt_shape(cfg: SchedulerConfig):
    """N x t, unsigned (exact)."""
    return unsigned(cfg.time_bits + cfg.n_bits)


def hot_layout(cfg: SchedulerConfig) -> data.StructLayout:
    """Per-slot fields the decision or an N change reads every cycle (registers): R/beta and
    P (the +-increments when N changes), N x R/beta and N x P (what the score lane reads)."""
    return data.StructLayout({
        "valid": unsigned(1), "running": unsigned(1), "rb": unsigned(cfg.score_bits),
        "p": p_shape(cfg), "nrb": unsigned(cfg.nscore_bits), "np": np_shape(cfg),
        "last": unsigned(cfg.time_bits), "k": unsigned(DYSTA_WEIGHT_BITS),
        "seq": unsigned(DYSTA_SEQ_BITS)})


def cold_layout(cfg: SchedulerConfig) -> data.StructLayout:
    """Per-slot fields only the gamma unit reads (task memory)."""
    return data.StructLayout({
        "model": unsigned(DYSTA_MODEL_ID_BITS), "pattern": unsigned(DYSTA_PATTERN_ID_BITS),
        "layer": unsigned(DYSTA_LAYER_ID_BITS), "gsum": unsigned(cfg.gsum_bits),
        "deadline": unsigned(cfg.time_bits)})
