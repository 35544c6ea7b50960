"""The XRBench models (Kwon et al., "XRBench: An Extended Reality (XR) Machine Learning
Benchmark Suite for the Metaverse", MLSys 2023) as GEMM layer lists.

Shapes are transcribed from XRBench's public MAESTRO model descriptions (repository
XRBench/XRBench-MLSys2023, ``XRbench_evaluation/usage_scenarios/*.m``: ``Network`` blocks of
``Layer`` entries with ``Dimensions: { N, K, C, Y, X, R, S }``). Every layer there is a
``CONV`` with no stride field, which MAESTRO evaluates at stride 1 without padding: output
``(Y - R + 1) x (X - S + 1)`` (clamped at 1 where the description has ``R > Y``, PlaneRCNN's
``conv128``). So a layer is ``M = out_y x out_x``, ``N = K``, ``K_gemm = C x R x S``. We keep
the descriptions as published, including layers that are depthwise in the original networks
but described as full convolutions (FBNet's and MiDaS' ``K = C`` 5x5 layers): these are the
shapes XRBench's own cost model ran. Scenario FPS and cascades are in
``sched/data/scenarios/xr-*.toml`` (docs/workloads.md).

"""

from __future__ import annotations

import math
from dataclasses import replace

from ..model import Layer
from . import register

_SOURCE = ("XRBench/XRBench-MLSys2023 XRbench_evaluation/usage_scenarios/{file}.m, network "
           "{net}: {n} layers (MAESTRO description; MAC count per its stride-1 semantics)")


def _layers(rows: list[tuple[int, int, int, int, int, int]],
            names: list[str] | None = None) -> tuple[Layer, ...]:
    """MAESTRO ``(K, C, Y, X, R, S)`` rows -> GEMM layers (module docstring)."""
    out = []
    for i, (k, c, y, x, r, s) in enumerate(rows):
        m = max(1, y - r + 1) * max(1, x - s + 1)
        name = names[i] if names else f"conv{i + 1}"
        kind = "fc" if (r == s == 1 and x == 1 and name.startswith("fc")) else "conv"
        out.append(Layer(name=name, kind=kind, m=m, n=k, k=c * r * s, act_sparse=i > 0))
    return tuple(out)


def _sq(k: int, c: int, hw: tuple[int, int], r: int) -> tuple[int, int, int, int, int, int]:
    return (k, c, hw[0], hw[1], r, r)


@register("xres", family="xr", engine="xr", input="eye image 160x100 (RITNet)",
          published_macs=None,
          macs_source=_SOURCE.format(file="social_interactionA", net="ES_RITNet", n=42))
def xr_es() -> tuple[Layer, ...]:
    """Eye segmentation, RITNet (XRBench ES), 42 layers, all 32 -> 32 channels."""
    rows = []
    for hw in ((160, 100), (80, 50), (40, 25), (20, 13), (10, 7)):
        rows += [_sq(32, 32, hw, r) for r in (3, 1, 3, 1, 3)]
    for hw in ((20, 13), (40, 25), (80, 50)):
        rows += [_sq(32, 32, hw, r) for r in (1, 3, 1, 3)]
    rows += [_sq(32, 32, (160, 100), r) for r in (1, 3, 1, 3, 1)]
    return _layers(rows)


@register("xrge", family="xr", engine="xr", input="eye image 160x100 (FBNet-C)",
          published_macs=None,
          macs_source=_SOURCE.format(file="social_interactionA", net="GE_FBNet_C", n=63))
def xr_ge() -> tuple[Layer, ...]:
    """Gaze estimation, FBNet-C (XRBench GE), 63 layers."""
    a, b, c, d, e = (160, 100), (80, 50), (40, 25), (20, 13), (10, 7)
    f = (5, 4)
    rows = [_sq(16, 3, a, 3), _sq(16, 16, b, 3), _sq(16, 16, b, 1), _sq(96, 16, b, 1),
            _sq(96, 96, b, 3), _sq(24, 96, c, 1), _sq(24, 24, c, 3), _sq(24, 24, c, 1),
            _sq(24, 24, c, 3), _sq(24, 24, c, 1), _sq(144, 24, c, 1), _sq(144, 144, c, 5),
            _sq(32, 144, d, 1), _sq(96, 32, d, 1), _sq(96, 96, d, 5), _sq(32, 96, d, 1),
            _sq(192, 32, d, 1), _sq(192, 192, d, 5), _sq(32, 192, d, 1), _sq(192, 32, d, 1),
            _sq(192, 192, d, 3), _sq(32, 192, d, 1), _sq(192, 32, d, 1), _sq(192, 192, d, 5),
            _sq(64, 192, e, 1), _sq(192, 64, e, 1), _sq(192, 192, e, 5), _sq(64, 192, e, 1)]
    for _ in range(3):
        rows += [_sq(384, 64, e, 1), _sq(384, 384, e, 5), _sq(64, 384, e, 1)]
    rows[-1] = _sq(112, 384, e, 1)  # conv37: the last of the three projects to 112
    rows += [_sq(672, 112, e, 1), _sq(672, 672, e, 5), _sq(112, 672, e, 1),
             _sq(672, 112, e, 1), _sq(672, 672, e, 5), _sq(112, 672, e, 1),
             _sq(336, 112, e, 1), _sq(336, 336, e, 5), _sq(112, 336, e, 1),
             _sq(672, 112, e, 1), _sq(672, 672, e, 5), _sq(184, 672, f, 1)]
    for r in (5, 5, 5):
        rows += [_sq(1104, 184, f, 1), _sq(1104, 1104, f, r), _sq(184, 1104, f, 1)]
    rows += [_sq(1104, 184, f, 1), _sq(1104, 1104, f, 3), _sq(352, 1104, f, 1),
             _sq(1984, 352, f, 1), _sq(1000, 1984, (1, 1), 1)]
    return _layers(rows)


@register("xrdr", family="xr", engine="xr", input="RGB-D 228x912 (sparse-to-dense)",
          published_macs=None,
          macs_source=_SOURCE.format(file="social_interactionA", net="DR_RGBd_200", n=34))
def xr_dr() -> tuple[Layer, ...]:
    """Depth refinement (XRBench DR), 34 layers."""
    rows = [(64, 4, 228, 912, 7, 7)]
    rows += [(64, 64, 57, 228, 3, 3)] * 4
    rows += [(128, 64, 57, 228, 3, 3), (128, 128, 29, 114, 3, 3), (128, 64, 57, 228, 1, 1),
             (128, 128, 29, 114, 3, 3), (128, 128, 29, 114, 3, 3),
             (256, 128, 29, 114, 3, 3), (256, 256, 15, 57, 3, 3), (256, 128, 29, 114, 1, 1),
             (256, 256, 15, 57, 3, 3), (256, 256, 15, 57, 3, 3),
             (512, 256, 15, 57, 3, 3), (512, 512, 8, 29, 3, 3), (512, 256, 15, 57, 1, 1),
             (512, 512, 8, 29, 3, 3), (512, 512, 8, 29, 3, 3), (256, 512, 8, 29, 1, 1)]
    for k, hw in ((128, (16, 58)), (64, (32, 116)), (32, (64, 232)), (16, (128, 464))):
        rows += [(k, 2 * k, *hw, 5, 5), (k, k, *hw, 3, 3), (k, 2 * k, *hw, 5, 5)]
    rows += [(1, 16, 128, 464, 3, 3)]
    return _layers(rows)


def _ht_triplet(s: int) -> list[tuple[int, int, int, int, int, int]]:
    hw = (s, s)
    return [_sq(128, 256, hw, 1), _sq(128, 128, hw, 3), _sq(256, 128, hw, 1)]


_HT_HOURGLASS = (32, 32, 16, 16, 16, 16, 8, 8, 8, 8, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 4, 4, 8, 8,
                 16, 16, 32, 32)


@register("xrht", family="xr", engine="xr", input="hand image 128x128 (hand graph CNN)",
          published_macs=None,
          macs_source=_SOURCE.format(file="AR_gaming", net="HT_hand_graph_cnn_half",
                                     n=224))
def xr_ht() -> tuple[Layer, ...]:
    """Hand tracking, hand-graph CNN at half width (XRBench HT): two stacked hourglasses of
    bottleneck triplets, heads, then 12 fully connected layers; 224 layers."""
    rows = [_sq(64, 3, (128, 128), 7), _sq(64, 64, (64, 64), 1), _sq(64, 64, (64, 64), 3),
            _sq(128, 64, (64, 64), 1), _sq(128, 64, (64, 64), 1), _sq(64, 128, (32, 32), 1),
            _sq(64, 64, (32, 32), 3), _sq(128, 64, (32, 32), 1), _sq(128, 128, (32, 32), 1),
            _sq(128, 128, (32, 32), 3), _sq(256, 128, (32, 32), 1),
            _sq(256, 128, (32, 32), 1)]
    for s in _HT_HOURGLASS:
        rows += _ht_triplet(s)
    rows += [_sq(256, 256, (32, 32), 1), _sq(21, 256, (32, 32), 1), _sq(256, 256, (32, 32), 1),
             _sq(256, 21, (32, 32), 1)]
    for s in _HT_HOURGLASS:
        rows += _ht_triplet(s)
    rows += [_sq(256, 256, (32, 32), 1), _sq(21, 256, (32, 32), 1), _sq(256, 21, (32, 32), 1),
             _sq(256, 256, (32, 32), 1)]
    for s in (32, 32, 16, 16, 8, 8, 4, 4):
        rows += _ht_triplet(s)
    names = [f"conv{i + 1}" for i in range(len(rows))]
    fcs = [(512, 4096), (5120, 512), (64, 192), (32, 192), (32, 96), (3, 96), (32, 9),
           (32, 96), (64, 96), (64, 192), (512, 512), (20, 512)]
    rows += [(k, c, 1, 1, 1, 1) for k, c in fcs]
    names += [f"fc{i + 1}" for i in range(len(fcs))]
    return _layers(rows, names)


@register("xrde", family="xr", engine="xr", input="image 96x128 (MiDaS v2.1 small)",
          published_macs=None,
          macs_source=_SOURCE.format(file="AR_gaming", net="DE_midas_v21_small", n=92))
def xr_de() -> tuple[Layer, ...]:
    """Depth estimation, MiDaS v2.1 small (XRBench DE), 92 layers."""
    a, b, c, d, e = (96, 128), (48, 64), (24, 32), (12, 16), (6, 8)
    rows = [_sq(32, 32, a, 3), _sq(24, 32, a, 1), _sq(144, 24, a, 1), _sq(32, 144, b, 1)]
    for _ in range(2):
        rows += [_sq(192, 32, b, 1), _sq(192, 192, b, 3), _sq(32, 192, b, 1)]
    rows += [_sq(192, 32, b, 1), _sq(48, 192, c, 1)]
    for _ in range(2):
        rows += [_sq(288, 48, c, 1), _sq(288, 288, c, 5), _sq(48, 288, c, 1)]
    rows += [_sq(288, 48, c, 1), _sq(96, 288, d, 1)]
    for _ in range(4):
        rows += [_sq(576, 96, d, 1), _sq(576, 576, d, 3), _sq(96, 576, d, 1)]
    rows += [_sq(576, 96, d, 1), _sq(576, 576, d, 5), _sq(136, 576, d, 1)]
    for _ in range(4):
        rows += [_sq(816, 136, d, 1), _sq(816, 816, d, 5), _sq(136, 816, d, 1)]
    rows += [_sq(816, 136, d, 1), _sq(232, 816, e, 1)]
    for _ in range(5):
        rows += [_sq(1392, 232, e, 1), _sq(1392, 1392, e, 5), _sq(232, 1392, e, 1)]
    rows += [_sq(1392, 232, e, 1), _sq(1392, 1392, e, 3), _sq(384, 1392, e, 1),
             _sq(64, 32, b, 3), _sq(128, 48, c, 3), _sq(256, 136, d, 3), _sq(512, 384, e, 3),
             _sq(512, 512, e, 3), _sq(512, 512, e, 3), _sq(256, 512, d, 1)]
    rows += [_sq(256, 256, d, 3)] * 4 + [_sq(128, 256, c, 1)]
    rows += [_sq(128, 128, c, 3)] * 4 + [_sq(64, 128, b, 1)]
    rows += [_sq(64, 64, b, 3)] * 4
    rows += [_sq(64, 64, a, 1), _sq(32, 64, a, 3), _sq(32, 32, (192, 256), 3),
             _sq(1, 32, (192, 256), 1)]
    return _layers(rows)


@register("xrpd", family="xr", engine="xr", input="image 160x160 (PlaneRCNN, quarter)",
          published_macs=None,
          macs_source=_SOURCE.format(file="AR_gaming", net="PD_Plane_RCNN_Quarter", n=153))
def xr_pd() -> tuple[Layer, ...]:
    """Plane detection, PlaneRCNN at quarter size (XRBench PD): ResNet-101 FPN backbone,
    heads and refinement; 153 layers."""
    a, b, c, d = (40, 40), (20, 20), (10, 10), (5, 5)
    rows = [_sq(64, 3, (160, 160), 7), _sq(64, 64, a, 1), _sq(64, 64, a, 3), _sq(256, 64, a, 1),
            _sq(256, 64, a, 1)]
    for _ in range(2):
        rows += [_sq(64, 256, a, 1), _sq(64, 64, a, 3), _sq(256, 64, a, 1)]
    rows += [_sq(128, 256, a, 1), _sq(128, 128, a, 3), _sq(512, 128, b, 1), _sq(512, 256, a, 1)]
    for _ in range(3):
        rows += [_sq(128, 512, b, 1), _sq(128, 128, b, 3), _sq(512, 128, b, 1)]
    rows += [_sq(256, 512, b, 1), _sq(256, 256, c, 3), _sq(1024, 256, c, 1),
             _sq(1024, 512, b, 1)]
    for _ in range(22):
        rows += [_sq(256, 1024, c, 1), _sq(256, 256, c, 3), _sq(1024, 256, c, 1)]
    rows += [_sq(512, 1024, c, 1), _sq(512, 512, d, 3), _sq(2048, 512, d, 1),
             _sq(2048, 1024, c, 1)]
    for _ in range(2):
        rows += [_sq(512, 2048, d, 1), _sq(512, 512, d, 3), _sq(2048, 512, d, 1)]
    rows += [_sq(256, 2048, d, 1), _sq(256, 1024, c, 1), _sq(256, 512, b, 1), _sq(256, 256, a, 1),
             _sq(256, 256, d, 3), _sq(256, 256, c, 3), _sq(256, 256, b, 3), _sq(256, 256, a, 3),
             _sq(128, 256, (3, 3), 3), _sq(128, 128, d, 3), _sq(128, 256, d, 3),
             _sq(128, 256, c, 3), (128, 256, 8, 10, 3, 3), (128, 256, 15, 30, 3, 3),
             (128, 256, 15, 30, 3, 3), (128, 256, 30, 40, 3, 3), (128, 256, 30, 40, 3, 3),
             (64, 256, 60, 80, 3, 3), (1, 64, 60, 80, 3, 3), _sq(64, 3, a, 1),
             _sq(512, 256, (3, 3), 3), _sq(6, 512, (3, 3), 1), _sq(12, 512, (3, 3), 1),
             _sq(1024, 320, (2, 2), 4), _sq(1024, 1024, (1, 1), 1)]
    names = [f"conv{i + 1}" for i in range(len(rows))]
    rows += [(8, 1024, 1024, 1, 1, 1), (32, 1024, 1024, 1, 1, 1), (24, 1024, 1024, 1, 1, 1)]
    names += ["fc1", "fc2", "fc3"]
    tail = [_sq(256, 256, (4, 4), 3)] * 4 + [
        _sq(256, 256, (3, 3), 2), _sq(8, 256, (7, 7), 1), (32, 10, 48, 64, 3, 3),
        (64, 64, 48, 64, 3, 3), (64, 128, 24, 32, 3, 3), (128, 128, 24, 32, 3, 3),
        (128, 256, 12, 16, 3, 3), (64, 128, 12, 16, 4, 4), (32, 128, 24, 32, 4, 4),
        (16, 64, 48, 64, 3, 3), (1, 16, 48, 64, 3, 3), (64, 128, 12, 16, 4, 4),
        (32, 128, 24, 32, 4, 4), (16, 64, 48, 64, 3, 3), (1, 16, 48, 64, 3, 3),
        (16, 64, 48, 64, 3, 3), (1, 16, 48, 64, 3, 3)]
    names += [f"conv{130 + i}" for i in range(len(tail))]
    rows += tail
    return _layers(rows, names)


@register("xrod", family="xr", engine="xr", input="image 224x299 (D2Go Faster R-CNN)",
          published_macs=None,
          macs_source=_SOURCE.format(file="outdoor_activity_B", net="OD_D2go_FasterRCNN",
                                     n=138))
def xr_od() -> tuple[Layer, ...]:
    """Object detection, D2Go Faster R-CNN with an FBNetV3 backbone (XRBench OD), 138
    layers."""
    a, b, c, d, e, f = (112, 150), (56, 75), (28, 38), (14, 19), (6, 6), (3, 3)
    one = (1, 1)
    rows = [_sq(16, 3, (224, 299), 3), _sq(16, 16, a, 3), _sq(16, 16, a, 1), _sq(16, 16, a, 3),
            _sq(16, 16, a, 1), _sq(64, 16, a, 1), _sq(64, 64, a, 5), _sq(24, 64, b, 1)]
    for _ in range(3):
        rows += [_sq(72, 24, b, 1), _sq(72, 72, b, 5), _sq(24, 72, b, 1)]
    rows += [_sq(96, 24, b, 1), _sq(96, 96, b, 5), _sq(24, 96, one, 1), _sq(96, 24, one, 1),
             _sq(32, 96, c, 1)]
    for _ in range(3):
        rows += [_sq(96, 32, c, 1), _sq(96, 96, c, 3), _sq(24, 96, one, 1),
                 _sq(96, 24, one, 1), _sq(32, 96, c, 1)]
    rows += [_sq(128, 32, c, 1), _sq(128, 128, c, 5), _sq(64, 128, d, 1)]
    for _ in range(3):
        rows += [_sq(192, 64, d, 1), _sq(192, 192, d, 3), _sq(64, 192, d, 1)]
    rows += [_sq(256, 64, d, 1), _sq(256, 256, d, 5), _sq(64, 256, one, 1),
             _sq(256, 64, one, 1), _sq(112, 256, d, 1)]
    for _ in range(10):
        rows += [_sq(336, 112, d, 1), _sq(336, 336, d, 5), _sq(88, 336, one, 1),
                 _sq(336, 88, one, 1), _sq(112, 336, d, 1)]
    rows += [_sq(15, 112, d, 1), _sq(60, 112, d, 1), _sq(448, 112, e, 1), _sq(448, 448, e, 5),
             _sq(112, 448, one, 1), _sq(448, 112, one, 1), _sq(184, 448, f, 1)]
    for _ in range(4):
        rows += [_sq(736, 184, f, 1), _sq(736, 736, f, 3), _sq(184, 736, one, 1),
                 _sq(736, 184, one, 1), _sq(184, 736, f, 1)]
    rows += [_sq(1104, 184, f, 1), _sq(1104, 1104, f, 5), _sq(280, 1104, one, 1),
             _sq(1104, 280, one, 1), _sq(200, 1104, f, 1)]
    names = [f"conv{i + 1}" for i in range(len(rows))]
    rows += [(81, 200, 200, 1, 1, 1), (320, 200, 200, 1, 1, 1)]
    names += ["fc1", "fc2"]
    return _layers(rows, names)


@register("xrkd", family="xr", engine="xr", input="audio 98x40 MFCC (res8-narrow)",
          published_macs=None,
          macs_source=_SOURCE.format(file="AR_Assistant", net="KD_res8_narrow", n=8))
def xr_kd() -> tuple[Layer, ...]:
    """Keyword detection, res8-narrow (XRBench KD), 8 layers."""
    rows = [(19, 1, 98, 40, 3, 3)] + [(19, 19, 24, 13, 3, 3)] * 6 + [(12, 19, 19, 1, 1, 1)]
    return _layers(rows, [f"conv{i + 1}" for i in range(7)] + ["fc1"])


@register("xrasr", family="xr-transformer", engine="xr",
          input="128 audio frames (Emformer, 24 layers)",
          published_macs=None,
          macs_source=_SOURCE.format(file="AR_Assistant", net="ASR_EM_24L", n=120))
def xr_asr() -> tuple[Layer, ...]:
    """Speech recognition, Emformer with 24 layers (XRBench ASR): per layer five token-wise
    GEMMs over 128 frames (512->512, 512->1024, 512->512, 512->2048, 2048->512); 120 layers."""
    block = [(512, 512), (1024, 512), (512, 512), (2048, 512), (512, 2048)]
    rows = [(k, c, 128, 1, 1, 1) for _ in range(24) for k, c in block]
    # Only the FFN's second projection reads a GELU output (sparse); the projections of
    # LayerNorm outputs and of the attention output read dense inputs.
    return tuple(replace(la, act_sparse=i % 5 == 4)
                 for i, la in enumerate(_layers(rows, [f"fc{i + 1}" for i in range(len(rows))])))


@register("xras", family="xr", engine="xr", input="668 feature frames (ED-TCN)",
          published_macs=None,
          macs_source=_SOURCE.format(file="social_interactionB", net="AS_ED_TCN", n=4))
def xr_as() -> tuple[Layer, ...]:
    """Action segmentation, encoder-decoder TCN (XRBench AS): four temporal convolutions of
    width 25; 4 layers."""
    rows = [(64, 128, 668, 1, 25, 1), (96, 64, 346, 1, 25, 1), (96, 96, 346, 1, 25, 1),
            (64, 96, 668, 1, 25, 1)]
    return _layers(rows)


class _Seq:
    """Rows with MAESTRO-style names (``convN`` / ``fcN`` numbered separately) and whether
    each layer's input carries dynamic sparsity (``sparse``)."""

    def __init__(self, depthwise: bool = False) -> None:
        self.rows: list[tuple[int, int, int, int, int, int]] = []
        self.names: list[str] = []
        self.sparse: list[bool] = []
        self.groups: list[int] = []
        self.depthwise = depthwise
        self._n = {"conv": 0, "fc": 0}

    def conv(self, k: int, c: int, hw: int, r: int, sparse: bool = False,
             dw: bool = False) -> None:
        """A convolution; ``dw``: depthwise (``k == c`` channels, one group each) when the
        sequence is built with depthwise convolutions (`depthwise`), else a full one as
        XRBench writes it."""
        self._n["conv"] += 1
        self.names.append(f"conv{self._n['conv']}")
        self.rows.append((k, c, hw, hw, r, r))
        self.sparse.append(sparse)
        self.groups.append(k if dw and self.depthwise else 1)

    def fc(self, k: int, c: int, tokens: int, sparse: bool = False) -> None:
        self._n["fc"] += 1
        self.names.append(f"fc{self._n['fc']}")
        self.rows.append((k, c, tokens, 1, 1, 1))
        self.sparse.append(sparse)
        self.groups.append(1)

    def layers(self) -> tuple[Layer, ...]:
        out = []
        for la, sp, g in zip(_layers(self.rows, self.names), self.sparse, self.groups,
                             strict=True):
            if g > 1:  # depthwise: g GEMMs of one output channel over its own k x k window
                la = replace(la, kind="dwconv", n=1, k=la.k // la.n, groups=g)
            out.append(replace(la, act_sparse=sp))
        return tuple(out)


# HRViT (Gu et al., "Multi-Scale High-Resolution Vision Transformer for Semantic
# Segmentation", CVPR 2022, arXiv 2111.01236; configurations HRViT_b1/b2/b3_224 of
# facebookresearch/HRViT models/hrvit.py): stem 3 -> 32 -> 64 channels at 1/4 resolution,
# six stages, each a fusion block (multi-resolution exchange) then per branch a patch
# embedding and HRViT blocks; a classification head. Branch resolutions 56, 28, 14, 7.
_HRVIT_HW = (56, 28, 14, 7)
HRVIT_CONFIGS = {
    "b1": {"channels": (32, 64, 128, 256),
           "blocks": ((1,), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 2), (1, 1, 2, 2)),
           "mlp": (4, 4, 4, 4)},
    "b2": {"channels": (48, 96, 240, 384),
           "blocks": ((1,), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 2), (1, 1, 6, 2)),
           "mlp": (2, 3, 3, 3)},
    "b3": {"channels": (64, 128, 256, 512),
           "blocks": ((1,), (1, 1), (1, 1, 6), (1, 1, 6), (1, 1, 6, 3), (1, 1, 6, 3)),
           "mlp": (2, 2, 2, 2)},
}
"""Branch widths, blocks per stage and branch, and MLP ratios of the three published
HRViT variants (facebookresearch/HRViT, models/hrvit.py)."""


def _hrvit_block(q: _Seq, hw: int, d: int, mlp: int) -> None:
    """One HRViT block at ``hw x hw`` tokens of width ``d``, in XRBench's listing order:
    qkv projection, parallel 3x3 conv, output projection, the two DES projections, the MixCFN
    (fc1, its 3x3 and 5x5 halves, fc2). Inputs after GELU (DES second projection, fc2) are
    sparse; LayerNorm outputs and linear outputs are dense (Hardswish inputs counted dense)."""
    t = hw * hw
    e = int(math.log2(d))
    p = 2 ** (e - e // 2)          # DES: d = (d // p) x p
    h = int(d * mlp)
    q.fc(2 * d, d, t)
    q.conv(d, d, hw, 3, dw=True)
    q.fc(d, d, t)
    q.fc(p, p, t)
    q.fc(d // p, d // p, t, sparse=True)
    q.fc(h, d, t)
    q.conv(h // 2, h // 2, hw, 3, dw=True)
    q.conv(h - h // 2, h - h // 2, hw, 5, dw=True)
    q.fc(d, h, t, sparse=True)


def hrvit_layers(variant: str, depthwise: bool = False) -> tuple[Layer, ...]:
    """HRViT-``variant`` (b1, b2, b3) in the layout of XRBench's HRViT-b1 description:
    attention matmuls omitted; depthwise convolutions written as full ones as XRBench does
    (``depthwise=False``: b1 then reproduces XRBench's ``SS_HRViT_b1`` listing layer for
    layer) or as depthwise GEMMs (``depthwise=True``, the networks as published)."""
    cfg = HRVIT_CONFIGS[variant]
    ch, blocks, mlp = cfg["channels"], cfg["blocks"], cfg["mlp"]
    q = _Seq(depthwise)
    q.conv(32, 3, 224, 3)                      # stem (ReLU after each conv)
    q.conv(64, 32, 112, 3, sparse=True)
    inc: list[int] = [64]
    for stage in blocks:
        outc = list(ch[:len(stage)])
        fused = inc if len(inc) == len(outc) else inc + [outc[-1]]
        if len(inc) > 1 or len(fused) > 1:     # the fusion block (identity for one branch)
            for i, oc in enumerate(fused):
                for j, ic in enumerate(inc):
                    if j < i:                  # downsample: depthwise k x k, then 1x1
                        q.conv(ic, ic, _HRVIT_HW[j], 2 ** (i - j) + 1, dw=True)
                        q.conv(oc, ic, _HRVIT_HW[i], 1)
                    elif j > i:                # 1x1 then upsample
                        q.conv(oc, ic, _HRVIT_HW[j], 1)
        for b, oc in enumerate(outc):          # patch embedding (input: the fusion's GELU)
            q.conv(oc, fused[b], _HRVIT_HW[b], 1, sparse=True)
            q.conv(oc, oc, _HRVIT_HW[b], 3, dw=True)
        for b, n in enumerate(stage):
            for _ in range(n):
                _hrvit_block(q, _HRVIT_HW[b], outc[b], mlp[b])
        inc = outc
    head = (32, 64, 128, 256)                  # HRViTClassifier's default head channels
    for i, c in enumerate(inc):                # bottlenecks (ReLU inside), downsampling
        hc, hw = head[i], _HRVIT_HW[i]
        q.conv(hc, c, hw, 1)
        q.conv(hc, hc, hw, 3, sparse=True)
        q.conv(4 * hc, hc, hw, 1, sparse=True)
        q.conv(4 * hc, c, hw, 1)
        if i:
            q.conv(4 * hc, 4 * head[i - 1], _HRVIT_HW[i - 1], 3, sparse=True)
    q.conv(2048, 4 * head[-1], 7, 1, sparse=True)
    q.fc(1000, 2048, 2048, sparse=True)
    return q.layers()


_SS_SOURCE = ("HRViT-{v} (arXiv 2111.01236; facebookresearch/HRViT models/hrvit.py "
              "HRViT_{v}_224) in the layout of XRBench's SS_HRViT_b1 description "
              "(XRBench/XRBench-MLSys2023 usage_scenarios/AR_Assistant.m)")


@register("xrss", family="xr-transformer", engine="xr", input="image 224x224 (HRViT-b1)",
          published_macs=None,
          macs_source=_SOURCE.format(file="AR_Assistant", net="SS_HRViT_b1", n=423))
def xr_ss() -> tuple[Layer, ...]:
    """Semantic segmentation, HRViT-b1 (XRBench SS): a multi-branch vision transformer
    (branches at 56, 28, 14 and 7 pixels, each block a pair of linear projections around a
    3x3 and a 5x5 convolution), fusion layers between stages and a classification head;
    212 convolutions and 211 fully connected layers as the description lists them."""
    return hrvit_layers("b1")


def _hrvit_member(v: str, params_m: float) -> None:
    register(f"hrvit{v}", family="xr-transformer", engine="xr",
             input=f"image 224x224 (HRViT-{v}, depthwise)", published_macs=None,
             macs_source=_SS_SOURCE.format(v=v) + f"; depthwise convolutions as published "
             f"(weights checked against the README's {params_m}M parameters)")(
        lambda: hrvit_layers(v, depthwise=True))


HRVIT_PARAMS_M = {"b1": 19.7, "b2": 32.5, "b3": 37.9}
"""Published ImageNet parameter counts (millions) of HRViT-b1/b2/b3 (facebookresearch/HRViT
README), which the layer lists' weights are checked against (tests)."""

for _v, _p in HRVIT_PARAMS_M.items():
    _hrvit_member(_v, _p)


_HRVIT_MIOU = ("ADE20K val mIoU, SegFormer head, 512x512, 160K iterations: HRViT paper "
               "(arXiv 2111.01236) and facebookresearch/HRViT README")
SUPERNETS = {
    "hrvitb3": (("hrvitb3", 50.20, _HRVIT_MIOU), ("hrvitb2", 48.76, _HRVIT_MIOU),
                ("hrvitb1", 45.88, _HRVIT_MIOU)),
}
"""Published sub-network families, largest first: ``arch -> ((member arch, accuracy %,
source), ...)``, the first being the arch itself. HRViT-b1/b2/b3 are separately trained
models of one design space (not weight-sharing sub-networks of one trained Supernet): we use
them as the Supernet's members because their accuracies are published; a scenario names them
with ``subnets = "zoo"``."""


XRBENCH_LAYER_COUNTS = {"xres": 42, "xrge": 63, "xrdr": 34, "xrht": 224, "xrde": 92,
                        "xrpd": 153, "xrod": 138, "xrkd": 8, "xrasr": 120, "xras": 4,
                        "xrss": 423}
"""Layers per network in XRBench's descriptions (the ``Layer`` blocks of each ``Network``)."""
