"""The HTML comparison of several results files: hardware of each, the claims matrix (table and heat map), and per
scenario the matched cases with their ratios against the first file and figures of the step-time and
time-to-target ratios. Figures are inlined, so the file stands alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchsuite.compare.sides import COMPARED, Comparison
from benchsuite.report.html import _ENV
from benchsuite.report import figures
from benchsuite.results.files import atomic_write_text

_FIGURES = {"step_time_s_median": "time per step", "time_to_target_s": "time-to-target"}


def _scenarios(comparison: Comparison) -> list[dict[str, Any]]:
    """Per scenario its matched rows and ratio figures."""
    out = []
    for scenario in dict.fromkeys(r.scenario for r in comparison.rows):
        rows = [r for r in comparison.rows if r.scenario == scenario]
        svgs = [svg for metric, words in _FIGURES.items() if (svg := _ratio_svg(comparison, rows, metric, words))]
        out.append({"name": scenario, "rows": rows, "svgs": svgs})
    return out


def _ratio_svg(comparison: Comparison, rows: list, metric: str, words: str) -> str | None:
    data = pd.DataFrame([{"case_id": r.case_id, "machine": label, "ratio": ratio.estimate, "low": ratio.low,
                          "high": ratio.high}
                         for r in rows for label, ratios in r.ratios.items()
                         if (ratio := ratios[metric]).estimate is not None])  # fmt: skip
    if data.empty:
        return None
    return figures.ratio_figure(data, words, comparison.reference.label, f"{rows[0].scenario}: {words}")


def _heatmap(comparison: Comparison) -> str | None:
    if not comparison.claims:
        return None
    labels = [s.label for s in comparison.sides]
    names = [f"{c.scenario}: {c.says[:60]}" for c in comparison.claims]
    cells = [[v.label if v is not None else "not run" for v in (c.verdicts[m] for m in labels)] for c in comparison.claims]
    return figures.verdict_heatmap(names, labels, cells)


def render_comparison(comparison: Comparison) -> str:
    """The whole self-contained HTML comparison."""
    return _ENV.get_template("compare.html.j2").render(
        comparison=comparison, sides=comparison.sides, scenarios=_scenarios(comparison), compared=COMPARED,
        heatmap=_heatmap(comparison),
    )  # fmt: skip


def write_comparison(comparison: Comparison, out: Path) -> Path:
    """Render ``comparison`` to ``out`` (written atomically)."""
    return atomic_write_text(Path(out), render_comparison(comparison))
