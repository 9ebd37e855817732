"""The HTML report of one results file: results → pandas (:mod:`benchsuite.results.frames`) → statistics
(:mod:`benchsuite.analysis`) → seaborn SVG (:mod:`benchsuite.report.figures`) + jinja2 templates → one HTML file.
Its first screen is the run card (with the top-up budget, :mod:`benchsuite.report.looks`) and the claims table with
the forest plot of every verdict beside it (:mod:`benchsuite.report.forest`); a file written by ``benchsuite doctor``
has its checks and what looked wrong above them (:mod:`benchsuite.report.doctor`).

The report is rebuilt from a results file alone (``benchsuite report RESULTS_FILE -o OUT.html``), anywhere,
without a GPU and without rerunning anything, and never fails because of data (:mod:`benchsuite.report.sections`):
what is missing is said where the figure would be, the runs of a session that did not finish are reported under a
banner that says so, and benchmark entries that are not benchsuite's are counted.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import jinja2

from benchsuite.analysis.cases import noise_summary, too_noisy
from benchsuite.analysis.decisions import NOT_JUDGED, NOT_RUN
from benchsuite.report import overview
from benchsuite.report.doctor import doctor_section
from benchsuite.report.filters import FILTERS
from benchsuite.report.forest import verdict_rows
from benchsuite.report.forest_plot import forest_part
from benchsuite.report.looks import top_up_line, top_ups
from benchsuite.report.sections import planned_looks, scenario_sections
from benchsuite.report.verdict_words import expected_false_verdicts
from benchsuite.results import frames
from benchsuite.results.files import atomic_write_text, read_results, report_path
from benchsuite.specs.claim_metrics import CLAIM_METRICS

__all__ = ["render_report", "scenario_sections", "write_report"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("benchsuite.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(FILTERS)
_ENV.tests["nan"] = lambda value: isinstance(value, float) and math.isnan(value)


def expected_false_sentence(sections: list[dict[str, Any]]) -> str | None:
    """The sentence on how many false verdicts to expect among the report's judged claims
    (:func:`benchsuite.report.verdict_words.expected_false_verdicts`), or None when no claim was judged."""
    judged = [v.claim for s in sections for v in s["verdicts"] if v.verdict not in (NOT_RUN, NOT_JUDGED)]
    return expected_false_verdicts(judged) if judged else None


def first_screen_forest(sections: list[dict[str, Any]]) -> dict[str, str | None]:
    """The forest plot of every claim of every section beside the claims table (``forest_svg``, or ``forest_note``
    saying why there is none)."""
    named = [(s["spec"].name, v) for s in sections for v in s["verdicts"]]
    planned = {s["spec"].name: n for s in sections if (n := planned_looks(s["spec"]))}
    return forest_part(verdict_rows(named, planned=planned), "all claims")


def render_report(data: dict[str, Any], source: str = "", traces_from: str | None = None) -> str:
    """The whole self-contained HTML report of one results file's data (its traces linked through ``traces_from``,
    the path from the report's folder to the results file's)."""
    runs = frames.runs_frame(data)
    noise = noise_summary(runs) if not runs.empty else {"n_runs": 0}
    sections = scenario_sections(data, traces_from)
    stored = frames.scenario_specs(data)
    return _ENV.get_template("report.html.j2").render(
        hardware=frames.hardware_summary(data),
        run_id=data.get("benchsuite", {}).get("run_id", "?"),
        run_order=frames.run_order(data),
        scenario_paths=frames.scenario_paths(data),
        noise=noise,
        too_noisy=too_noisy(noise),
        incomplete=frames.incomplete(data),
        n_runs=frames.run_count(data),
        notices=overview.notices(data),
        doctor=doctor_section(data),
        unstored=[name for name in dict.fromkeys(runs["scenario"]) if name not in stored] if not runs.empty else [],
        scenario_errors=data.get("benchsuite", {}).get("scenario_errors") or [],
        sections=sections,
        overview=[row for s in sections for row in overview.rows_of(s["spec"].name, s["verdicts"])],
        forest=first_screen_forest(sections),
        top_up_line=top_up_line(top_ups(data), [v for s in sections for v in s["verdicts"]]),
        expected_false=expected_false_sentence(sections),
        metrics=CLAIM_METRICS,
        source=source,
    )


def write_report(
    results_file: Path, reports_dir: Path | None = None, out: Path | None = None, data: dict[str, Any] | None = None
) -> Path:
    """Render ``results_file`` to ``out`` (default ``reports/<machine-id>_<run-id>.html``), atomically; ``data``:
    the file already read (:func:`benchsuite.results.files.read_results`), so that it is not read twice.

    Raises:
        ResultsError: the results file cannot be read, or holds a bad value (one line naming the file, and the field
            and value).
        OSError: the report cannot be written.
    """
    data = read_results(results_file) if data is None else data
    if out is None:
        block = data.get("benchsuite", {})
        out = report_path(
            reports_dir or Path("reports"), block.get("machine_id", "unknown"), block.get("run_id", "run")
        )
    traces_from = os.path.relpath(Path(results_file).resolve().parent, Path(out).resolve().parent)
    return atomic_write_text(Path(out), render_report(data, source=str(results_file), traces_from=traces_from))
