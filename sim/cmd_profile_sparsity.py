"""``mmsched profile-sparsity``: measure dynamic sparsity of real models on real inputs.

Needs the ``real`` extra (``pip install -e '.[real]'``). Writes one profile JSON per model
(`mmsched.sched.profiles` format) to ``--out`` (default: the current folder), atomically.

``--onnx FILE`` profiles any ONNX model instead (`mmsched.sched.real_sparsity.profile_onnx`):
its sparse-input layers, on sample inputs from ``--inputs FILE.npz`` and/or ``--photos``;
random values only with ``--random-inputs`` (recorded in the profile). A scenario names the
written file in its model's ``sparsity`` field.

``--compare`` instead runs the exact cycle model on the *real* activation masks of the profiled
GEMM operands (MiniLM: attention probabilities x V per head on the Sanger-like engine, GELU
output x W2; MobileNetV2: every ReLU6 output feeding a 1x1 projection, on the Eyeriss-V2-like
engine; dense weights) and on two synthetic stand-ins of each: `ProfiledMasks`' generator fed
the measured density and row/column spread, and uniform random masks of the same density, and
prints the cycle counts and the relative errors against the real masks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "measure per-(layer, sample) activation sparsity of real models (needs the real extra)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from mmsched.sched.real_sparsity import PROFILERS

    p.add_argument("--models", default=",".join(PROFILERS),
                   help=f"comma-separated, from: {', '.join(PROFILERS)} (default: all)")
    p.add_argument("--samples", type=int, default=16, help="inputs per model (default 16)")
    p.add_argument("--out", default=".", help="output folder (default: current folder); "
                   "with --onnx a PROFILE.json file (or a folder for NAME.json)")
    p.add_argument("--compare", action="store_true",
                   help="compare cycle counts of real vs synthetic masks instead (no files)")
    g = p.add_argument_group("any ONNX model (instead of --models)")
    g.add_argument("--onnx", metavar="FILE.onnx",
                   help="profile this model's sparse-input layers (those `mmsched models` "
                        "marks sparse) with onnxruntime")
    g.add_argument("--input-shapes", metavar="NAME=DxD...[,NAME=...]",
                   help="shapes of its dynamic inputs (as for `mmsched models`)")
    g.add_argument("--inputs", metavar="FILE.npz",
                   help="sample inputs: arrays named like the model inputs, [samples, *shape]")
    g.add_argument("--photos", action="store_true",
                   help="feed an image input [N, 3, H, W] the scikit-image photographs "
                        "(RGB / 255)")
    g.add_argument("--random-inputs", action="store_true",
                   help="allow random values for inputs not given otherwise (recorded in the "
                        "profile; random inputs rarely have a real model's sparsity)")
    g.add_argument("--seed", type=int, default=0, help="seed of --random-inputs (default 0)")
    g.add_argument("--name", default=None,
                   help="profile name (default: the --out file's stem, else the model's)")


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.profiles import save_profile
    from mmsched.sched.real_sparsity import PROFILERS

    if args.onnx is not None:
        return _onnx(args)
    for opt in ("input_shapes", "inputs", "name"):
        if getattr(args, opt) is not None:
            raise ValueError(f"--{opt.replace('_', '-')} applies to --onnx only")
    if args.photos or args.random_inputs:
        raise ValueError("--photos and --random-inputs apply to --onnx only")
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in PROFILERS]
    if unknown or not names:
        raise ValueError(f"unknown profile model(s) {unknown}; known: {', '.join(PROFILERS)}")
    if args.samples < 1:
        raise ValueError(f"--samples must be a positive integer, not {args.samples}")
    if args.compare:
        return _compare(names, args.samples)
    profiles = [PROFILERS[n](samples=args.samples) for n in names]  # all run before any write
    for prof in profiles:
        path = Path(args.out) / f"{prof.name}.json"
        save_profile(prof, path)
        print(f"{path}: {prof.samples} samples x {len(prof.layer_names)} layers, mean density "
              f"{prof.density.mean():.3f}")
    return 0


def _onnx(args: argparse.Namespace) -> int:
    """Profile one ONNX model (``--onnx``): all samples run before the one file is written."""
    import hashlib
    import re

    from mmsched.sched.onnx_import import import_onnx, parse_input_shapes
    from mmsched.sched.profiles import save_profile
    from mmsched.sched.real_sparsity import onnx_feeds, profile_onnx

    if args.compare or args.models != parser_default_models():
        raise ValueError("--onnx profiles one model: it takes neither --models nor --compare")
    if args.samples < 1:
        raise ValueError(f"--samples must be a positive integer, not {args.samples}")
    shapes = (parse_input_shapes(args.input_shapes) if args.input_shapes is not None
              else None)
    imp = import_onnx(args.onnx, input_shapes=shapes, shapes_where=("--input-shapes", ""))
    out = Path(args.out)
    stem = out.stem if out.suffix.lower() == ".json" else Path(args.onnx).stem
    name = args.name or re.sub(r"[^a-z0-9-]", "", stem.lower()) or "onnx"
    feeds, inputs = onnx_feeds(imp, args.samples, npz=args.inputs, photos=args.photos,
                               random_inputs=args.random_inputs, seed=args.seed)
    digest = hashlib.sha256(Path(args.onnx).read_bytes()).hexdigest()
    prof = profile_onnx(imp, feeds, name=name, inputs=inputs,
                        source={"file": Path(args.onnx).name, "sha256": digest})
    path = out if out.suffix.lower() == ".json" else out / f"{name}.json"
    save_profile(prof, path)
    print(f"{path}: {prof.samples} samples x {len(prof.layer_names)} sparse-input layers of "
          f"{imp.model.num_layers}, mean density {prof.density.mean():.3f}"
          + (" (RANDOM inputs)" if args.random_inputs and "RANDOM" in inputs else ""))
    return 0


def parser_default_models() -> str:
    from mmsched.sched.real_sparsity import PROFILERS

    return ",".join(PROFILERS)


def _compare(names: list[str], samples: int) -> int:
    import numpy as np

    from mmsched.hw.cyclemodel.cycles import layer_counters
    from mmsched.hw.spec import EYERISS_V2_LIKE, SANGER_LIKE
    from mmsched.sched.masks import LayerStats, activation_mask, measure
    from mmsched.sched.real_sparsity import (
        minilm_masks,
        mobilenet_masks,
        mobilenet_weight_shapes,
    )

    def cycles(cfg, act, n):
        wm = np.ones((act.shape[0], act.shape[2], n), dtype=bool)
        return layer_counters(cfg, act, wm).cycles

    rows = []  # (model, layer, sample, real, profiled, uniform)
    rng = np.random.default_rng(0)

    def add(name, layer, s, cfg, act, n):
        """One row: the real mask's cycles, and those of masks drawn from its profiled
        statistics and from its density alone."""
        st = measure(act)
        g, m, k = act.shape
        rows.append((name, layer, s, cycles(cfg, act, n),
                     cycles(cfg, activation_mask(st, g, m, k, rng), n),
                     cycles(cfg, activation_mask(LayerStats(st.density), g, m, k, rng), n)))

    for name in names:
        if name.startswith("minilm-l6"):
            cfg = SANGER_LIKE
            seq_len = int(name.rsplit("-s", 1)[1]) if "-s" in name else None
            for s, (_, masks) in enumerate(minilm_masks(samples, seq_len=seq_len)):
                for layer, role, act in masks:
                    n = 32 if role == "attn" else 384  # d_head (384 / 12) or d_model
                    add(name, layer, s, cfg, act, n)
        else:
            cfg = EYERISS_V2_LIKE
            shapes = mobilenet_weight_shapes()
            for s, (_, masks) in enumerate(mobilenet_masks(samples)):
                for layer, act in masks:
                    proj = layer.replace("depthwise_relu", "project")
                    if proj == layer or proj not in shapes:
                        continue  # only ReLU6 outputs that feed a 1x1 projection
                    add(name, layer, s, cfg, act, shapes[proj][-1])
    print(f"{'model':<18} {'layers x samples':>16} {'real cycles':>12} {'profiled err':>13} "
          f"{'uniform err':>12} {'|profiled| max':>15} {'|uniform| max':>14}")
    for name in names:
        r = np.array([x[3:] for x in rows if x[0] == name], dtype=float)
        if not len(r):
            continue
        ep = (r[:, 1] - r[:, 0]) / r[:, 0]
        eu = (r[:, 2] - r[:, 0]) / r[:, 0]
        print(f"{name:<18} {len(r):>16} {r[:, 0].sum():>12.0f} {ep.mean():>+12.1%} "
              f"{eu.mean():>+12.1%} {np.abs(ep).max():>15.1%} {np.abs(eu).max():>14.1%}")
    print("err = mean over (layer, sample) of (synthetic - real) / real cycles; profiled = "
          "measured density + row/column spread, uniform = measured density only")
    return 0
