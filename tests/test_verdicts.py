"""Claim verdicts: the decision table on constructed intervals, pairing, Holm, censoring, non-inferiority, the steps
and step-time halves, and known answers (identical configurations, a certain effect)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchsuite.analysis.effects import Shift
from benchsuite.analysis.verdicts import decide, judge
from benchsuite.specs.claims import ClaimSpec


def _claim(**fields) -> ClaimSpec:
    base = {"says": "x beats d", "cases": {"init": ["x"]}, "against": {"init": "d"}}
    return ClaimSpec.model_validate({**base, **fields})


def _ratio(low: float, high: float, estimate: float | None = None) -> Shift:
    estimate = estimate or math.sqrt(low * high)
    return Shift(math.log(estimate), math.log(low), math.log(high), 0.95, "exact")


@pytest.mark.parametrize(
    ("low", "high", "min_ratio", "verdict", "reversed_"),
    [
        (1.2, 3.0, 1.0, "held", False),
        (1.02, 1.08, 1.0, "smaller than claimed", False),  # better, but the interval excludes r* = 1.1
        (0.9, 1.05, 1.0, "refuted", False),  # excludes r*, includes no effect
        (0.5, 0.9, 1.0, "refuted", True),  # wholly worse: reversed
        (0.9, 1.5, 1.0, "inconclusive", False),
        (2.0, 8.0, 10.0, "smaller than claimed", False),  # "about 10x": better, but not 10x
        (2.0, 12.0, 10.0, "held", False),
        (0.43, 0.77, 10.0, "refuted", True),
    ],
)
def test_decision_table_for_better_claims(low, high, min_ratio, verdict, reversed_):
    assert decide(_claim(min_ratio=min_ratio), _ratio(low, high)) == (verdict, reversed_)


def test_declared_minimal_effect_raises_r_star():
    claim = _claim(min_effect=1.5)
    assert claim.required_effect == 1.5
    assert decide(claim, _ratio(1.2, 1.4)) == ("smaller than claimed", False)


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(-0.005, 0.02, "held"), (-0.05, -0.02, "refuted"), (-0.02, 0.0, "inconclusive")],
)
def test_non_inferiority_on_a_difference(low, high, verdict):
    claim = _claim(metric="final_val_metric", better="higher", kind="no_worse", margin=0.01)
    assert decide(claim, Shift((low + high) / 2, low, high, 0.9, "exact"))[0] == verdict


@pytest.mark.parametrize(
    ("low", "high", "verdict"), [(0.95, 1.05, "held"), (1.2, 1.5, "refuted"), (0.95, 1.2, "inconclusive")]
)
def test_equivalence_tost_on_a_ratio(low, high, verdict):
    claim = _claim(kind="equivalent", margin=1.1)
    assert decide(claim, _ratio(low, high))[0] == verdict


def _runs(case_ttt, ref_ttt, *, case_steps=None, ref_steps=None, step_time=(0.01, 0.01)) -> pd.DataFrame:
    """Runs of init=x (the case) and init=d (the reference), one per seed 0..n-1."""
    rows = []
    for label, ttts, steps, step in (
        ("x", case_ttt, case_steps, step_time[0]),
        ("d", ref_ttt, ref_steps, step_time[1]),
    ):
        for seed, ttt in enumerate(ttts):
            rows.append(
                {
                    "scenario": "s",
                    "case_id": f"init={label}",
                    "seed": seed,
                    "axis_init": label,
                    "status": "ok",
                    "time_to_target_s": ttt,
                    "steps_to_target": (steps or [None] * len(ttts))[seed]
                    if steps
                    else (None if ttt is None or np.isnan(ttt) else round(ttt / step)),
                    "step_time_s_median": step,
                    "final_val_metric": 0.9,
                    "unstable": False,
                }
            )
    return pd.DataFrame(rows).astype({"time_to_target_s": float, "steps_to_target": float})


def test_runs_pair_by_seed_in_a_blocked_session_with_enough_seeds():
    drift = np.array([1.0, 1.3, 0.8, 1.1, 0.9, 1.2])  # each seed's round of runs ran at its own machine speed
    runs = _runs(list(0.5 * drift), list(1.0 * drift))
    paired = judge(runs, _claim()).pairs[0]
    assert paired.effect.source == "runs paired by seed"
    assert paired.effect.estimate == pytest.approx(2.0) and paired.effect.low == pytest.approx(2.0)  # drift cancels
    two_sample = judge(runs, _claim(), blocked=False).pairs[0]
    assert two_sample.effect.source == "runs" and two_sample.effect.low < 1.9  # the drift widens the interval
    assert (
        judge(runs.iloc[[0, 1, 2, 3, 4, 6, 7, 8, 9, 10]], _claim()).pairs[0].effect.source == "runs"
    )  # 5 pairs: too few


def test_holm_correction_over_the_pairs_of_a_claim():
    rng = np.random.default_rng(1)
    rows = []
    for label, scale in (("d", 1.0), ("x", 0.5), ("y", 0.8)):
        for seed in range(8):
            rows.append(
                {
                    "scenario": "s",
                    "case_id": f"init={label}",
                    "seed": seed,
                    "axis_init": label,
                    "status": "ok",
                    "time_to_target_s": scale * rng.uniform(0.9, 1.1),
                }
            )
    runs = pd.DataFrame(rows)
    verdict = judge(runs, _claim(cases={"init": ["x", "y"]}))
    levels = sorted(p.effect.level for p in verdict.pairs)
    assert levels == pytest.approx([0.025, 0.05])  # the smaller p-value at α/2, the other at α
    assert sorted(p.effect.shift.confidence for p in verdict.pairs) == pytest.approx([0.95, 0.975])


def test_runs_that_miss_the_target_are_censored_not_dropped():
    runs = _runs([0.5] * 6, [1.0, math.nan, math.nan, 1.0, math.nan, 1.0])
    (pair,) = judge(runs, _claim()).pairs
    assert pair.effect.n_missed_against == 3 and pair.effect.estimate is None  # half missed: no ratio printed
    assert pair.verdict == "held" and pair.effect.low > 1  # a miss ranks worse than every reached run


def test_time_claims_split_into_steps_and_step_time():
    runs = _runs([0.4] * 6, [1.0] * 6, case_steps=[20] * 6, ref_steps=[100] * 6, step_time=(0.02, 0.01))
    (pair,) = judge(runs, _claim()).pairs
    assert pair.effect.estimate == pytest.approx(2.5)
    assert pair.steps.estimate == pytest.approx(5.0) and pair.step_time.estimate == pytest.approx(0.5)
    blocks = pd.DataFrame(
        {
            "scenario": "s",
            "case_id": "init=d",
            "against_id": "init=x",
            "case_s": [1.0] * 8,
            "case_steps": [100] * 8,
            "against_s": [1.0] * 8,
            "against_steps": [40] * 8,
        }
    )
    (pair,) = judge(runs, _claim(), blocks).pairs
    assert pair.step_time.source == "paired blocks" and pair.step_time.estimate == pytest.approx(0.4)


def test_a_claim_with_no_runs_on_this_device_is_not_run():
    runs = _runs([0.5] * 6, [1.0] * 6)
    assert judge(runs, _claim(cases={"init": ["z"]})).verdict == "not run"


def test_known_answer_identical_configurations_measure_alike():
    """Two labels of one configuration (same steps per seed, step time jittered by a noisy machine): a difference
    is found no more often than the 5 % the intervals allow, and equivalence within 10 % holds."""
    rng = np.random.default_rng(7)
    false, equivalent = 0, 0
    for _trial in range(100):
        ttt = list(rng.lognormal(0.0, 0.15, 8))
        jittered = [t * rng.uniform(0.97, 1.03) for t in ttt]
        verdict = judge(_runs(jittered, ttt), _claim())
        false += verdict.verdict in ("held", "smaller than claimed") or verdict.pairs[0].reversed
        equivalent += judge(_runs(jittered, ttt), _claim(kind="equivalent", margin=1.1)).verdict == "held"
    assert false <= 0.05 * 100 and equivalent == 100


def test_known_answer_a_certain_effect_always_holds():
    rng = np.random.default_rng(3)
    for _trial in range(20):
        runs = _runs(list(rng.lognormal(0.0, 0.2, 6)), list(rng.lognormal(math.log(20), 0.2, 6)))
        assert judge(runs, _claim()).verdict == "held"
