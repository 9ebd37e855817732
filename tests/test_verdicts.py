"""Claim verdicts: the decision table on constructed intervals, pairing, Holm, censoring, non-inferiority, the steps
and step-time halves, and known answers (identical configurations, a certain effect)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from results_factory import sequential_data

from benchsuite.analysis.effects import Shift
from benchsuite.analysis.looks import Plan, open_claims, spent_tails
from benchsuite.analysis.verdicts import claim_verdicts, decide, judge
from benchsuite.report.terminal import claim_lines
from benchsuite.results import frames
from benchsuite.specs.claims import ClaimSpec
from benchsuite.specs.sequential import TopUpSpec


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


def _paired_runs(differences: dict[str, list[float]]) -> pd.DataFrame:
    """Runs of init=d (the reference, 1 s for every seed) and of each case init=<label> at exp(-d) s for seed i: the
    oriented per-seed differences are ``d`` (above 0: the case is faster)."""
    rows = [
        {"scenario": "s", "case_id": "init=d", "seed": seed, "axis_init": "d", "status": "ok", "time_to_target_s": 1.0}
        for seed in range(len(next(iter(differences.values()))))
    ]
    for label, d in differences.items():
        rows += [
            {
                "scenario": "s",
                "case_id": f"init={label}",
                "seed": seed,
                "axis_init": label,
                "status": "ok",
                "time_to_target_s": math.exp(-value),
            }
            for seed, value in enumerate(d)
        ]
    return pd.DataFrame(rows)


# 8 seeds paired by seed, r* = 1.1 (log 0.0953): Walsh averages at or above r* → the refutation p-value P(T+ ≤ c)
COUNT_0 = [-1.0] * 8  # c = 0: p = 1/256, and wholly below no effect
COUNT_2 = [0.2, 0.0] + [-5.0] * 6  # 0.2 and 0.1: c = 2, p = 3/256
COUNT_3 = [0.2, 0.3] + [-5.0] * 6  # 0.2, 0.3, 0.25: c = 3, p = 5/256
COUNT_5 = [0.2, 0.3, 0.0] + [-5.0] * 5  # and 0.1, 0.15: c = 5, p = 10/256


def test_holding_is_an_intersection_union_test_refuting_is_holm_corrected():
    rng = np.random.default_rng(1)
    verdict = judge(
        _paired_runs({"x": list(rng.uniform(0.6, 0.8, 8)), "y": list(rng.uniform(0.2, 0.3, 8))}),
        _claim(cases={"init": ["x", "y"]}),
    )
    assert verdict.verdict == "held"
    # every holding bound at the claim's whole 2.5 % (no correction: "held" needs both); the refuting bounds at
    # Holm's first level, 2.5 %/2, where the step-down stops (neither pair is refuted)
    assert [p.effect.shift.tails for p in verdict.pairs] == [pytest.approx((0.025, 0.0125))] * 2
    assert all(p.effect.level == pytest.approx(0.0125) for p in verdict.pairs)


def test_holm_steps_down_over_the_refutations():
    # p = 1/256 ≤ α/3 refutes x; then 3/256 ≤ α/2 refutes y (Bonferroni's α/3 would not); 10/256 > α stops at z
    verdict = judge(_paired_runs({"x": COUNT_0, "y": COUNT_2, "z": COUNT_5}), _claim(cases={"init": ["x", "y", "z"]}))
    x, y, z = verdict.pairs
    assert (x.verdict, x.reversed, y.verdict, verdict.verdict) == ("refuted", True, "refuted", "refuted")
    assert (x.effect.level, y.effect.level, z.effect.level) == pytest.approx((0.025 / 3, 0.025 / 2, 0.025))
    assert z.verdict == "inconclusive" and x.effect.p_refute == pytest.approx(1 / 256)


def test_holm_stops_at_the_first_pair_it_cannot_refute():
    # x refuted at α/3; y (5/256 > α/2) stops the step-down, and z, as small a p-value as y's, keeps α/2: without
    # the stop z would be judged at α and refuted
    verdict = judge(_paired_runs({"x": COUNT_0, "y": COUNT_3, "z": COUNT_3}), _claim(cases={"init": ["x", "y", "z"]}))
    x, y, z = verdict.pairs
    assert x.verdict == "refuted" and (y.verdict, z.verdict) == ("inconclusive", "inconclusive")
    assert (y.effect.level, z.effect.level) == pytest.approx((0.0125, 0.0125))


def test_holm_orders_ties_by_the_data_never_by_the_matrix():
    # four pairs with the same refutation p-value: ordered by estimate, then case id, in any listing order
    d = {label: [0.2 + 0.01 * k] * 8 for k, label in enumerate("wxyz")}
    levels = {}
    for order in ("wxyz", "zyxw"):
        runs = _paired_runs({label: d[label] for label in order})
        verdict = judge(runs, _claim(cases={"init": list(order)}))
        levels[order] = {p.effect.case_id: p.effect.level for p in verdict.pairs}
    assert levels["wxyz"] == levels["zyxw"]


def test_runs_that_miss_the_target_are_censored_not_dropped():
    runs = _runs([0.5] * 6, [1.0, math.nan, math.nan, 1.0, math.nan, 1.0])
    (pair,) = judge(runs, _claim()).pairs
    assert pair.effect.n_missed_against == 3 and pair.effect.estimate is None  # half missed: no ratio printed
    assert pair.verdict == "held" and pair.effect.low > 1  # a miss without its cut-off ranks worse than every run


def test_a_miss_is_censored_at_the_seconds_it_trained():
    # the reference reached in 1 s three times and missed three times, each cut off after 1.5 s: those runs lie
    # beyond 1.5 s, so the case (0.5 s) is at least 2× faster on every pair
    runs = _runs([0.5] * 6, [1.0, math.nan, math.nan, 1.0, math.nan, 1.0]).assign(timed_s=1.5, reached_target=False)
    (pair,) = judge(runs, _claim(min_ratio=2.0)).pairs
    assert pair.effect.low == pytest.approx(2.0) and pair.verdict == "held" and pair.strength == "confirmed"
    # a reference that never reached within 0.6 s: the case's 0.5 s is only known to be 1.2× faster at least
    never = _runs([0.5] * 6, [math.nan] * 6).assign(timed_s=0.6, reached_target=False)
    (pair,) = judge(never, _claim(min_ratio=2.0)).pairs
    assert pair.effect.low == pytest.approx(1.2) and pair.effect.high == math.inf
    assert pair.verdict == "held" and pair.strength == "consistent"  # above 1, and 2× not excluded
    assert pair.effect.never_reached == "0/6 reached within 0.6 s" and pair.effect.censored_side == "against"


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


PLAN = Plan(tuple(range(7)), TopUpSpec(looks=3))  # 7 seeds a look, 3 looks: 1/128, 0.0123, 0.0111 one-sided


def test_the_tails_each_look_spends():
    assert spent_tails(7, 3) == pytest.approx((1 / 128, 0.012268, 0.011140), abs=1e-5)
    assert spent_tails(5, 1) == (0.025,)  # one look: the whole error
    assert spent_tails(5, 3)[0] == 0.0  # 5 pairs cannot reach look 1's level: paired runs wait for look 2
    assert spent_tails(5, 3, paired=False)[0] == pytest.approx(2 / 252)  # Mann-Whitney of 5 a side can
    assert sum(spent_tails(12, 3)) > 0.025  # looks overlap: their levels add up to more than the error spent


def test_a_verdict_is_frozen_at_the_first_look_that_decides_it():
    verdict = judge(_paired_runs({"x": [0.5] * 21}), _claim(), plan=PLAN)
    assert verdict.verdict == "held" and len(verdict.looks) == 1 and verdict.settled
    (look,) = verdict.looks
    assert (look.n, look.number, look.tail, look.complete) == (7, 1, pytest.approx(1 / 128), True)
    assert verdict.pairs[0].effect.n == 7  # look 1 uses only the seeds of look 1


def test_a_claim_look_1_leaves_open_is_judged_again_at_look_2():
    d = [-0.1] + [0.5] * 20  # one seed against: at 7 pairs and 1/128, the lowest Walsh average (-0.1) is the bound
    verdict = judge(_paired_runs({"x": d}), _claim(), plan=PLAN)
    assert [look.verdict for look in verdict.looks] == ["inconclusive", "held"]
    assert verdict.verdict == "held" and verdict.pairs[0].effect.n == 14 and verdict.settled
    assert verdict.looks[1].tail == pytest.approx(spent_tails(7, 3)[1])
    assert claim_lines(verdict)[0].startswith("  claim HELD (look 2 of 3, n = 14)")
    stated = judge(_paired_runs({"x": d}), _claim(min_ratio=1.2), plan=PLAN)  # a claim that states its effect
    assert claim_lines(stated)[0].startswith("  claim HELD (confirmed: at least 1.2×; look 2 of 3, n = 14)")


def test_at_the_last_look_an_open_claim_is_inconclusive_within_the_indifference_zone():
    d = [0.3, -0.2] * 10 + [0.3]  # centred near 0.05: every look's interval holds both no effect and 1.1×
    verdict = judge(_paired_runs({"x": d}), _claim(), plan=PLAN)
    assert [look.n for look in verdict.looks] == [7, 14, 21] and verdict.verdict == "inconclusive"
    assert verdict.settled and verdict.note == "look 3 of 3, n = 21, within the indifference zone"


def test_a_look_cut_short_is_judged_with_its_seeds_and_leaves_the_claim_open():
    d = [0.3, -0.2] * 5  # 10 seeds: look 1 and 3 of look 2's 7 more (the budget ran out)
    verdict = judge(_paired_runs({"x": d}), _claim(), plan=PLAN)
    last = verdict.looks[-1]
    assert (last.number, last.n, last.planned, last.complete) == (2, 10, 14, False)
    assert not verdict.settled and verdict.note == "look 2 of 3 cut short, n = 10 of 14"
    assert last.tail < spent_tails(7, 3)[1]  # 10 of 21 seeds: less information, less error spent so far


def test_open_claims_names_the_claims_to_top_up_and_their_next_look():
    # look 1 (7 seeds each side) leaves the claim open: xavier faster on 6 seeds, slower on one
    case = [1.0] * 6 + [2.5]
    data = sequential_data(case, [2.0] * 7)
    ((claim, look),) = open_claims(data, "tiny")
    assert claim.says == "Xavier is faster" and look == 2
    # the session ran look 2's 7 more seeds: they settle it, and nothing is open
    settled = sequential_data(case + [1.0] * 7, [2.0] * 14)
    assert open_claims(settled, "tiny") == [] and open_claims(settled, "no such scenario") == []
    (verdict,) = claim_verdicts(frames.runs_frame(settled), frames.scenario_specs(settled)["tiny"], blocked=True)
    assert verdict.verdict == "held" and [look.n for look in verdict.looks] == [7, 14]


def test_a_claim_that_one_seed_carries_is_fragile():
    # 12 seeds paired: 11 faster, one (seed 11) far slower. The 95 % bound is the 14th of the 78 Walsh averages, and
    # 12 of them are at or below 0 (seed 11 alone and with each other seed): held. Without any one of the faster
    # seeds, 11 pairs leave 11 at or below 0 where the bound is the 11th: inconclusive. Without seed 11: held
    d = [1.0 + 0.01 * i for i in range(11)] + [-1.2]
    verdict = judge(_paired_runs({"x": d}), _claim())
    assert verdict.verdict == "held" and verdict.fragile_seeds == tuple(range(11)) and not verdict.fragile_quadruples
    assert "fragile: leaving out any one of seeds 0, 1, 2, 3, 4, 5, … changes it" in claim_lines(verdict)[0]
    sturdy = judge(_paired_runs({"x": d[:11] + [-0.3]}), _claim())
    assert sturdy.verdict == "held" and not sturdy.fragile
    # 6 seeds paired at 95 % need every one of them to be bounded at all: the check cannot tell, and says nothing
    assert not judge(_paired_runs({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}), _claim()).fragile


def test_the_terminal_prints_each_interval_with_its_level_and_reversed():
    verdict = judge(_paired_runs({"x": COUNT_0, "y": COUNT_2, "z": COUNT_5}), _claim(cases={"init": ["x", "y", "z"]}))
    lines = claim_lines(verdict)
    x_line = next(line for line in lines if line.startswith("    init=x vs init=d"))
    assert "0.368× [0.368×, 0.368×] 96.7 % (refuted, reversed; runs paired by seed, n 8 vs 8)" in x_line
    z_line = next(line for line in lines if line.startswith("    init=z vs init=d"))
    assert " 95 % (inconclusive;" in z_line  # 2.5 % on each bound: Holm stopped at z, at α


def test_step_time_claims_are_judged_by_quadruple():
    # 16 block pairs ABBA: quadruple q sums block pairs 2q and 2q+1; the case's steps take 0.4 of the reference's
    n = 16
    blocks = pd.DataFrame(
        {
            "scenario": "s",
            "case_id": "init=x",
            "against_id": "init=d",
            "block": range(n),
            "first": ["case", "against"] * (n // 2),
            "case_s": [0.4 + 0.01 * (i % 3) for i in range(n)],
            "case_steps": [100] * n,
            "against_s": [1.0 + 0.01 * (i % 5) for i in range(n)],
            "against_steps": [100] * n,
        }
    )
    runs = _runs([0.4] * 2, [1.0] * 2)
    verdict = judge(runs, _claim(metric="step_time_s"), blocks, plan=PLAN)
    ((pair,), (look,)) = verdict.pairs, verdict.looks
    assert pair.effect.source == "paired blocks" and pair.effect.n == 8 and look.n == 8
    assert look.tail == 0.025 and verdict.verdict == "held"  # one look at the whole error: seeds never change it
    assert pair.effect.estimate == pytest.approx(2.5, rel=0.03)
