"""The report's "Where the time goes" part of a scenario: a stacked bar per case of milliseconds per step by phase, the
phase table, each case's top operators, profiler overhead, host syncs and trace link, and the phase ratios shown beside
every time claim's pairs. Read from the profiled windows stored in the results file; a file without them (format 2 and
older, or a session run with ``--no-profile``) gives an empty part, and a scenario whose every window failed (out of
memory, an error) gets its windows' table with their errors and a line instead of the figure (``phase_note``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from benchsuite.analysis.missing import status_counts
from benchsuite.analysis.profiles import phase_table, verdict_phase_ratios
from benchsuite.analysis.verdicts import Verdict
from benchsuite.report.figures import figure_style, legend_outside, palette, to_svg
from benchsuite.telemetry import phases


def phase_figure(table: pd.DataFrame, title: str) -> str | None:
    """One horizontal bar per case, stacked by phase (ms per step of the profiled window), phases in step order; None
    without a phase."""
    if table.empty:
        return None
    colours = dict(zip(phases.REPORTED, palette(len(phases.REPORTED)), strict=True))
    with figure_style():
        fig = Figure(figsize=(8, 0.42 * len(table) + 1.4))
        ax = fig.subplots()
        left = pd.Series(0.0, index=table.index)
        for phase in table.columns:
            values = table[phase].fillna(0.0)
            ax.barh(range(len(table)), values, left=left, color=colours[phase], label=phase, height=0.7)
            left = left + values
        ax.set_yticks(range(len(table)), list(table.index), fontsize=8)
        ax.invert_yaxis()
        ax.set(xlabel="milliseconds per step in the profiled window", title=f"{title}: where the time of a step goes")
        legend_outside(fig, ax)
    return to_svg(fig)


def profile_part(
    scenario: str,
    frame: pd.DataFrame,
    profiles: dict[tuple[str, str], dict[str, Any]],
    verdicts: list[Verdict],
    case_order: list[str],
    traces_from: str | None,
) -> dict[str, Any]:
    """The scenario's profile part: ``profiles`` (per case, in case order, with its trace link), ``phase_svg``,
    ``phase_columns`` and ``phase_rows`` (the table), ``phase_note`` (why there is no figure, or None), and
    ``phase_ratios`` (``"case vs against"`` → text) for the pairs of its time claims. ``traces_from``: the path from the
    report's folder to the results file's, for trace links."""
    mine = {case: info for (name, case), info in profiles.items() if name == scenario}
    if not mine:
        empty = {"phase_svg": None, "phase_note": None, "phase_columns": [], "phase_rows": [], "phase_ratios": {}}
        return {"profiles": [], **empty}
    ordered = [c for c in case_order if c in mine] + [c for c in mine if c not in case_order]
    table = _table(frame, scenario, ordered)
    statuses = status_counts(info.get("status") for info in mine.values())
    return {
        "profiles": [{**mine[c], "trace_link": _link(mine[c].get("trace"), traces_from)} for c in ordered],
        "phase_svg": phase_figure(table, scenario) if not table.empty else None,
        "phase_note": None
        if not table.empty
        else f"no phases: no profiled window of this scenario recorded a step ({statuses})",
        "phase_columns": list(table.columns),
        "phase_rows": [{"case_id": c, "cells": list(row)} for c, row in table.iterrows()],
        "phase_ratios": {
            k: v for verdict in verdicts for k, v in verdict_phase_ratios(frame, scenario, verdict).items()
        },
    }


def _table(frame: pd.DataFrame, scenario: str, ordered: list[str]) -> pd.DataFrame:
    """Cases × phases (ms per step) of the scenario's windows that recorded phases, in case order."""
    mine = frame[frame["scenario"] == scenario] if not frame.empty else frame
    if mine.empty:
        return pd.DataFrame()
    return phase_table(mine, scenario).reindex([c for c in ordered if c in set(mine["case_id"])])


def _link(trace: str | None, traces_from: str | None) -> str | None:
    if not trace:
        return None
    return f"{traces_from}/{trace}" if traces_from else trace
