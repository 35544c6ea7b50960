"""``mmsched models FILE.onnx``: the layer table an ONNX model imports as.

Prints one row per GEMM layer (`mmsched.sched.onnx_import`): node name, operator, kind,
``M``, ``N``, ``K``, ``groups``, MACs and whether its input activations are sparse; then the
total MACs and the one-line summary of the skipped operators (no MACs). ``--json`` prints
the same as one JSON document. Check the total against a published MAC count before
scheduling the model (docs/import.md).
"""

from __future__ import annotations

import argparse
import json

HELP = "print the GEMM layers an ONNX model imports as, with MACs (check before scheduling)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.onnx", help="the ONNX model")
    p.add_argument("--input-shapes", metavar="NAME=DxD...[,NAME=...]", default=None,
                   help="shapes of the dynamic inputs, e.g. images=1x3x640x640 (inputs "
                        "sharing a named dimension need it once)")
    p.add_argument("--name", default=None,
                   help="architecture name (default: the file stem, lower-cased)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def main(args: argparse.Namespace) -> int:
    from mmsched.sched.onnx_import import import_onnx, parse_input_shapes

    shapes = (parse_input_shapes(args.input_shapes) if args.input_shapes is not None
              else None)
    imp = import_onnx(args.file, name=args.name, input_shapes=shapes,
                      shapes_where=("--input-shapes", ""))
    m = imp.model
    if args.json:
        doc = {"file": args.file, "arch": m.arch,
               "input_shapes": {n: list(s) for n, s in imp.input_shapes},
               "layers": [{"name": la.name, "op": op, "kind": la.kind, "m": la.m, "n": la.n,
                           "k": la.k, "groups": la.groups, "macs": la.macs,
                           "act_sparse": la.act_sparse}
                          for la, op in zip(m.layers, imp.ops, strict=True)],
               "total_macs": m.macs,
               "skipped": dict(imp.skipped), "folded_nodes": imp.folded, "folder": imp.folder}
        print(json.dumps(doc, indent=1))
        return 0
    width = min(max(len(la.name) for la in m.layers), 60)
    print(f"{args.file}: {m.num_layers} GEMM layers; inputs "
          + ", ".join(f"{n}={'x'.join(map(str, s))}" for n, s in imp.input_shapes))
    print(f"{'layer':<{width}} {'op':<14} {'kind':<7} {'M':>8} {'N':>6} {'K':>6} "
          f"{'groups':>6} {'MACs':>14} sparse")
    for la, op in zip(m.layers, imp.ops, strict=True):
        name = la.name if len(la.name) <= width else "..." + la.name[-(width - 3):]
        print(f"{name:<{width}} {op:<14} {la.kind:<7} {la.m:>8} {la.n:>6} {la.k:>6} "
              f"{la.groups:>6} {la.macs:>14,} {'yes' if la.act_sparse else 'no'}")
    print(f"total: {m.macs:,} MACs ({m.macs / 1e9:.4f} G; {2 * m.macs / 1e9:.4f} GFLOPs "
          f"at 2 FLOPs per MAC)")
    print(imp.skipped_line())
    return 0
