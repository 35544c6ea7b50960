"""Tables and plots from a run folder's tidy CSV files (a separate step from simulating).

Inputs (written by ``mmsched run``): ``summary.csv`` (one row per run point: recipe, policy,
rate, SLO multiplier, seed index, metrics), ``requests.csv`` (per-request rows of the detail
point, all policies and seeds), ``layers.csv`` (the layer timeline of one run, for the Gantt
chart). Outputs: ``aggregate.csv`` (per (recipe, policy, rate, SLO): every metric's arithmetic
mean over seeds, column suffix ``_amean``, and geometric mean, suffix ``_gmean``),
``table.txt`` (the printed table) and PNG plots:

* ``<recipe>_vs_rate.png``: violation rate and ANTT per policy against the arrival rate (one
  column of panels per SLO multiplier, at most 4);
* ``<recipe>_vs_slo.png``: the same against the SLO multiplier (one column per rate);
* ``latency_cdf.png``: the CDF of request latency per policy at the detail point;
* ``gantt.png``: the accelerator timeline of one run over a short window.

Every file is written atomically; `write_report` never prints (the CLI prints the table).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from mmsched.hw.paths import atomic_open
from mmsched.sched.errors import InputError

from ._atomic import write_text

KEY_COLUMNS = ("recipe", "workload", "mode", "policy", "rate", "slo")
"""A point of the aggregate table (the seed index is aggregated over)."""
TEXT_COLUMNS = frozenset({"recipe", "workload", "mode", "policy", "model"})
MAX_PANELS = 4
_HATCHES = ("", "///", "...", "xxx", "\\\\", "ooo")


# --- CSV -------------------------------------------------------------------------------------


def format_value(v: Any) -> str:
    """Shortest exact text of a value: ``repr`` of floats (round-trips), ints as ints."""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return repr(v)
    return str(v)


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as CSV text (``\\n`` line ends); columns in first-seen order unless given."""
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([format_value(row.get(c, "")) for c in columns])
    return buf.getvalue()


def read_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a tidy CSV; numeric cells become floats (text columns stay text).

    Raises `InputError` naming the file and line for a missing file or a bad number.
    """
    path = Path(path)
    try:
        f = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "", "an mmsched results CSV", "no such file") from None
    rows = []
    with f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            out: dict[str, Any] = {}
            for k, v in row.items():
                if k in TEXT_COLUMNS or k is None:
                    out[k] = v
                    continue
                try:
                    out[k] = float(v) if v != "" else math.nan
                except (TypeError, ValueError):
                    raise InputError(str(path), f"line {line}, column {k}", "a number",
                                     repr(v)) from None
            rows.append(out)
    return rows


# --- aggregation -----------------------------------------------------------------------------


def aggregate_rows(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (recipe, policy, rate, SLO): each metric's arithmetic and geometric mean over seeds.

    Groups keep the order of their first row (``summary.csv`` is sorted by run point).
    Column names: ``<metric>_amean`` and ``<metric>_gmean``; ``seeds`` counts the rows.
    """
    from mmsched.sched.metrics import RATE_KEYS, aggregate

    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in summary:
        groups.setdefault(tuple(row.get(k) for k in KEY_COLUMNS), []).append(row)
    out = []
    for key, rows in groups.items():
        present = [m for m in RATE_KEYS if m in rows[0]]
        vals = [{m: float(r[m]) for m in present} for r in rows]
        arith = aggregate(vals, "arith")
        geo = aggregate(vals, "geo")
        agg: dict[str, Any] = dict(zip(KEY_COLUMNS, key, strict=True))
        agg["seeds"] = len(rows)
        for m in present:
            agg[f"{m}_amean"] = float(arith[m])
            agg[f"{m}_gmean"] = float(geo[m])
        out.append(agg)
    return out


def _fmt(v: float, spec: str) -> str:
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def format_table(agg: Sequence[dict[str, Any]]) -> str:
    """The aggregate table as fixed-width text (violation rate in %, latency in ms)."""
    head = ("recipe", "policy", "rate", "slo", "viol%amean", "viol%gmean", "antt_amean",
            "antt_gmean", "stp_amean", "p99ms_amean")
    lines = []
    for a in agg:
        lines.append((str(a["recipe"]), str(a["policy"]), _fmt(a["rate"], "g"),
                      _fmt(a["slo"], "g"),
                      _fmt(100 * a.get("violation_rate_amean", math.nan), ".2f"),
                      _fmt(100 * a.get("violation_rate_gmean", math.nan), ".2f"),
                      _fmt(a.get("antt_amean", math.nan), ".3f"),
                      _fmt(a.get("antt_gmean", math.nan), ".3f"),
                      _fmt(a.get("stp_amean", math.nan), ".3f"),
                      _fmt(1e3 * a.get("latency_p99_amean", math.nan), ".1f")))
    widths = [max(len(h), *(len(r[i]) for r in lines)) if lines else len(h)
              for i, h in enumerate(head)]
    text = ["  ".join(h.rjust(w) if i > 1 else h.ljust(w)
                      for i, (h, w) in enumerate(zip(head, widths, strict=True)))]
    for r in lines:
        text.append("  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                              for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    seeds = {int(a["seeds"]) for a in agg}
    note = (f"(means over {'/'.join(str(s) for s in sorted(seeds))} seed(s): amean = arithmetic, "
            f"gmean = geometric, 0 if any seed is 0; viol% = SLO violation rate; ANTT = average "
            f"normalised turnaround time; STP = requests/s; p99 = 99th-percentile latency)")
    return "\n".join(text) + "\n" + note + "\n"


# --- plots -----------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_open(path, "wb") as f:
        fig.savefig(f, dpi=110, format="png", metadata={"Software": None})


def _style(i: int) -> dict[str, Any]:
    """Line style of the i-th policy: ten colours, then the same colours dashed, dotted."""
    return {"color": f"C{i % 10}", "linestyle": ("-", "--", ":", "-.")[(i // 10) % 4]}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def plot_sweeps(agg: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """Violation rate and ANTT per policy vs rate and vs SLO, one PNG per recipe and axis."""
    written = []
    recipes = list(dict.fromkeys(a["recipe"] for a in agg))
    for recipe in recipes:
        rows = [a for a in agg if a["recipe"] == recipe]
        policies = list(dict.fromkeys(a["policy"] for a in rows))
        rates = sorted({a["rate"] for a in rows})
        slos = sorted({a["slo"] for a in rows})
        for x_name, x_vals, panel_name, panel_vals in (("rate", rates, "slo", slos),
                                                       ("slo", slos, "rate", rates)):
            if len(x_vals) < 2:
                continue
            panels = panel_vals[:MAX_PANELS]
            plt = _pyplot()  # only when there is something to draw
            fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 6.4),
                                     squeeze=False)
            for col, pv in enumerate(panels):
                for i, pol in enumerate(policies):
                    pts = sorted(((a[x_name], a) for a in rows
                                  if a["policy"] == pol and a[panel_name] == pv),
                                 key=lambda p: p[0])
                    xs = [p[0] for p in pts]
                    axes[0][col].plot(xs, [100 * p[1]["violation_rate_amean"] for p in pts],
                                      marker="o", label=pol, **_style(i))
                    axes[1][col].plot(xs, [p[1]["antt_amean"] for p in pts], marker="o",
                                      label=pol, **_style(i))
                axes[0][col].set_title(f"{recipe}: {panel_name} = {pv:g}")
                axes[0][col].set_ylabel("SLO violation rate (%)")
                axes[1][col].set_ylabel("ANTT")
                for ax in axes[:, col]:
                    ax.set_xlabel("arrival rate (req/s)" if x_name == "rate"
                                  else "SLO multiplier")
                    ax.grid(alpha=0.3)
            axes[0][0].legend(fontsize=7, ncol=2)
            fig.suptitle("arithmetic mean over seeds")
            fig.tight_layout()
            path = out / f"{_safe(recipe)}_vs_{x_name}.png"
            _save(fig, path)
            plt.close(fig)
            written.append(path)
    return written


def plot_latency_cdf(requests: Sequence[dict[str, Any]], out: Path) -> Path | None:
    """CDF of request latency per policy (all seeds of the detail point pooled)."""
    if not requests:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    policies = list(dict.fromkeys(r["policy"] for r in requests))
    for k, pol in enumerate(policies):
        lat = sorted(1e3 * r["latency_s"] for r in requests
                     if r["policy"] == pol and not math.isnan(r["latency_s"]))
        if lat:
            n = len(lat)
            ax.step(lat, [(i + 1) / n for i in range(n)], where="post", label=pol,
                    **_style(k))
    r0 = requests[0]
    ax.set_xscale("log")
    ax.set_xlabel("request latency (ms)")
    ax.set_ylabel("fraction of requests")
    ax.set_title(f"latency CDF: {r0['recipe']}, rate {r0['rate']:g}/s, SLO x{r0['slo']:g}, "
                 f"all seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "latency_cdf.png"
    _save(fig, path)
    plt.close(fig)
    return path


def plot_gantt(layers: Sequence[dict[str, Any]], out: Path) -> Path | None:
    """The accelerator timeline: one bar per executed layer, one row per request (colour =
    model, hatch = accelerator when there are several; a tick marks the request's arrival, so
    waiting and preemption show as gaps)."""
    if not layers:
        return None
    plt = _pyplot()
    models = sorted({r["model"] for r in layers})
    cmap = plt.get_cmap("tab20")
    colour = {m: cmap(i % 20) for i, m in enumerate(models)}
    reqs = sorted({int(r["request"]) for r in layers})
    row = {q: i for i, q in enumerate(reqs)}
    t0 = min(r["start_s"] for r in layers)
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.28 * len(reqs) + 1.2)))
    accs = sorted({int(r["accelerator"]) for r in layers})
    hatch = {a: _HATCHES[i % len(_HATCHES)] for i, a in enumerate(accs)}
    # one collection per lane (request) and accelerator, not one artist per bar: drawing
    # cost grows with the number of artists
    lanes: dict[tuple[int, int], list[tuple[float, float]]] = {}
    lane_model: dict[int, str] = {}
    for r in layers:
        q = int(r["request"])
        lanes.setdefault((q, int(r["accelerator"])), []).append(
            (1e3 * (r["start_s"] - t0), 1e3 * (r["end_s"] - r["start_s"])))
        lane_model[q] = r["model"]
    for (q, acc), bars in lanes.items():
        ax.broken_barh(bars, (row[q] - 0.4, 0.8), facecolors=colour[lane_model[q]],
                       edgecolor="black", linewidth=0.3,
                       hatch=hatch[acc] if len(accs) > 1 else None)
    arrivals = {int(r["request"]): r["arrival_s"] for r in layers if "arrival_s" in r}
    if arrivals:
        ax.scatter([1e3 * (a - t0) for a in arrivals.values()],
                   [row[q] for q in arrivals], marker="|", s=120, color="black",
                   label="arrival", zorder=3)
    ax.set_yticks(range(len(reqs)))
    ax.set_yticklabels([f"req {q}" for q in reqs], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    r0 = layers[0]
    ax.set_title(f"accelerator timeline ({len(accs)} accelerator(s)): {r0['policy']}, "
                 f"{r0['recipe']}, rate {r0['rate']:g}/s, SLO x{r0['slo']:g}, seed 0, first "
                 f"{len(layers)} layers", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[m]) for m in models]
    labels = list(models)
    if len(accs) > 1:
        handles += [plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black",
                                  hatch=hatch[a]) for a in accs]
        labels += [f"accelerator {a}" for a in accs]
    ax.legend(handles, labels, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path = out / "gantt.png"
    _save(fig, path)
    plt.close(fig)
    return path


# --- the whole report ------------------------------------------------------------------------


def write_report(folder: str | os.PathLike, *, plots: bool = True,
                 on_table: Callable[[str], None] | None = None) -> tuple[str, list[Path]]:
    """Aggregate table and plots of the run folder ``folder``, written into it.

    Returns the table text and the written paths. ``on_table(table)`` is called once the
    table is written, before any plot is drawn (the CLI prints it then); ``plots=False``
    stops there (matplotlib is imported only to draw). Raises `InputError` when
    ``summary.csv`` is missing or malformed.
    """
    folder = Path(folder)
    summary = read_csv(folder / "summary.csv")
    if not summary:
        raise InputError(str(folder / "summary.csv"), "", "at least one result row", "none")
    agg = aggregate_rows(summary)
    written = []
    write_text(folder / "aggregate.csv", csv_text(agg))
    table = format_table(agg)
    write_text(folder / "table.txt", table)
    if on_table is not None:
        on_table(table)
    if not plots:
        return table, [folder / "aggregate.csv", folder / "table.txt"]

    written += [folder / "aggregate.csv", folder / "table.txt"]
    written += plot_sweeps(agg, folder)
    optional: Iterable[tuple[str, Any]] = (("requests.csv", plot_latency_cdf),
                                           ("layers.csv", plot_gantt))
    for name, fn in optional:
        if (folder / name).is_file():
            p = fn(read_csv(folder / name), folder)
            if p is not None:
                written.append(p)
    return table, written
