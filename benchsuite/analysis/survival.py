"""Time-to-target of one case as a survival time: the Kaplan-Meier median, which keeps the runs that missed.

A run that missed its target is censored where it was cut off (its timed seconds, ``timed_s``): it did not reach the
target in that time, and nothing is known after. Dropping it (the median of the runs that reached) makes a case
look faster the more of its runs miss; ranking it last makes its time unbounded. The Kaplan-Meier estimate of the
share of runs still short of the target, S(t) = Π over reaching times t_i ≤ t of (1 - reached at t_i / at risk at
t_i), uses each miss while it is known (Kaplan & Meier 1958; a reach and a cut-off at the same time: the reach
first). The median is the first time S falls to 1/2 or below, or, where S is exactly 1/2 between two reaching times,
their midpoint, so that with no miss it is the ordinary median (the convention of R's ``survfit``, Therneau &
Grambsch, *Modeling Survival Data*, 2000). With half or more of the runs missing before S reaches 1/2 it has no
median: only a lower bound, the longest time observed.
"""

from __future__ import annotations

import math

import numpy as np


def kaplan_meier(times, reached) -> tuple[np.ndarray, np.ndarray]:
    """(reaching times, S just after each) of runs that reached at ``times`` (``reached`` True) or were cut off there.

    Raises:
        ValueError: ``times`` and ``reached`` of different lengths, or a NaN time.
    """
    times, reached = np.asarray(times, float), np.asarray(reached, bool)
    if times.shape != reached.shape or np.isnan(times).any():
        raise ValueError("kaplan_meier needs one time per run and no NaN")
    at_risk, survival, out_t, out_s = len(times), 1.0, [], []
    for t in np.unique(times):
        here = times == t
        events = int((here & reached).sum())
        if events:
            survival *= 1.0 - events / at_risk
            out_t.append(float(t))
            out_s.append(survival)
        at_risk -= int(here.sum())
    return np.array(out_t), np.array(out_s)


def median_time(times, reached) -> tuple[float, float]:
    """(Kaplan-Meier median, lower bound): the median and NaN, or NaN and the longest time observed when S never
    falls to 1/2 (NaN and NaN without runs). See the module docstring for the convention."""
    times = np.asarray(times, float)
    if len(times) == 0:
        return math.nan, math.nan
    event_times, survival = kaplan_meier(times, reached)
    below = np.nonzero(survival <= 0.5 + 1e-12)[0]
    if len(below) == 0:
        return math.nan, float(times.max())
    i = below[0]
    if abs(survival[i] - 0.5) < 1e-12 and i + 1 < len(event_times):
        return (event_times[i] + event_times[i + 1]) / 2.0, math.nan
    return float(event_times[i]), math.nan
