"""One case's figure on two sides (machines, commits) as a ratio B/A with its interval, by the analysis' one
comparison rule (:mod:`benchsuite.analysis.contrast`), exactly as the single-machine report applies it.

- B/A of the per-run values (above 1: B's is larger; for times, slower): the Hodges-Lehmann estimate with the
  interval from inverting the Wilcoxon signed-rank test over runs paired by seed (the same seed draws the same data
  order and initial weights on both sides) when both sides ran the same seeds once each and there are enough of them
  for a bounded interval (:func:`benchsuite.analysis.contrast.by_seed`), else from inverting the Mann-Whitney test;
  exact at every n (:mod:`benchsuite.analysis.effects`).
- A run that missed its target is censored where it was cut off (:func:`benchsuite.analysis.contrast.
  oriented_bounds`, :data:`benchsuite.analysis.contrast.CENSORED_AT`): its time-to-target lies beyond the seconds it
  trained, its steps-to-target beyond the steps it ran (Gehan 1965); a miss whose cut-off is not recorded
  (energy-to-target) ranks below every run. Runs that did not finish are left out, never counted as misses.
- A side on which half or more of the runs missed gets no estimate, only its interval; a side that never reached
  the target gives a bound only: ``> 1.54×`` (B needed more than 1.54 times A's) where B never reached it, ``<
  0.65×`` where A never did (:class:`Ratio`). Nothing to compare (a side without a value, or no run of either side
  reached the target) gives no ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from benchsuite.analysis.contrast import CENSORED_AT, by_seed, contrast, oriented_bounds
from benchsuite.analysis.missing import reached_within
from benchsuite.analysis.pairing import common_seeds
from benchsuite.specs.claim_metrics import CLAIM_METRICS, Metric

#: Figures compared per case: column of :func:`benchsuite.results.frames.runs_frame` → (words, unit).
COMPARED: dict[str, tuple[str, str]] = {
    "time_to_target_s": ("time-to-target", "s"),
    "steps_to_target": ("steps-to-target", "steps"),
    "step_time_s_median": ("time per step", "s"),
    "throughput_samples_per_s": ("throughput", "samples/s"),
    "energy_to_target_j": ("energy-to-target", "J"),
    "mfu": ("MFU", ""),
}

#: Compared figures undefined for a run that missed its target (censored, never dropped): the columns of the
#: censored claim metrics, and energy-to-target.
CENSORED = (*(m.column for m in CLAIM_METRICS.values() if m.censored), "energy_to_target_j")


@dataclass(frozen=True)
class Ratio:
    """B/A of one figure for one case: the Hodges-Lehmann estimate with its 95 % interval.

    Attributes:
        estimate: the ratio, or None when there is none (half or more of a side missed the target, or nothing was
            compared).
        low, high: the interval (NaN: not compared; 0 or ``inf`` where unbounded).
        never_reached: ``0/4 reached within 2.5 s`` when one side never reached the target (every run censored at
            its budget: the ratio is a bound only), else None; ``censored_side`` says which: ``case`` (this side, B:
            B/A > ``low``) or ``against`` (the reference, A: B/A < ``high``), as
            :class:`benchsuite.analysis.pair_verdicts.PairEffect` names them.
    """

    estimate: float | None
    low: float
    high: float
    never_reached: str | None = None
    censored_side: str | None = None


NOT_COMPARED = Ratio(None, math.nan, math.nan)
"""The ratio of a figure that was not compared."""


def _metric(column: str) -> Metric:
    """How a compared figure is read: its claim metric (:data:`benchsuite.specs.claim_metrics.CLAIM_METRICS`), or,
    for a figure no claim measures (energy-to-target, MFU), one built from :data:`COMPARED`."""
    by_column = {m.column: m for m in CLAIM_METRICS.values()}
    words, unit = COMPARED[column]
    return by_column.get(column) or Metric(column, "ratio", "lower", unit, column in CENSORED, words)


def ratio(mine: pd.DataFrame, theirs: pd.DataFrame, column: str) -> Ratio:
    """B/A of ``column`` for one case: ``mine`` holds its runs on side B, ``theirs`` on the reference A (each with
    seed, status, reached target and, for censoring, ``timed_s`` and ``steps``), by the rule of the module docstring;
    :data:`NOT_COMPARED` where a side lacks the figure or there is nothing to compare."""
    if column not in mine or column not in theirs:
        return NOT_COMPARED
    mine, theirs = (
        r if r["seed"].is_monotonic_increasing else r.sort_values("seed", kind="stable") for r in (mine, theirs)
    )
    # oriented as "lower is better", every censored figure's own direction: B/A = exp(-shift)
    censored, at = column in CENSORED, CENSORED_AT.get(column)
    x, y = (
        oriented_bounds(r, column, scale="ratio", censored=censored, better="lower", censored_at=at)
        for r in (mine, theirs)
    )
    runs = contrast(x, y, paired=by_seed(common_seeds(mine, theirs), True, 0.95), confidence=0.95)
    if not runs.comparable:
        return NOT_COMPARED
    estimate = None if runs.half_missed else math.exp(-runs.shift.estimate)
    side = "case" if runs.n_missed == runs.n else "against" if runs.n_missed_against == runs.n_against else None
    never = reached_within(mine if side == "case" else theirs, _metric(column)) if side else None
    return Ratio(estimate, math.exp(-runs.shift.high), math.exp(-runs.shift.low), never, side)
