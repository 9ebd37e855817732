"""A figure's series over commits: each commit's point (a median over its runs with a distribution-free interval) and
the steps in the series (change points), found with ``ruptures`` and a penalty set by the measured noise.

- **A point**: the median of one commit's per-run values with the order-statistic confidence interval of the median:
  [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] with the largest k whose coverage 1 − 2·P(Binom(n, ½) < k) is at least the level asked (Conover
  1999, *Practical Nonparametric Statistics*, 3rd ed., §3.2); with too few runs for that level, the widest such
  interval, [min, max], and its own coverage. A run that missed its target counts as beyond every run that reached it
  (right-censored), so it widens the interval upwards and never pulls the median down.
- **Steps**: PELT (Killick, Fearnhead & Eckley 2012, *JASA* 107:1590) on the log of the points with the ``l2`` cost
  (a shift of the mean), through ``ruptures`` (Truong, Oudre & Vayatis 2020, *Signal Processing* 167). The penalty is
  the Schwarz criterion of a mean shift with the noise variance known: β = 2·σ²·ln N for N points, σ² the larger of
  the points' own variance (from the spread of each commit's runs: π/2 · var(log x)/n, the large-sample variance of a
  median) and the commit-to-commit variance (the median absolute deviation of successive differences, /0.6745/√2,
  robust to the steps themselves). A step it finds is only a candidate: :mod:`benchsuite.compare.history` confirms it
  by the interval comparison of the runs either side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

POINT_CONFIDENCE = 0.90
"""Level of a point's interval: the order statistics of 5 runs reach 93.75 % ([min, max]); 95 % needs 6."""

MIN_POINTS = 3
"""A series needs this many points before a step can be told from noise."""


@dataclass(frozen=True)
class Point:
    """One commit's value of a figure: the median of its runs and the interval of the median.

    Attributes:
        median: the median over the runs (the figure's unit); NaN when half or more of the runs missed the target.
        low, high: the interval (``inf`` above when a censored run bounds it); NaN without runs.
        coverage: the interval's exact coverage (e.g. 0.9375 for [min, max] of 5 runs).
        n: runs counted (finished ones); ``missed``: of them, runs that missed the target.
    """

    median: float
    low: float
    high: float
    coverage: float
    n: int
    missed: int = 0


@lru_cache(maxsize=256)
def _order_statistic(n: int, confidence: float) -> tuple[int, float]:
    """(k, coverage): the 1-based order statistic of the interval [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] of the median of n values, the
    largest k whose coverage reaches ``confidence``, else k = 1 (the widest) with its coverage."""
    best = (1, 1.0 - 2.0 * float(stats.binom.cdf(0, n, 0.5)))
    for k in range(1, (n + 1) // 2 + 1):
        coverage = 1.0 - 2.0 * float(stats.binom.cdf(k - 1, n, 0.5))
        if coverage + 1e-12 < confidence:
            break
        best = (k, coverage)
    return best


def point(values, missed=None, confidence: float = POINT_CONFIDENCE) -> Point:
    """The :class:`Point` of one commit's per-run ``values`` (NaN dropped); ``missed`` marks the runs that missed
    their target (their value is ignored: they lie beyond every run that reached it)."""
    x = np.asarray(values, dtype=float)
    miss = np.zeros(len(x), bool) if missed is None else np.asarray(missed, dtype=bool)
    keep = miss | ~np.isnan(x)
    x, miss = np.where(miss, math.inf, x)[keep], miss[keep]
    n = len(x)
    if n == 0:
        return Point(math.nan, math.nan, math.nan, math.nan, 0)
    ordered = np.sort(x)
    median = float(np.median(ordered)) if 2 * int(miss.sum()) < n else math.nan
    k, coverage = _order_statistic(n, confidence)
    return Point(median, float(ordered[k - 1]), float(ordered[n - k]), coverage, n, int(miss.sum()))


def point_variance(log_values: np.ndarray) -> float:
    """The variance of the median of ``log_values`` (one commit's runs, logs of the figure): π/2 · var/n, NaN with
    fewer than 2 finite values."""
    x = log_values[np.isfinite(log_values)]
    return math.pi / 2.0 * float(np.var(x, ddof=1)) / len(x) if len(x) >= 2 else math.nan


def noise_variance(levels: np.ndarray, point_variances: np.ndarray) -> float:
    """σ² of the module docstring: the larger of the points' median variance and the commit-to-commit variance of
    ``levels`` (log points in commit order); 0 when neither can be measured."""
    within = np.nanmedian(point_variances) if np.isfinite(point_variances).any() else 0.0
    diffs = np.diff(levels)
    between = (float(np.median(np.abs(diffs - np.median(diffs)))) / 0.6745) ** 2 / 2.0 if len(diffs) >= 2 else 0.0
    return max(float(within), between)


def penalty(noise: float, n: int) -> float:
    """β = 2·σ²·ln N (the module docstring); a floor of 1e-12 keeps a noiseless series from splitting at every
    rounding."""
    return max(2.0 * noise * math.log(max(n, 2)), 1e-12)


def change_points(levels, noise: float) -> list[int]:
    """Indices i (1 ≤ i < N) where a new segment starts in ``levels`` (log points in commit order, finite), by PELT
    with the ``l2`` cost and :func:`penalty`; none for fewer than :data:`MIN_POINTS` points.

    Raises:
        ValueError: a level that is not finite.
    """
    import ruptures  # imported here: a report that draws no history never pays for it

    y = np.asarray(levels, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("change_points: every level must be finite")
    if len(y) < MIN_POINTS:
        return []
    ends = ruptures.Pelt(model="l2", min_size=1, jump=1).fit(y.reshape(-1, 1)).predict(pen=penalty(noise, len(y)))
    return [int(e) for e in ends[:-1]]
