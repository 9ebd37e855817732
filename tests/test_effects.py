"""Effects and intervals checked against hand calculations and scipy's exact tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchsuite.analysis import effects


@pytest.mark.parametrize(("n", "m"), [(3, 4), (5, 5), (4, 7), (8, 6)])
def test_mann_whitney_null_distribution_matches_scipy_exact(n, m):
    cdf = effects.mann_whitney_cdf(n, m)
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(5):
        x, y = rng.normal(size=n), rng.normal(size=m)
        result = stats.mannwhitneyu(x, y, alternative="less", method="exact")
        assert cdf[int(result.statistic)] == pytest.approx(result.pvalue)


def test_signed_rank_null_distribution_by_hand():
    # n = 3: sign patterns give T+ = 0,1,2,3,3,4,5,6 → counts 1,1,1,2,1,1,1 of 8
    assert np.allclose(effects.signed_rank_cdf(3) * 8, np.cumsum([1, 1, 1, 2, 1, 1, 1]))
    # n = 8: P(T+ ≤ 3) = 5/256 (T+ = 0; 1; 2; 3 and 1+2)
    assert effects.signed_rank_cdf(8)[3] == pytest.approx(5 / 256)


@pytest.mark.parametrize(
    ("cdf", "k"),
    [
        (effects.mann_whitney_cdf(4, 4), 1),  # P(U ≤ 0) = 1/70 ≤ .025 < P(U ≤ 1) = 2/70
        (effects.mann_whitney_cdf(5, 5), 3),  # P(U ≤ 2) = 4/252 ≤ .025 < P(U ≤ 3) = 7/252 (Hollander & Wolfe table)
        (effects.mann_whitney_cdf(3, 3), 0),  # P(U ≤ 0) = 1/20 > .025: no bounded 95 % interval
        (effects.signed_rank_cdf(8), 4),  # P(T+ ≤ 3) = 5/256 ≤ .025 < P(T+ ≤ 4) = 7/256
        (effects.signed_rank_cdf(5), 0),  # P(T+ ≤ 0) = 1/32 > .025
    ],
)
def test_order_statistic_of_the_95_percent_interval(cdf, k):
    assert effects.order_statistic_index(cdf, 0.95) == k


def test_hodges_lehmann_interval_of_a_small_case_by_hand():
    # x - y over 4 x 4 values: -1,0,0,1,1,1,2,2,2,2,3,3,3,4,4,5; median 2; k = 1 → [D(1), D(16)] = [-1, 5]
    shift = effects.shift_interval([3, 4, 5, 6], [1, 2, 3, 4])
    assert (shift.estimate, shift.low, shift.high, shift.method) == (2.0, -1.0, 5.0, "exact")


def test_five_against_five_uses_the_third_order_statistic():
    x, y = np.arange(5) * 10.0, np.arange(5)  # differences 10i - j, 25 of them
    d = np.sort(np.subtract.outer(x, y).ravel())
    shift = effects.shift_interval(x, y)
    assert (shift.low, shift.high) == (d[2], d[22])


def test_too_few_runs_give_an_unbounded_interval():
    shift = effects.shift_interval([5.0, 6.0, 7.0], [1.0, 2.0, 3.0])
    assert shift.low == -math.inf and shift.high == math.inf and shift.estimate == 4.0


def test_paired_interval_by_hand():
    # Walsh averages of 1..6: 21 values from 1 to 6, median 3.5; n = 6 → k = 1 → [1, 6]
    shift = effects.paired_shift_interval([1, 2, 3, 4, 5, 6])
    assert (shift.estimate, shift.low, shift.high) == (3.5, 1.0, 6.0)
    assert effects.paired_bounded(6, 0.95) and not effects.paired_bounded(5, 0.95)
    assert effects.paired_bounded(7, 0.975) and not effects.paired_bounded(6, 0.975)


def test_misses_rank_last_and_tie_with_each_other():
    # the case missed twice (-inf); the reference always reached: 8 of 16 differences are -inf
    shift = effects.shift_interval([-np.inf, -np.inf, 0.0, 0.1], [-1.0, -1.1, -1.2, -1.3])
    assert shift.estimate == -math.inf and shift.low == -math.inf and shift.high == pytest.approx(1.4)
    # both missed in a pair: that pair's difference is 0, not NaN
    assert list(effects.paired_differences([-np.inf, 1.0], [-np.inf, 0.5])) == [0.0, 0.5]
    assert effects.p_better([-np.inf] * 4, [0.0] * 4) > 0.9  # misses lose to every reached run


def test_larger_samples_use_a_reproducible_bca_bootstrap():
    rng = np.random.default_rng(0)
    x, y = rng.normal(1.0, 1.0, 30), rng.normal(0.0, 1.0, 30)
    first, second = effects.shift_interval(x, y), effects.shift_interval(x, y)
    assert first == second and first.method == "bootstrap"
    assert first.low < first.estimate < first.high
    exact = effects.shift_interval(x[:20], y[:20])
    assert exact.method == "exact"


def test_holm_levels():
    # the smallest p is judged at α/3, the next at α/2, the largest at α
    assert effects.holm_levels([0.01, 0.04, 0.03]) == pytest.approx([0.05 / 3, 0.05, 0.025])
    assert effects.holm_levels([0.2]) == [0.05]


def test_wilson_interval_by_hand():
    # k = 3, n = 5, z = 1.96: centre (0.6 + z²/10) / (1 + z²/5) = 0.5565, half-width 0.3258
    low, high = effects.wilson_interval(3, 5)
    assert low == pytest.approx(0.2307, abs=1e-4) and high == pytest.approx(0.8824, abs=1e-4)
    assert all(math.isnan(v) for v in effects.wilson_interval(0, 0))
