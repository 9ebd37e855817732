"""The history page's figures: per machine and scenario one figure, a panel per tracked figure (time-to-target,
steps-to-target, step time, throughput), each case's points over commits with their intervals. So that cases of very
different sizes share a panel, each case is drawn relative to its own median over the commits shown (log axis); a
case with a confirmed step is coloured and named, the others grey, and each confirmed step is a dotted line between
its two commits. Every point links to that run's report where it is present (SVG links, matplotlib's ``set_urls``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

from benchsuite.analysis.series import Point
from benchsuite.compare.history import FIGURES, Step, figure_words
from benchsuite.report.figures import MAX_LEGEND, figure_style, palette, to_svg

GREY = "#9a9a9a"


def _relative(points: Sequence[Point | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(median, low, high) of each point relative to the series' median of medians; NaN where there is no point
    (an unbounded or missing bound is NaN: its bar is left open)."""
    med = np.array([p.median if p is not None else math.nan for p in points], dtype=float)
    low = np.array([p.low if p is not None else math.nan for p in points], dtype=float)
    high = np.array([p.high if p is not None else math.nan for p in points], dtype=float)
    finite = med[np.isfinite(med) & (med > 0)]
    ref = float(np.median(finite)) if len(finite) else math.nan
    high = np.where(np.isfinite(high), high, math.nan)
    return med / ref, low / ref, high / ref


def _panel(ax, cases: dict[str, Sequence[Point | None]], colours: dict[str, str], urls: Sequence[str | None]) -> bool:
    """Draw one tracked figure's cases on ``ax``; whether anything was drawn."""
    drawn = False
    segments, seg_colours, bars, bar_colours, xs, ys, dot_colours, dot_urls = [], [], [], [], [], [], [], []
    for case, points in cases.items():
        med, low, high = _relative(points)
        x = np.arange(len(points), dtype=float)
        ok = np.isfinite(med) & (med > 0)
        if not ok.any():
            continue
        drawn = True
        colour = colours.get(case, GREY)
        segments.append(np.column_stack([x[ok], med[ok]]))
        seg_colours.append(colour)
        for i in np.nonzero(ok & np.isfinite(low) & (low > 0))[0]:
            top = high[i] if np.isfinite(high[i]) else med[i]
            bars.append([(x[i], low[i]), (x[i], top)])
            bar_colours.append(colour)
        xs += list(x[ok])
        ys += list(med[ok])
        dot_colours += [colour] * int(ok.sum())
        dot_urls += [urls[i] for i in np.nonzero(ok)[0]]
    if not drawn:
        return False
    order = np.argsort([c != GREY for c in seg_colours], kind="stable")  # coloured cases over the grey ones
    ax.add_collection(LineCollection([segments[i] for i in order], colors=[seg_colours[i] for i in order], lw=1.1))
    if bars:
        ax.add_collection(LineCollection(bars, colors=bar_colours, lw=0.8, alpha=0.6))
    dots = ax.scatter(xs, ys, s=10, c=dot_colours, zorder=3)
    if any(dot_urls):
        dots.set_urls(dot_urls)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    for set_formatter in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
        set_formatter(FuncFormatter(lambda v, _: f"{v:.3g}×"))
    ax.autoscale_view()
    return True


def scenario_figure(
    title: str,
    commits: Sequence[str],
    points: dict[str, dict[str, Sequence[Point | None]]],
    steps: Sequence[Step],
    urls: Sequence[str | None],
) -> str | None:
    """One scenario's history figure: ``points`` maps each tracked figure to case id → its points (one per commit of
    ``commits``, short ids in order), ``steps`` are the scenario's confirmed steps, ``urls`` each commit's report link
    (or None). None when no panel has a point."""
    drawn_figures = [f for f in FIGURES if f in points and points[f]]
    if not drawn_figures:
        return None
    stepped = list(dict.fromkeys(s.case_id for s in steps))
    colours = dict(zip(stepped, palette(len(stepped)), strict=True))
    with figure_style():
        fig = Figure(figsize=(11, 2.6 * math.ceil(len(drawn_figures) / 2) + 0.6))
        grid = fig.subplots(math.ceil(len(drawn_figures) / 2), 2, squeeze=False, sharex=True)
        used = []
        for ax, figure in zip(grid.flat, drawn_figures, strict=False):
            if not _panel(ax, points[figure], colours, urls):
                ax.set_visible(False)
                continue
            used.append(ax)
            words, unit = figure_words(figure)
            ax.set_title(f"{words} ({unit}), relative to each case's median", fontsize=9)
            for s in steps:
                if s.figure == figure:
                    ax.axvline(s.index - 0.5, color=colours[s.case_id], linestyle=":", linewidth=1.2)
        for ax in grid.flat[len(drawn_figures) :]:
            ax.set_visible(False)
        for ax in grid[-1, :]:
            ax.set_xticks(range(len(commits)), list(commits), rotation=90 if len(commits) > 6 else 0, fontsize=7)
            ax.set_xlim(-0.5, len(commits) - 0.5)
        fig.suptitle(f"{title}: each case over commits (dot: median over seeds; bar: its interval)", fontsize=10)
        if used and 0 < len(colours) <= MAX_LEGEND:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], color=c, marker="o", markersize=4, label=k) for k, c in colours.items()]
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), fontsize=8, frameon=False)
    return to_svg(fig)
