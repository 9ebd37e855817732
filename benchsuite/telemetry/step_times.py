"""Seconds per step of a run, from its timed segments (each segment: the steps between two evaluations): median,
quartiles and the coefficient of variation that flags a run whose machine changed speed while it trained. Computed
when a run is recorded; the threshold is read again by the analysis that reports how steady a session was. No torch.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class StepTimes:
    """Seconds per step over a run's timed segments (each segment: the steps between two evaluations).

    Attributes:
        median_s, p25_s, p75_s: median and quartiles of the segments' seconds per step.
        cv: coefficient of variation (sample standard deviation / mean) of the segments' seconds per step; a
            high value means the machine's speed changed during the run (see :data:`UNSTABLE_CV`).
        n_segments: segments with at least one step.
    """

    median_s: float | None
    p25_s: float | None
    p75_s: float | None
    cv: float | None
    n_segments: int


#: Runs whose segment step times vary more than this (coefficient of variation) are flagged unstable: the machine's
#: speed changed during the run. pyperf warns at a standard deviation above 10 % of the mean ("the benchmark seems
#: unstable"); segments of a training run also differ for honest reasons (a short last segment, evaluation between
#: segments), so benchsuite allows twice that.
UNSTABLE_CV = 0.2


def step_times(segments: list[tuple[float, int]]) -> StepTimes:
    """Median, quartiles and coefficient of variation of seconds per step over ``segments`` of (seconds, steps)."""
    per_step = sorted(seconds / steps for seconds, steps in segments if steps > 0)
    if not per_step:
        return StepTimes(None, None, None, None, 0)
    quartiles = statistics.quantiles(per_step, n=4, method="inclusive") if len(per_step) > 1 else per_step * 3
    mean = statistics.fmean(per_step)
    cv = statistics.stdev(per_step) / mean if len(per_step) > 1 and mean > 0 else None
    return StepTimes(quartiles[1], quartiles[0], quartiles[2], cv, len(per_step))
