"""Where the time goes, from the profiled windows of a results file: each case's phases per step, and the phase
ratios of a case against its reference that say which part of a step a technique made dearer or cheaper ("forward
14.8×, backward 15.2×, optimizer step 1.0×"). One window per case: these are descriptive figures of that window, not
estimates with intervals; the step-time half of a time claim carries the interval.
"""

from __future__ import annotations

import math

import pandas as pd

from benchsuite.analysis.verdicts import Verdict
from benchsuite.specs.claim_metrics import TIME_METRICS
from benchsuite.telemetry import phases

#: A phase this short in both windows is left out of the ratios (a ratio of two noise-sized figures says nothing).
MIN_RATIO_MS = 0.005


def phase_ms(frame: pd.DataFrame, scenario: str, case_id: str) -> dict[str, float]:
    """Phase → milliseconds per step of one case's window (empty without a profile)."""
    if frame.empty:
        return {}
    rows = frame[(frame["scenario"] == scenario) & (frame["case_id"] == case_id)]
    return {r["phase"]: float(r["ms"]) for r in rows.to_dict("records") if r["ms"] is not None}


def phase_ratios(frame: pd.DataFrame, scenario: str, case_id: str, against_id: str) -> list[tuple[str, float]]:
    """(phase, case ms ÷ reference ms) for the phases both windows spent time in, the whole step first
    (``step``), then in step order; empty when either case has no profile."""
    mine, theirs = phase_ms(frame, scenario, case_id), phase_ms(frame, scenario, against_id)
    if not mine or not theirs:
        return []
    out = [("step", sum(mine.values()) / sum(theirs.values()))] if sum(theirs.values()) > 0 else []
    for phase in phases.REPORTED:
        a, b = mine.get(phase, 0.0), theirs.get(phase, 0.0)
        if a >= MIN_RATIO_MS and b >= MIN_RATIO_MS:
            out.append((phase, a / b))
    return out


def verdict_phase_ratios(frame: pd.DataFrame, scenario: str, verdict: Verdict) -> dict[str, str]:
    """``"case vs against"`` → the phase ratios in words (:func:`ratio_text`) of each pair of a claim on time
    (time-to-target or step time), the claims whose step-time half the phases explain; empty for other claims and for
    pairs without profiles."""
    if verdict.claim.metric not in (*TIME_METRICS, "step_time_s") or frame.empty:
        return {}
    out = {}
    for pair in verdict.pairs:
        text = ratio_text(phase_ratios(frame, scenario, pair.effect.case_id, pair.effect.against_id))
        if text:
            out[f"{pair.effect.case_id} vs {pair.effect.against_id}"] = text
    return out


def ratio_text(ratios: list[tuple[str, float]]) -> str:
    """``step 15.0×: forward 14.8×, backward 15.2×, optimizer step 1.0×`` (empty without ratios)."""
    if not ratios:
        return ""
    head, *rest = ratios
    parts = ", ".join(f"{p} {_factor(r)}" for p, r in rest)
    return f"{head[0]} {_factor(head[1])}" + (f": {parts}" if parts else "") if head[0] == "step" else parts


def _factor(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.3g}×" if x < 10 else f"{x:.1f}×"


def phase_table(frame: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Cases × phases (ms per step) of one scenario's profiles, phases in the report's order."""
    if frame.empty:
        return pd.DataFrame()
    mine = frame[frame["scenario"] == scenario]
    table = mine.pivot_table(index="case_id", columns="phase", values="ms", aggfunc="first", sort=False)
    return table[[p for p in phases.REPORTED if p in table.columns]]
