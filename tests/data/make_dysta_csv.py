"""Generate the tiny Dysta-format CSV sets under tests/data/dysta_csv/ (seeded, re-runnable).

``eyerissv2/``: 4 Eyeriss CSVs (2 architectures x 2 patterns, 8 or 10 samples, 5 or 3
layers); ``sanger/``: 2 Sanger CSVs (8 samples, 4 layers); ``../dysta_csv_medium/eyerissv2/``:
6 Eyeriss CSVs (3 architectures x 2 patterns, 12 samples, 12-24 layers) for long runs. The
directory names contain ``eyerissv2`` / ``sanger`` because the Dysta artifact picks the format
from the path. Values are written with 6 significant digits so every CSV parser reads the
same doubles.

Run: ``python tests/data/make_dysta_csv.py`` (from anywhere).
"""

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "dysta_csv"
CNN = {  # key: (samples, layers, mean layer latency s)
    "alexnet_unstructured": (8, 5, 2.0e-3),
    "alexnet_block": (10, 5, 2.4e-3),
    "lenet_unstructured": (8, 3, 1.0e-3),
    "lenet_filter": (10, 3, 0.8e-3),
}
SANGER = {"bert": (8, 4, 0.25), "gpt2": (8, 4, 0.35)}  # key: (samples, layers, mean density)
MEDIUM = {  # dysta_csv_medium/eyerissv2: long runs at overload (key: samples, layers, latency)
    "resnet_unstructured": (12, 24, 4.0e-3),
    "resnet_block": (12, 24, 4.4e-3),
    "vgg_unstructured": (12, 12, 9.0e-3),
    "vgg_filter": (12, 12, 7.5e-3),
    "mobile_unstructured": (12, 18, 1.5e-3),
    "mobile_block": (12, 18, 1.7e-3),
}


def _g(x: float) -> str:
    return f"{x:.6g}"


def main() -> None:
    rng = np.random.default_rng(20231021)
    (OUT / "eyerissv2").mkdir(parents=True, exist_ok=True)
    (OUT / "sanger").mkdir(parents=True, exist_ok=True)
    for key, (samples, layers, lat) in CNN.items():
        _eyeriss(rng, OUT / "eyerissv2" / f"{key}.csv", samples, layers, lat)
    for key, (samples, layers, dens) in SANGER.items():
        lines = ["overall-sparsity,50%-skip,batch-indx,layer-indx"]
        for b in range(samples):
            difficulty = rng.normal(0, 0.06)
            for j in range(layers):
                d = float(np.clip(dens + difficulty + rng.normal(0, 0.03), 0.05, 1.0))
                u = float(np.clip(0.55 + 0.3 * d + rng.normal(0, 0.03), 0.3, 1.0))
                lines.append(f"{_g(d)},{_g(u)},{b},{j}")
        (OUT / "sanger" / f"{key}.csv").write_text("\n".join(lines) + "\n")
    medium = OUT.parent / "dysta_csv_medium" / "eyerissv2"
    medium.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20231022)
    for key, (samples, layers, lat) in MEDIUM.items():
        _eyeriss(rng, medium / f"{key}.csv", samples, layers, lat)


def _eyeriss(rng, path: Path, samples: int, layers: int, lat: float) -> None:
    base = rng.uniform(0.5, 1.5, layers) * lat
    lines = ["sim_lat,overall-sparsity,batch-indx,layer-indx"]
    for b in range(samples):
        difficulty = rng.normal(0, 0.15)
        for j in range(layers):
            sp = float(np.clip(0.5 + 0.05 * j / max(1, layers / 5) - difficulty
                               + rng.normal(0, 0.04), 0.05, 0.95))
            t = base[j] * (0.3 + 0.7 * (1 - sp) / 0.5) * rng.uniform(0.95, 1.05)
            lines.append(f"{_g(t)},{_g(sp)},{b},{j}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
