"""What is missing, in words: why a compared pair has nothing to compare, and why a scenario has no figure to draw.

The rule of what is compared is :mod:`benchsuite.analysis.contrast` (finished runs, misses, values not measured);
this module only says, in the report's terms, what a rule left out: "no finished run of init=x (3 crashed, 1 oom)",
"no run reached the target (val_accuracy ≥ 0.9) within 0.52 s". The verdicts (a pair "not judged"), the report's
figures and tables and the terminal summary all take their words from here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from benchsuite.analysis.contrast import Contrast, finished, oriented_column
from benchsuite.specs.claim_metrics import Metric

#: Run statuses in the order their counts are written; statuses this list does not know come after, by name.
STATUS_ORDER = ("ok", "diverged", "oom", "crashed", "timeout", "failed")


def status_counts(statuses: Iterable[object]) -> str:
    """``3 crashed, 1 oom``: how many runs ended with each status, in :data:`STATUS_ORDER`."""
    counts = Counter(str(s) for s in statuses)
    known = {s: i for i, s in enumerate(STATUS_ORDER)}
    return ", ".join(f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: (known.get(s, len(known)), s)))


def _first(runs: pd.DataFrame, column: str) -> object:
    values = runs[column].dropna() if column in runs else pd.Series(dtype=object)
    return values.iloc[0] if len(values) else None


def target_text(runs: pd.DataFrame) -> str:
    """``val_accuracy ≥ 0.9`` (``val_loss ≤ 0.5``) from the target the runs recorded; ``its target`` without one."""
    metric, value = _first(runs, "target_metric"), _first(runs, "target_value")
    if metric is None or value is None:
        return "its target"
    return f"{metric} {'≤' if metric == 'val_loss' else '≥'} {float(value):g}"


def _seconds(x: float) -> str:
    return f"{x * 1000:.3g} ms" if x < 0.1 else f"{x:.3g} s"


def none_reached(runs: pd.DataFrame) -> str:
    """``no run reached the target (val_accuracy ≥ 0.9) within 0.52 s``: the longest timed region of the finished
    ``runs`` is the budget every one of them spent without reaching it."""
    done = runs[finished(runs["status"])] if "status" in runs else runs
    timed = done["timed_s"].max() if "timed_s" in done else math.nan
    within = f" within {_seconds(float(timed))}" if not pd.isna(timed) else ""
    return f"no run reached the target ({target_text(runs)}){within}"


def reached_within(runs: pd.DataFrame, metric: Metric) -> str:
    """``0/12 reached within 0.52 s`` (``within 300 steps`` for steps-to-target): how many of one side's finished
    ``runs`` reached the target, and the longest budget they spent (timed seconds, or steps) where a miss was cut
    off."""
    done = runs[finished(runs["status"])] if "status" in runs else runs
    reached = int(done["reached_target"].eq(True).sum()) if "reached_target" in done else 0
    column, unit = ("steps", " steps") if metric.column == "steps_to_target" else ("timed_s", None)
    budget = done[column].max() if column in done and len(done) else math.nan
    within = "" if pd.isna(budget) else f" within {_seconds(float(budget)) if unit is None else f'{budget:g}{unit}'}"
    return f"{reached}/{len(done)} reached{within}"


def no_finished_run(runs: pd.DataFrame, what: str) -> str:
    """``no finished run of init=x (3 crashed, 1 oom)``; ``what`` names the runs (a case, "this scenario")."""
    return f"no finished run of {what} ({status_counts(runs['status'])})" if len(runs) else f"no run of {what}"


def _side(runs: pd.DataFrame, metric: Metric) -> str | None:
    """Why one side of a pair has no value of ``metric`` (a miss is a value of a censored one), or None."""
    case_id = str(runs["case_id"].iloc[0]) if len(runs) else "?"
    done = runs[finished(runs["status"])] if "status" in runs else runs
    if done.empty:
        return no_finished_run(runs, case_id)
    values = oriented_column(done, metric.column, scale="difference", censored=metric.censored, better="higher")
    if np.isnan(values).all():
        return f"no finished run of {case_id} has a {metric.words} ({status_counts(done['status'])})"
    return None


def why_not_compared(case: pd.DataFrame, reference: pd.DataFrame, metric: Metric, runs: Contrast) -> str | None:
    """Why the contrast ``runs`` of a pair's ``case`` and ``reference`` runs on ``metric`` has nothing to compare,
    or None when it has something (:attr:`Contrast.comparable`)."""
    if runs.comparable:
        return None
    if runs.none_reached:
        return none_reached(pd.concat([case, reference]))
    sides = [reason for reason in (_side(case, metric), _side(reference, metric)) if reason]
    return "; ".join(sides) or f"no seed has a finished run with a {metric.words} on both sides"


def no_curve(runs: pd.DataFrame, what: str) -> str:
    """``every run of this scenario ended before its first evaluation (3 crashed, 1 oom)``: ``runs`` left no curve."""
    return f"every run of {what} ended before its first evaluation ({status_counts(runs['status'])})"


def _seeds(seeds: Iterable[object]) -> str:
    shown = sorted({int(s) for s in seeds if not pd.isna(s)})
    return f"seed{'s' if len(shown) > 1 else ''} {', '.join(map(str, shown))}"


def unfinished_lines(runs: pd.DataFrame) -> list[str]:
    """One line per case and way of ending of the runs that did not end ``ok``: ``init=x, seeds 0, 2: crashed:
    RuntimeError: boom`` or ``init=y, seed 1: diverged at step 40`` (runs that ended alike grouped, in case order)."""
    faulted = runs[runs["status"] != "ok"]
    if faulted.empty:
        return []
    where = faulted["fault_step"] if "fault_step" in faulted else pd.Series(None, index=faulted.index)
    stage = faulted["fault_stage"] if "fault_stage" in faulted else pd.Series(None, index=faulted.index)
    error = faulted["error"] if "error" in faulted else pd.Series(None, index=faulted.index)
    keys = faulted.assign(_at=[_at(s, g) for s, g in zip(where, stage, strict=True)], _error=error.fillna(""))
    lines = []
    for (case_id, status, at, message), group in keys.groupby(["case_id", "status", "_at", "_error"], sort=False):
        lines.append(f"{case_id}, {_seeds(group['seed'])}: {status}{at}" + (f": {message}" if message else ""))
    return lines


def _at(step: object, stage: object) -> str:
    """`` at step 40`` or `` in model build`` (where a run ended), or empty."""
    if step is not None and not pd.isna(step):
        return f" at step {int(step)}"
    return f" in {stage}" if isinstance(stage, str) and stage else ""
