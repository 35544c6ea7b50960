"""Tables and plots from a run folder's tidy CSV files (a separate step from simulating).

Inputs (written by ``mmsched run``): ``summary.csv`` (one row per run point: recipe, policy,
the load axis columns, seed index, metrics), ``requests.csv`` (per-request rows of the
detail point(s), all policies and seeds), ``layers.csv`` (the layer timeline of one run per
recipe, for the Gantt chart), ``per_model.csv`` and, when a policy reports one,
``trace.csv``. The axis columns are ``rate`` and ``slo`` (Poisson runs) or ``fps_scale`` and
``load`` (real-time runs, docs/realtime.md); the grouping follows the columns present.
Outputs: ``aggregate.csv`` (per (recipe, policy, axis point): every metric's arithmetic mean
over seeds, column suffix ``_amean``, and geometric mean, suffix ``_gmean``), ``table.txt``
(the printed table) and PNG plots. Poisson runs:

* ``<recipe>_vs_rate.png``: violation rate and ANTT per policy against the arrival rate (one
  column of panels per SLO multiplier, at most 4);
* ``<recipe>_vs_slo.png``: the same against the SLO multiplier (one column per rate);
* ``latency_cdf.png``: the CDF of request latency per policy at the detail point;
* ``gantt.png``: the accelerator timeline of one run over a short window.

Real-time runs (plus ``geomean.csv``: UXCost and XRBench score per policy in geometric mean
over the recipes, the systems, when there are several):

* ``uxcost.png``: UXCost bars per policy and system (recipe), one panel per axis value (at
  most 4);
* ``xrbench_score.png``: the XRBench score, laid out the same way;
* ``miss_drop.png``: deadline-miss and frame-drop rate per model and policy, one row of
  panels per system, at its largest axis value;
* ``realtime_vs_<axis>.png``: UXCost and XRBench score against the FPS scale or load (when
  the run has several values);
* ``gantt_<recipe>.png``: one lane per accelerator over the first simulated instants of one
  run per system, layers coloured by model, transfers grey, dropped frames marked;
* ``trace.png``: the values a policy reports over time (`mmsched.sched.policy.Policy.trace`;
  DREAM's score weights), when ``trace.csv`` exists.

Every file is written atomically; `write_report` never prints (the CLI prints the table).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mmsched.hw.paths import atomic_open
from mmsched.sched.errors import InputError

from ._atomic import write_text

KEY_COLUMNS = ("recipe", "workload", "mode", "policy", "rate", "slo")
"""A point of the aggregate table of a Poisson run (the seed index is aggregated over)."""
AXIS_COLUMNS = ("rate", "slo", "fps_scale", "load")
"""The load-axis columns a summary may carry (`key_columns`)."""
TEXT_COLUMNS = frozenset({"recipe", "workload", "mode", "policy", "model", "key", "variant",
                          "accelerators", "depends_on", "sweep", "system", "predictor"})
"""Columns read as text (``sweep``, ``system``, ``predictor``: experiment-file axes,
`mmsched.sim.experiment_file`)."""
INDEX_COLUMNS = frozenset({"seed", "request", "accelerator", "layer"})
"""Numeric columns that must hold integers >= 0 (indices the plots group by)."""
MAX_PANELS = 4
_DPI = 110
"""Resolution of the PNG plots (dots per inch)."""
CDF_POINTS = 1000
"""Latency CDFs draw at most this many steps per policy (evenly spaced ranks, both ends)."""
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
        columns = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    fmt = format_value
    plain = _PLAIN  # the csv module writes these as format_value does: str, repr
    w.writerows([v if type(v) in plain else fmt(v) for v in [row.get(c, "") for c in columns]]
                for row in rows)
    return buf.getvalue()


_PLAIN = frozenset({str, int, float})


def read_csv(path: str | os.PathLike, required: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Read a tidy CSV; numeric cells become floats (text columns stay text).

    Raises `InputError` naming the file (and the line) for a file that is missing or
    unreadable, not UTF-8 CSV text, lacks one of the ``required`` columns, or has a bad
    number.
    """
    path = Path(path)
    try:
        f = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "", "an mmsched results CSV", "no such file") from None
    except OSError as e:
        raise InputError(str(path), "", "a readable mmsched results CSV",
                         e.strerror or str(e)) from None
    rows = []
    line = 1
    try:
        with f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(str(path), "line 1", f"the column(s) {', '.join(required)}",
                                 f"no column {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
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
                    if k in INDEX_COLUMNS and not (out[k] >= 0 and out[k].is_integer()):
                        raise InputError(str(path), f"line {line}, column {k}",
                                         "an integer >= 0", repr(v))
                rows.append(out)
    except UnicodeDecodeError as e:
        raise InputError(str(path), "", "UTF-8 CSV text",
                         f"a byte {e.object[e.start:e.start + 1]!r} that is not UTF-8 at "
                         f"offset {e.start}") from None
    except csv.Error as e:
        raise InputError(str(path), f"line {line + 1}", "CSV text", str(e)) from None
    except OSError as e:
        raise InputError(str(path), "", "a readable mmsched results CSV",
                         e.strerror or str(e)) from None
    return rows


RUN_FILES = ("summary.csv", "requests.csv", "layers.csv", "per_model.csv", "trace.csv")
"""The tidy CSV files of a run folder the report reads (`load_run`)."""
_LABELS = ("recipe", "workload", "mode", "policy", "seed")
_REQUIRED = {
    "rate": {"summary.csv": _LABELS + ("rate", "slo", "violation_rate", "antt", "stp",
                                       "latency_p99"),
             "requests.csv": ("recipe", "policy", "rate", "slo", "latency_s"),
             "layers.csv": ("recipe", "policy", "rate", "slo", "model", "request",
                            "accelerator", "start_s", "end_s"),
             "per_model.csv": ("recipe", "policy", "model"),
             "trace.csv": ("recipe", "policy", "rate", "time_s")},
    "fps_scale": {"summary.csv": _LABELS + ("fps_scale", "load", "uxcost", "xrbench_score"),
                  "requests.csv": ("recipe", "policy", "seed", "fps_scale", "load", "model",
                                   "dropped", "finish_s"),
                  "layers.csv": ("recipe", "policy", "seed", "fps_scale", "load", "model",
                                 "request", "accelerator", "start_s", "end_s"),
                  "per_model.csv": ("recipe", "policy", "model", "fps_scale", "load",
                                    "miss_rate", "drop_rate"),
                  "trace.csv": ("recipe", "policy", "fps_scale", "time_s")},
}
"""The columns each file of a Poisson (``rate``) or real-time (``fps_scale``) run must have
for the table and plots."""


def load_run(folder: str | os.PathLike) -> dict[str, list[dict[str, Any]]]:
    """Every tidy CSV of the run folder ``folder`` (`RUN_FILES`; all but ``summary.csv``
    optional), read and checked for the columns the report uses, before anything is written.

    Returns file name -> rows (empty for an absent optional file). Raises `InputError` naming
    the file for a folder that is not one, a missing or empty ``summary.csv``, a missing
    column (``policy`` included) or a bad cell.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "", "a run folder written by mmsched run",
                         "a file" if folder.exists() else "no such folder")
    summary_path = folder / "summary.csv"
    try:
        with summary_path.open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        header = []  # read_csv names the problem
    kind = "fps_scale" if "fps_scale" in header else "rate"
    out = {"summary.csv": read_csv(summary_path, _REQUIRED[kind]["summary.csv"])}
    if not out["summary.csv"]:
        raise InputError(str(summary_path), "", "at least one result row", "none")
    for name in RUN_FILES[1:]:
        path = folder / name
        out[name] = read_csv(path, _REQUIRED[kind][name]) if path.exists() else []
    return out


# --- aggregation -----------------------------------------------------------------------------


def key_columns(row: dict[str, Any]) -> tuple[str, ...]:
    """The columns naming a point of the aggregate table: recipe, workload, mode, policy and
    the axis columns present in ``row`` (`KEY_COLUMNS` for a Poisson summary)."""
    return ("recipe", "workload", "mode", "policy") + tuple(c for c in AXIS_COLUMNS
                                                            if c in row)


def is_realtime(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether summary (or aggregate) rows come from a real-time run."""
    return bool(rows) and "fps_scale" in rows[0]


def aggregate_rows(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (recipe, policy, axis point): each metric's arithmetic and geometric mean over
    seeds.

    Groups keep the order of their first row (``summary.csv`` is sorted by run point).
    Column names: ``<metric>_amean`` and ``<metric>_gmean``; ``seeds`` counts the rows.
    """
    from mmsched.sched.metrics import RATE_KEYS, REALTIME_KEYS, aggregate

    keys = key_columns(summary[0]) if summary else KEY_COLUMNS
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in summary:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    out = []
    for key, rows in groups.items():
        present = [m for m in RATE_KEYS + REALTIME_KEYS if m in rows[0]]
        vals = [{m: float(r[m]) for m in present} for r in rows]
        arith = aggregate(vals, "arith")
        geo = aggregate(vals, "geo")
        agg: dict[str, Any] = dict(zip(keys, key, strict=True))
        agg["seeds"] = len(rows)
        for m in present:
            agg[f"{m}_amean"] = float(arith[m])
            agg[f"{m}_gmean"] = float(geo[m])
        out.append(agg)
    return out


def _fmt(v: float, spec: str) -> str:
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _columns_text(head: Sequence[str], lines: Sequence[Sequence[str]], left: int) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in lines)) if lines else len(h)
              for i, h in enumerate(head)]
    text = ["  ".join(h.rjust(w) if i >= left else h.ljust(w)
                      for i, (h, w) in enumerate(zip(head, widths, strict=True)))]
    for r in lines:
        text.append("  ".join(c.rjust(w) if i >= left else c.ljust(w)
                              for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return text


def geomean_rows(agg: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Real-time runs over several systems: per policy and axis value, the geometric mean over
    the recipes (systems) of UXCost and of the XRBench score (each recipe's arithmetic mean
    over seeds first), and the recipe count. The axis is the FPS scale when every recipe ran
    the same scales, else the load. Empty for fewer than two recipes."""
    from mmsched.sched.metrics import geomean

    recipes = list(dict.fromkeys(a["recipe"] for a in agg))
    if len(recipes) < 2:
        return []
    scales = {r: {a["fps_scale"] for a in agg if a["recipe"] == r} for r in recipes}
    axis = "fps_scale" if all(v == scales[recipes[0]] for v in scales.values()) else "load"
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for a in agg:
        groups.setdefault((a["policy"], a[axis]), []).append(a)
    out = []
    for (policy, x), rows in groups.items():
        out.append({"policy": policy, axis: x, "recipes": len(rows),
                    "uxcost_geomean": geomean([r["uxcost_amean"] for r in rows]),
                    "xrbench_score_geomean": geomean([r["xrbench_score_amean"]
                                                      for r in rows])})
    return out


def format_realtime_table(agg: Sequence[dict[str, Any]]) -> str:
    """The aggregate table of a real-time run as fixed-width text (arithmetic means over seeds;
    rates in %, energy in mJ per frame), then the geometric means over systems."""
    head = ("recipe", "policy", "fps_scale", "load", "uxcost", "E/Eref", "1+miss+drop",
            "miss%", "drop%", "mJ/frame", "xrbench")
    lines = [(str(a["recipe"]), str(a["policy"]), _fmt(a["fps_scale"], ".3g"),
              _fmt(a["load"], ".3f"), _fmt(a.get("uxcost_amean", math.nan), ".4f"),
              _fmt(a.get("energy_ratio_amean", math.nan), ".4f"),
              _fmt(a.get("deadline_factor_amean", math.nan), ".4f"),
              _fmt(100 * a.get("miss_rate_amean", math.nan), ".2f"),
              _fmt(100 * a.get("drop_rate_amean", math.nan), ".2f"),
              _fmt(a.get("energy_per_frame_mj_amean", math.nan), ".4f"),
              _fmt(a.get("xrbench_score_amean", math.nan), ".2f")) for a in agg]
    text = _columns_text(head, lines, 2)
    gm = geomean_rows(agg)
    if gm:
        axis = "fps_scale" if "fps_scale" in gm[0] else "load"
        text.append("")
        text += _columns_text(
            ("geometric mean over systems", axis, "systems", "uxcost", "xrbench"),
            [(str(g["policy"]), _fmt(g[axis], ".3g"), str(g["recipes"]),
              _fmt(g["uxcost_geomean"], ".4f"), _fmt(g["xrbench_score_geomean"], ".2f"))
             for g in gm], 1)
    seeds = {int(a["seeds"]) for a in agg}
    note = (f"(arithmetic means over {'/'.join(str(s) for s in sorted(seeds))} seed(s); "
            f"uxcost = E/Eref x (1 + miss rate + drop rate), lower is better; miss% = frames "
            f"finished after their deadline, drop% = frames dropped; xrbench = XRBench score "
            f"0-100, higher is better; load = offered work / capacity, docs/realtime.md)")
    return "\n".join(text) + "\n" + note + "\n"


def format_table(agg: Sequence[dict[str, Any]]) -> str:
    """The aggregate table as fixed-width text (violation rate in %, latency in ms)."""
    if is_realtime(agg):
        return format_realtime_table(agg)
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


class _Figures:
    """The few pyplot calls the plots make, on matplotlib's object API: Agg figures without
    pyplot, whose import (figure manager, GUI backend machinery) costs about 0.03 s more."""

    def __init__(self) -> None:
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        self._figure, self._canvas = Figure, FigureCanvasAgg
        self.get_cmap = colormaps.get_cmap
        self.Line2D, self.Rectangle = Line2D, Rectangle

    def subplots(self, *args: Any, figsize: tuple[float, float], **kwargs: Any):
        fig = self._figure(figsize=figsize, dpi=_DPI)  # the saved dpi: text is laid out once
        self._canvas(fig)
        return fig, fig.subplots(*args, **kwargs)

    def close(self, fig) -> None:
        """Nothing to release: no figure manager holds the figure."""


@functools.cache
def _pyplot() -> _Figures:
    return _Figures()


def _save(fig, path: Path) -> None:
    with atomic_open(path, "wb") as f:
        fig.savefig(f, dpi=_DPI, format="png", metadata={"Software": None})


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
            # at most CDF_POINTS steps (the figure is ~500 pixels tall): drawing cost follows
            # the number of vertices
            keep = sorted({round(i * (n - 1) / (CDF_POINTS - 1)) for i in range(CDF_POINTS)}) \
                if n > CDF_POINTS else range(n)
            ax.step([lat[i] for i in keep], [(i + 1) / n for i in keep], where="post",
                    label=pol, **_style(k))
    r0 = requests[0]
    ax.set_xscale("log")
    # plain tick labels ("100", "0.5"): the default 10^k labels go through mathtext, which
    # costs more than the rest of the figure
    from matplotlib.ticker import LogFormatter

    ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.set_xlabel("request latency (ms)")
    ax.set_ylabel("fraction of requests")
    ax.set_title(f"latency CDF: {r0['recipe']}, rate {r0['rate']:g}/s, SLO x{r0['slo']:g}, "
                 f"all seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    # fixed margins: every label here has a known size (tight_layout would draw the figure
    # once more to measure them, a third of the figure's cost)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.93)
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


# --- real-time plots -------------------------------------------------------------------------


def _spread(values: Sequence[float], n: int) -> list[float]:
    """At most ``n`` of the sorted ``values``, evenly spaced, always with the largest."""
    vals = sorted(set(values))
    if len(vals) <= n:
        return vals
    idx = sorted({round(i * (len(vals) - 1) / (n - 1)) for i in range(n)})
    return [vals[i] for i in idx]


def _axis_of(agg: Sequence[dict[str, Any]]) -> str:
    """The axis a real-time run swept: the FPS scale if it varies within a recipe, else the
    load (a ``--load`` run has the same loads in every recipe)."""
    recipes = list(dict.fromkeys(a["recipe"] for a in agg))
    scales = {r: {a["fps_scale"] for a in agg if a["recipe"] == r} for r in recipes}
    same = all(v == scales[recipes[0]] for v in scales.values())
    return "fps_scale" if same else "load"


def _axis_label(axis: str) -> str:
    return "FPS scale" if axis == "fps_scale" else "offered load"


def plot_realtime_bars(agg: Sequence[dict[str, Any]], out: Path, metric: str, *,
                       ylabel: str, filename: str, ref: float | None = None) -> Path | None:
    """Bars of ``metric`` (mean over seeds) per policy, grouped by system (recipe), one panel
    per axis value (at most `MAX_PANELS`, evenly spread, the largest always)."""
    if not agg:
        return None
    plt = _pyplot()
    axis = _axis_of(agg)
    recipes = list(dict.fromkeys(a["recipe"] for a in agg))
    policies = list(dict.fromkeys(a["policy"] for a in agg))
    xs = _spread([a[axis] for a in agg], MAX_PANELS)
    fig, axes = plt.subplots(len(xs), 1, figsize=(max(6.4, 1.1 * len(recipes) *
                                                      max(1, len(policies)) / 3 + 2),
                                                  3.2 * len(xs)), squeeze=False)
    width = 0.8 / max(1, len(policies))
    for row, x in enumerate(xs):
        ax = axes[row][0]
        for i, pol in enumerate(policies):
            vals = []
            for rec in recipes:
                hit = [a for a in agg if a["recipe"] == rec and a["policy"] == pol
                       and a[axis] == x]
                vals.append(hit[0].get(f"{metric}_amean", math.nan) if hit else math.nan)
            pos = [j - 0.4 + width * (i + 0.5) for j in range(len(recipes))]
            ax.bar(pos, vals, width=width, label=pol, color=f"C{i % 10}",
                   hatch=_HATCHES[(i // 10) % len(_HATCHES)], edgecolor="black",
                   linewidth=0.3)
        if ref is not None:
            ax.axhline(ref, color="black", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(recipes)))
        ax.set_xticklabels(recipes, fontsize=7, rotation=15)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{_axis_label(axis)} = {x:g} (mean over seeds)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=min(5, len(policies)))
    fig.tight_layout()
    path = out / filename
    _save(fig, path)
    plt.close(fig)
    return path


def plot_realtime_vs_axis(agg: Sequence[dict[str, Any]], out: Path) -> Path | None:
    """UXCost and XRBench score per policy against the run's axis, one column per system
    (at most 6); None when the run has a single axis value."""
    axis = _axis_of(agg)
    if len({a[axis] for a in agg}) < 2:
        return None
    plt = _pyplot()
    recipes = list(dict.fromkeys(a["recipe"] for a in agg))[:6]
    policies = list(dict.fromkeys(a["policy"] for a in agg))
    fig, axes = plt.subplots(2, len(recipes), figsize=(4.0 * len(recipes), 6.4), squeeze=False)
    for col, rec in enumerate(recipes):
        for i, pol in enumerate(policies):
            pts = sorted((a[axis], a) for a in agg if a["recipe"] == rec
                         and a["policy"] == pol)
            xs = [p[0] for p in pts]
            axes[0][col].plot(xs, [p[1]["uxcost_amean"] for p in pts], marker="o", label=pol,
                              **_style(i))
            axes[1][col].plot(xs, [p[1]["xrbench_score_amean"] for p in pts], marker="o",
                              label=pol, **_style(i))
        axes[0][col].set_title(rec, fontsize=9)
        axes[0][col].set_ylabel("UXCost (lower is better)")
        axes[1][col].set_ylabel("XRBench score")
        for ax in axes[:, col]:
            ax.set_xlabel(_axis_label(axis))
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=2)
    fig.suptitle("arithmetic mean over seeds")
    fig.tight_layout()
    path = out / f"realtime_vs_{axis}.png"
    _save(fig, path)
    plt.close(fig)
    return path


def plot_miss_drop(per_model: Sequence[dict[str, Any]], out: Path) -> Path | None:
    """Deadline-miss and frame-drop rate per model and policy (mean over seeds), one row per
    system (at most 6) at its largest axis value."""
    if not per_model:
        return None
    plt = _pyplot()
    axis = _axis_of(per_model)
    recipes = list(dict.fromkeys(r["recipe"] for r in per_model))[:6]
    policies = list(dict.fromkeys(r["policy"] for r in per_model))
    fig, axes = plt.subplots(len(recipes), 2, figsize=(11, 2.9 * len(recipes)), squeeze=False)
    width = 0.8 / max(1, len(policies))
    for row, rec in enumerate(recipes):
        mine = [r for r in per_model if r["recipe"] == rec]
        top = max(r[axis] for r in mine)
        mine = [r for r in mine if r[axis] == top]
        models = sorted({r["model"] for r in mine})
        for col, (metric, label) in enumerate((("miss_rate", "deadline-miss rate (%)"),
                                               ("drop_rate", "frame-drop rate (%)"))):
            ax = axes[row][col]
            for i, pol in enumerate(policies):
                vals = []
                for m in models:
                    hit = [r[metric] for r in mine if r["policy"] == pol and r["model"] == m]
                    vals.append(100 * sum(hit) / len(hit) if hit else math.nan)
                pos = [j - 0.4 + width * (i + 0.5) for j in range(len(models))]
                ax.bar(pos, vals, width=width, label=pol, color=f"C{i % 10}",
                       edgecolor="black", linewidth=0.3)
            ax.set_xticks(range(len(models)))
            ax.set_xticklabels(models, fontsize=7)
            top_val = max((100 * r[metric] for r in mine), default=0.0)
            ax.set_ylim(0, 1.0 if not top_val > 0 else None)
            ax.set_ylabel(label)
            ax.set_title(f"{rec}, {_axis_label(axis)} {top:g}", fontsize=9)
            ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=min(5, len(policies)))
    fig.tight_layout()
    path = out / "miss_drop.png"
    _save(fig, path)
    plt.close(fig)
    return path


def plot_realtime_gantt(layers: Sequence[dict[str, Any]], requests: Sequence[dict[str, Any]],
                        out: Path) -> list[Path]:
    """One lane per accelerator per recipe (``gantt_<recipe>.png``): each request's
    consecutive layers on one accelerator as one bar coloured by model, the transfer time
    before a layer grey, dropped frames as red crosses above the lanes at their drop time."""
    if not layers:
        return []
    plt = _pyplot()
    written = []
    for recipe in dict.fromkeys(r["recipe"] for r in layers):
        mine = [r for r in layers if r["recipe"] == recipe]
        r0 = mine[0]
        models = sorted({r["model"] for r in mine} | {
            q["model"] for q in requests if q["recipe"] == recipe})
        cmap = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
        colour = {m: cmap(i % cmap.N) for i, m in enumerate(models)}
        accs = sorted({int(r["accelerator"]) for r in mine})
        t0 = 0.0
        t1 = max(r["end_s"] for r in mine)
        fig, ax = plt.subplots(figsize=(11, 1.0 + 0.7 * (len(accs) + 1)))
        for acc in accs:
            rows = sorted((r for r in mine if int(r["accelerator"]) == acc),
                          key=lambda r: r["start_s"])
            bars: list[list[Any]] = []  # [start, end, model, request]
            for r in rows:
                start = r["start_s"] + r.get("transfer_s", 0.0)
                if r.get("transfer_s", 0.0) > 0:
                    ax.broken_barh([(1e3 * r["start_s"], 1e3 * r["transfer_s"])],
                                   (acc - 0.4, 0.8), color="0.6")
                if bars and bars[-1][3] == r["request"] and bars[-1][1] == r["start_s"] \
                        and not r.get("transfer_s", 0.0):
                    bars[-1][1] = r["end_s"]
                else:
                    bars.append([start, r["end_s"], r["model"], r["request"]])
            for b in bars:
                ax.broken_barh([(1e3 * b[0], 1e3 * (b[1] - b[0]))], (acc - 0.4, 0.8),
                               facecolor=colour[b[2]], edgecolor="black", linewidth=0.2)
        drops = [q for q in requests if q["recipe"] == recipe and q["policy"] == r0["policy"]
                 and q["seed"] == r0["seed"] and q["fps_scale"] == r0["fps_scale"]
                 and q["load"] == r0["load"] and q["dropped"] and q["finish_s"] <= t1]
        if drops:
            ax.scatter([1e3 * q["finish_s"] for q in drops], [len(accs) - 0.3] * len(drops),
                       marker="x", color="red", s=30, label="dropped frame", zorder=3)
        ax.set_yticks(list(accs))
        ax.set_yticklabels([f"accelerator {a}" for a in accs], fontsize=7)
        ax.set_ylim(-0.6, len(accs) - 0.4 + (0.5 if drops else 0.0))
        ax.set_xlim(1e3 * t0, 1e3 * t1)
        ax.invert_yaxis()
        ax.set_xlabel("time (ms)")
        ax.set_title(f"{recipe}: {r0['policy']}, {_axis_label('fps_scale')} "
                     f"{r0['fps_scale']:.3g} (load {r0['load']:.2f}), seed {int(r0['seed'])}, "
                     f"first {1e3 * t1:.0f} ms", fontsize=9)
        handles = [plt.Rectangle((0, 0), 1, 1, color=colour[m]) for m in models]
        labels = list(models)
        handles.append(plt.Rectangle((0, 0), 1, 1, color="0.6"))
        labels.append("transfer")
        if drops:
            handles.append(plt.Line2D([], [], marker="x", color="red", linestyle=""))
            labels.append("dropped frame")
        ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        path = out / f"gantt_{_safe(recipe)}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def plot_trace(trace: Sequence[dict[str, Any]], out: Path) -> Path | None:
    """The values policies report over time (`Policy.trace`): one panel per (recipe, policy)
    at seed 0 and the recipe's largest axis value (at most 6), one line per value."""
    if not trace:
        return None
    plt = _pyplot()
    axis = "fps_scale" if "fps_scale" in trace[0] else "rate"
    label_cols = set(key_columns(trace[0])) | {"seed", "time_s", "load", "slo"}
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in trace:
        if r.get("seed", 0) == 0:
            groups.setdefault((r["recipe"], r["policy"]), []).append(r)
    keys = list(groups)[:6]
    if not keys:
        return None
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 2.8 * len(keys)), squeeze=False)
    for row, (recipe, policy) in enumerate(keys):
        rows = groups[(recipe, policy)]
        top = max(r[axis] for r in rows)
        rows = sorted((r for r in rows if r[axis] == top), key=lambda r: r["time_s"])
        names = [k for k in rows[0] if k not in label_cols]
        ax = axes[row][0]
        for i, name in enumerate(names):
            ax.plot([r["time_s"] for r in rows], [r.get(name, math.nan) for r in rows],
                    marker=".", label=name, **_style(i))
        ax.set_title(f"{recipe}: {policy} ({axis} {top:g}, seed 0)", fontsize=9)
        ax.set_xlabel("time (s)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "trace.png"
    _save(fig, path)
    plt.close(fig)
    return path


# --- the whole report ------------------------------------------------------------------------


def write_report(folder: str | os.PathLike, *, plots: bool = True,
                 on_table: Callable[[str], None] | None = None,
                 rows: dict[str, list[dict[str, Any]]] | None = None,
                 draw: Callable[..., list[Path]] | None = None) -> tuple[str, list[Path]]:
    """Aggregate table and plots of the run folder ``folder``, written into it.

    Returns the table text and the written paths. ``on_table(table)`` is called once the
    table is written, before any plot is drawn (the CLI prints it then); ``plots=False``
    stops there (matplotlib is imported only to draw). Every input is read and checked first
    (`load_run`): a missing or malformed file raises `InputError` before anything is written.
    ``rows``: the run's rows already in memory (`load_run`'s form, as ``mmsched run`` has
    just written them), used instead of reading the files back. ``draw``: what draws the plots
    (`draw_plots`'s signature; ``mmsched run`` draws in a process of its own,
    `mmsched.sim._plotter`).
    """
    folder = Path(folder)
    run = load_run(folder) if rows is None else rows  # every input checked before writing
    agg = aggregate_rows(run["summary.csv"])
    written = [folder / "aggregate.csv", folder / "table.txt"]
    write_text(folder / "aggregate.csv", csv_text(agg))
    gm = geomean_rows(agg) if is_realtime(agg) else []
    if gm:  # the table's last block, across the systems
        write_text(folder / "geomean.csv", csv_text(gm))
        written.append(folder / "geomean.csv")
    table = format_table(agg)
    write_text(folder / "table.txt", table)
    if on_table is not None:
        on_table(table)
    if not plots:
        return table, written
    return table, written + (draw or draw_plots)(folder, agg, run)


def draw_plots(folder: Path, agg: Sequence[dict[str, Any]],
               run: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """The plots of a run's report from its aggregate rows ``agg`` and its rows ``run``
    (`load_run`'s form), drawn one after the other (`plot_jobs`)."""
    return [p for job in plot_jobs(folder, agg, run) for p in job()]


def plot_jobs(folder: Path, agg: Sequence[dict[str, Any]],
              run: dict[str, list[dict[str, Any]]]) -> list[Callable[[], list[Path]]]:
    """The figures of a run's report as independent jobs, in report order; each draws its
    figure(s) and returns the paths written (empty when there is nothing to draw)."""

    def one(fn, *args, **kwargs) -> Callable[[], list[Path]]:
        return lambda: [p for p in (fn(*args, **kwargs),) if p is not None]

    if not is_realtime(agg):
        return [lambda: plot_sweeps(agg, folder),
                one(plot_latency_cdf, run["requests.csv"], folder),
                one(plot_gantt, run["layers.csv"], folder)]
    return [one(plot_realtime_bars, agg, folder, "uxcost", ylabel="UXCost (lower is better)",
                filename="uxcost.png", ref=1.0),
            one(plot_realtime_bars, agg, folder, "xrbench_score", ylabel="XRBench score",
                filename="xrbench_score.png"),
            one(plot_realtime_vs_axis, agg, folder),
            one(plot_miss_drop, run["per_model.csv"], folder),
            lambda: plot_realtime_gantt(run["layers.csv"], run["requests.csv"], folder),
            one(plot_trace, run["trace.csv"], folder)]
