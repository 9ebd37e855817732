"""Results files over commits: per machine id, the files in commit order, each case's figures as a series of points
with their intervals, the steps in each series, and each claim's verdict at every commit.

- **Entries**: one per results file, read with :func:`benchsuite.results.files.read_results`; the commit and its date
  are the file's ``commit_info`` (pytest-benchmark's record of the checkout), the machine its ``benchsuite.machine_id``.
  Files of different machine ids are never mixed: each machine id has its own series (a step between two machines
  is the hardware, not a change). Within a machine, files are ordered by commit date, then by when they ran.
- **Points**: :func:`benchsuite.analysis.series.point` of each case's finished runs, per figure of :data:`FIGURES`
  (time-to-target and steps-to-target right-censored at a miss).
- **Steps**: :func:`benchsuite.analysis.series.change_points` finds candidates in the log points; each is confirmed
  by the interval comparison of the runs either side (up to :data:`WINDOW` commits of each segment pooled), by the
  one comparison rule of :func:`benchsuite.compare.ratios.ratio` (after / before, censored where cut off): a step
  is confirmed when its whole 95 % interval lies beyond ±:data:`MIN_STEP`, as the regression gate judges a
  threshold (:mod:`benchsuite.compare.gate`).
- **Verdicts**: each file's claims judged as its own report judges them (:func:`benchsuite.analysis.verdicts.
  claim_verdicts`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchsuite.analysis import series, verdicts
from benchsuite.analysis.contrast import CENSORED_AT, finished
from benchsuite.compare.ratios import COMPARED, Ratio, ratio
from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.results.parallel import process_map

#: The figures tracked over commits (column of :func:`benchsuite.results.frames.runs_frame`), words and units from
#: :data:`benchsuite.compare.ratios.COMPARED`.
FIGURES = ("time_to_target_s", "steps_to_target", "step_time_s_median", "throughput_samples_per_s")

WINDOW = 3
"""Commits of each segment pooled on either side of a step to confirm it."""

MIN_STEP = 0.05
"""A confirmed step's whole interval lies beyond this relative change (5 %)."""

_KEPT = ("scenario", "case_id", "seed", "status", "reached_target", "timed_s", "steps", *FIGURES)


@dataclass(frozen=True)
class Entry:
    """One results file in the history.

    Attributes:
        path: the file; machine_id, run_id: its ``benchsuite`` block's; commit, commit_time: its ``commit_info`` id
            and date (ISO 8601; empty when not recorded); ran_at: when the session ended (``datetime``); dirty: the
            checkout had uncommitted changes.
        runs: one row per run: scenario, case id, seed, status, reached target and the :data:`FIGURES`.
        verdicts: (scenario, claim) → its verdict in this file.
    """

    path: str
    machine_id: str
    run_id: str
    commit: str
    commit_time: str
    ran_at: str
    dirty: bool
    runs: pd.DataFrame
    verdicts: dict[tuple[str, str], verdicts.Verdict]

    @property
    def short(self) -> str:
        """The commit's first 7 characters; pytest-benchmark's word for a checkout without git (``unversioned``)
        as it is; ``?`` when not recorded."""
        if not self.commit:
            return "?"
        return self.commit[:7] if all(c in "0123456789abcdef" for c in self.commit.lower()) else self.commit


@dataclass(frozen=True)
class Step:
    """A step in one case's figure between two commits of a machine.

    Attributes:
        machine_id, scenario, case_id, figure: the series (``figure`` a column of :data:`FIGURES`).
        index: the entry (in that machine's commit order) where the new level starts; ``before``, ``after``: the
            last commit of the old level and the first of the new.
        ratio: after / before of the pooled runs (:func:`benchsuite.compare.ratios.ratio`, 95 %); above 1: larger
            (for times, slower; for throughput, faster).
        confirmed: the interval lies wholly beyond ±:data:`MIN_STEP`.
    """

    machine_id: str
    scenario: str
    case_id: str
    figure: str
    index: int
    before: str
    after: str
    ratio: Ratio
    confirmed: bool

    @property
    def regression(self) -> bool:
        """Whether the step is for the worse: a time up, a throughput down."""
        better_lower = self.figure != "throughput_samples_per_s"
        estimate = (
            self.ratio.estimate if self.ratio.estimate is not None else math.sqrt(self.ratio.low * self.ratio.high)
        )
        return estimate > 1.0 if better_lower else estimate < 1.0


@dataclass(frozen=True)
class History:
    """Every machine's entries in commit order, each series' points, and the steps found.

    Attributes:
        machines: machine id → its entries, in commit order.
        points: (machine id, scenario, case id, figure) → one point per entry of that machine (None where the case
            did not run).
        steps: every candidate step, confirmed or not, in machine, scenario, case and figure order.
        problems: one line per file that could not be read (left out, never a traceback).
    """

    machines: dict[str, tuple[Entry, ...]]
    points: dict[tuple[str, str, str, str], tuple[series.Point | None, ...]]
    steps: tuple[Step, ...]
    problems: tuple[str, ...] = ()

    @property
    def confirmed(self) -> tuple[Step, ...]:
        """The confirmed steps."""
        return tuple(s for s in self.steps if s.confirmed)


def results_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.json`` under each of ``paths`` (a folder, searched recursively) or the file itself, sorted, once."""
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        for file in sorted(path.rglob("*.json")) if path.is_dir() else [path]:
            found[file] = None
    return list(found)


def read_entry(path: Path) -> Entry:
    """The :class:`Entry` of one results file.

    Raises:
        ResultsError: the file cannot be read or holds a bad value (one line naming the file).
    """
    data = read_results(path)
    block, commit = data.get("benchsuite") or {}, data.get("commit_info") or {}
    runs = frames.runs_frame(data)
    specs, blocks, blocked = frames.scenario_specs(data), frames.blocks_frame(data), frames.blocked_by_seed(data)
    judged = {
        (name, v.claim.says): v
        for name, spec in specs.items()
        for v in (verdicts.claim_verdicts(runs, spec, blocks, blocked) if not runs.empty else [])
    }
    kept = runs[[c for c in _KEPT if c in runs]] if not runs.empty else pd.DataFrame(columns=list(_KEPT))
    return Entry(
        str(path),
        str(block.get("machine_id") or "unknown"),
        str(block.get("run_id") or Path(path).stem),
        str(commit.get("id") or ""),
        str(commit.get("time") or ""),
        str(data.get("datetime") or ""),
        bool(commit.get("dirty")),
        kept.reset_index(drop=True),
        judged,
    )


def build_history(paths: Iterable[Path], workers: int | None = None, last: int | None = None) -> History:
    """Read every results file under ``paths`` (:func:`results_files`) into a :class:`History`; ``last``: only each
    machine id's newest ``last`` runs (in commit order). A file that cannot be read is left out with a line in
    ``problems``. Files are read by up to ``workers`` processes (:func:`benchsuite.results.parallel.process_map`:
    judging a file's claims is most of the time, and files are independent)."""
    files = results_files(paths)
    read = process_map(_try_entry, newest(files, last) if last else files, workers, min_items=_PARALLEL_FROM)
    entries = [r for r in read if isinstance(r, Entry)]
    return history_of(entries, tuple(r for r in read if isinstance(r, str)))


def newest(files: list[Path], last: int) -> list[Path]:
    """Each machine id's ``last`` newest files by commit date (then run date), read from their JSON alone (a file
    that cannot be parsed is kept, so that reading it says why)."""
    keyed: dict[str, list[tuple[str, str, Path]]] = {}
    for path in files:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            machine = str((data.get("benchsuite") or {}).get("machine_id") or "unknown")
            key = (str((data.get("commit_info") or {}).get("time") or ""), str(data.get("datetime") or ""))
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            machine, key = f"unreadable:{path}", ("", "")
        keyed.setdefault(machine, []).append((*key, path))
    kept = {p for runs in keyed.values() for *_, p in sorted(runs, key=lambda r: (r[0] or r[1], r[1]))[-last:]}
    return [p for p in files if p in kept]


def _try_entry(path: Path) -> Entry | str:
    """:func:`read_entry`, or the one line that says why the file cannot be read."""
    try:
        return read_entry(path)
    except ValueError as exc:  # ResultsError: one line naming the file
        return str(exc)


_PARALLEL_FROM = 4
"""Fewer files than this are read in this process (starting workers costs more than it saves)."""


def history_of(entries: Iterable[Entry], problems: tuple[str, ...] = ()) -> History:
    """The :class:`History` of ``entries``: grouped by machine id, in commit order, with points and steps."""
    machines: dict[str, list[Entry]] = {}
    for entry in entries:
        machines.setdefault(entry.machine_id, []).append(entry)
    ordered = {m: tuple(sorted(es, key=lambda e: (e.commit_time or e.ran_at, e.ran_at))) for m, es in machines.items()}
    points, steps = {}, []
    for machine, row in sorted(ordered.items()):
        by_case = [_by_case(e.runs) for e in row]
        cases = dict.fromkeys(k for cases in by_case for k in cases)
        for scenario, case_id in cases:
            runs = [cases_of.get((scenario, case_id)) for cases_of in by_case]
            for figure in FIGURES:
                key = (machine, scenario, case_id, figure)
                points[key] = tuple(None if r is None else _point(r, figure) for r in runs)
                steps += _steps(key, row, runs, points[key])
    return History(ordered, points, tuple(steps), problems)


def _by_case(runs: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """(scenario, case id) → that case's finished runs, in seed order."""
    done = runs[finished(runs["status"])] if not runs.empty else runs
    return {key: g.sort_values("seed", kind="stable") for key, g in done.groupby(["scenario", "case_id"], sort=False)}


def _point(runs: pd.DataFrame, figure: str) -> series.Point | None:
    """One commit's point of ``figure``, or None when no run has it (not measured, e.g. no target)."""
    if figure not in runs or (runs[figure].isna().all() and figure not in CENSORED_AT):
        return None
    missed = ~runs["reached_target"].fillna(False).astype(bool).to_numpy() if figure in CENSORED_AT else None
    if missed is not None and runs[figure].isna().all() and not missed.any():
        return None
    return series.point(runs[figure].to_numpy(dtype=float), missed)


def _steps(
    key: tuple[str, str, str, str],
    row: tuple[Entry, ...],
    runs: list[pd.DataFrame | None],
    points: tuple[series.Point | None, ...],
) -> list[Step]:
    """The candidate steps of one series, each with its confirming comparison."""
    usable = [i for i, p in enumerate(points) if p is not None and p.median > 0 and math.isfinite(p.median)]
    if len(usable) < series.MIN_POINTS:
        return []
    levels = np.log([points[i].median for i in usable])
    spread = np.array([series.point_variance(np.log(_positive(runs[i], key[3]))) for i in usable])
    starts = series.change_points(levels, series.noise_variance(levels, spread))
    bounds = [0, *starts, len(usable)]
    found = []
    for j, start in enumerate(starts):
        before = usable[max(bounds[j], start - WINDOW) : start]
        after = usable[start : min(bounds[j + 2], start + WINDOW)]
        pooled = [pd.concat([runs[i] for i in side], ignore_index=True) for side in (after, before)]
        r = ratio(pooled[0], pooled[1], key[3])
        confirmed = not math.isnan(r.low) and (r.low > 1.0 + MIN_STEP or r.high < 1.0 / (1.0 + MIN_STEP))
        machine, scenario, case_id, figure = key
        index = usable[start]
        found.append(
            Step(machine, scenario, case_id, figure, index, row[before[-1]].short, row[index].short, r, confirmed)
        )
    return found


def _positive(runs: pd.DataFrame | None, figure: str) -> np.ndarray:
    """The runs' finite positive values of ``figure`` (the ones a log spread is taken of)."""
    x = runs[figure].to_numpy(dtype=float) if runs is not None and figure in runs else np.array([])
    return x[np.isfinite(x) & (x > 0)]


def figure_words(figure: str) -> tuple[str, str]:
    """(words, unit) of a tracked figure, e.g. ``("time-to-target", "s")``."""
    return COMPARED[figure]
