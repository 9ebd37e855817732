"""Statistics and claim verdicts with hand-computed expectations."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from results_factory import SPEC, results_data

from benchsuite.analysis import cases, pairing
from benchsuite.results import frames


def test_mean_ci_by_hand():
    # mean 2, sd 1, sem 1/sqrt(3); t(0.975, df=2) = 4.302653 → half-width 2.484138
    mean, low, high = cases.mean_ci(pd.Series([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert (high - low) / 2 == pytest.approx(2.484138, rel=1e-5)


def test_mean_ci_small_samples():
    assert math.isnan(cases.mean_ci(pd.Series([5.0]))[1])
    assert cases.mean_ci(pd.Series([0.5, 0.5])) == (0.5, 0.5, 0.5)


def test_case_summary_median_spread_reach_and_speedup():
    runs = frames.runs_frame(results_data())
    summary = cases.case_summary(runs, {"tiny": SPEC}, blocked=False).set_index("case_id")
    base, xavier = summary.loc["init=default"], summary.loc["init=xavier_uniform"]
    assert (base["n"], base["n_reached"]) == (4, 3)  # the unreached run has no time-to-target
    assert (base["reach_low"], base["reach_high"]) == pytest.approx((0.3006, 0.9544), abs=1e-4)  # Wilson, 3/4
    assert base["ttt_median_s"] == 2.2 and (base["ttt_min_s"], base["ttt_max_s"]) == (2.0, 2.4)
    assert xavier["ttt_median_s"] == pytest.approx(1.15)
    # Hodges-Lehmann: median of the 16 ratios default/xavier, the miss ranked slowest; 4 vs 4 → [min, max]
    assert xavier["speedup_vs_baseline"] == pytest.approx(2.0)
    assert xavier["speedup_low"] == pytest.approx(2.0 / 1.3) and xavier["speedup_high"] == math.inf
    assert base["speedup_vs_baseline"] == 1.0
    assert xavier["step_time_median_s"] == pytest.approx(0.1) and xavier["final_mean"] == pytest.approx(0.93)


def test_no_speedup_when_half_a_side_missed():
    runs = frames.runs_frame(results_data(default_ttt=(2.0, None, 2.4, None)))
    summary = cases.case_summary(runs, {"tiny": SPEC}).set_index("case_id")
    assert math.isnan(summary.loc["init=xavier_uniform", "speedup_vs_baseline"])
    assert summary.loc["init=xavier_uniform", "speedup_low"] > 1  # the interval still says which is faster


def test_noise_summary_counts_unstable_runs():
    data = results_data()
    for bench in data["benchmarks"][:3]:
        bench["extra_info"].update(step_time_cv=0.5, unstable=True)
    noise = cases.noise_summary(frames.runs_frame(data))
    assert (noise["n_runs"], noise["n_unstable"]) == (8, 3) and noise["median_cv"] == 0.0
    assert cases.too_noisy(noise)  # 3 of 8 is more than a quarter
    data["benchmarks"][0]["extra_info"]["unstable"] = data["benchmarks"][1]["extra_info"]["unstable"] = False
    assert not cases.too_noisy(cases.noise_summary(frames.runs_frame(data)))


def test_step_time_ratios_of_paired_blocks_by_quadruple():
    # 16 block pairs, ABBA: quadruple q sums block pairs 2q and 2q+1 (AB + BA), ratio = Σ reference s / Σ case s
    # (100 steps each); the reference's second block of each quadruple is 0.2 s slow: the quadruple ratios are 2.1
    case_s = [1.0] * 16
    against_s = [2.0, 2.2] * 8
    blocks = pd.DataFrame(
        {
            "scenario": "s",
            "case_id": "a",
            "against_id": "b",
            "block": range(16),
            "first": ["case", "against"] * 8,
            "case_s": case_s,
            "case_steps": 100,
            "against_s": against_s,
            "against_steps": 100,
        }
    )
    blocks.loc[5, "case_s"] = 0.0  # block pair 5 cut short: quadruple 2 (block pairs 4 and 5) is left out
    (row,) = cases.step_time_ratios(blocks).to_dict("records")
    assert (row["n_blocks"], row["n_quadruples"]) == (15, 7)
    assert row["ratio"] == pytest.approx(2.1) and (row["low"], row["high"]) == pytest.approx((2.1, 2.1))
    assert row["confidence"] == pytest.approx(0.95) and row["case_step_s"] == pytest.approx(0.01)
    assert list(pairing.quadruple_log_ratios(blocks.iloc[:4])) == pytest.approx([math.log(2.1)] * 2)


def test_the_case_line_median_keeps_the_runs_that_missed():
    # default reached at 2.0, 2.2 and 2.4 s and missed once (cut off at 2.0 s); Kaplan-Meier: 3/4 after 2.0 (the
    # reach before the cut-off), then 1/2 of the 2 at risk at 2.2: S = 3/8 ≤ 1/2, the median is 2.2 s
    runs = frames.runs_frame(results_data(default_ttt=(2.0, 2.2, 2.4, None)))
    summary = cases.case_summary(runs, {"tiny": SPEC}, blocked=False).set_index("case_id")
    assert summary.loc["init=default", "ttt_median_s"] == 2.2
    # three misses cut off at 2 s, one reach at 1.0 s: no median, it lies beyond 2 s (the reached run alone: 1 s)
    runs = frames.runs_frame(results_data(default_ttt=(1.0, None, None, None)))
    row = cases.case_summary(runs, {"tiny": SPEC}, blocked=False).set_index("case_id").loc["init=default"]
    assert math.isnan(row["ttt_median_s"]) and row["ttt_median_above_s"] == 2.0
    # steps the same way: the reached run took 10 steps, the misses trained 20; no median, it lies beyond 20 steps
    assert math.isnan(row["steps_to_target_median"]) and row["steps_to_target_above"] == 20
    from benchsuite.report.terminal import _steps_text, _ttt_text

    assert (_steps_text(row), _ttt_text(row)) == ("> 20", "> 2 s")


def test_curve_bands_mean_and_min_max_over_seeds():
    bands = cases.curve_bands(frames.curves_frame(results_data()), "val_accuracy")
    last = bands[(bands["case_id"] == "init=default") & (bands["step"] == 20)].iloc[0]
    assert last["mean"] == pytest.approx(0.90) and last["n"] == 4
    assert last["timed_s"] == 2.0


def test_curve_bands_keep_only_steps_every_seed_has():
    curves = frames.curves_frame(results_data())
    curves = curves[~((curves["seed"] == 0) & (curves["step"] == 20))]
    bands = cases.curve_bands(curves, "val_accuracy")
    assert 20 not in set(bands[bands["case_id"] == "init=default"]["step"])


def test_collect_reads_segments_statistics_and_step_timing_blocks():
    from results_factory import format1_data

    from benchsuite.results.formats import migrate

    data = migrate(format1_data(), "r.json")
    data["benchmarks"][0]["extra_info"].update(
        step_time_s_median=0.09, step_time_cv=0.3, unstable=True, segments=[[0.9, 10], [1.1, 10]]
    )
    blocks = [
        {"first": "case", "case_s": 1.0, "case_steps": 10, "against_s": 2.0, "against_steps": 10},
        {"first": "against", "case_s": 1.1, "case_steps": 10, "against_s": 2.0, "against_steps": 10},
    ]
    data["benchmarks"].append(
        {
            "name": "t",
            "stats": {"median": 1.0},
            "extra_info": {
                "kind": "step_timing",
                "scenario": "tiny",
                "case_id": "init=xavier_uniform",
                "against_id": "init=default",
                "axes": {"init": "xavier_uniform"},
                "blocks": blocks,
            },
        }
    )
    runs = frames.runs_frame(data)
    assert len(runs) == 8  # the step-timing item is not a run
    first = runs.iloc[0]
    assert (first["step_time_s_median"], first["unstable"]) == (0.09, True)
    assert runs.iloc[1]["step_time_s_median"] == 0.1 and not runs.iloc[1]["unstable"]  # format 1: from step_time_s
    frame = frames.blocks_frame(data)
    assert list(frame["first"]) == ["case", "against"] and list(frame["axis_init"]) == ["xavier_uniform"] * 2
    assert frames.run_order(data) == {"mode": "case-major", "seed": None} and not frames.blocked_by_seed(data)
