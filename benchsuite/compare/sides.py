"""Several results files (machines, commits) side by side: the same analysis per file, matched cases with ratios
against the first, and the claims matrix (the regression gate on top of it: :mod:`benchsuite.compare.gate`).

Cases are matched by scenario and case id; a case that ran on one side only is listed, never dropped (a case on some
of three sides is compared where it ran), and a case whose configuration differs between sides (another scenario
version, a ``per_device`` size) is shown but not compared. Ratios are B/A of the per-run values against the first
side, by the analysis' one comparison rule, misses censored where they were cut off as the single-machine report
does (:mod:`benchsuite.compare.ratios`); each side's figures are its own report's (time-to-target: the Kaplan-Meier
median, :func:`benchsuite.analysis.cases.case_summary`).
A side whose session did not finish (its file is marked ``incomplete``) is compared on the runs it holds, and says
so. Nothing to compare (one side only, no case in common) is a :class:`benchsuite.results.formats.ResultsError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchsuite.analysis import verdicts
from benchsuite.analysis.cases import case_summary, hardware_use_medians
from benchsuite.analysis.contrast import CENSORED_AT
from benchsuite.analysis.profiles import phase_ms
from benchsuite.compare.ratios import COMPARED, NOT_COMPARED, Ratio, ratio
from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.results.formats import ResultsError
from benchsuite.results.parallel import process_map
from benchsuite.results.stored import StoredScenario


@dataclass(frozen=True)
class Side:
    """One machine (or commit): its runs from one results file, or several pooled (``--all``)."""

    label: str
    sources: tuple[str, ...]
    runs: pd.DataFrame
    blocks: pd.DataFrame
    specs: dict[str, StoredScenario]
    hardware: dict[str, Any]
    blocked: bool
    configs: dict[tuple[str, str], str]
    """(scenario, case id) → the case's configuration as run (JSON), where the file recorded it."""
    by_case: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)
    """(scenario, case id) → that case's runs (seed and the compared columns), in seed order."""
    phases: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    """The phases of each profiled case (:func:`benchsuite.results.frames.phases_frame`; empty without profiles)."""
    incomplete: bool = False
    """Whether a session behind this side did not finish (its results file is marked ``incomplete``)."""

    @property
    def named(self) -> str:
        """The side's results file, or how many files of which folder were pooled."""
        if len(self.sources) == 1:
            return self.sources[0]
        return f"{len(self.sources)} files in {Path(self.sources[0]).parent}"


def results_files(path: Path, pool: bool = False) -> list[Path]:
    """A results file as given, or a ``results/<machine-id>/`` folder's newest file (every file with ``pool``).

    Raises:
        ResultsError: a missing path or a folder without results files.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise ResultsError(f"{path}: no results files (*.json) in this folder")
        return files if pool else files[-1:]
    if not path.exists():
        raise ResultsError(f"{path}: no such file or folder")
    return [path]


def load_side(path: Path, pool: bool = False, data: dict[str, Any] | None = None) -> Side:
    """Read one side of a comparison; pooled sessions are compared as two samples (their seeds repeat). ``data``: the
    results file ``path`` already read (:func:`benchsuite.results.files.read_results`), so that it is not read again.

    Raises:
        ResultsError: an unreadable results file (one line naming it).
    """
    files = [Path(path)] if data is not None else results_files(path, pool)
    datas = [data] if data is not None else [read_results(f) for f in files]
    runs = pd.concat([frames.runs_frame(d) for d in datas], ignore_index=True)
    blocks = pd.concat([frames.blocks_frame(d) for d in datas], ignore_index=True)
    specs = {k: v for d in datas for k, v in frames.scenario_specs(d).items()}
    hardware = frames.hardware_summary(datas[-1])
    configs = {key: c for d in datas for key, c in _configs(d).items()}
    blocked = len(datas) == 1 and frames.blocked_by_seed(datas[0])
    kept = ("scenario", "case_id", "seed", "status", "reached_target", *COMPARED, *CENSORED_AT.values())
    narrow = runs[[c for c in kept if c in runs]].sort_values("seed", kind="stable")
    by_case = dict(list(narrow.groupby(["scenario", "case_id"], sort=False))) if not runs.empty else {}
    phases = pd.concat([frames.phases_frame(d) for d in datas], ignore_index=True)
    label, sources = hardware["machine_id"], tuple(str(f) for f in files)
    incomplete = any(frames.incomplete(d) for d in datas)
    return Side(label, sources, runs, blocks, specs, hardware, blocked, configs, by_case, phases, incomplete)


def _configs(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    runs = (bench["extra_info"] for bench in data["benchmarks"] if frames.kind_of(bench) == "run")
    return {(i["scenario"], i["case_id"]): json.dumps(i["config"], sort_keys=True) for i in runs if "config" in i}


def distinct_labels(sides: list[Side]) -> list[Side]:
    """Sides with unique labels: a machine id that appears twice gets its results file's name appended, and the
    position of the argument where that still repeats (the same file given twice)."""
    counts = pd.Series([s.label for s in sides]).value_counts()
    named = [s if counts[s.label] == 1 else _relabel(s, f"{s.label} ({Path(s.sources[-1]).stem})") for s in sides]
    counts = pd.Series([s.label for s in named]).value_counts()
    return [s if counts[s.label] == 1 else _relabel(s, f"{s.label} #{i + 1}") for i, s in enumerate(named)]


def _relabel(side: Side, label: str) -> Side:
    return dataclasses.replace(side, label=label)


@dataclass(frozen=True)
class CaseRow:
    """A case that ran on two sides or more: per side its summary (medians; NaN where the side did not run it), and
    per side after the first its ratios against the first (none where either did not run it)."""

    scenario: str
    case_id: str
    values: dict[str, dict[str, float]]
    ratios: dict[str, dict[str, Ratio]]
    config_differs: dict[str, bool]
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per side that profiled the case: phase → milliseconds per step of its profiled window."""
    faults: dict[str, str] = field(default_factory=dict)
    """Per side where some of the case's runs did not end ok: how they ended (``3 crashed, 1 oom``)."""
    ttt_above: dict[str, float] = field(default_factory=dict)
    """Per side whose time-to-target has no Kaplan-Meier median (half or more of its runs missed first): the lower
    bound it lies beyond, the longest time observed."""


@dataclass(frozen=True)
class ClaimsMatrixRow:
    """One claim across the sides: its verdict on each (None where the side did not run the scenario)."""

    scenario: str
    says: str
    verdicts: dict[str, verdicts.Verdict | None]


@dataclass(frozen=True)
class Comparison:
    """Everything ``benchsuite compare`` shows."""

    sides: list[Side]
    rows: list[CaseRow]
    only_on: dict[str, list[tuple[str, str]]]
    claims: list[ClaimsMatrixRow]
    problems: list[str] = field(default_factory=list)

    @property
    def reference(self) -> Side:
        return self.sides[0]


def compare(sides: list[Side]) -> Comparison:
    """Match the sides' cases and claims; the first side is the reference of every ratio.

    Raises:
        ResultsError: nothing to compare: fewer than two sides, or no case that ran on two of them (the message
            names the files and what each holds).
    """
    if len(sides) < 2:
        only = f" ({sides[0].named})" if sides else ""
        raise ResultsError(
            f"nothing to compare: one side only{only}; compare takes two results files or folders, or more"
        )
    sides = distinct_labels(sides)
    analysed = process_map(_analyse, sides, min_items=3)  # each side's analysis is its own: one process per core
    summaries = {s.label: summary for s, (summary, _) in zip(sides, analysed, strict=True)}
    order = list(dict.fromkeys(k for s in sides for k in summaries[s.label].index))
    where = {key: [s.label for s in sides if key in summaries[s.label].index] for key in order}
    rows = [_row(sides, summaries, key) for key in order if len(where[key]) > 1]
    if not rows:
        raise ResultsError("nothing to compare: no case in common between " + "; ".join(map(_holds, sides)))
    only_on = {s.label: [k for k in order if where[k] == [s.label]] for s in sides}
    problems = [f"{s.label}: {p}" for s in sides for spec in s.specs.values() for p in spec.problems]
    judged = {s.label: claims for s, (_, claims) in zip(sides, analysed, strict=True)}
    return Comparison(sides, rows, only_on, _claims(sides, judged), problems)


def _analyse(side: Side) -> tuple[pd.DataFrame, dict[tuple[str, str], verdicts.Verdict]]:
    """One side's analysis: its case summary (:func:`_summary`) and its claims' verdicts by (scenario, claim)."""
    claims = {
        (name, v.claim.says): v
        for name, spec in side.specs.items()
        for v in verdicts.claim_verdicts(side.runs, spec, side.blocks, side.blocked)
    }
    return _summary(side), claims


def _holds(side: Side) -> str:
    """``a.json (tiny: 2 cases)`` or ``b.json (no run)``: a side's file and what it holds."""
    if side.runs.empty:
        return f"{side.named} (no run)"
    cases = side.runs.groupby("scenario", sort=False)["case_id"].nunique()
    return f"{side.named} (" + ", ".join(f"{name}: {n} case{'s' if n > 1 else ''}" for name, n in cases.items()) + ")"


def _summary(side: Side) -> pd.DataFrame:
    """The single-machine analysis (:func:`benchsuite.analysis.cases.case_summary`) plus energy and MFU medians, indexed
    by (scenario, case id)."""
    if side.runs.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["scenario", "case_id"]))
    summary = case_summary(side.runs, side.specs, side.blocked)
    extra = hardware_use_medians(side.runs, ["energy_to_target_j", "mfu"])
    summary = summary.merge(extra, on=["scenario", "case_id"], how="left")
    return summary.set_index(["scenario", "case_id"])


_SUMMARY_COLUMNS = {
    "time_to_target_s": "ttt_median_s",
    "steps_to_target": "steps_to_target_median",
    "step_time_s_median": "step_time_median_s",
    "throughput_samples_per_s": "throughput_median",
    "energy_to_target_j": "energy_to_target_j",
    "mfu": "mfu",
}


def _row(sides: list[Side], summaries: dict[str, pd.DataFrame], key: tuple[str, str]) -> CaseRow:
    """A case that ran on two sides or more; a side that did not run it has no values (NaN) and no ratio."""
    here = {s.label: summaries[s.label].loc[key] for s in sides if key in summaries[s.label].index}
    values = {
        s.label: {m: _float(here[s.label].get(c)) if s.label in here else math.nan for m, c in _SUMMARY_COLUMNS.items()}
        for s in sides
    }
    reference = sides[0]
    differs = {s.label: _config_differs(reference, s, key) for s in sides[1:]}
    ratios = {s.label: {m: _ratio(reference, s, key, m, differs[s.label]) for m in COMPARED} for s in sides[1:]}
    phases = {s.label: ms for s in sides if (ms := phase_ms(s.phases, *key))}
    faults = {label: row["faults"] for label, row in here.items() if row.get("faults")}
    above = {
        label: bound for label, row in here.items() if not math.isnan(bound := _float(row.get("ttt_median_above_s")))
    }
    return CaseRow(key[0], key[1], values, ratios, differs, phases, faults, above)


def _float(value: Any) -> float:
    return float(value) if value is not None and not pd.isna(value) else math.nan


def _config_differs(a: Side, b: Side, key: tuple[str, str]) -> bool:
    """Whether the case ran with another configuration on ``b`` (unknown where a file did not record it)."""
    return key in a.configs and key in b.configs and a.configs[key] != b.configs[key]


def _runs_of(side: Side, key: tuple[str, str]) -> pd.DataFrame:
    """The case's runs on ``side`` (the compared columns), in seed order."""
    runs = side.by_case.get(key)
    return runs if runs is not None else side.runs.iloc[:0]


def _ratio(a: Side, b: Side, key: tuple[str, str], metric: str, differs: bool) -> Ratio:
    """B/A of ``metric`` for one case (:func:`benchsuite.compare.ratios.ratio`); none where the configuration
    differs."""
    if differs:
        return NOT_COMPARED
    return ratio(_runs_of(b, key), _runs_of(a, key), metric)


def _claims(sides: list[Side], judged: dict[str, dict[tuple[str, str], verdicts.Verdict]]) -> list[ClaimsMatrixRow]:
    """The claims matrix: every claim judged on some side, with each side's verdict (None where it was not run)."""
    keys = dict.fromkeys(k for side in sides for k in judged[side.label])
    return [
        ClaimsMatrixRow(scenario, says, {s.label: judged[s.label].get((scenario, says)) for s in sides})
        for scenario, says in keys
    ]
