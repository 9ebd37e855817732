"""Effects and intervals checked against hand calculations, scipy's exact tests and exact enumeration: exact at every
size, ties and zeros never NaN, misses censored where they were cut off."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from benchsuite.analysis import effects, ranks, survival


@pytest.mark.parametrize(("n", "m"), [(3, 4), (5, 5), (4, 7), (8, 6), (21, 21), (30, 12)])
def test_mann_whitney_null_distribution_matches_scipy_exact(n, m):
    cdf = ranks.mann_whitney_cdf(n, m)
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(5):
        x, y = rng.normal(size=n), rng.normal(size=m)
        result = stats.mannwhitneyu(x, y, alternative="less", method="exact")
        assert cdf[int(result.statistic)] == pytest.approx(result.pvalue)


def test_signed_rank_null_distribution_by_hand():
    # n = 3: sign patterns give T+ = 0,1,2,3,3,4,5,6 → counts 1,1,1,2,1,1,1 of 8
    assert np.allclose(ranks.signed_rank_cdf(3) * 8, np.cumsum([1, 1, 1, 2, 1, 1, 1]))
    # n = 8: P(T+ ≤ 3) = 5/256 (T+ = 0; 1; 2; 3 and 1+2)
    assert ranks.signed_rank_cdf(8)[3] == pytest.approx(5 / 256)
    # n = 24 (beyond the old bootstrap threshold of 20): exact, as scipy's exact test counts it
    d = np.arange(1.0, 25.0) * np.where(np.arange(24) % 3 == 0, -1, 1)
    result = stats.wilcoxon(d, alternative="less", method="exact")
    assert ranks.signed_rank_cdf(24)[int(result.statistic)] == pytest.approx(result.pvalue)


def test_beyond_exact_counting_the_normal_approximation_is_close():
    n = 142  # n·m + 1 > EXACT_MAX_CELLS
    approx, exact = ranks.mann_whitney_cdf(n, n), ranks._cdf_of(ranks._counts_u(n, n))
    i = int(np.searchsorted(exact, 0.01))
    assert approx[i] == pytest.approx(exact[i], rel=0.03)
    assert effects.two_sample(np.arange(n) + 0.5, np.arange(n)).method == "normal"


@pytest.mark.parametrize(
    ("cdf", "k"),
    [
        (ranks.mann_whitney_cdf(4, 4), 1),  # P(U ≤ 0) = 1/70 ≤ .025 < P(U ≤ 1) = 2/70
        (ranks.mann_whitney_cdf(5, 5), 3),  # P(U ≤ 2) = 4/252 ≤ .025 < P(U ≤ 3) = 7/252 (Hollander & Wolfe table)
        (ranks.mann_whitney_cdf(3, 3), 0),  # P(U ≤ 0) = 1/20 > .025: no bounded 95 % interval
        (ranks.signed_rank_cdf(8), 4),  # P(T+ ≤ 3) = 5/256 ≤ .025 < P(T+ ≤ 4) = 7/256
        (ranks.signed_rank_cdf(5), 0),  # P(T+ ≤ 0) = 1/32 > .025
        (ranks.signed_rank_cdf(7), 3),  # 3/128 ≤ .025; at 2/128 (a look's level) k = 2
    ],
)
def test_order_statistic_of_the_95_percent_interval(cdf, k):
    assert ranks.order_statistic_index(cdf, 0.025) == k


def test_hodges_lehmann_interval_of_a_small_case_by_hand():
    # x - y over 4 x 4 values: -1,0,0,1,1,1,2,2,2,2,3,3,3,4,4,5; median 2; k = 1 → [D(1), D(16)] = [-1, 5]
    shift = effects.shift_interval([3, 4, 5, 6], [1, 2, 3, 4])
    assert (shift.estimate, shift.low, shift.high, shift.method) == (2.0, -1.0, 5.0, "exact")
    assert shift.confidence == pytest.approx(0.95) and shift.tails == pytest.approx((0.025, 0.025))


def test_each_bound_takes_its_own_tail():
    x, y = np.arange(5) * 10.0, np.arange(5)  # differences 10i - j, 25 of them
    d = np.sort(np.subtract.outer(x, y).ravel())
    shift = effects.shift_interval(x, y)
    assert (shift.low, shift.high) == (d[2], d[22])  # k = 3 at 2.5 % a side
    lopsided = effects.shift_interval(x, y, tails=(0.025, 0.005))  # P(U ≤ 0) = 1/252 ≤ .005 < 2/252: k = 1
    assert (lopsided.low, lopsided.high) == (d[2], d[24]) and lopsided.confidence == pytest.approx(0.97)


def test_too_few_runs_give_an_unbounded_interval():
    shift = effects.shift_interval([5.0, 6.0, 7.0], [1.0, 2.0, 3.0])
    assert shift.low == -math.inf and shift.high == math.inf and shift.estimate == 4.0


def test_paired_interval_by_hand():
    # Walsh averages of 1..6: 21 values from 1 to 6, median 3.5; n = 6 → k = 1 → [1, 6]
    shift = effects.paired_shift_interval([1, 2, 3, 4, 5, 6])
    assert (shift.estimate, shift.low, shift.high) == (3.5, 1.0, 6.0)
    assert effects.paired_bounded(6, 0.95) and not effects.paired_bounded(5, 0.95)
    assert effects.paired_bounded(7, 0.975) and not effects.paired_bounded(6, 0.975)
    assert effects.paired_bounded(7, tail=1 / 128) and not effects.paired_bounded(6, tail=1 / 128)


@pytest.mark.parametrize("n", [21, 24, 40])
def test_zero_or_tied_differences_give_zero_never_nan(n):
    zeros = effects.paired_shift_interval(np.zeros(n))
    assert (zeros.estimate, zeros.low, zeros.high) == (0.0, 0.0, 0.0)
    ties = effects.shift_interval(np.ones(n), np.ones(n))
    assert (ties.estimate, ties.low, ties.high) == (0.0, 0.0, 0.0)
    assert effects.p_better_paired(np.zeros(n)) == 1.0 and effects.p_better(np.ones(n), np.ones(n)) == 1.0
    half = effects.paired_shift_interval(np.r_[np.zeros(n - 5), np.ones(5)])  # mostly zeros: a bound, no NaN
    assert not any(math.isnan(v) for v in (half.estimate, half.low, half.high))


def test_coverage_at_21_pairs_and_21_a_side_by_exact_enumeration():
    # the bounds are order statistics of the Walsh averages (differences): for continuous data the interval misses
    # the true shift exactly when the count statistic falls in either tail, 2 · P(count ≤ k - 1) by its null law
    for cdf in (ranks.signed_rank_cdf(21), ranks.mann_whitney_cdf(21, 21)):
        k = ranks.order_statistic_index(cdf, 0.025)
        assert 1 - 2 * cdf[k - 1] >= 0.95 and 1 - 2 * cdf[k] < 0.95  # as close to 95 % as the statistic allows
    # and the law is the enumeration's: every sign pattern of 12 fixed magnitudes, the interval of each
    magnitudes = np.arange(1.0, 13.0) ** 1.3
    k = ranks.order_statistic_index(ranks.signed_rank_cdf(12), 0.025)
    covered = [
        (s := effects.paired_shift_interval(magnitudes * np.array(signs))).low <= 0 <= s.high
        for signs in itertools.product((-1, 1), repeat=12)
    ]
    assert np.mean(covered) == pytest.approx(1 - 2 * ranks.signed_rank_cdf(12)[k - 1])


def test_coverage_at_21_seeds_by_simulation_with_ties_and_heavy_tails():
    rng = np.random.default_rng(21)
    noise = np.round(rng.standard_t(3, size=(2000, 21)), 1)  # t3, and tied at 0.1
    covered = [(s := effects.paired_shift_interval(row)).low <= 0 <= s.high for row in noise]
    assert np.mean(covered) >= 0.95 - 2 * math.sqrt(0.05 * 0.95 / 2000)


def test_misses_rank_last_and_tie_with_each_other_when_their_cut_off_is_unknown():
    # the case missed twice (-inf); the reference always reached: 8 of 16 differences are -inf
    shift = effects.shift_interval([-np.inf, -np.inf, 0.0, 0.1], [-1.0, -1.1, -1.2, -1.3])
    assert shift.estimate == -math.inf and shift.low == -math.inf and shift.high == pytest.approx(1.4)
    # both missed in a pair: that pair's difference is 0, not NaN
    assert list(effects.paired_differences([-np.inf, 1.0], [-np.inf, 0.5])) == [0.0, 0.5]
    assert effects.p_better([-np.inf] * 4, [0.0] * 4) > 0.9  # misses lose to every reached run


def test_censored_misses_by_hand():
    # case reached at 1.0 s and 1.8 s; the reference at 2.0 s, and missed once, cut off at 1.5 s (true time > 1.5 s)
    x = -np.log([1.0, 1.8])
    y = effects.Bounds(np.array([-math.log(2.0), -math.inf]), np.array([-math.log(2.0), -math.log(1.5)]))
    ranked = effects.two_sample(x, y)
    # ratios (reference / case): 2 and 1.11 known; against the miss: above 1.5 and above 0.83 (lower ends only)
    assert np.exp(ranked.lo) == pytest.approx([1.5 / 1.8, 2.0 / 1.8, 1.5, 2.0])
    assert np.exp(ranked.hi) == pytest.approx([2.0 / 1.8, 2.0, math.inf, math.inf])
    # U of 2 and 2 takes 0..4 in 1, 1, 2, 1, 1 of 6 ways: at 1/6 a side k = 1 → [0.83, ∞]
    low, high = ranked.interval(1 / 6, 1 / 6)
    assert (math.exp(low), high) == (pytest.approx(1.5 / 1.8), math.inf)
    # Gehan's score #{lo > δ} - #{hi < δ} is 0 from 1.5 to 2: the estimate is their middle on the log scale
    assert math.exp(ranked.estimate()) == pytest.approx(math.sqrt(3.0))
    assert ranked.p_above(0.0) == pytest.approx(2 / 6)  # one lower end at or below no effect: P(U ≤ 1)


def test_a_side_that_never_reached_gives_a_bound_from_its_budget():
    # the reference missed all 6 runs, each cut off after 3 s; the case reached in 1 s: at least 3× faster
    x = np.zeros(6)
    y = effects.Bounds(np.full(6, -math.inf), np.full(6, -math.log(3.0)))
    shift = effects.shift_interval(x, y)
    assert math.exp(shift.low) == pytest.approx(3.0) and shift.high == math.inf
    old = effects.shift_interval(x, np.full(6, -math.inf))  # the miss as -inf: no bound to show
    assert old.low == math.inf


def test_p_values_are_the_ones_the_intervals_invert():
    rng = np.random.default_rng(5)
    for _ in range(50):
        x, y = rng.normal(0.5, 1, 7), rng.normal(0, 1, 6)
        ranked = effects.two_sample(x, y)
        for tail in (0.005, 0.0113, 0.025, 0.05):
            low, high = ranked.interval(tail, tail)
            assert (low > 0) == (ranked.p_above(0.0) <= tail + ranks.TOLERANCE)
            assert (high < 0.3) == (ranked.p_below(0.3) <= tail + ranks.TOLERANCE)


def test_wilson_interval_by_hand():
    # k = 3, n = 5, z = 1.96: centre (0.6 + z²/10) / (1 + z²/5) = 0.5565, half-width 0.3258
    low, high = effects.wilson_interval(3, 5)
    assert low == pytest.approx(0.2307, abs=1e-4) and high == pytest.approx(0.8824, abs=1e-4)
    assert all(math.isnan(v) for v in effects.wilson_interval(0, 0))


def test_kaplan_meier_median_by_hand():
    # reached at 1, 2, 4; missed, cut off at 3 and 5. S: 4/5 after 1, 3/5 after 2; at 4 one of the 2 at risk
    # reaches: 3/5 · 1/2 = 0.3 ≤ 0.5, so the median is 4 (the runs that reached alone give 2)
    times, reached = [1.0, 2.0, 3.0, 4.0, 5.0], [True, True, False, True, False]
    event_times, s = survival.kaplan_meier(times, reached)
    assert list(event_times) == [1.0, 2.0, 4.0] and s == pytest.approx([0.8, 0.6, 0.3])
    assert survival.median_time(times, reached) == (4.0, pytest.approx(math.nan, nan_ok=True))
    # no miss: the ordinary median, the middle of the two central times when S is exactly 1/2 between them
    assert survival.median_time([1.0, 2.0, 3.0, 4.0], [True] * 4)[0] == 2.5
    # more than half missed before S reaches 1/2: no median, a lower bound
    median, above = survival.median_time([1.0, 5.0, 5.0], [True, False, False])
    assert math.isnan(median) and above == 5.0
