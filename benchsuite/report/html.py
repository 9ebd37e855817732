"""The HTML report of one results file: results → pandas (:mod:`benchsuite.results.frames`) → statistics
(:mod:`benchsuite.analysis`) → seaborn SVG (:mod:`benchsuite.report.figures`) + jinja2 templates → one HTML file.

The report is rebuilt from a results file alone (``benchsuite report RESULTS_FILE -o OUT.html``), anywhere,
without a GPU and without rerunning anything.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import jinja2

from benchsuite.analysis import effects, verdicts
from benchsuite.analysis.cases import (
    apart_times,
    case_summary,
    curve_bands,
    hardware_use_medians,
    noise_summary,
    scaling_table,
    step_time_ratios,
    too_noisy,
)
from benchsuite.report import figures, overview, words
from benchsuite.report.filters import FILTERS
from benchsuite.report.profiles import profile_part
from benchsuite.results import frames
from benchsuite.results.files import atomic_write_text, read_results, report_path
from benchsuite.specs.claim_metrics import CLAIM_METRICS
from benchsuite.telemetry.metrics import REPORT_TABLE

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("benchsuite.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters.update(FILTERS)
_ENV.tests["nan"] = lambda value: isinstance(value, float) and math.isnan(value)


def scenario_sections(data: dict[str, Any], traces_from: str | None = None) -> list[dict[str, Any]]:
    """Per scenario: its spec, case table, claim verdicts, figures and where the time of a step goes (trace links
    from the report's folder through ``traces_from``, the path to the results file's folder)."""
    runs, curves, specs = frames.runs_frame(data), frames.curves_frame(data), frames.scenario_specs(data)
    timelines, blocks = frames.timelines_frame(data), frames.blocks_frame(data)
    phase_frame, profiles = frames.phases_frame(data), frames.profiles(data)
    blocked = frames.blocked_by_seed(data)
    summary = case_summary(runs, specs, blocked) if not runs.empty else None
    ratios = step_time_ratios(blocks) if not blocks.empty else None
    device_type = str(data.get("machine_info", {}).get("benchsuite", {}).get("device", "cpu")).split(":")[0]
    sections = []
    for name, spec in specs.items():
        mine = runs[runs["scenario"] == name] if not runs.empty else runs
        if mine.empty:
            continue
        metric = spec.target.metric if spec.target else "val_accuracy"
        bands = curve_bands(curves[curves["scenario"] == name], metric)
        cases = summary[summary["scenario"] == name]
        timing = ratios[ratios["scenario"] == name] if ratios is not None else None
        judged = verdicts.claim_verdicts(runs, spec, blocks, blocked)
        where = profile_part(name, phase_frame, profiles, judged, list(cases["case_id"]), traces_from)
        sections.append(
            {
                "spec": spec,
                **where,
                "metric": metric,
                "workload": words.workload_text(spec.raw, device_type),
                "varies": words.matrix_text(spec.raw, device_type),
                "cases": cases.to_dict("records"),
                "batch_svgs": _batch_figures(cases, name)
                if "axis_batch_size" in cases and cases["axis_batch_size"].notna().all()
                else [],
                **_scaling(cases, mine, spec, name),
                "statuses": mine.groupby("status").size().to_dict(),
                "apart": apart_times(mine),
                "hardware": _hardware_table(mine),
                "timeline_svg": figures.timeline_figure(timelines[timelines["scenario"] == name], name)
                if not timelines.empty
                else None,
                "precisions": sorted(mine["precision"].dropna().unique()),
                "verdicts": judged,
                "step_timing": timing.to_dict("records") if timing is not None and not timing.empty else [],
                "step_timing_svg": figures.step_time_figure(timing, name)
                if timing is not None and not timing.empty
                else None,
                "curve_svg": figures.curve_figure(
                    bands, metric, spec.target.value if spec.target else None, name, _axes_of(cases)
                ),
                "ttt_svg": figures.ttt_figure(mine, name) if mine["time_to_target_s"].notna().any() else None,
            }
        )
    return sections


#: Hardware-use table: column → (header, scale applied to the median), from :mod:`benchsuite.telemetry.metrics`.
HARDWARE_TABLE = REPORT_TABLE


def _hardware_table(runs) -> dict:
    """Headers and rows (median over seeds, scaled) of the hardware-use table; columns with no data are left out."""
    summary = hardware_use_medians(runs, list(HARDWARE_TABLE))
    columns = [c for c in HARDWARE_TABLE if c in summary and summary[c].notna().any()]
    rows = [
        {"case_id": r["case_id"], "cells": [r[c] * HARDWARE_TABLE[c][1] for c in columns]}
        for r in summary.to_dict("records")
    ]
    return {"headers": [HARDWARE_TABLE[c][0] for c in columns], "rows": rows}


def _scaling(cases, runs, spec, name: str) -> dict[str, Any]:
    """The scaling table and figure of a scenario with a ``world_size`` axis (empty otherwise)."""
    if "axis_world_size" not in cases or not cases["axis_world_size"].notna().all():
        return {"scaling": [], "scaling_svg": None}
    table = scaling_table(cases, runs)
    fixed = ((spec.raw.get("train") or {}).get("fixed_batch") or "global") if hasattr(spec, "raw") else "global"
    return {
        "scaling": table.to_dict("records"),
        "scaling_fixed": fixed,
        "scaling_svg": figures.scaling_figure(table, name, fixed),
    }


def _axes_of(cases) -> dict[str, dict[str, str]]:
    """Case id → its matrix axis → label, from the case summary's ``axis_*`` columns."""
    columns = [c for c in cases.columns if c.startswith("axis_") and cases[c].notna().all()]
    return {r["case_id"]: {c.removeprefix("axis_"): str(r[c]) for c in columns} for r in cases.to_dict("records")}


def _batch_figures(cases, name: str) -> list[str]:
    """Time-to-target and throughput against batch size, for scenarios with a ``batch_size`` axis."""
    ttt = figures.batch_figure(
        cases,
        "ttt_median_s",
        "time-to-target (s), median [min – max]",
        f"{name}: time-to-target",
        band=("ttt_min_s", "ttt_max_s"),
    )
    throughput = figures.batch_figure(
        cases, "throughput_median", "throughput (samples/s), median", f"{name}: throughput"
    )
    return [ttt, throughput]


def render_report(data: dict[str, Any], source: str = "", traces_from: str | None = None) -> str:
    """The whole self-contained HTML report of one results file's data (its traces linked through ``traces_from``,
    the path from the report's folder to the results file's)."""
    runs = frames.runs_frame(data)
    noise = noise_summary(runs) if not runs.empty else {"n_runs": 0}
    sections = scenario_sections(data, traces_from)
    return _ENV.get_template("report.html.j2").render(
        hardware=frames.hardware_summary(data),
        run_id=data.get("benchsuite", {}).get("run_id", "?"),
        run_order=frames.run_order(data),
        noise=noise,
        too_noisy=too_noisy(noise),
        scenario_errors=data.get("benchsuite", {}).get("scenario_errors", []),
        sections=sections,
        overview=[row for s in sections for row in overview.rows_of(s["spec"].name, s["verdicts"])],
        alpha=effects.ALPHA,
        metrics=CLAIM_METRICS,
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
        out = report_path(
            reports_dir or Path("reports"), block.get("machine_id", "unknown"), block.get("run_id", "run")
        )
    traces_from = os.path.relpath(Path(results_file).resolve().parent, Path(out).resolve().parent)
    return atomic_write_text(Path(out), render_report(data, source=str(results_file), traces_from=traces_from))
