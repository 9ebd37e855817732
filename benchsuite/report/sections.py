"""One section of the HTML report per scenario: its spec in words, case table, claim verdicts (with their forest plot,
their looks and top-ups: :mod:`benchsuite.report.forest`, :mod:`benchsuite.report.looks`), figures and where the
time of a step goes, built from the tables of :mod:`benchsuite.results.frames` and the statistics of
:mod:`benchsuite.analysis`.

A report never fails because of data: a figure with nothing to draw (every run crashed before its first evaluation,
no run reached the target, no telemetry, every profiled window failed) is replaced by a line saying what is missing
(``*_note``; words from :mod:`benchsuite.analysis.missing`), and the runs that did not end ``ok`` are listed with
how they ended. Should a section still raise, it alone is replaced by one line naming the scenario and the error
(:func:`guarded`), and the rest of the report is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from benchsuite.analysis import verdicts
from benchsuite.analysis.cases import (
    apart_times,
    case_summary,
    curve_bands,
    hardware_use_medians,
    scaling_table,
    step_time_ratios,
)
from benchsuite.analysis.contrast import finished
from benchsuite.analysis.grid import coarse
from benchsuite.analysis.knee import throughput_knee
from benchsuite.analysis.missing import no_curve, no_finished_run, none_reached, status_counts, unfinished_lines
from benchsuite.report import figures, words
from benchsuite.report.forest import forest_note, verdict_rows
from benchsuite.report.looks import looks_table, section_top_up_line, top_ups
from benchsuite.report.profiles import profile_part
from benchsuite.report.terminal import knee_text
from benchsuite.results import frames
from benchsuite.results.parallel import process_map
from benchsuite.telemetry.metrics import REPORT_TABLE

#: Hardware-use table: column → (header, scale applied to the median), from :mod:`benchsuite.telemetry.metrics`.
HARDWARE_TABLE = REPORT_TABLE


@dataclass(frozen=True)
class Tables:
    """A results file's tables and per-case statistics, read once for all its sections."""

    runs: pd.DataFrame
    curves: pd.DataFrame
    specs: dict[str, Any]
    timelines: pd.DataFrame
    blocks: pd.DataFrame
    phases: pd.DataFrame
    profiles: dict[tuple[str, str], dict[str, Any]]
    timings: list[dict[str, Any]]
    blocked: bool
    summary: pd.DataFrame | None
    ratios: pd.DataFrame | None
    device_type: str
    top_ups: dict[str, Any] | None = None
    """The file's top-up block (:func:`benchsuite.report.looks.top_ups`), or None."""


def tables(data: dict[str, Any]) -> Tables:
    """Read ``data`` (a results file's) into :class:`Tables`."""
    runs, specs, blocks = frames.runs_frame(data), frames.scenario_specs(data), frames.blocks_frame(data)
    blocked = frames.blocked_by_seed(data)
    device = ((data.get("machine_info") or {}).get("benchsuite") or {}).get("device") or "cpu"
    curves = frames.curves_frame(data)
    return Tables(
        runs,
        curves,
        specs,
        frames.timelines_frame(data),
        blocks,
        frames.phases_frame(data),
        frames.profiles(data),
        frames.timing_items(data),
        blocked,
        case_summary(runs, specs, blocked, curves) if not runs.empty else None,
        step_time_ratios(blocks) if not blocks.empty else None,
        str(device).split(":")[0],
        top_ups(data),
    )


def scenario_sections(
    data: dict[str, Any], traces_from: str | None = None, workers: int | None = None
) -> list[dict[str, Any]]:
    """Per scenario with runs: its section (see the module docstring; trace links from the report's folder through
    ``traces_from``, the path to the results file's folder). Sections are independent: they are built by up to
    ``workers`` processes (:func:`benchsuite.results.parallel.process_map`; default one per core)."""
    t = tables(data)
    names = [n for n in t.specs if not t.runs.empty and (t.runs["scenario"] == n).any()]
    try:
        return process_map(_section_of, names, workers, initializer=_share, initargs=(t, traces_from))
    finally:
        _SHARED.clear()  # set here when the sections were built here


_SHARED: dict[str, Any] = {}
"""The file's tables and trace path, set in each worker (and here, when sections are built here) by :func:`_share`."""


def _share(t: Tables, traces_from: str | None) -> None:
    _SHARED.update(tables=t, traces_from=traces_from)


def _section_of(name: str) -> dict[str, Any]:
    """The guarded section of scenario ``name`` from the shared tables."""
    t = _SHARED["tables"]
    spec = t.specs[name]
    return guarded(spec, section, t, spec, t.runs[t.runs["scenario"] == name], _SHARED["traces_from"])


def guarded(spec: Any, build: Any, *args: Any) -> dict[str, Any]:
    """``build(*args)``, or when it raises, the section of ``spec`` reduced to one line naming the error
    (``failed``): the last resort that keeps one scenario from costing the others their report."""
    try:
        return build(*args)
    except Exception as exc:  # any error of one section; the real causes are handled where they arise
        first = (str(exc).splitlines() or [""])[0]
        return {"spec": spec, "failed": f"{type(exc).__name__}: {first}", "workload": "", "verdicts": []}


def section(t: Tables, spec: Any, mine: pd.DataFrame, traces_from: str | None) -> dict[str, Any]:
    """The section of scenario ``spec`` with its runs ``mine``."""
    name = spec.name
    metric = spec.target.metric if spec.target else "val_accuracy"
    cases = t.summary[t.summary["scenario"] == name]
    timing = t.ratios[t.ratios["scenario"] == name] if t.ratios is not None else None
    judged = verdicts.claim_verdicts(t.runs, spec, t.blocks, t.blocked)
    return {
        "spec": spec,
        "failed": None,
        **profile_part(name, t.phases, t.profiles, judged, list(cases["case_id"]), traces_from),
        "metric": metric,
        "workload": words.workload_text(spec.raw, t.device_type),
        "varies": words.matrix_text(spec.raw, t.device_type),
        "cases": [{**c, "grid_note": _grid_note(c, spec)} for c in cases.to_dict("records")],
        **_batch(cases, mine, name),
        "knee_line": knee_text(knee) if (knee := throughput_knee(mine, name)) is not None else None,
        **_scaling(cases, mine, spec, name),
        "statuses": mine.groupby("status").size().to_dict(),
        "unfinished": unfinished_lines(mine),
        "apart": apart_times(mine),
        "hardware": _hardware_table(mine),
        **_timeline(t.timelines, name),
        "precisions": sorted(mine["precision"].dropna().unique()),
        "verdicts": judged,
        **_claims_part(t, spec, judged),
        "step_timing": timing.to_dict("records") if timing is not None and not timing.empty else [],
        "step_timing_notes": _timing_notes(t.timings, name),
        **_curve(t.curves[t.curves["scenario"] == name], mine, metric, spec, cases),
        **_ttt(mine, spec),
    }


def planned_looks(spec: Any) -> int | None:
    """The looks a scenario's stored top-up allows (``top_up.looks``), or None when it stores none."""
    top_up = (getattr(spec, "raw", None) or {}).get("top_up")
    looks = top_up.get("looks") if isinstance(top_up, dict) else None
    return looks if isinstance(looks, int) and not isinstance(looks, bool) else None


def _claims_part(t: Tables, spec: Any, judged: list[verdicts.Verdict]) -> dict[str, Any]:
    """Each claim's looks table (``looks``, None per claim judged at one look), its top-up line, and whether the
    claims' pairs are drawn (``forest_drawn``) or why not (``forest_note``; both empty without a claim). The pairs are
    drawn once, in the first screen's forest plot of every claim (:func:`benchsuite.report.html.first_screen_forest`),
    not again per scenario."""
    name = spec.name
    rows = verdict_rows([(name, v) for v in judged], with_scenario=False) if judged else []
    drawn = any(m.drawn for r in rows for m in r.marks)
    return {
        "forest_drawn": drawn,
        "forest_note": forest_note(rows) if judged and not drawn else None,
        "looks": [looks_table(v) for v in judged],
        "top_up_line": section_top_up_line(t.top_ups, name, judged),
    }


def _curve(curves: pd.DataFrame, mine: pd.DataFrame, metric: str, spec: Any, cases: pd.DataFrame) -> dict[str, Any]:
    """The curve figure of the cases with a curve, and a line for those without (``curve_note``)."""
    bands = curve_bands(curves, metric)
    drawn = set(bands.loc[bands["mean"].notna(), "case_id"])
    if not drawn:
        why = (
            no_curve(mine, "this scenario")
            if curves.empty
            else f"no evaluation of this scenario has a finite {metric} ({status_counts(mine['status'])})"
        )
        return {"curve_svg": None, "curve_note": f"no curve: {why}"}
    target = spec.target.value if spec.target else None
    svg = figures.curve_figure(bands[bands["case_id"].isin(drawn)], metric, target, spec.name, _axes_of(cases))
    evaluated = set(curves["case_id"])
    notes = [
        f"no curve for {c}: "
        + (f"no finite {metric} ({status_counts(g['status'])})" if c in evaluated else no_curve(g, c))
        for c, g in mine.groupby("case_id", sort=False)
        if c not in drawn
    ]
    return {"curve_svg": svg, "curve_note": "; ".join(notes) or None}


def _ttt(mine: pd.DataFrame, spec: Any) -> dict[str, Any]:
    """A line saying why no run has a time-to-target (``ttt_note``), or None: the times themselves are the case
    table's (median [min – max] and reach rate), not drawn again."""
    if spec.target is None or mine["time_to_target_s"].notna().any():
        return {"ttt_note": None}
    done = finished(mine["status"])
    why = none_reached(mine) if done.any() else no_finished_run(mine, "this scenario")
    return {"ttt_note": f"no time-to-target: {why}"}


def _hardware_table(runs: pd.DataFrame) -> dict:
    """Headers and rows (median over seeds, scaled) of the hardware-use table; columns with no data are left out."""
    summary = hardware_use_medians(runs, list(HARDWARE_TABLE))
    columns = [c for c in HARDWARE_TABLE if c in summary and summary[c].notna().any()]
    rows = [
        {"case_id": r["case_id"], "cells": [r[c] * HARDWARE_TABLE[c][1] for c in columns]}
        for r in summary.to_dict("records")
    ]
    return {"headers": [HARDWARE_TABLE[c][0] for c in columns], "rows": rows}


def _numeric_axis(cases: pd.DataFrame, axis: str) -> bool:
    """Whether every case has a whole-number value on ``axis`` (batch size, world size)."""
    column = f"axis_{axis}"
    if column not in cases or cases[column].isna().any():
        return False
    values = pd.to_numeric(cases[column], errors="coerce")
    return bool(values.notna().all() and (values == values.round()).all())


def _scaling(cases: pd.DataFrame, runs: pd.DataFrame, spec: Any, name: str) -> dict[str, Any]:
    """The scaling table and figure of a scenario with a ``world_size`` axis (empty otherwise)."""
    if not _numeric_axis(cases, "world_size"):
        return {"scaling": [], "scaling_svg": None, "scaling_note": None}
    table = scaling_table(cases, runs)
    fixed = ((spec.raw.get("train") or {}).get("fixed_batch") or "global") if hasattr(spec, "raw") else "global"
    drawable = table["throughput"].notna().any()
    return {
        "scaling": table.to_dict("records"),
        "scaling_fixed": fixed,
        "scaling_svg": figures.scaling_figure(table, name, fixed) if drawable else None,
        "scaling_note": None if drawable else f"no scaling figure: no throughput ({status_counts(runs['status'])})",
    }


def _axes_of(cases: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Case id → its matrix axis → label, from the case summary's ``axis_*`` columns."""
    columns = [c for c in cases.columns if c.startswith("axis_") and cases[c].notna().all()]
    return {r["case_id"]: {c.removeprefix("axis_"): str(r[c]) for c in columns} for r in cases.to_dict("records")}


def _batch(cases: pd.DataFrame, mine: pd.DataFrame, name: str) -> dict[str, Any]:
    """Time-to-target and throughput against batch size, for scenarios with a ``batch_size`` axis; a line for a
    figure with nothing to draw."""
    if not _numeric_axis(cases, "batch_size"):
        return {"batch_svgs": [], "batch_notes": []}
    svgs, notes = [], []
    if cases["ttt_median_s"].notna().any():
        label = "time-to-target (s), median [min – max]"
        band = ("ttt_min_s", "ttt_max_s")
        svgs.append(figures.batch_figure(cases, "ttt_median_s", label, f"{name}: time-to-target", band=band))
    else:
        done = finished(mine["status"])
        notes.append(
            "no time-to-target against batch size: " + (none_reached(mine) if done.any() else "no run finished")
        )
    if cases["throughput_median"].notna().any():
        label = "throughput (samples/s), median"
        svgs.append(figures.batch_figure(cases, "throughput_median", label, f"{name}: throughput"))
    else:
        notes.append(f"no throughput against batch size: no run timed a step ({status_counts(mine['status'])})")
    return {"batch_svgs": svgs, "batch_notes": notes}


def _timeline(timelines: pd.DataFrame, name: str) -> dict[str, Any]:
    """The telemetry timeline, or a line when no run of the scenario sampled telemetry."""
    mine = timelines[timelines["scenario"] == name] if not timelines.empty else timelines
    svg = figures.timeline_figure(mine, name) if not mine.empty else None
    note = None if svg else "no telemetry timeline: no run of this scenario recorded a telemetry sample"
    return {"timeline_svg": svg, "timeline_note": note}


def _timing_notes(timings: list[dict[str, Any]], name: str) -> list[str]:
    """A line per paired step-timing item of scenario ``name`` that did not end ``ok``."""
    return [
        f"paired step timing of {t['case_id']} against {t['against_id']}: {t['status']} after {t['n_blocks']}"
        f" block pair{'s' if t['n_blocks'] != 1 else ''}" + (f": {t['error']}" if t.get("error") else "")
        for t in timings
        if t["scenario"] == name and t["status"] != "ok"
    ]


def _grid_note(case: dict[str, Any], spec: Any) -> str | None:
    """The case's evaluation-grid flag (:func:`benchsuite.analysis.grid.coarse`) in words, or None."""
    has_target = getattr(spec, "target", None) is not None
    return words.grid_words(case) if has_target and coarse(case.get("grid_share")) else None
