"""The forest plot of :mod:`benchsuite.report.forest`'s rows, drawn on a matplotlib ``Figure`` (no pyplot state) and
returned as inline SVG (:func:`benchsuite.report.figures.to_svg`): one panel per scale (ratios on a log axis, then
differences), a row per pair with its marks, the claims' threshold lines over their rows, and the legend below.
Nothing random is drawn, so the same rows always give the same SVG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from benchsuite.report.colours import NOT_JUDGED_TEXT, VERDICT_COLOURS, edge_colour
from benchsuite.report.figures import figure_style, to_svg
from benchsuite.report.forest import NO_EFFECT, ForestRow, Mark, forest_note, verdicts_present

ROW_IN = 0.3
"""Inches per row of a panel."""
WIDTH_IN = 7.0
"""Inches of the figure (the labels of the rows extend it to the left)."""
WRAP = 58
"""Labels longer than this break after the claim's name."""
PANEL_TITLES = {
    "ratio": "claims on times, steps and rates (ratio, log axis)",
    "difference": "claims on validation metrics (difference)",
}
AXIS_LABELS = {
    "ratio": "effect as a ratio in the claim's direction (> 1: the claim's way), with its interval",
    "difference": "effect as a difference in the metric's units (> 0: the claim's way), with its interval",
}


def _wrapped(label: str) -> str:
    if len(label) <= WRAP or " — " not in label:
        return label
    claim, pair = label.split(" — ", 1)
    return f"{claim} —\n{pair}"


@dataclass(frozen=True)
class _Scale:
    """A panel's x axis: ``t`` maps an effect to where it is drawn (log10 for ratios), limits in that space."""

    ratio: bool
    low: float
    high: float

    def t(self, value: float) -> float:
        return math.log10(value) if self.ratio else value

    def x(self, t: float) -> float:
        return 10.0**t if self.ratio else t

    def place(self, value: float | None) -> tuple[float | None, int]:
        """(t clamped to the axis, -1/+1 when the value is unbounded or past an edge, else 0); None for NaN."""
        if value is None or math.isnan(value):
            return None, 0
        if value == -math.inf or (self.ratio and value <= 0):
            return self.low, -1
        if value == math.inf:
            return self.high, 1
        t = self.t(value)
        return min(max(t, self.low), self.high), (t < self.low) * -1 + (t > self.high) * 1


def _scale(rows: Sequence[ForestRow], scale: str) -> _Scale:
    """Limits covering every finite estimate, bound and threshold, and no effect, with a margin for the arrows."""
    ratio = scale == "ratio"
    values = [NO_EFFECT[scale], *(t for r in rows for t in r.thresholds)]
    values += [v for r in rows for m in r.marks if m.drawn for v in (m.estimate, m.low, m.high) if v is not None]
    ts = [math.log10(v) if ratio else v for v in values if math.isfinite(v) and (v > 0 or not ratio)]
    low, high = min(ts), max(ts)
    span = max(high - low, math.log10(1.25) if ratio else 0.02)
    middle = (low + high) / 2
    low, high = min(low, middle - span / 2), max(high, middle + span / 2)
    pad = 0.07 * (high - low)
    return _Scale(ratio, low - pad, high + pad)


def _extent(row: ForestRow) -> tuple[float, float]:
    """(rows above the label line, rows below it) that ``row`` takes."""
    offsets = [m.offset for m in row.marks] or [0.0]
    above = 0.5 - min(0.0, min(offsets)) + (0.18 if "\n" in _wrapped(row.label) else 0.0)
    return above, 0.5 + max(0.0, max(offsets)) + (0.18 if "\n" in _wrapped(row.label) else 0.0)


def _draw_mark(ax, s: _Scale, mark: Mark, y: float) -> bool:
    """Draw one mark at height ``y``; True when an end was drawn as an arrow."""
    if not mark.drawn:
        who = f"{mark.who}: " if mark.who else ""
        text = _shortened(f"{who}not judged: {mark.reason or 'nothing to compare'}", 96)
        back = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1}
        where = {"transform": ax.get_yaxis_transform(), "va": "center", "bbox": back}
        ax.text(0.01, y, text, fontsize=7, style="italic", color=NOT_JUDGED_TEXT, **where)
        return False
    colour, edge = VERDICT_COLOURS.get(mark.verdict, "#888888"), edge_colour(mark.verdict)
    (lo, lo_out), (hi, hi_out) = s.place(mark.low), s.place(mark.high)
    lo, hi = (s.low if lo is None else lo), (s.high if hi is None else hi)
    if lo == hi and lo_out == hi_out != 0:  # the whole interval past one edge: a stub to that edge
        lo, hi = (s.high - 0.05 * (s.high - s.low), s.high) if hi_out > 0 else (s.low, s.low + 0.05 * (s.high - s.low))
    width = 1.2 if mark.hollow else 2.2
    ax.plot([s.x(lo), s.x(hi)], [y, y], color=colour, linewidth=width, solid_capstyle="butt", zorder=2)
    arrows = [(s.low, "<") if lo_out < 0 else None, (s.high, ">") if hi_out > 0 else None]
    for t, head in filter(None, arrows):
        ax.plot([s.x(t)], [y], marker=head, color=edge, markersize=6, linestyle="none", clip_on=False, zorder=3)
    estimate, _ = s.place(mark.estimate)
    if estimate is not None:
        face = "white" if mark.hollow else colour
        ax.plot(
            [s.x(estimate)],
            [y],
            marker=mark.marker,
            markersize=6.5,
            markerfacecolor=face,
            markeredgecolor=edge,
            markeredgewidth=1.1,
            linestyle="none",
            zorder=4,
        )
    return any(arrows)


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _panel(ax, rows: Sequence[ForestRow], scale: str, title: str) -> dict[str, bool]:
    """Draw one panel's rows; what its legend needs (arrows, hollow marks)."""
    s = _scale(rows, scale)
    y, ticks, arrows = 0.0, [], False
    groups: dict[str, tuple[float, float, tuple[float, ...]]] = {}  # claim → (top, bottom, thresholds)
    for row in rows:
        above, below = _extent(row)
        centre = y + above
        ticks.append(centre)
        for mark in row.marks:
            arrows |= _draw_mark(ax, s, mark, centre + mark.offset)
            if mark.note:
                ax.text(
                    1.025,
                    centre + mark.offset,
                    mark.note,
                    transform=ax.get_yaxis_transform(),
                    fontsize=7,
                    va="center",
                    color="#555555",
                )
        top = groups[row.claim][0] if row.claim in groups else y
        groups[row.claim] = (top, y + above + below, row.thresholds)
        y += above + below
    for top, bottom, lines in groups.values():
        for t in lines:
            ax.vlines(t, top + 0.08, bottom - 0.08, colors="#333333", linestyles="--", linewidth=1.1, zorder=1)
        if top > 0:
            ax.axhline(top, color="#cccccc", linewidth=0.8, zorder=0)
    ax.axvline(NO_EFFECT[scale], color="black", linewidth=1.0, zorder=1)
    if s.ratio:
        ax.set_xscale("log")
        _log_ticks(ax, s)
    ax.set_xlim(s.x(s.low), s.x(s.high))
    ax.set_ylim(y, 0)
    ax.set_yticks(ticks, [_wrapped(r.label) for r in rows], fontsize=8)
    ax.grid(False, axis="y")
    ax.set_xlabel(AXIS_LABELS[scale], fontsize=8)
    ax.set_title(f"{title}: {PANEL_TITLES[scale]}", fontsize=10)
    return {"arrows": arrows, "hollow": any(m.hollow and m.drawn for r in rows for m in r.marks)}


def _log_ticks(ax, s: _Scale) -> None:
    """Ticks at 1-2-5 ratios on a wide axis (1-1.5-2-3-5-7 within two decades), evenly spaced ones on a narrow
    axis, labelled ``2×``."""
    low, high = s.x(s.low), s.x(s.high)
    if high / low >= 3:
        steps = (1, 2, 5) if high / low >= 30 else (1, 1.5, 2, 3, 5, 7)
        ticks = [m * 10.0**e for e in range(-6, 7) for m in steps]
    else:
        ticks = list(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high))
    ticks = [t for t in ticks if low <= t <= high]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.4g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _legend(rows: Sequence[ForestRow], needs: dict[str, bool], sides: Sequence[tuple[str, str]]) -> list[Line2D]:
    handles = [
        Line2D(
            [],
            [],
            color=VERDICT_COLOURS[v],
            linewidth=2.2,
            marker="o",
            markerfacecolor=VERDICT_COLOURS[v],
            markeredgecolor=edge_colour(v),
            label=v,
        )
        for v in verdicts_present(rows)
    ]
    handles += [
        Line2D([], [], color="black", linewidth=1.0, label="no effect"),
        Line2D([], [], color="#333333", linestyle="--", linewidth=1.1, label="claimed effect r* / margin"),
    ]
    if needs["hollow"]:
        handles.append(
            Line2D(
                [],
                [],
                color="#888888",
                linewidth=1.2,
                marker="o",
                markerfacecolor="white",
                markeredgecolor="#444444",
                label="earlier look",
            )
        )
    if needs["arrows"]:
        handles.append(Line2D([], [], color="#444444", marker=">", linestyle="none", label="unbounded: to the edge"))
    handles += [Line2D([], [], color="#444444", marker=m, linestyle="none", label=side) for side, m in sides]
    return handles


def forest_figure(rows: Sequence[ForestRow], title: str, sides: Sequence[tuple[str, str]] = ()) -> str | None:
    """The forest plot of ``rows`` (:mod:`benchsuite.report.forest`): a ratio panel (log axis) and a difference
    panel, each only when it has rows; ``sides``: (machine label, marker) of a comparison, for the legend. None when
    no row has an interval to draw (no rows, or every pair not judged)."""
    if not any(r.drawn for r in rows):
        return None
    panels = [(scale, [r for r in rows if r.scale == scale]) for scale in ("ratio", "difference")]
    panels = [(scale, mine) for scale, mine in panels if mine]
    heights = [sum(sum(_extent(r)) for r in mine) * ROW_IN for _, mine in panels]
    top, gap, bottom = 0.45, 0.95, 0.62
    total = top + sum(heights) + gap * (len(panels) - 1) + bottom
    notes = any(m.note for r in rows for m in r.marks)
    with figure_style():
        fig = Figure(figsize=(WIDTH_IN, total))
        fig.subplots_adjust(
            left=0.02,
            right=0.8 if notes else 0.98,
            top=1 - top / total,
            bottom=bottom / total,
            hspace=gap / (sum(heights) / len(heights)),
        )
        axes = fig.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
        needs = {"arrows": False, "hollow": False}
        for ax, (scale, mine) in zip(axes, panels, strict=True):
            for key, value in _panel(ax, mine, scale, title).items():
                needs[key] |= value
        handles = _legend(rows, needs, sides)
        fig.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, (bottom - 0.5) / total),
            ncol=math.ceil(len(handles) / math.ceil(len(handles) / 4)),
            fontsize=8,
            frameon=False,
        )
    return to_svg(fig)


def forest_part(
    rows: Sequence[ForestRow], title: str, what: str = "claim", sides: Sequence[tuple[str, str]] = ()
) -> dict[str, str | None]:
    """``forest_svg`` (the plot of ``rows``) and ``forest_note`` (a line instead, when nothing can be drawn, or when
    the drawing fails: a report never fails because of a figure)."""
    try:
        svg = forest_figure(rows, title, sides)
    except Exception as exc:  # any error of the drawing; the rest of the report is written
        first = (str(exc).splitlines() or [""])[0]
        return {"forest_svg": None, "forest_note": f"no forest plot: {type(exc).__name__}: {first}"}
    return {"forest_svg": svg, "forest_note": None if svg else forest_note(rows, what)}
