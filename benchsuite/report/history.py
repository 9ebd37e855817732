"""The history page (``benchsuite history``): per machine id, its results files in commit order; the steps found in
any case's figures (:mod:`benchsuite.compare.history`) with their commit range and ratio; each claim's verdict over
the commits as a strip; and per scenario a figure of every case over the commits (:mod:`benchsuite.report.
history_figures`). One self-contained HTML file; a commit's points and cells link to that run's report where
``reports/<machine-id>_<run-id>.html`` is present.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchsuite.compare.history import History, Step, build_history, figure_words
from benchsuite.report import overview
from benchsuite.report.filters import fmt_compared
from benchsuite.report.history_figures import scenario_figure
from benchsuite.report.html import _ENV
from benchsuite.results.files import atomic_write_text, report_path
from benchsuite.results.parallel import process_map


def step_row(step: Step) -> dict[str, Any]:
    """A confirmed step as a row of the page's table."""
    words, _ = figure_words(step.figure)
    return {
        "scenario": step.scenario,
        "case_id": step.case_id,
        "figure": words,
        "commits": f"{step.before}..{step.after}",
        "ratio": fmt_compared(step.ratio),
        "kind": "regression" if step.regression else "improvement",
    }


def report_links(history: History, reports_dir: Path | None, out: Path) -> dict[str, str | None]:
    """Each entry's path → the link from ``out``'s folder to its report in ``reports_dir``, or None without one."""
    links: dict[str, str | None] = {}
    for entries in history.machines.values():
        for e in entries:
            report = report_path(reports_dir, e.machine_id, e.run_id) if reports_dir else None
            links[e.path] = os.path.relpath(report, out.resolve().parent) if report and report.exists() else None
    return links


def _claims(entries) -> list[dict[str, Any]]:
    """One row per claim judged in any entry: its cells, one per entry (verdict, the effect in words), in order."""
    keys = dict.fromkeys(k for e in entries for k in e.verdicts)
    rows = []
    for scenario, says in keys:
        cells = []
        for e in entries:
            v = e.verdicts.get((scenario, says))
            if v is None:
                cells.append({"verdict": "not run", "title": f"{e.short}: not in this run"})
                continue
            (row,) = overview.rows_of(scenario, [v])
            cells.append({"verdict": v.label, "title": f"{e.short}: {v.label}; " + "; ".join(row.effects)})
        flips = sum(a["verdict"] != b["verdict"] for a, b in zip(cells, cells[1:], strict=False))
        rows.append({"scenario": scenario, "says": says, "cells": cells, "flips": flips})
    return rows


def _figures(history: History, machine: str, links: dict[str, str | None]) -> list[dict[str, Any]]:
    """Per scenario of ``machine``: its history figure (drawn by up to one process per core: they are independent)."""
    entries = history.machines[machine]
    commits = [e.short for e in entries]
    urls = [links.get(e.path) for e in entries]
    by_scenario: dict[str, dict[str, dict[str, Any]]] = {}
    for (m, scenario, case_id, figure), points in history.points.items():
        if m == machine and any(p is not None for p in points):
            by_scenario.setdefault(scenario, {}).setdefault(figure, {})[case_id] = points
    jobs = [
        (
            f"{machine} · {scenario}",
            commits,
            points,
            [s for s in history.confirmed if s.machine_id == machine and s.scenario == scenario],
            urls,
        )
        for scenario, points in by_scenario.items()
    ]
    svgs = process_map(_draw, jobs, min_items=4)
    return [{"scenario": scenario, "svg": svg} for scenario, svg in zip(by_scenario, svgs, strict=True)]


def _draw(job: tuple) -> str | None:
    """:func:`benchsuite.report.history_figures.scenario_figure` of one job (its arguments)."""
    return scenario_figure(*job)


def machine_part(history: History, machine: str, links: dict[str, str | None]) -> dict[str, Any]:
    """Everything the page shows of one machine id."""
    entries = history.machines[machine]
    steps = [s for s in history.steps if s.machine_id == machine]
    confirmed = [s for s in steps if s.confirmed]
    return {
        "machine": machine,
        "entries": [
            {
                "short": e.short,
                "commit": e.commit,
                "commit_time": e.commit_time or "not recorded",
                "run_id": e.run_id,
                "ran_at": e.ran_at,
                "dirty": e.dirty,
                "runs": len(e.runs),
                "link": links.get(e.path),
            }
            for e in entries
        ],
        "steps": [step_row(s) for s in confirmed],
        "unconfirmed": len(steps) - len(confirmed),
        "claims": _claims(entries),
        "figures": _figures(history, machine, links) if len(entries) >= 2 else [],  # one run: nothing to trend
    }


def render_history(history: History, links: dict[str, str | None] | None = None) -> str:
    """The whole self-contained history page of ``history`` (``links``: entry path → report link)."""
    links = links or {}
    return _ENV.get_template("history.html.j2").render(
        machines=[machine_part(history, m, links) for m in sorted(history.machines)],
        problems=history.problems,
        n_files=sum(len(es) for es in history.machines.values()),
    )


def write_history(
    paths: Iterable[Path], out: Path, reports_dir: Path | None = Path("reports"), last: int | None = None
) -> tuple[Path, History]:
    """Build the history of every results file under ``paths`` (``last``: each machine id's newest runs only) and
    write its page to ``out``, atomically.

    Raises:
        OSError: the page cannot be written.
    """
    history = build_history(paths, last=last)
    links = report_links(history, reports_dir, Path(out))
    return atomic_write_text(Path(out), render_history(history, links)), history
