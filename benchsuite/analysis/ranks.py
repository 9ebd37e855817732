"""Exact null distributions of the two rank statistics behind every interval, at any sample size.

- Mann-Whitney U of samples of n and m distinct values: the number of the C(n+m, n) arrangements giving each
  U = 0..n·m is the coefficient of q^U in the Gaussian binomial [n+m choose n]_q = ∏_{i=1..n} (1 - q^{m+i}) /
  (1 - q^i) (Andrews, *The Theory of Partitions*, 1976, §3.3; Hollander, Wolfe & Chicken, *Nonparametric Statistical
  Methods*, 3rd ed., 2014, §4.1).
- Wilcoxon signed-rank T+ of n distinct non-zero differences: the coefficient of q^T in ∏_{r=1..n} (1 + q^r)
  (Hollander, Wolfe & Chicken 2014, §3.1).

The counts are Python integers (exact at every size; 60 a side takes a few milliseconds), and each CDF is the exact
ratio rounded once to float64. Above :data:`EXACT_MAX_CELLS` cells (n·m + 1 for U: 141 a side; n(n+1)/2 + 1 for T+:
199 pairs) exact counting would take seconds for no gain, and the CDF is the normal approximation with a continuity
correction (Hollander, Wolfe & Chicken 2014, §3.1, §4.1); no shipped scenario comes near it (3 looks of 12 seeds: 36
a side).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

EXACT_MAX_CELLS = 20_000
"""Cells of the null distribution (n·m + 1 for U, n(n+1)/2 + 1 for T+) up to which it is counted exactly."""

TOLERANCE = 1e-12
"""Slack when a tail is compared with a CDF value: a level equal to an attainable one (2/128) attains it."""


def _counts_u(n: int, m: int) -> list[int]:
    """Orderings of n + m distinct values giving U = 0..n·m: the Gaussian binomial's coefficients, built one factor
    at a time (multiply by 1 - q^{m+i}, then divide by 1 - q^i: a running sum with stride i)."""
    size = n * m + 1
    counts = [0] * size
    counts[0] = 1
    for i in range(1, n + 1):
        a = m + i
        for u in range(size - 1, a - 1, -1):
            counts[u] -= counts[u - a]
        for u in range(i, size):
            counts[u] += counts[u - i]
    return counts


def _counts_t(n: int) -> list[int]:
    """Sign patterns of n distinct |differences| giving T+ = 0..n(n+1)/2: the coefficients of ∏ (1 + q^r)."""
    counts = [1]
    for rank in range(1, n + 1):
        grown = counts + [0] * rank
        for t in range(len(counts) - 1, -1, -1):
            grown[t + rank] += counts[t]
        counts = grown
    return counts


def _cdf_of(counts: list[int]) -> np.ndarray:
    total, running, out = sum(counts), 0, np.empty(len(counts))
    for i, c in enumerate(counts):
        running += c
        out[i] = running / total  # int / int: the exact ratio, rounded once
    out.setflags(write=False)
    return out


def _normal_cdf(size: int, mean: float, sd: float) -> np.ndarray:
    out = stats.norm.cdf((np.arange(size) + 0.5 - mean) / sd)
    out[-1] = 1.0
    out.setflags(write=False)
    return out


@functools.cache
def mann_whitney_cdf(n: int, m: int) -> np.ndarray:
    """P(U ≤ u) for u = 0..n·m under the null hypothesis (no ties), samples of n and m (read-only array).

    Raises:
        ValueError: a negative sample size.
    """
    if n < 0 or m < 0:
        raise ValueError(f"sample sizes must be ≥ 0, got {n} and {m}")
    if n * m + 1 > EXACT_MAX_CELLS:
        return _normal_cdf(n * m + 1, n * m / 2, math.sqrt(n * m * (n + m + 1) / 12))
    small, large = sorted((n, m))
    return _cdf_of(_counts_u(small, large))  # U's law is symmetric in n and m: fewer factors with the smaller


@functools.cache
def signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ ≤ t) for t = 0..n(n+1)/2 under the null hypothesis (no ties, no zeros), n pairs (read-only array).

    Raises:
        ValueError: a negative n.
    """
    if n < 0:
        raise ValueError(f"the number of pairs must be ≥ 0, got {n}")
    cells = n * (n + 1) // 2 + 1
    if cells > EXACT_MAX_CELLS:
        return _normal_cdf(cells, n * (n + 1) / 4, math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
    return _cdf_of(_counts_t(n))


def order_statistic_index(cdf: np.ndarray, tail: float) -> int:
    """k such that the k-th smallest of N statistics is a lower bound at one-sided error ``tail``: the largest k with
    P(statistic ≤ k-1) ≤ tail (the same k from the top gives the upper bound); 0 when even k = 1 does not (the
    bound is then infinite)."""
    return int(np.searchsorted(cdf, tail + TOLERANCE, side="right"))


def attained(cdf: np.ndarray, tail: float) -> float:
    """The largest one-sided error at most ``tail`` that the statistic attains, P(statistic ≤ k-1) of
    :func:`order_statistic_index` (0 when none does: the bound is infinite)."""
    k = order_statistic_index(cdf, tail)
    return float(cdf[k - 1]) if k >= 1 else 0.0
