"""A full-size folder of Dysta Eyeriss CSVs for the end-to-end benchmark (seeded, generated).

The artifact's own latency CSVs are not redistributable with this project, so the benchmark
generates a set of the same shape: the Dysta CNN benchmark's four networks (ResNet-50: 54
layers, VGG-16: 16, MobileNet-V1: 28, SSD300-ResNet18: 37) x three weight patterns
(unstructured, block, filter) x ``samples`` images, one row per (image, layer): 81,000 rows
at 200 samples, about the size of the artifact's set. Cells are written at full double
precision (``repr``), as pandas writes them, so a parser that is not correctly rounded shows.
Mean isolated latencies (~0.17 s over the keys) put 5 requests/s at a load of about 0.8.
The folder name ends in ``eyerissv2`` because the artifact picks the CSV format from the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NETWORKS = {"resnet50": (54, 0.12), "vgg16": (16, 0.35), "mobilenet": (28, 0.03),
            "ssd300": (37, 0.16)}
"""arch: (layers, mean isolated latency in seconds of the unstructured pattern)."""
PATTERNS = {"unstructured": 1.0, "block": 0.85, "filter": 0.75}
"""pattern: latency factor."""


def make_csv_set(folder: str | Path, *, samples: int = 200, seed: int = 20231021) -> Path:
    """Write the set into ``folder/eyerissv2`` (created) and return that folder.

    Re-running with the same arguments writes the same bytes.
    """
    out = Path(folder) / "eyerissv2"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for arch, (layers, iso) in NETWORKS.items():
        shape = rng.uniform(0.3, 1.7, layers)
        base = shape / shape.sum() * iso
        depth = np.arange(layers) / layers
        for pattern, factor in PATTERNS.items():
            difficulty = rng.normal(0.0, 0.12, samples)[:, None]
            sp = np.clip(0.35 + 0.3 * depth[None, :] - difficulty
                         + rng.normal(0.0, 0.05, (samples, layers)), 0.02, 0.97)
            lat = (base[None, :] * factor * (0.4 + 0.6 * (1 - sp) / 0.5)
                   * rng.uniform(0.97, 1.03, (samples, layers)))
            lines = ["sim_lat,overall-sparsity,batch-indx,layer-indx"]
            lat, sp = lat.tolist(), sp.tolist()
            lines += [f"{lat[b][j]!r},{sp[b][j]!r},{b},{j}"
                      for b in range(samples) for j in range(layers)]
            (out / f"{arch}_{pattern}.csv").write_text("\n".join(lines) + "\n")
    return out


if __name__ == "__main__":
    import sys

    print(make_csv_set(sys.argv[1] if len(sys.argv) > 1 else "build/e2e_csv"))
