"""HTML reports: results file → pandas (collect) → statistics (analysis) → seaborn SVG + jinja2 → one HTML file.

The report is rebuilt from a results file alone (``benchsuite report RESULTS_FILE -o OUT.html``), anywhere,
without a GPU and without rerunning anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from benchsuite import analysis, collect
from benchsuite.report import figures
from benchsuite.report.filters import FILTERS
from benchsuite.storage import atomic_write_text, read_results, report_path

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("benchsuite.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(FILTERS)


def scenario_sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per scenario: its spec, case table, claim verdicts and figures."""
    runs, curves, specs = collect.runs_frame(data), collect.curves_frame(data), collect.scenario_specs(data)
    summary = analysis.case_summary(runs, specs) if not runs.empty else None
    sections = []
    for name, spec in specs.items():
        mine = runs[runs["scenario"] == name] if not runs.empty else runs
        if mine.empty:
            continue
        metric = spec.target.metric if spec.target else "val_accuracy"
        bands = analysis.curve_bands(curves[curves["scenario"] == name], metric)
        cases = summary[summary["scenario"] == name]
        sections.append({
            "spec": spec, "metric": metric,
            "cases": cases.to_dict("records"),
            "batch_svgs": _batch_figures(cases, name) if "axis_batch_size" in cases and cases["axis_batch_size"].notna().all() else [],
            "statuses": mine.groupby("status").size().to_dict(),
            "apart": analysis.apart_times(mine),
            "precisions": sorted(mine["precision"].dropna().unique()),
            "verdicts": analysis.claim_verdicts(runs, spec),
            "curve_svg": figures.curve_figure(bands, metric, spec.target.value if spec.target else None, name),
            "ttt_svg": figures.ttt_figure(mine, name) if mine["time_to_target_s"].notna().any() else None,
        })  # fmt: skip
    return sections


def _batch_figures(cases, name: str) -> list[str]:
    """Time-to-target and throughput against batch size, for scenarios with a ``batch_size`` axis."""
    ttt = figures.batch_figure(cases, "ttt_median_s", "time-to-target (s), median [min – max]",
                               f"{name}: time-to-target", band=("ttt_min_s", "ttt_max_s"))  # fmt: skip
    throughput = figures.batch_figure(cases, "throughput_median", "throughput (samples/s), median",
                                      f"{name}: throughput")  # fmt: skip
    return [ttt, throughput]


def render_report(data: dict[str, Any], source: str = "") -> str:
    """The whole self-contained HTML report of one results file's data."""
    return _ENV.get_template("report.html.j2").render(
        hardware=collect.hardware_summary(data),
        run_id=data.get("benchsuite", {}).get("run_id", "?"),
        scenario_errors=data.get("benchsuite", {}).get("scenario_errors", []),
        sections=scenario_sections(data),
        alpha=analysis.ALPHA,
        source=source,
    )


def write_report(results_file: Path, reports_dir: Path | None = None, out: Path | None = None) -> Path:
    """Render ``results_file`` to ``out`` (default ``reports/<machine-id>_<run-id>.html``), atomically.

    Raises:
        ValueError: the results file cannot be read (message names it).
    """
    data = read_results(results_file)
    if out is None:
        block = data.get("benchsuite", {})
        out = report_path(reports_dir or Path("reports"), block.get("machine_id", "unknown"), block.get("run_id", "run"))
    return atomic_write_text(Path(out), render_report(data, source=str(results_file)))
