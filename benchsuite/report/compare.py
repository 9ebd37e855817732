"""The HTML comparison of several results files: hardware of each, the claims matrix (table, heat map and a forest
plot with one mark per machine), and per scenario the matched cases with their ratios against the first file and
figures of the step-time and time-to-target ratios. The heat map and the ratios are drawn here with the helpers of
:mod:`benchsuite.report.figures`, the forest plot by :mod:`benchsuite.report.forest_plot` from
:func:`comparison_rows`; figures are inlined, so the file stands alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from benchsuite.analysis.decisions import NOT_RUN
from benchsuite.compare.ratios import COMPARED
from benchsuite.compare.sides import Comparison
from benchsuite.report.colours import VERDICT_COLOURS
from benchsuite.report.figures import figure_style, palette, to_svg
from benchsuite.report.forest import ForestRow, pair_mark, short_names, thresholds
from benchsuite.report.forest_plot import forest_part
from benchsuite.report.html import _ENV
from benchsuite.results.files import atomic_write_text
from benchsuite.results.parallel import process_map

_FIGURES = {"step_time_s_median": "time per step", "time_to_target_s": "time-to-target"}


def _scenarios(comparison: Comparison) -> list[dict[str, Any]]:
    """Per scenario its matched rows and ratio figures (drawn by up to one process per core: they are independent)."""
    names = list(dict.fromkeys(r.scenario for r in comparison.rows))
    jobs = [(comparison.reference.label, [r for r in comparison.rows if r.scenario == name]) for name in names]
    svgs = process_map(_scenario_svgs, jobs, min_items=4)
    return [
        {"name": name, "rows": rows, "svgs": drawn} for name, (_, rows), drawn in zip(names, jobs, svgs, strict=True)
    ]


def _scenario_svgs(job: tuple[str, list]) -> list[str]:
    """The ratio figures of one scenario's rows (``job``: the reference's label and the rows)."""
    reference, rows = job
    return [svg for metric, words in _FIGURES.items() if (svg := _ratio_svg(reference, rows, metric, words))]


def _ratio_svg(reference: str, rows: list, metric: str, words: str) -> str | None:
    data = pd.DataFrame(
        [
            {"case_id": r.case_id, "machine": label, "ratio": ratio.estimate, "low": ratio.low, "high": ratio.high}
            for r in rows
            for label, ratios in r.ratios.items()
            if (ratio := ratios[metric]).estimate is not None
        ]
    )
    if data.empty:
        return None
    return ratio_figure(data, words, reference, f"{rows[0].scenario}: {words}")


def _heatmap(comparison: Comparison) -> str | None:
    if not comparison.claims:
        return None
    labels = [s.label for s in comparison.sides]
    names = [f"{c.scenario}: {c.says[:60]}" for c in comparison.claims]
    cells = [
        [v.label if v is not None else NOT_RUN for v in (c.verdicts[m] for m in labels)] for c in comparison.claims
    ]
    return verdict_heatmap(names, labels, cells)


MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
"""The dot of each machine in the comparison's forest plot, in the order of the sides."""
SIDE_GAP = 0.3
"""Rows between two machines' marks in one row of the forest plot."""


def comparison_rows(comparison: Comparison) -> list[ForestRow]:
    """The comparison's forest rows: one per pair of each claim (``scenario: claim — case vs reference``), with one
    mark per machine that compared it, coloured by that machine's verdict of the pair (its reason where it was not
    judged), each machine at its own height and with its own dot (:data:`MARKERS`)."""
    labels = [s.label for s in comparison.sides]
    judged = [(c, [v for v in c.verdicts.values() if v is not None]) for c in comparison.claims]
    judged = [(c, mine) for c, mine in judged if mine]
    by_scenario: dict[str, list[int]] = {}
    for i, (c, _) in enumerate(judged):
        by_scenario.setdefault(c.scenario, []).append(i)
    name_of = {
        i: name
        for indices in by_scenario.values()
        for i, name in zip(indices, short_names([judged[i][1][0].claim for i in indices]), strict=True)
    }
    rows = []
    for i, (c, mine) in enumerate(judged):
        pairs = {
            label: {(p.effect.case_id, p.effect.against_id): p for p in v.pairs}
            for label in labels
            if (v := c.verdicts.get(label)) is not None
        }
        for key in dict.fromkeys(k for by_key in pairs.values() for k in by_key):
            marks = tuple(
                pair_mark(
                    by_key[key],
                    offset=SIDE_GAP * (j - (len(labels) - 1) / 2),
                    marker=MARKERS[j % len(MARKERS)],
                    who=label,
                )
                for j, label in enumerate(labels)
                if key in (by_key := pairs.get(label, {}))
            )
            scale = next(by_key[key] for by_key in pairs.values() if key in by_key).effect.scale
            text = f"{c.scenario}: {name_of[i]} — {key[0]} vs {key[1]}"
            rows.append(ForestRow(text, f"{c.scenario}#{i}", scale, thresholds(mine[0].claim), marks))
    return rows


def _forest(comparison: Comparison) -> dict[str, str | None]:
    sides = [(s.label, MARKERS[j % len(MARKERS)]) for j, s in enumerate(comparison.sides)]
    return forest_part(comparison_rows(comparison), "verdicts per machine", sides=sides)


def render_comparison(comparison: Comparison) -> str:
    """The whole self-contained HTML comparison."""
    return _ENV.get_template("compare.html.j2").render(
        comparison=comparison,
        sides=comparison.sides,
        scenarios=_scenarios(comparison),
        compared=COMPARED,
        heatmap=_heatmap(comparison),
        **_forest(comparison),
    )


def write_comparison(comparison: Comparison, out: Path) -> Path:
    """Render ``comparison`` to ``out`` (written atomically)."""
    return atomic_write_text(Path(out), render_comparison(comparison))


def verdict_heatmap(claims: list[str], machines: list[str], cells: list[list[str]]) -> str:
    """Claim × machine → verdict, as a grid of coloured cells with the verdict written in each.

    ``cells[i][j]`` is the verdict of claim ``i`` on machine ``j`` (one of :data:`VERDICT_COLOURS`).
    """
    from matplotlib.colors import ListedColormap

    names = list(VERDICT_COLOURS)
    codes = [[names.index(v) for v in row] for row in cells]
    with figure_style("white"):
        fig = Figure(figsize=(2.2 + 1.9 * len(machines), 0.42 * len(claims) + 1.2))
        ax = fig.subplots()
        sns.heatmap(
            codes,
            ax=ax,
            cmap=ListedColormap(list(VERDICT_COLOURS.values())),
            vmin=-0.5,
            vmax=len(names) - 0.5,
            cbar=False,
            linewidths=1,
            linecolor="white",
            annot=[[v for v in row] for row in cells],
            fmt="",
            annot_kws={"fontsize": 8},
        )
        ax.set_xticks([i + 0.5 for i in range(len(machines))], machines, rotation=20, ha="right", fontsize=8)
        ax.set_yticks([i + 0.5 for i in range(len(claims))], claims, rotation=0, fontsize=8)
        ax.set_title("claims matrix: verdict per machine")
    return to_svg(fig)


def ratio_figure(rows: pd.DataFrame, metric_words: str, reference: str, title: str) -> str:
    """Per case, the ratio of each other machine against the reference (log axis, 95 % interval); rows hold
    case_id, machine, ratio, low, high."""
    cases = list(dict.fromkeys(rows["case_id"]))
    with figure_style():
        fig = Figure(figsize=(8, 0.4 * len(cases) + 1.4))
        ax = fig.subplots()
        machines = list(dict.fromkeys(rows["machine"]))
        for offset, (color, machine) in enumerate(zip(palette(len(machines)), machines, strict=True)):
            g = rows[rows["machine"] == machine]
            y = [cases.index(c) + 0.15 * (offset - (len(machines) - 1) / 2) for c in g["case_id"]]
            ax.errorbar(
                g["ratio"],
                y,
                xerr=[g["ratio"] - g["low"], g["high"] - g["ratio"]],
                fmt="o",
                color=color,
                capsize=3,
                label=machine,
            )
        ax.axvline(1.0, color="black", linewidth=1)
        ax.set_xscale("log")
        ax.set_yticks(range(len(cases)), cases, fontsize=8)
        ax.invert_yaxis()
        ax.set(xlabel=f"{metric_words}: machine ÷ {reference} (95 % interval)", title=title)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return to_svg(fig)
