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
        cv: coefficient of variation (sample standard deviation / mean) of seconds per step over the run's chunks
            of at least :data:`MIN_CV_STEPS` steps (consecutive segments pooled: :func:`cv_chunks`); a high value
            means the machine's speed changed during the run (see :data:`UNSTABLE_CV`); None with fewer than two
            chunks.
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

#: Steps a chunk of a run holds before its seconds per step count towards the run's CV. A segment of a few steps (a
#: batch of 4096 gets 2 steps an epoch), or one ending in a short last batch (128 of 2048 samples: a step at a
#: sixteenth of the work) varies for reasons that are not the machine's, and would trip :data:`UNSTABLE_CV` on a
#: steady machine; pooled with its neighbours into chunks of at least this many steps, it no longer does, while a
#: change of speed that lasts a chunk still shows.
MIN_CV_STEPS = 10


def step_times(segments: list[tuple[float, int]]) -> StepTimes:
    """Median and quartiles of seconds per step over ``segments`` of (seconds, steps), and the coefficient of
    variation over their chunks of at least :data:`MIN_CV_STEPS` steps (:func:`cv_chunks`)."""
    per_step = sorted(seconds / steps for seconds, steps in segments if steps > 0)
    if not per_step:
        return StepTimes(None, None, None, None, 0)
    quartiles = statistics.quantiles(per_step, n=4, method="inclusive") if len(per_step) > 1 else per_step * 3
    chunks = [seconds / steps for seconds, steps in cv_chunks(segments)]
    mean = statistics.fmean(chunks)
    cv = statistics.stdev(chunks) / mean if len(chunks) > 1 and mean > 0 else None
    return StepTimes(quartiles[1], quartiles[0], quartiles[2], cv, len(per_step))


def cv_chunks(segments: list[tuple[float, int]], min_steps: int = MIN_CV_STEPS) -> list[tuple[float, int]]:
    """Consecutive ``segments`` of (seconds, steps) pooled into chunks of at least ``min_steps`` steps, in order; a
    remainder shorter than that joins the last chunk (or stands alone when it is all there is). Empty segments are
    left out."""
    chunks: list[tuple[float, int]] = []
    seconds, steps = 0.0, 0
    for s, n in segments:
        if n <= 0:
            continue
        seconds, steps = seconds + s, steps + n
        if steps >= min_steps:
            chunks.append((seconds, steps))
            seconds, steps = 0.0, 0
    if steps:
        if chunks:
            last_s, last_n = chunks.pop()
            chunks.append((last_s + seconds, last_n + steps))
        else:
            chunks.append((seconds, steps))
    return chunks
