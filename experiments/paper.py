"""``make paper``: run ``experiments/paper-*.toml`` and write ``docs/results/``.

Usage: ``python experiments/paper.py [--runs build/paper] [--out docs/results] [--only-figures]``

Each experiment runs with ``mmsched run --experiment`` into ``RUNS/<stem>/`` (resumable: a
rerun after an interruption computes only what is missing; ``--only-figures`` skips running).
Then every figure is drawn from the runs' tidy CSVs, as PNG and SVG, each with a Markdown
table beside it, and ``OUT/README.md`` shows them with the papers' headline numbers next to
ours. Wall times of the runs go into the README (the 15-minute budget on 2 cores, warm cache).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from mmsched.hw.paths import atomic_open, atomic_write
from mmsched.sched.metrics import geomean
from mmsched.sim.report import aggregate_rows, read_csv

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINES = ("fcfs", "sjf", "prema", "planaria", "sdrm3")
"""The Dysta paper's baselines (``dysta_oracle`` is an upper bound, not a baseline)."""
RT_BASELINES = ("fcfs", "rr", "edf", "herald", "prema", "planaria", "sdrm3", "dysta")
LABEL = {"violation_rate": "SLO violation rate (%)", "antt": "ANTT (x isolated latency)",
         "rate": "arrival rate (requests/s)", "slo": "SLO multiplier (x isolated latency)",
         "uxcost": "UXCost (lower is better)"}


# --- running ---------------------------------------------------------------------------------


def run_experiments(runs: Path, jobs: str | None) -> dict[str, float]:
    """Run every ``paper-*.toml`` (resumably); wall seconds per experiment."""
    from mmsched.sim.cli import main

    walls = {}
    for f in sorted(HERE.glob("paper-*.toml")):
        t0 = time.perf_counter()
        argv = ["run", "--experiment", str(f), "--out", str(runs / f.stem), "--no-plots"]
        if jobs:
            argv += ["--jobs", jobs]
        code = main(argv)
        if code:
            sys.exit(code)
        walls[f.stem] = time.perf_counter() - t0
    return walls


# --- tables and figures ----------------------------------------------------------------------


def _agg(folder: Path) -> list[dict[str, Any]]:
    """Mean over seeds per (recipe, policy, axis point), with the sweep's axis columns."""
    summary = read_csv(folder / "summary.csv")
    extra = [c for c in ("system", "rows", "cols", "slots") if summary and c in summary[0]]
    agg = aggregate_rows(summary)
    cols = {(r["recipe"], r["policy"]): {c: r[c] for c in extra} for r in summary}
    return [{**a, **cols[(a["recipe"], a["policy"])]} for a in agg]


def _fmt(v: Any) -> str:
    """A table cell: text as it is, a number with 3 decimals (thousands grouped from 1e4)."""
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.3f}" if abs(v) < 1e4 else f"{v:,.0f}"


def _md_table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _save(fig, out: Path, stem: str) -> None:
    for ext in ("png", "svg"):
        with atomic_open(out / f"{stem}.{ext}", "wb") as f:
            fig.savefig(f, format=ext, dpi=110, metadata={"Date": None} if ext == "svg"
                        else {"Software": None})


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "mmsched"
    return plt


def dysta_figure(runs: Path, out: Path, stem: str, title: str, rate_sweep: str,
                 slo_sweep: str) -> dict[str, Any]:
    """Violation rate and ANTT vs rate and vs SLO (one Dysta figure); the headline
    comparison of ``dysta`` against the best baseline at each point."""
    plt = _plt()
    rate_agg, slo_agg = _agg(runs / rate_sweep), _agg(runs / slo_sweep)
    policies = list(dict.fromkeys(a["policy"] for a in rate_agg))
    seeds = int(rate_agg[0]["seeds"])
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.2))
    table_rows = []
    for col, (agg, x) in enumerate(((rate_agg, "rate"), (slo_agg, "slo"))):
        for row, metric in enumerate(("violation_rate", "antt")):
            ax = axes[row][col]
            for i, pol in enumerate(policies):
                pts = sorted((a[x], a[f"{metric}_amean"]) for a in agg if a["policy"] == pol)
                scale = 100 if metric == "violation_rate" else 1
                ax.plot([p[0] for p in pts], [scale * p[1] for p in pts], marker="o",
                        color=f"C{i}", label=pol, linewidth=2.2 if pol == "dysta" else 1.2)
            ax.set_xlabel(LABEL[x])
            ax.set_ylabel(LABEL[metric])
            if metric == "antt":
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
        fixed = (f"SLO x{agg[0]['slo']:g}" if x == "rate" else
                 f"{agg[0]['rate']:g} requests/s")
        axes[0][col].set_title(f"against the {'arrival rate' if x == 'rate' else 'SLO'} "
                               f"({fixed})")
        for a in agg:
            table_rows.append((x, a))
    axes[0][0].legend(fontsize=8, ncol=2)
    req = read_csv(runs / rate_sweep / "summary.csv")[0]["requests"]
    fig.suptitle(f"{title}: mean over {seeds} seeds, {req:g} requests per run")
    fig.tight_layout()
    _save(fig, out, stem)
    plt.close(fig)
    # the table beside it: one row per (axis, point, policy)
    rows = [[x, f"{a['rate']:g}", f"{a['slo']:g}", a["policy"],
             100 * a["violation_rate_amean"], a["antt_amean"], int(a["seeds"])]
            for x, a in table_rows]
    atomic_write(out / f"{stem}.md", f"# {title}\n\nMean over seeds; violation rate in %, "
                 f"ANTT in multiples of the isolated latency.\n\n" + _md_table(
                     ["sweep", "rate (req/s)", "SLO (x)", "policy", "violation (%)", "ANTT",
                      "seeds"], rows))
    top = max(a["rate"] for a in rate_agg)
    loaded = {a["policy"]: (100 * a["violation_rate_amean"], a["antt_amean"])
              for a in rate_agg if a["rate"] == top}
    reqs = [r for r in read_csv(runs / rate_sweep / "requests.csv")
            if r["policy"] == policies[0] and r["seed"] == 0]
    iso = [r["isolated_s"] for r in reqs]
    mean_iso = sum(iso) / len(iso)
    by_model: dict[str, list[float]] = {}
    for r in reqs:
        by_model.setdefault(r["model"], []).append(r["isolated_s"])
    cvs = [statistics.pstdev(v) / statistics.fmean(v) for v in by_model.values() if len(v) > 1]
    loads = {a["rate"]: a["rate"] * mean_iso for a in rate_agg}
    return headline_dysta(rate_agg + slo_agg) | {
        "seeds": seeds, "top": (top, rate_agg[0]["slo"]), "loaded": loaded,
        "mean_isolated_ms": 1e3 * mean_iso, "loads": loads,
        "cv_pct": 100 * statistics.fmean(cvs)}


def headline_dysta(agg: list[dict[str, Any]]) -> dict[str, Any]:
    """Dysta against the best baseline at each point: the largest violation-rate reduction
    (percentage points) and ANTT ratio (best baseline / dysta, largest and geometric mean)."""
    points: dict[tuple, dict[str, dict]] = {}
    for a in agg:
        points.setdefault((a["rate"], a["slo"]), {})[a["policy"]] = a
    viol, antt = [], []
    for pt, by in points.items():
        if "dysta" not in by:
            continue
        d = by["dysta"]
        base = [by[b] for b in BASELINES if b in by]
        best_v = min(b["violation_rate_amean"] for b in base)
        best_a = min(b["antt_amean"] for b in base)
        viol.append((100 * (best_v - d["violation_rate_amean"]), pt))
        antt.append((best_a / d["antt_amean"], pt))
    return {"viol_pp_max": max(viol), "antt_ratio_max": max(antt),
            "antt_ratio_gmean": geomean([v for v, _ in antt])}


def dream_figure(runs: Path, out: Path) -> dict[str, Any]:
    """UXCost per scenario and system (bars per policy, one panel per load) and DREAM's
    geometric-mean reduction against each baseline."""
    plt = _plt()
    agg = _agg(runs / "paper-dream" / "dream")
    policies = list(dict.fromkeys(a["policy"] for a in agg))
    loads = sorted({a["load"] for a in agg})
    recipes = list(dict.fromkeys(a["recipe"] for a in agg))
    seeds = int(agg[0]["seeds"])
    fig, axes = plt.subplots(len(loads), 1, figsize=(13, 3.6 * len(loads)), squeeze=False)
    width = 0.8 / len(policies)
    for r, load in enumerate(loads):
        ax = axes[r][0]
        for i, pol in enumerate(policies):
            ys = [next(a["uxcost_amean"] for a in agg if a["recipe"] == rec and
                       a["policy"] == pol and a["load"] == load) for rec in recipes]
            ax.bar([j + (i - len(policies) / 2 + 0.5) * width for j in range(len(recipes))],
                   ys, width, label=pol, color=f"C{i}",
                   edgecolor="black" if pol == "dream" else None)
        ax.set_xticks(range(len(recipes)))
        ax.set_xticklabels([rec.replace("xr-", "") for rec in recipes], rotation=35,
                           ha="right", fontsize=7)
        ax.set_ylabel(LABEL["uxcost"])
        ax.set_ylim(bottom=0.9)  # UXCost >= E / E_ref, about 1 at best
        ax.set_title(f"offered load {load:g} (1 = the system busy all the time)")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].legend(fontsize=7, ncol=len(policies))
    fig.suptitle(f"DREAM comparison: UXCost per scenario:system, {seeds} seed(s), 1 s of "
                 f"frames per run")
    fig.tight_layout()
    _save(fig, out, "dream-uxcost")
    plt.close(fig)
    rows = []
    for load in loads:
        for rec in recipes:
            by = {a["policy"]: a["uxcost_amean"] for a in agg
                  if a["recipe"] == rec and a["load"] == load}
            rows.append([rec, f"{load:g}"] + [by[p] for p in policies])
    # geometric means over the points where every policy has a finite, positive UXCost (a
    # policy that drops every frame has no delivered frame to take the reference energy of)
    by_point: dict[tuple, dict[str, dict]] = {}
    for a in agg:
        by_point.setdefault((a["recipe"], a["load"]), {})[a["policy"]] = a
    good = {k: v for k, v in by_point.items()
            if all(math.isfinite(x["uxcost_amean"]) and x["uxcost_amean"] > 0
                   for x in v.values())}
    excluded = sorted(set(by_point) - set(good))

    def gmean(pol: str, load: float | None = None, key: str = "uxcost_amean") -> float:
        return geomean([v[pol][key] for (_, ld), v in good.items()
                        if load is None or ld == load])

    gm = {p: gmean(p) for p in policies}
    red = {b: 100 * (1 - gm["dream"] / gm[b]) for b in RT_BASELINES if b in gm}
    per_load = {load: {b: 100 * (1 - gmean("dream", load) / gmean(b, load)) for b in red}
                for load in loads}
    lost = {p: 100 * statistics.fmean(v[p]["miss_rate_amean"] + v[p]["drop_rate_amean"]
                                      for v in good.values()) for p in policies}
    energy = {p: statistics.fmean(v[p]["energy_ratio_amean"] for v in good.values())
              for p in policies}
    why_excluded = [(rec, load, {p: (100 * x["miss_rate_amean"], 100 * x["drop_rate_amean"])
                                 for p, x in by_point[(rec, load)].items()
                                 if not (math.isfinite(x["uxcost_amean"])
                                         and x["uxcost_amean"] > 0)})
                    for rec, load in excluded]
    text = (f"# DREAM comparison: UXCost\n\nMean over {seeds} seed(s) of 1 s of frames; "
            f"UXCost = E / E_ref x (1 + miss rate + drop rate), lower is better "
            f"(docs/realtime.md).\n\n" + _md_table(["scenario:system", "load"] + policies, rows)
            + f"\n## Over the {len(good)} points where every policy has a finite UXCost\n\n"
            + _md_table(["policy", "UXCost (geomean)", "DREAM's reduction (%)",
                         "frames lost: missed + dropped (%, mean)", "E / E_ref (mean)"],
                        [[p, gm[p], red.get(p, math.nan) if p != "dream" else "-", lost[p],
                          energy[p]] for p in policies]))
    atomic_write(out / "dream-uxcost.md", text)
    return {"gm": gm, "reduction": red, "per_load": per_load, "seeds": seeds,
            "points": len(good), "excluded": why_excluded, "lost_pct": lost,
            "energy_ratio": energy}


def design_figure(runs: Path, out: Path) -> dict[str, Any]:
    """Violation rate (Dysta CNN) and UXCost (XR VR gaming) against the hardware scheduler's
    task slots, one line per array shape; the float policies as flat references."""
    plt = _plt()
    panels = (("dysta-slots-shape", "violation_rate", "Dysta CNN, SLO x10"),
              ("dream-slots-shape", "uxcost", "XRBench VR gaming on one 4K-PE array"))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    md = ["# Design space: scheduler task slots x array shape\n"]
    found = {}
    for ax, (sweep, metric, title) in zip(axes, panels, strict=True):
        agg = _agg(runs / "paper-design" / sweep)
        scale = 100 if metric == "violation_rate" else 1
        xs_axis = "fps_scale" if "fps_scale" in agg[0] else "rate"
        top = max(a[xs_axis] for a in agg)
        agg = [a for a in agg if a[xs_axis] == top]
        shapes = list(dict.fromkeys((int(a["rows"]), int(a["cols"])) for a in agg))
        seeds = int(agg[0]["seeds"])
        refs = [p for p in dict.fromkeys(a["policy"] for a in agg)
                if not p.startswith("dysta_hw")]
        rows = []
        for i, (r, c) in enumerate(shapes):
            pts = sorted((a["slots"], a[f"{metric}_amean"]) for a in agg
                         if a["rows"] == r and a["cols"] == c
                         and a["policy"].startswith("dysta_hw"))
            ax.plot([p[0] for p in pts], [scale * p[1] for p in pts], marker="o",
                    color=f"C{i}", label=f"dysta_hw, {r}x{c}")
            for j, ref in enumerate(refs):
                v = next(a[f"{metric}_amean"] for a in agg if a["rows"] == r
                         and a["cols"] == c and a["policy"] == ref)
                ax.axhline(scale * v, color=f"C{i}", linestyle=("--", ":", "-.", (0, (1, 4)),
                                                                 (0, (5, 1)))[j % 5],
                           linewidth=0.9, label=f"{ref}, {r}x{c}")
                rows.append([f"{r}x{c}", ref, "-", scale * v])
            rows += [[f"{r}x{c}", "dysta_hw", f"{s:g}", scale * v] for s, v in pts]
        ax.set_xscale("log", base=2)
        ax.set_xlabel("hardware scheduler task slots (dysta_hw)")
        ax.set_ylabel(LABEL[metric])
        at = f"FPS x{top:g}" if xs_axis == "fps_scale" else f"{top:g} requests/s"
        ax.set_title(f"{title}, {at} ({seeds} seed(s))", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
        unit = "violation rate (%)" if metric == "violation_rate" else "UXCost"
        md.append(f"\n## {title}, mean over {seeds} seed(s)\n\n" + _md_table(
            ["array (rows x cols)", "policy", "slots", unit], rows))
        found[sweep] = {"rows": rows, "seeds": seeds, "x": top}
    fig.suptitle("Design space: task slots of the Dysta hardware scheduler x array shape "
                 "(same PE count)")
    fig.tight_layout()
    _save(fig, out, "design-space")
    plt.close(fig)
    atomic_write(out / "design-space.md", "".join(md))
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default=str(ROOT / "build" / "paper"))
    p.add_argument("--out", default=str(ROOT / "docs" / "results"))
    p.add_argument("--jobs", default=None)
    p.add_argument("--only-figures", action="store_true")
    args = p.parse_args(argv)
    runs, out = Path(args.runs), Path(args.out)
    t0 = time.perf_counter()
    import json

    record = runs / "walls.json"
    if args.only_figures:
        walls = json.loads(record.read_text()) if record.is_file() else {}
    else:
        walls = run_experiments(runs, args.jobs)
    out.mkdir(parents=True, exist_ok=True)
    from notes import readme  # the README text beside this script

    figures = {
        "cnn": dysta_figure(runs / "paper-dysta", out, "dysta-cnn",
                            "Dysta CNN (our workloads)", "cnn-rate", "cnn-slo"),
        "attnn": dysta_figure(runs / "paper-dysta", out, "dysta-attnn",
                              "Dysta AttNN (our workloads)", "attnn-rate", "attnn-slo"),
        "csv-cnn": dysta_figure(runs / "paper-dysta", out, "dysta-csv-cnn",
                                "Dysta CNN (artifact-format CSVs, compat mode)",
                                "csv-cnn-rate", "csv-cnn-slo"),
        "csv-attnn": dysta_figure(runs / "paper-dysta", out, "dysta-csv-attnn",
                                  "Dysta AttNN (artifact-format CSVs, compat mode)",
                                  "csv-attnn-rate", "csv-attnn-slo"),
        "dream": dream_figure(runs, out),
        "design": design_figure(runs, out),
    }
    if not args.only_figures:
        walls["figures"] = time.perf_counter() - t0 - sum(walls.values())
        atomic_write(record, json.dumps(walls, indent=1) + "\n")
    atomic_write(out / "README.md", readme(figures, walls))
    print(f"wrote {out}/README.md and {len(list(out.glob('*.png')))} figures")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
