"""Effects with intervals: the statistics behind every verdict, on values already put on the comparison scale.

Values reach these functions *oriented*: transformed to the comparison scale (log for ratio metrics, identity for
difference metrics) and signed so that larger is better. An effect above 0 then means "the case is better", and
``exp`` of a log-scale effect is the ratio in the claim's direction (a speedup for times).

- Two samples (runs of a case against runs of its reference): the Hodges-Lehmann shift, the median of all
  case − reference differences, with the distribution-free interval from inverting the Mann-Whitney (Wilcoxon
  rank-sum) test: [D(k), D(nm+1-k)] of the sorted differences, k from the exact null distribution of U
  (Hodges & Lehmann 1963; Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., 2014, §4.3).
  For larger samples (more than :data:`EXACT_MAX_N` a side, no censored values), a BCa bootstrap of the same
  statistic (``scipy.stats.bootstrap``; Efron 1987).
- Paired blocks (interleaved step timing): the one-sample Hodges-Lehmann estimate, the median of the Walsh averages
  of the per-pair differences, with the interval from inverting the Wilcoxon signed-rank test (Hollander, Wolfe &
  Chicken 2014, §3.2), or a BCa bootstrap for more than :data:`EXACT_MAX_N` pairs.
- Censoring: a run that never reached its target is worse than every run that did and ties with the other misses
  (Gehan 1965's ranking when every miss is censored at the budget): it enters as -inf, and a difference of two
  misses is 0.
- Reach rate k/n with the Wilson score interval (Wilson 1927; ``scipy.stats.binomtest``).
- Holm's step-down over the pairs of one claim (Holm 1979): the j-th smallest p-value of m is judged at α/(m-j+1).

Practice follows asv (a Mann-Whitney test plus a factor threshold) and pyperf (judge only from repeated,
interleaved measurements).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
EXACT_MAX_N = 20
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20261121  # fixed: the same data always give the same interval and the same verdict


@dataclass(frozen=True)
class Shift:
    """A shift estimate on the oriented comparison scale with its two-sided interval.

    Attributes:
        estimate: Hodges-Lehmann estimate (above 0: the case is better); ±inf when censored runs dominate.
        low, high: interval bounds (±inf when the samples are too small for the confidence asked).
        confidence: the nominal two-sided confidence level of the interval.
        method: ``exact`` (test inversion) or ``bootstrap`` (BCa).
    """

    estimate: float
    low: float
    high: float
    confidence: float
    method: str


@functools.cache
def _u_counts(n: int, m: int) -> tuple[float, ...]:
    """Number of orderings of n + m distinct values giving each Mann-Whitney U = 0..n·m (U counts x > y pairs).

    The largest value is an x (it beats all m y's: U = m + U(n-1, m)) or a y (U = U(n, m-1)).
    """
    if n == 0 or m == 0:
        return (1.0,)
    counts = np.zeros(n * m + 1)
    counts[m:] += _u_counts(n - 1, m)
    counts[: n * (m - 1) + 1] += _u_counts(n, m - 1)
    return tuple(counts)


def mann_whitney_cdf(n: int, m: int) -> np.ndarray:
    """P(U ≤ u) for u = 0..n·m under the null hypothesis (no ties), samples of n and m."""
    counts = np.asarray(_u_counts(n, m))
    return np.cumsum(counts) / counts.sum()


@functools.cache
def _signed_rank_counts(n: int) -> tuple[float, ...]:
    """Number of sign patterns of n distinct |differences| giving each signed-rank sum T+ = 0..n(n+1)/2."""
    counts = np.ones(1)  # n = 0: T+ = 0 in one way
    for rank in range(1, n + 1):
        grown = np.zeros(len(counts) + rank)
        grown[: len(counts)] += counts  # this rank's difference is negative
        grown[rank:] += counts  # or positive
        counts = grown
    return tuple(counts)


def signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ ≤ t) for t = 0..n(n+1)/2 under the null hypothesis (no ties, no zeros), n pairs."""
    counts = np.asarray(_signed_rank_counts(n))
    return np.cumsum(counts) / counts.sum()


def order_statistic_index(cdf: np.ndarray, confidence: float) -> int:
    """k such that [S(k), S(N+1-k)] of N sorted statistics covers with at least ``confidence``: the largest k with
    P(statistic ≤ k-1) ≤ (1 - confidence) / 2; 0 when even k = 1 does not (then the interval is unbounded)."""
    tail = (1.0 - confidence) / 2.0
    return int(np.searchsorted(cdf, tail + 1e-12, side="right"))


def _differences(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sorted x_i - y_j; two misses (-inf - -inf) tie at 0."""
    with np.errstate(invalid="ignore"):
        d = np.subtract.outer(x, y).ravel()
    return np.sort(np.where(np.isnan(d), 0.0, d))


def _between(sorted_values: np.ndarray, k: int) -> tuple[float, float]:
    if k < 1:
        return -math.inf, math.inf
    return float(sorted_values[k - 1]), float(sorted_values[len(sorted_values) - k])


def _median(values: np.ndarray) -> float:
    """Median that keeps infinities (numpy's would average +inf and -inf into nan)."""
    s = np.sort(values)
    mid = len(s) // 2
    if len(s) % 2:
        return float(s[mid])
    middle = (s[mid - 1] + s[mid]) / 2.0
    return 0.0 if np.isnan(middle) else float(middle)  # -inf and +inf in the middle: no shift either way


def hodges_lehmann(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sample Hodges-Lehmann shift: the median of all x_i - y_j (oriented values; misses are -inf)."""
    return _median(_differences(np.asarray(x, float), np.asarray(y, float)))


def shift_interval(x, y, confidence: float = 1 - ALPHA) -> Shift:
    """Hodges-Lehmann shift of ``x`` (case) over ``y`` (reference) with its two-sided interval.

    Args:
        x, y: oriented values (larger is better; -inf for runs that missed the target), at least one each.
        confidence: nominal two-sided level, e.g. 0.95.

    Returns:
        The exact interval from the Mann-Whitney null distribution when either side has at most
        :data:`EXACT_MAX_N` values or any value is censored; else a BCa bootstrap interval. With ties the exact
        interval is conservative.

    Raises:
        ValueError: an empty sample.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == 0 or len(y) == 0:
        raise ValueError("shift_interval needs at least one value on each side")
    d = _differences(x, y)
    estimate = _median(d)
    if min(len(x), len(y)) <= EXACT_MAX_N or not (np.isfinite(x).all() and np.isfinite(y).all()):
        low, high = _between(d, order_statistic_index(mann_whitney_cdf(len(x), len(y)), confidence))
        return Shift(estimate, low, high, confidence, "exact")
    return _bootstrapped((x, y), hodges_lehmann, estimate, confidence)


def _bootstrapped(samples: tuple[np.ndarray, ...], statistic, estimate: float, confidence: float) -> Shift:
    """``estimate`` with the BCa bootstrap interval of ``statistic`` over ``samples`` (``scipy.stats.bootstrap``;
    Efron 1987), from a fixed seed so that the same data always give the same interval."""
    result = stats.bootstrap(
        samples,
        statistic,
        vectorized=False,
        method="BCa",
        confidence_level=confidence,
        n_resamples=BOOTSTRAP_RESAMPLES,
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    interval = result.confidence_interval
    return Shift(estimate, float(interval.low), float(interval.high), confidence, "bootstrap")


def walsh_averages(d: np.ndarray) -> np.ndarray:
    """Sorted (d_i + d_j) / 2 for i ≤ j; +inf and -inf average to 0."""
    i, j = np.triu_indices(len(d))
    with np.errstate(invalid="ignore"):
        walsh = (d[i] + d[j]) / 2.0
    return np.sort(np.where(np.isnan(walsh), 0.0, walsh))


def paired_differences(x, y) -> np.ndarray:
    """x_i - y_i of oriented values paired by block (seed); a miss on both sides (-inf - -inf) is 0."""
    with np.errstate(invalid="ignore"):
        d = np.asarray(x, float) - np.asarray(y, float)
    return np.where(np.isnan(d), 0.0, d)


def paired_bounded(n: int, confidence: float) -> bool:
    """Whether n pairs give a bounded signed-rank interval at ``confidence`` (exact: needs 2/2^n ≤ 1 - confidence;
    the bootstrap used above :data:`EXACT_MAX_N` pairs always is)."""
    return n > EXACT_MAX_N or (n > 0 and order_statistic_index(signed_rank_cdf(n), confidence) >= 1)


def paired_shift_interval(d, confidence: float = 1 - ALPHA) -> Shift:
    """One-sample Hodges-Lehmann estimate of per-pair differences ``d`` (oriented; ±inf where one side of a pair
    missed its target) with its interval from the Wilcoxon signed-rank test (exact up to :data:`EXACT_MAX_N` pairs
    or with infinite differences, else BCa bootstrap).

    Raises:
        ValueError: no pairs, or a NaN difference.
    """
    d = np.asarray(d, float)
    if len(d) == 0 or np.isnan(d).any():
        raise ValueError("paired_shift_interval needs at least one difference and no NaN")
    walsh = walsh_averages(d)
    estimate = _median(walsh)
    if len(d) <= EXACT_MAX_N or not np.isfinite(d).all():
        low, high = _between(walsh, order_statistic_index(signed_rank_cdf(len(d)), confidence))
        return Shift(estimate, low, high, confidence, "exact")
    return _bootstrapped((d,), lambda s: float(np.median(walsh_averages(s))), estimate, confidence)


def p_better(x, y, delta: float = 0.0) -> float:
    """One-sided Mann-Whitney p-value of "x exceeds y by more than ``delta``" (H0: shift ≤ delta)."""
    x, y = np.asarray(x, float) - delta, np.asarray(y, float)
    if np.all(x == x[0]) and np.all(y == x[0]):
        return 1.0  # all values tie: no evidence either way (scipy would warn and return nan)
    return float(stats.mannwhitneyu(x, y, alternative="greater").pvalue)


def p_better_paired(d, delta: float = 0.0) -> float:
    """One-sided Wilcoxon signed-rank p-value of "the differences ``d`` exceed ``delta``" (±inf rank largest)."""
    d = np.asarray(d, float) - delta
    if np.all(d == 0):
        return 1.0
    finite = np.abs(d[np.isfinite(d)])
    big = (finite.max() if len(finite) else 1.0) * 2 + 1.0  # ranks are all that count: inf → beyond every value
    d = np.clip(d, -big, big)
    return float(stats.wilcoxon(d, alternative="greater", zero_method="zsplit").pvalue)


def holm_levels(p_values: list[float], alpha: float = ALPHA) -> list[float]:
    """The significance level each of m hypotheses is judged at under Holm's step-down: the j-th smallest p-value
    (j = 1..m) at α / (m - j + 1); ties keep their given order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    levels = [0.0] * m
    for rank, i in enumerate(order):
        levels[i] = alpha / (m - rank)
    return levels


def wilson_interval(k: int, n: int, confidence: float = 1 - ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (NaN bounds when n = 0)."""
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
