"""Effects with intervals: the statistics behind every verdict, on values already put on the comparison scale.

Values reach these functions *oriented*: transformed to the comparison scale (log for ratio metrics, identity for
difference metrics) and signed so that larger is better. An effect above 0 then means "the case is better", and
``exp`` of a log-scale effect is the ratio in the claim's direction (a speedup for times).

- Two samples (runs of a case against runs of its reference): the Hodges-Lehmann shift, the median of all
  case - reference differences, with the distribution-free interval from inverting the Mann-Whitney (Wilcoxon
  rank-sum) test: [D(k), D(nm+1-k)] of the sorted differences, k from the exact null distribution of U
  (Hodges & Lehmann 1963; Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., 2014, §4.3).
- Paired blocks (runs paired by seed, step-timing quadruples): the one-sample Hodges-Lehmann estimate, the median of
  the Walsh averages of the per-pair differences, with the interval from inverting the Wilcoxon signed-rank test
  (Hollander, Wolfe & Chicken 2014, §3.2).
- Exact at every size (:mod:`benchsuite.analysis.ranks`); the bounds are closed order statistics, so ties and zero
  differences make the interval conservative, never undefined: differences that are all 0 give [0, 0].
- Each bound has its own one-sided error (``tails``): the lower bound answers "is the case better?" and the upper
  bound "is it smaller than claimed?", which a claim of several pairs corrects differently
  (:mod:`benchsuite.analysis.judging`); ``confidence`` is 1 minus both tails.
- Censoring (Gehan 1965; Efron 1967): a run that missed its target is known only to lie beyond where it was cut
  off. It enters as :class:`Bounds` (for a lower-is-better time, (-inf, -log of the seconds it trained]), so every
  difference is an interval [lo, hi], and a bound uses the lo (or hi) ends: k-th smallest lo, k-th largest hi.
  Whatever the missed runs would have shown, the interval contains the one their values would have given, so it
  keeps its level (Gehan's scoring: a pair whose order the censoring leaves open counts against each bound). A
  miss whose cut-off is unknown is -inf, worse than every value, tying with the other such misses (Gehan's ranking
  with every miss censored at the budget). The estimate is the root of Gehan's score, #{lo > δ} = #{hi < δ}
  (the Hodges-Lehmann median when nothing is censored).
- p-values are the ones these intervals invert (a bound excludes δ exactly when the p-value of δ is at most its
  tail): P(count ≤ #{lo ≤ δ}) under the null, ties counted against.
- Reach rate k/n with the Wilson score interval (Wilson 1927; ``scipy.stats.binomtest``).

Practice follows asv (a Mann-Whitney test plus a factor threshold) and pyperf (judge only from repeated,
interleaved measurements).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats

from benchsuite.analysis import ranks

ALPHA = 0.05
"""Two-sided error of a ``better`` claim's interval (0.025 a side), one-sided of a ``no_worse`` one."""


@dataclass(frozen=True)
class Shift:
    """A shift estimate on the oriented comparison scale with its interval.

    Attributes:
        estimate: Hodges-Lehmann estimate (above 0: the case is better); ±inf when censored runs dominate.
        low, high: interval bounds (±inf when the samples are too small for the level asked).
        confidence: the interval's level, 1 minus the one-sided errors of its two bounds.
        method: ``exact`` (test inversion on the exact null distribution), ``normal`` (on its normal approximation,
            beyond :data:`benchsuite.analysis.ranks.EXACT_MAX_CELLS`) or ``no values``.
        tails: the one-sided errors of the lower and upper bound; None: (1 - confidence) / 2 each.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    tails: tuple[float, float] | None = None

    @property
    def low_tail(self) -> float:
        """One-sided error of the lower bound."""
        return self.tails[0] if self.tails is not None else (1.0 - self.confidence) / 2.0

    @property
    def high_tail(self) -> float:
        """One-sided error of the upper bound."""
        return self.tails[1] if self.tails is not None else (1.0 - self.confidence) / 2.0


class Bounds(NamedTuple):
    """Oriented values known only within [lo, hi] (lo == hi: measured; a miss: censored beyond its cut-off)."""

    lo: np.ndarray
    hi: np.ndarray


def as_bounds(values) -> Bounds:
    """``values`` as :class:`Bounds` (an array of measured values, a miss as -inf; or Bounds already), as floats."""
    if isinstance(values, Bounds):
        return Bounds(np.asarray(values.lo, float), np.asarray(values.hi, float))
    values = np.asarray(values, float)
    return Bounds(values, values)


def _tied(values: np.ndarray) -> np.ndarray:
    """inf - inf (two misses of unknown cut-off, or +inf and -inf averaged) ties at 0."""
    return np.where(np.isnan(values), 0.0, values)


def tails_of(confidence: float) -> tuple[float, float]:
    """The one-sided errors of a two-sided ``confidence``: (1 - confidence) / 2 each."""
    return (1.0 - confidence) / 2.0, (1.0 - confidence) / 2.0


@dataclass(frozen=True)
class Ranked:
    """The sorted bounds of a rank statistic's elementary estimates (pairwise differences, or Walsh averages) with the
    null CDF of its count; every interval, estimate and p-value of one contrast comes from it.

    Attributes:
        lo, hi: the N lower and upper ends, each sorted (equal when nothing is censored).
        cdf: P(count ≤ c) for c = 0..N under the null hypothesis.
    """

    lo: np.ndarray
    hi: np.ndarray
    cdf: np.ndarray

    @property
    def method(self) -> str:
        exact = len(self.cdf) <= ranks.EXACT_MAX_CELLS
        return "exact" if exact else "normal"

    def interval(self, low_tail: float, high_tail: float) -> tuple[float, float]:
        """[lo(k), hi(N+1-k')]: k for ``low_tail``, k' for ``high_tail`` (:func:`ranks.order_statistic_index`);
        an infinite bound where the samples are too few for its tail."""
        k, k_high = ranks.order_statistic_index(self.cdf, low_tail), ranks.order_statistic_index(self.cdf, high_tail)
        low = float(self.lo[k - 1]) if k >= 1 else -math.inf
        high = float(self.hi[len(self.hi) - k_high]) if k_high >= 1 else math.inf
        return low, high

    def estimate(self) -> float:
        """The root of Gehan's score (computed once: :meth:`_estimate`)."""
        if "_root" not in self.__dict__:
            object.__setattr__(self, "_root", self._estimate())
        return self.__dict__["_root"]

    def _estimate(self) -> float:
        """The root of Gehan's score #{lo > δ} - #{hi < δ}, a step function of δ: the middle of the set where it is 0,
        else where it changes sign (the Hodges-Lehmann median when nothing is censored)."""
        points = np.unique(np.concatenate([self.lo, self.hi, [-math.inf, math.inf]]))
        above = len(self.lo) - np.searchsorted(self.lo, points, "right")  # #{lo > δ} at each point and just right
        at = above - np.searchsorted(self.hi, points, "left")
        right = above - np.searchsorted(self.hi, points, "right")  # on the open gap after each point
        # points and gaps in order: point 0, gap 0, point 1, ..., the last point (+inf)
        score = np.empty(2 * len(points) - 1)
        score[0::2], score[1::2] = at, right[:-1]
        start = np.repeat(points, 2)[: len(score)]  # a gap starts where its point is
        end = np.concatenate([np.repeat(points[1:], 2)[: len(score) - 1], [points[-1]]])
        end[0::2] = points
        zero = np.nonzero(score == 0)[0]
        if len(zero):
            with np.errstate(invalid="ignore"):  # -inf to +inf: every order undecided, no shift (tied below)
                middle = (start[zero[0]] + end[zero[-1]]) / 2.0
        else:
            first = int(np.nonzero(score < 0)[0][0])
            middle = start[first]  # where it meets the element before it, whose score is above 0
        return float(_tied(np.array([middle]))[0])

    def p_above(self, delta: float) -> float:
        """One-sided p-value of "the shift exceeds ``delta``" (H0: shift ≤ delta): P(count ≤ #{lo ≤ delta})."""
        return float(self.cdf[int(np.searchsorted(self.lo, delta, "right"))])

    def p_below(self, delta: float) -> float:
        """One-sided p-value of "the shift is below ``delta``" (H0: shift ≥ delta): P(count ≤ #{hi ≥ delta})."""
        return float(self.cdf[len(self.hi) - int(np.searchsorted(self.hi, delta, "left"))])

    def shift(self, tails: tuple[float, float]) -> Shift:
        """The estimate with its interval at one-sided errors ``tails`` (lower bound, upper bound)."""
        low, high = self.interval(*tails)
        return Shift(self.estimate(), low, high, 1.0 - tails[0] - tails[1], self.method, tuple(tails))


def two_sample(x, y) -> Ranked:
    """The n·m differences x_i - y_j of oriented values (or :class:`Bounds`) with the Mann-Whitney null CDF.

    Raises:
        ValueError: an empty sample, or a NaN.
    """
    x, y = as_bounds(x), as_bounds(y)
    if len(x.lo) == 0 or len(y.lo) == 0:
        raise ValueError("a two-sample contrast needs at least one value on each side")
    if any(np.isnan(a).any() for a in (*x, *y)):
        raise ValueError("a two-sample contrast takes no NaN (leave unmeasured values out)")
    with np.errstate(invalid="ignore"):
        lo = _tied(np.subtract.outer(x.lo, y.hi).ravel())
        hi = _tied(np.subtract.outer(x.hi, y.lo).ravel())
    return Ranked(np.sort(lo), np.sort(hi), ranks.mann_whitney_cdf(len(x.lo), len(y.lo)))


def hodges_lehmann(x, y) -> float:
    """Two-sample Hodges-Lehmann shift: the median of all x_i - y_j (oriented values; misses are -inf; or
    :class:`Bounds`: the root of Gehan's score, :meth:`Ranked.estimate`).

    Raises:
        ValueError: an empty sample, or a NaN.
    """
    return two_sample(x, y).estimate()


def paired_differences(x, y):
    """x_i - y_i of oriented values paired by block (seed): an array, or :class:`Bounds` when either side is; a miss
    on both sides of unknown cut-off (-inf - -inf) is 0."""
    if not isinstance(x, Bounds) and not isinstance(y, Bounds):
        with np.errstate(invalid="ignore"):
            return _tied(np.asarray(x, float) - np.asarray(y, float))
    x, y = as_bounds(x), as_bounds(y)
    with np.errstate(invalid="ignore"):
        return Bounds(_tied(x.lo - y.hi), _tied(x.hi - y.lo))


@functools.cache
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n)


def walsh_averages(d: np.ndarray) -> np.ndarray:
    """Sorted (d_i + d_j) / 2 for i ≤ j; +inf and -inf average to 0."""
    d = np.asarray(d, float)
    i, j = _pairs(len(d))
    with np.errstate(invalid="ignore"):
        return np.sort(_tied((d[i] + d[j]) / 2.0))


def paired(d) -> Ranked:
    """The n(n+1)/2 Walsh averages of per-pair differences ``d`` (an array or :class:`Bounds`) with the signed-rank
    null CDF.

    Raises:
        ValueError: no pairs, or a NaN difference.
    """
    d = as_bounds(d)
    if len(d.lo) == 0 or np.isnan(d.lo).any() or np.isnan(d.hi).any():
        raise ValueError("a paired contrast needs at least one difference and no NaN")
    return Ranked(walsh_averages(d.lo), walsh_averages(d.hi), ranks.signed_rank_cdf(len(d.lo)))


def shift_interval(x, y, confidence: float = 1 - ALPHA, *, tails: tuple[float, float] | None = None) -> Shift:
    """Hodges-Lehmann shift of ``x`` (case) over ``y`` (reference) with its exact Mann-Whitney interval.

    Args:
        x, y: oriented values (larger is better; -inf for runs that missed the target) or :class:`Bounds`, at least
            one each.
        confidence: two-sided level, e.g. 0.95 (0.025 a side), unless ``tails`` are given.
        tails: the one-sided errors of the lower and upper bound.

    Raises:
        ValueError: an empty sample, or a NaN.
    """
    return two_sample(x, y).shift(tails or tails_of(confidence))


def paired_shift_interval(d, confidence: float = 1 - ALPHA, *, tails: tuple[float, float] | None = None) -> Shift:
    """One-sample Hodges-Lehmann estimate of per-pair differences ``d`` (oriented; ±inf where one side of a pair
    missed its target; or :class:`Bounds`) with its exact signed-rank interval; all-zero differences give [0, 0].

    Raises:
        ValueError: no pairs, or a NaN difference.
    """
    return paired(d).shift(tails or tails_of(confidence))


def paired_bounded(n: int, confidence: float | None = None, *, tail: float | None = None) -> bool:
    """Whether n pairs can give a bounded signed-rank bound at one-sided error ``tail`` (or at a two-sided
    ``confidence``): 1/2^n ≤ tail."""
    tail = tails_of(confidence)[0] if tail is None else tail
    return n > 0 and ranks.order_statistic_index(ranks.signed_rank_cdf(n), tail) >= 1


def p_better(x, y, delta: float = 0.0) -> float:
    """One-sided Mann-Whitney p-value of "x exceeds y by more than ``delta``" (H0: shift ≤ delta), ties counted
    against; the one the intervals invert."""
    return two_sample(x, y).p_above(delta)


def p_better_paired(d, delta: float = 0.0) -> float:
    """One-sided Wilcoxon signed-rank p-value of "the differences ``d`` exceed ``delta``" (±inf rank largest; zeros
    and ties counted against); the one the intervals invert."""
    return paired(d).p_above(delta)


def wilson_interval(k: int, n: int, confidence: float = 1 - ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (NaN bounds when n = 0)."""
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
