"""Figures for the HTML report, drawn with seaborn on matplotlib ``Figure`` objects (no pyplot global state)
and returned as inline SVG text; None when there is nothing to draw (no curve, no run that reached the target, no
figure measured), so that the report says what is missing instead (:mod:`benchsuite.report.sections`)."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from benchsuite.telemetry.metrics import TIMELINE

STYLE = "whitegrid"
MAX_LEGEND = 20
"""More lines than this get no legend (it would cover the figure and take seconds to lay out); the tables name
the cases."""


@contextlib.contextmanager
def figure_style(style: str = STYLE) -> Iterator[None]:
    """seaborn's axes ``style`` with each title at a fixed height just above its axes (``axes.titley`` 1.0):
    matplotlib's automatic title placement measures every tick label of the axes on each draw, the largest single
    cost of a report's figures, for titles that never sit above a top axis here."""
    with sns.axes_style(style), matplotlib.rc_context({"axes.titley": 1.0}):
        yield


def palette(n: int) -> list:
    """``n`` distinct colours: seaborn's colour-blind palette up to its 10 colours, then evenly spaced hues."""
    return sns.color_palette("colorblind" if n <= 10 else "husl", n)


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element (XML prolog and doctype dropped) with text kept as text, cropped to what
    was drawn plus a 0.1-inch pad, as ``bbox_inches="tight"`` crops it.

    matplotlib's tight crop lays the figure out and draws it twice; here it is drawn once, at its own size (the SVG
    keeps what lies beyond its edges, e.g. a legend outside the axes), and the root element's ``viewBox``, ``width``
    and ``height`` are set to the figure's tight bounding box (``Figure.get_tightbbox``), measured after that draw.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "benchsuite"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
        box = fig.get_tightbbox().padded(_PAD_IN)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return _ROOT_SIZE.sub(_viewbox(box, fig.get_figheight()), text, count=1)


_PAD_IN = 0.1
"""Pad around the tight crop, inches (savefig's ``pad_inches`` default)."""

_ROOT_SIZE = re.compile(r'width="[^"]*" height="[^"]*" viewBox="[^"]*"')
"""The root ``<svg>`` element's size attributes, as matplotlib's SVG backend writes them."""


def _viewbox(box, height_in: float) -> str:
    """Size attributes of the root ``<svg>`` showing ``box`` (a matplotlib Bbox in inches, y up from the bottom)
    of a figure ``height_in`` inches high; SVG user units are points, y down from the top."""
    x0, y0, w, h = box.x0 * 72, (height_in - box.y1) * 72, box.width * 72, box.height * 72
    return f'width="{w:.1f}pt" height="{h:.1f}pt" viewBox="{x0:.2f} {y0:.2f} {w:.2f} {h:.2f}"'


#: Axis labels with units, by validation metric.
METRIC_LABELS = {"val_accuracy": "validation accuracy (fraction correct)", "val_loss": "validation loss (nats)"}


def legend_outside(fig: Figure, *axes, fontsize: int = 8) -> None:
    """One legend of the lines of ``axes`` (each label once, shared by panels) to the right of the figure, never
    over the data (``bbox_inches="tight"`` keeps it in the SVG); none above :data:`MAX_LEGEND` entries."""
    by_label: dict = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        by_label.update(zip(labels, handles, strict=True))
    if by_label and len(by_label) <= MAX_LEGEND:
        fig.legend(
            list(by_label.values()),
            list(by_label),
            loc="upper left",
            bbox_to_anchor=(1.0, 0.95),
            fontsize=fontsize,
            frameon=False,
        )


def facet_axis(axes_of: dict[str, dict[str, str]]) -> str | None:
    """The matrix axis to draw one panel per value of: the one with the fewest values (two or more), when cases
    vary on two axes or more; None otherwise (one panel)."""
    names = list(dict.fromkeys(a for axes in axes_of.values() for a in axes))
    if len(names) < 2:
        return None
    counts = {a: len({axes.get(a) for axes in axes_of.values()}) for a in names}
    return min((a for a in names if counts[a] >= 2), key=lambda a: counts[a], default=None)


def curve_figure(
    bands: pd.DataFrame, metric: str, target: float | None, title: str, axes_of: dict[str, dict[str, str]] | None = None
) -> str | None:
    """Validation ``metric`` against timed training seconds: per case the mean over seeds and a min–max band; with
    cases on two axes or more, one panel per value of :func:`facet_axis` (lines: the other axes), legend outside.

    ``bands`` holds columns case_id, timed_s, mean, low, high (see :func:`benchsuite.analysis.cases.curve_bands`);
    ``axes_of`` maps each case id to its axis → label. None without a finite mean to draw.
    """
    if bands.empty or not bands["mean"].notna().any():
        return None
    axes_of = axes_of or {}
    facet = facet_axis(axes_of)
    cases = list(dict.fromkeys(bands["case_id"]))
    panel_of = {c: axes_of.get(c, {}).get(facet, "") if facet else "" for c in cases}
    line_of = {c: "-".join(f"{a}={v}" for a, v in axes_of.get(c, {}).items() if a != facet) or c for c in cases}
    panels, lines = list(dict.fromkeys(panel_of.values())), list(dict.fromkeys(line_of.values()))
    colors = dict(zip(lines, palette(len(lines)), strict=True))
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    with figure_style():
        fig = Figure(figsize=(8 if ncols == 1 else 3.6 * ncols, 3.6 * nrows + 0.6))
        grid = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        for ax, panel in zip(grid.flat, panels, strict=False):  # the grid may have a spare cell
            for case_id, g in bands.groupby("case_id", sort=False):
                if panel_of[case_id] != panel:
                    continue
                color = colors[line_of[case_id]]
                ax.plot(g["timed_s"], g["mean"], color=color, label=line_of[case_id], linewidth=1.6)
                ax.fill_between(g["timed_s"], g["low"], g["high"], color=color, alpha=0.18, linewidth=0)
            if target is not None:
                ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
            ax.set(xlabel="timed training time (s)", title=f"{facet}={panel}" if facet else "")
        for ax in grid.flat[len(panels) :]:
            ax.set_visible(False)
        for ax in grid[:, 0]:
            ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        fig.suptitle(
            f"{title}: {METRIC_LABELS.get(metric, metric).split(' (')[0]} over training "
            "(mean over seeds, band min–max; evaluation excluded)",
            fontsize=10,
        )
        legend_outside(fig, *grid.flat[: len(panels)])
    return to_svg(fig)


def batch_figure(
    summary: pd.DataFrame, y: str, ylabel: str, title: str, band: tuple[str, str] | None = None
) -> str | None:
    """``y`` of each case against its batch size (log2 axis), one line per combination of the other axes.

    ``summary`` is :func:`benchsuite.analysis.cases.case_summary` for one scenario, with an ``axis_batch_size`` column;
    ``band`` names the columns of an error bar (e.g. the min and max time-to-target). None when no case has ``y``.
    """
    if summary.empty or not summary[y].notna().any():
        return None
    data = summary.assign(batch=pd.to_numeric(summary["axis_batch_size"]).astype(int))
    others = [c for c in data.columns if c.startswith("axis_") and c != "axis_batch_size" and data[c].notna().all()]
    labelled = data[others].astype(str).apply(lambda col: col.name.removeprefix("axis_") + "=" + col)
    data["line"] = labelled.agg("-".join, axis=1) if others else "all"
    with figure_style():
        fig = Figure(figsize=(8, 3.8))
        ax = fig.subplots()
        colors = palette(data["line"].nunique())
        for color, (line, g) in zip(colors, data.groupby("line", sort=False), strict=True):
            g = g.sort_values("batch")
            err = None if band is None else [g[y] - g[band[0]], g[band[1]] - g[y]]
            ax.errorbar(g["batch"], g[y], yerr=err, color=color, marker="o", capsize=3, label=line)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(data["batch"].unique()), [str(b) for b in sorted(data["batch"].unique())])
        ax.set(xlabel="global batch size (samples per step, log scale)", ylabel=ylabel, title=title)
        if others:  # one line needs no legend
            legend_outside(fig, ax)
    return to_svg(fig)


TIMELINE_METRICS = TIMELINE


def timeline_figure(timelines: pd.DataFrame, title: str) -> str | None:
    """Telemetry over wall time of each case's first seed, one panel per sampled metric; None without samples."""
    metrics = [m for m in TIMELINE_METRICS if m in timelines and timelines[m].notna().any()]
    if timelines.empty or not metrics:
        return None
    first = timelines[timelines["seed"] == timelines.groupby("case_id")["seed"].transform("min")]
    with figure_style():
        fig = Figure(figsize=(8, 2.4 * len(metrics)))
        axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
        colors = palette(first["case_id"].nunique())
        for ax, metric in zip(axes, metrics, strict=True):
            for color, (case_id, g) in zip(colors, first.groupby("case_id", sort=False), strict=True):
                ax.plot(g["t_s"], g[metric], color=color, label=case_id, linewidth=1.2)
            ax.set(ylabel=TIMELINE_METRICS[metric])
        axes[0].set_title(f"{title}: telemetry over the run (first seed of each case)")
        axes[-1].set(xlabel="wall seconds since the run's first sample (evaluations included)")
        legend_outside(fig, axes[0], fontsize=7)
    return to_svg(fig)


def scaling_figure(table: pd.DataFrame, title: str, fixed_batch: str) -> str | None:
    """Data-parallel scaling: throughput against world size with the ideal line (N × one rank's), and scaling
    efficiency with its ideal of 1; ``table`` is :func:`benchsuite.analysis.cases.scaling_table`. None when no case
    has a throughput."""
    if table.empty or not table["throughput"].notna().any():
        return None
    table = table.sort_values("world_size")
    with figure_style():
        fig = Figure(figsize=(8, 3.4))
        left, right = fig.subplots(1, 2)
        left.plot(table["world_size"], table["ideal_throughput"], "--", color="grey", label="ideal (N × one rank)")
        left.plot(table["world_size"], table["throughput"], "o-", color=palette(1)[0], label="measured")
        right.axhline(1.0, linestyle="--", color="grey", label="ideal")
        right.plot(table["world_size"], table["efficiency"], "o-", color=palette(1)[0], label="measured")
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted(table["world_size"].unique()), [str(n) for n in sorted(table["world_size"].unique())])
            ax.set_xlabel(f"world size (ranks; {fixed_batch} batch fixed)")
            ax.legend(fontsize=8)
        left.set(ylabel="throughput (samples/s)", title=f"{title}: throughput")
        right.set(
            ylabel="scaling efficiency",
            ylim=(0, max(1.2, float(np.nan_to_num(table["efficiency"].max())) * 1.1)),
            title=f"{title}: efficiency",
        )
    return to_svg(fig)
