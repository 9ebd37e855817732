"""Statistics and claim verdicts with hand-computed expectations."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from results_factory import SPEC, results_data

from benchsuite import analysis, collect


def test_mean_ci_by_hand():
    # mean 2, sd 1, sem 1/sqrt(3); t(0.975, df=2) = 4.302653 → half-width 2.484138
    mean, low, high = analysis.mean_ci(pd.Series([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert (high - low) / 2 == pytest.approx(2.484138, rel=1e-5)


def test_mean_ci_small_samples():
    assert math.isnan(analysis.mean_ci(pd.Series([5.0]))[1])
    assert analysis.mean_ci(pd.Series([0.5, 0.5])) == (0.5, 0.5, 0.5)


def test_case_summary_median_spread_and_speedup():
    runs = collect.runs_frame(results_data())
    summary = analysis.case_summary(runs, {"tiny": SPEC}).set_index("case_id")
    base, xavier = summary.loc["init=default"], summary.loc["init=xavier_uniform"]
    assert (base["n"], base["n_reached"]) == (4, 3)  # the unreached run has no time-to-target
    assert base["ttt_median_s"] == 2.2 and (base["ttt_min_s"], base["ttt_max_s"]) == (2.0, 2.4)
    assert xavier["ttt_median_s"] == pytest.approx(1.15)
    assert xavier["speedup_vs_baseline"] == pytest.approx(2.2 / 1.15)
    assert base["speedup_vs_baseline"] == 1.0
    assert xavier["speedup_partial"]  # its baseline has a run that never reached the target
    assert xavier["final_mean"] == pytest.approx(0.93)


def test_claim_held_when_every_seed_is_faster():
    (verdict,) = analysis.claim_verdicts(collect.runs_frame(results_data()), SPEC)
    (comparison,) = verdict.comparisons
    # 4 vs 4, complete separation: one-sided Mann-Whitney p = 1 / C(8, 4) = 1/70
    assert comparison.p_value == pytest.approx(1 / 70)
    assert verdict.verdict == "held" and not verdict.underpowered
    # the unreached default run ranks as +inf, so the default median is (2.2 + 2.4) / 2
    assert comparison.median_against == pytest.approx(2.3)
    assert comparison.ratio == pytest.approx(2.3 / 1.15)  # a speedup


def test_ratio_of_a_higher_is_better_claim_is_case_over_reference():
    spec = SPEC.model_copy(update={"claims": (SPEC.claims[0].model_copy(update={"metric": "final_val_metric",
                                                                                 "better": "higher"}),)})
    (verdict,) = analysis.claim_verdicts(collect.runs_frame(results_data()), spec)
    assert verdict.comparisons[0].ratio == pytest.approx(0.93 / 0.90)
    assert verdict.verdict == "held"


def test_claim_refuted_when_the_reference_is_faster():
    data = results_data(default_ttt=(1.0, 1.1, 1.2, 1.3), xavier_ttt=(2.0, 2.1, 2.2, 2.3))
    (verdict,) = analysis.claim_verdicts(collect.runs_frame(data), SPEC)
    assert verdict.verdict == "refuted"


def test_claim_inconclusive_when_overlapping():
    data = results_data(default_ttt=(1.0, 2.0, 3.0, 4.0), xavier_ttt=(1.5, 2.5, 3.5, 0.9))
    (verdict,) = analysis.claim_verdicts(collect.runs_frame(data), SPEC)
    assert verdict.verdict == "inconclusive"


def test_min_p_value_flags_underpowered_claims():
    assert analysis.min_p_value(3, 3) == pytest.approx(0.05)  # 3 vs 3 seeds can never reach p < 0.05
    assert analysis.min_p_value(5, 5) == pytest.approx(1 / 252)


def test_curve_bands_mean_and_min_max_over_seeds():
    bands = analysis.curve_bands(collect.curves_frame(results_data()), "val_accuracy")
    last = bands[(bands["case_id"] == "init=default") & (bands["step"] == 20)].iloc[0]
    assert last["mean"] == pytest.approx(0.90) and last["n"] == 4
    assert last["timed_s"] == 2.0


def test_curve_bands_keep_only_steps_every_seed_has():
    curves = collect.curves_frame(results_data())
    curves = curves[~((curves["seed"] == 0) & (curves["step"] == 20))]
    bands = analysis.curve_bands(curves, "val_accuracy")
    assert 20 not in set(bands[bands["case_id"] == "init=default"]["step"])


def test_claim_smaller_than_claimed_when_the_ratio_falls_short():
    claim = SPEC.claims[0].model_copy(update={"min_ratio": 2.5})
    (verdict,) = analysis.claim_verdicts(collect.runs_frame(results_data()), SPEC.model_copy(update={"claims": (claim,)}))
    assert verdict.comparisons[0].ratio == pytest.approx(2.3 / 1.15)  # 2.0 < 2.5
    assert verdict.verdict == "smaller than claimed"
    claim = claim.model_copy(update={"min_ratio": 1.5})
    (verdict,) = analysis.claim_verdicts(collect.runs_frame(results_data()), SPEC.model_copy(update={"claims": (claim,)}))
    assert verdict.verdict == "held"
