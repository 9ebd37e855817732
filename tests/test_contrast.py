"""The one comparison rule (benchsuite.analysis.contrast): the oriented scale, the design, what is left out, an empty
side; and that the per-case speedup, the verdicts and compare all take their figures from it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchsuite.analysis import effects
from benchsuite.analysis.cases import case_summary
from benchsuite.analysis.contrast import CENSORED_AT, TINY, by_seed, contrast, half_missed, oriented, oriented_bounds
from benchsuite.analysis.verdicts import judge
from benchsuite.results.stored import StoredScenario
from benchsuite.specs.case import TargetSpec
from benchsuite.specs.claims import ClaimSpec


def test_ratio_figures_are_logs_signed_so_larger_is_better():
    values = np.array([2.0, 0.5, math.nan])
    assert oriented(values, scale="ratio", censored=True, better="lower") == pytest.approx(
        [-math.log(2.0), math.log(2.0), -math.inf]  # a missed target ranks last
    )
    higher = oriented(values, scale="ratio", censored=False, better="higher")
    assert higher[:2] == pytest.approx([math.log(2.0), -math.log(2.0)]) and math.isnan(higher[2])  # not measured
    assert oriented(np.array([0.0]), scale="ratio", censored=False, better="higher")[0] == math.log(TINY)
    assert oriented(np.array([0.9, 0.8]), scale="difference", censored=False, better="higher") == pytest.approx(
        [0.9, 0.8]
    )


def test_a_miss_is_known_beyond_where_it_was_cut_off():
    runs = pd.DataFrame(
        {
            "time_to_target_s": [1.0, None, None, None],
            "timed_s": [3.0, 2.0, None, 0.0],
            "status": ["ok", "ok", "ok", "crashed"],
            "reached_target": [True, False, False, False],
        }
    )
    lower = oriented_bounds(
        runs, "time_to_target_s", scale="ratio", censored=True, better="lower", censored_at="timed_s"
    )
    assert list(lower.lo[:3]) == [0.0, -math.inf, -math.inf] and list(lower.hi[:3]) == [0.0, -math.log(2.0), -math.inf]
    assert math.isnan(lower.lo[3]) and math.isnan(lower.hi[3])  # it did not finish: left out, no miss
    higher = oriented_bounds(
        runs, "time_to_target_s", scale="ratio", censored=True, better="higher", censored_at="timed_s"
    )
    assert (higher.lo[1], higher.hi[1]) == (math.log(2.0), math.inf)  # a longer time is better: beyond its cut-off
    assert CENSORED_AT == {"time_to_target_s": "timed_s", "steps_to_target": "steps"}
    # against a reference at 1.5 s: the case's run at 1 s is 1.5× faster, its miss (beyond 2 s) at most 0.75× as fast
    result = contrast(effects.Bounds(lower.lo[:2], lower.hi[:2]), [-math.log(1.5)], paired=False, confidence=0.5)
    assert result.n_missed == 1 and result.comparable
    assert np.exp(result.ranked.lo) == pytest.approx([0.0, 1.5]) and np.exp(result.ranked.hi) == pytest.approx(
        [0.75, 1.5]
    )


def test_runs_pair_by_seed_only_in_blocks_with_the_same_seeds_and_enough_of_them():
    assert by_seed(list(range(6)), blocked=True, confidence=0.95)
    assert not by_seed(list(range(5)), blocked=True, confidence=0.95)  # 2/2^5 > 0.05: an unbounded interval
    assert not by_seed(list(range(6)), blocked=False, confidence=0.95)  # case-major runs do not pair
    assert not by_seed(None, blocked=True, confidence=0.95)  # the sides ran different seeds
    assert by_seed(list(range(7)), blocked=True, tail=1 / 128) and not by_seed(list(range(6)), True, tail=1 / 128)


def test_a_paired_contrast_by_hand():
    # per-seed differences 1, 2, 3, 4, 5, 6: Walsh averages have median 3.5; at 6 pairs the 95 % interval is the
    # smallest and largest of the 21 Walsh averages (k = 1)
    x, y = np.arange(1.0, 7.0) + 10.0, np.full(6, 10.0)
    result = contrast(x, y, paired=True, confidence=0.95)
    assert result.paired and result.shift.estimate == pytest.approx(3.5)
    assert (result.shift.low, result.shift.high) == pytest.approx((1.0, 6.0))
    assert list(result.differences) == pytest.approx([1, 2, 3, 4, 5, 6])


def test_values_not_measured_are_left_out_with_their_pair():
    x = np.array([1.0, math.nan, 3.0, 4.0])
    y = np.array([0.0, 0.0, math.nan, 0.0])
    paired = contrast(x, y, paired=True, confidence=0.9)
    assert (paired.n, paired.n_against) == (2, 2) and list(paired.differences) == [1.0, 4.0]
    two = contrast(x, y, paired=False, confidence=0.9)
    assert (two.n, two.n_against) == (3, 3)
    with pytest.raises(ValueError, match="one value per seed"):
        contrast(x[:3], y, paired=True, confidence=0.9)


def test_a_side_with_no_value_gives_an_unbounded_interval_and_no_estimate():
    result = contrast(np.array([math.nan, math.nan]), np.array([1.0, 2.0]), paired=False, confidence=0.95)
    assert result.empty and result.half_missed
    assert (result.shift.low, result.shift.high) == (-math.inf, math.inf)


def test_half_missed_counts_either_side():
    assert not half_missed(4, 1, 4, 1)
    assert half_missed(4, 2, 4, 0) and half_missed(4, 0, 4, 2) and half_missed(0, 0, 4, 0)


def _claim(metric: str) -> ClaimSpec:
    fields = {"says": "x", "metric": metric, "better": "higher", "cases": {"init": ["x"]}, "against": {"init": "d"}}
    return ClaimSpec.model_validate(fields)


def _runs(column: str, case: list[float], reference: list[float]) -> pd.DataFrame:
    rows = [
        {
            "scenario": "s",
            "case_id": f"init={label}",
            "seed": seed,
            "axis_init": label,
            "status": "ok",
            column: value,
            "is_baseline": label == "d",
        }
        for label, values in (("x", case), ("d", reference))
        for seed, value in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_a_verdict_leaves_out_a_figure_that_was_not_measured():
    # a run that failed before its first evaluation after epoch 1 has no epoch-1 metric: it is left out, not tied
    runs = _runs("val_metric_epoch1", [0.9, 0.9, math.nan, 0.9], [0.8, 0.8, 0.8, 0.8])
    (pair,) = judge(runs, _claim("val_metric_epoch1"), blocked=False).pairs
    assert (pair.effect.n, pair.effect.n_against) == (3, 4) and pair.effect.estimate == pytest.approx(0.1)


def test_a_verdict_with_no_value_on_a_side_is_not_judged_never_refuted():
    runs = _runs("val_metric_epoch1", [math.nan] * 4, [0.8] * 4)
    verdict = judge(runs, _claim("val_metric_epoch1"), blocked=False)
    assert verdict.verdict == "not judged" and verdict.pairs[0].effect.estimate is None


def test_the_per_case_speedup_is_the_contrast_of_time_to_target():
    runs = _runs("time_to_target_s", [1.0, 2.0, 1.5], [2.0, 4.0, 3.0])
    target = TargetSpec(metric="val_accuracy", value=0.5)
    spec = StoredScenario("s", "", "", (0, 1, 2), target, (), {"init": "d"}, {"init": ("d", "x")}, raw={})
    for column in (
        "steps_to_target",
        "epochs_to_target",
        "final_val_metric",
        "val_metric_epoch1",
        "throughput_samples_per_s",
        "timed_s",
        "step_time_s_median",
        "unstable",
    ):
        runs[column] = 0.0
    summary = case_summary(runs, {"s": spec}, blocked=False).set_index("case_id")
    x = oriented(np.array([1.0, 2.0, 1.5]), scale="ratio", censored=True, better="lower")
    y = oriented(np.array([2.0, 4.0, 3.0]), scale="ratio", censored=True, better="lower")
    expected = contrast(x, y, paired=False, confidence=0.95).shift
    assert summary.loc["init=x", "speedup_vs_baseline"] == pytest.approx(math.exp(expected.estimate))
    assert summary.loc["init=x", "speedup_low"] == pytest.approx(math.exp(expected.low))
