"""The verdict "not judged": a pair with nothing to compare (a side without a finished run with a value, or no run of
either side reached the target) is never held or refuted; it says why, in the analysis, the overview, the HTML
report, the terminal summary and compare."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from results_factory import in_scenario, results_data, run_entry, unfinished_entry, with_scenarios

from benchsuite.analysis.cases import case_summary
from benchsuite.analysis.contrast import oriented_column
from benchsuite.analysis.decisions import NOT_JUDGED, VERDICTS, combine
from benchsuite.analysis.verdicts import judge
from benchsuite.cli import main
from benchsuite.compare.sides import compare, load_side
from benchsuite.report.compare import VERDICT_COLOURS, render_comparison
from benchsuite.report.html import render_report
from benchsuite.report.overview import markdown_summary, overview_rows
from benchsuite.report.terminal import compare_lines
from benchsuite.results.stored import StoredScenario
from benchsuite.specs.case import TargetSpec
from benchsuite.specs.claims import ClaimSpec


def _claim(**fields) -> ClaimSpec:
    base = {"says": "x beats d", "cases": {"init": ["x"]}, "against": {"init": "d"}}
    return ClaimSpec.model_validate({**base, **fields})


def _runs(sides: dict[str, list[tuple[str, float | None]]], timed_s: float = 0.52) -> pd.DataFrame:
    """Runs of init=<label> per side: (status, time-to-target or None), one per seed 0..n-1, target accuracy 0.9."""
    rows = [
        {
            "scenario": "s",
            "case_id": f"init={label}",
            "seed": seed,
            "axis_init": label,
            "is_baseline": label == "d",
            "status": status,
            "timed_s": timed_s if status in ("ok", "diverged") else 0.0,
            "time_to_target_s": ttt,
            "reached_target": ttt is not None,
            "steps_to_target": None if ttt is None else round(ttt * 100),
            "step_time_s_median": 0.01 if status in ("ok", "diverged") else None,
            "val_metric_epoch1": 0.5,
            "target_metric": "val_accuracy",
            "target_value": 0.9,
            "unstable": False,
        }
        for label, runs in sides.items()
        for seed, (status, ttt) in enumerate(runs)
    ]
    return pd.DataFrame(rows).astype({"time_to_target_s": float, "steps_to_target": float})


MISSED = [("ok", None)] * 6


def test_no_run_reached_the_target_on_either_side_is_not_judged_never_refuted():
    verdict = judge(_runs({"x": MISSED, "d": [("diverged", None)] * 6}), _claim())
    assert verdict.verdict == NOT_JUDGED and verdict.label == "not judged"
    assert verdict.reason == "no run reached the target (val_accuracy ≥ 0.9) within 0.52 s"
    (pair,) = verdict.pairs
    assert pair.verdict == NOT_JUDGED and pair.reason == verdict.reason and pair.steps is None
    assert pair.effect.estimate is None and math.isnan(pair.effect.low) and math.isnan(pair.effect.high)


def test_a_side_without_a_finished_run_is_not_judged_with_how_its_runs_ended():
    ended = [("crashed", None)] * 3 + [("oom", None)]
    verdict = judge(_runs({"x": ended, "d": [("ok", 1.0)] * 4}), _claim())
    assert verdict.verdict == NOT_JUDGED
    assert verdict.reason == "no finished run of init=x (1 oom, 3 crashed)"
    failed = judge(_runs({"x": [("failed", None)] * 4, "d": [("ok", 1.0)] * 4}), _claim())
    assert failed.reason == "no finished run of init=x (4 failed)"


def test_a_metric_no_run_recorded_is_not_judged():
    runs = _runs({"x": [("ok", 1.0)] * 4, "d": [("ok", 1.0)] * 4}).drop(columns="val_metric_epoch1")
    verdict = judge(runs, _claim(metric="val_metric_epoch1", better="higher"), blocked=False)
    assert verdict.verdict == NOT_JUDGED
    assert verdict.reason.startswith("no finished run of init=x has a validation metric after epoch 1 (4 ok)")


def test_runs_that_did_not_finish_are_left_out_not_counted_as_misses():
    runs = _runs({"x": [("ok", 0.5)] * 6, "d": [("ok", 1.0)] * 4 + [("crashed", None), ("oom", None)]})
    (pair,) = judge(runs, _claim(), blocked=False).pairs
    assert (pair.effect.n, pair.effect.n_against, pair.effect.n_missed_against) == (6, 4, 0)
    assert pair.effect.estimate == pytest.approx(2.0) and pair.verdict == "held"


def test_one_side_reached_the_other_never_is_still_judged_censored():
    # the reference's misses are cut off at 0.52 s: the case, at 0.5 s, is at least 1.04× faster, no more is known
    verdict = judge(_runs({"x": [("ok", 0.5)] * 6, "d": MISSED}), _claim())
    (pair,) = verdict.pairs
    assert verdict.verdict == "held" and pair.effect.low == pytest.approx(0.52 / 0.5) and pair.effect.high == math.inf
    assert pair.effect.never_reached == "0/6 reached within 0.52 s" and pair.effect.estimate is None
    # the case never reached within 0.52 s: at most 0.6 / 0.52 = 1.15× faster than a reference at 0.6 s (1.1× not
    # excluded), and slower than one at 0.5 s (at most 0.96×)
    assert judge(_runs({"x": MISSED, "d": [("ok", 0.6)] * 6}), _claim()).verdict == "inconclusive"
    slower = judge(_runs({"x": MISSED, "d": [("ok", 0.5)] * 6}), _claim())
    assert slower.verdict == "refuted" and slower.reversed


def test_the_judged_pairs_decide_a_claim_and_take_the_holm_correction_among_themselves():
    runs = _runs({"x": [("ok", 0.5)] * 6, "y": [("crashed", None)] * 6, "d": [("ok", 1.0)] * 6})
    verdict = judge(runs, _claim(cases={"init": ["x", "y"]}))
    assert verdict.verdict == "held" and verdict.note == "1 of 2 pairs not judged" and verdict.n_not_judged == 1
    judged, skipped = verdict.pairs
    assert judged.effect.level == pytest.approx(0.025)  # the only judged pair: 2.5 % a side, not Holm's 1.25 %
    assert skipped.verdict == NOT_JUDGED and skipped.reason == "no finished run of init=y (6 crashed)"
    assert verdict.reason is None


@pytest.mark.parametrize(
    ("pairs", "claim"),
    [
        ([], "not run"),
        ([NOT_JUDGED, NOT_JUDGED], "not judged"),
        (["held", NOT_JUDGED], "held"),
        (["refuted", NOT_JUDGED, "held"], "refuted"),
        (["inconclusive", "held"], "inconclusive"),
        (["smaller than claimed", "held", NOT_JUDGED], "smaller than claimed"),
    ],
)
def test_how_a_claim_combines_its_pairs(pairs, claim):
    assert combine(pairs) == claim


def test_a_censored_figure_missing_from_a_run_that_reached_is_not_a_miss():
    runs = pd.DataFrame(
        {"t": [1.0, None, None, None], "status": ["ok", "ok", "ok", "oom"], "reached_target": [True, False, True, None]}
    )
    values = oriented_column(runs, "t", scale="ratio", censored=True, better="lower")
    assert values[0] == 0.0 and values[1] == -math.inf and np.isnan(values[2:]).all()


def test_the_speedup_against_the_baseline_has_no_interval_when_nothing_is_compared():
    runs = _runs({"x": MISSED, "d": MISSED})
    for column in ("epochs_to_target", "final_val_metric", "throughput_samples_per_s"):
        runs[column] = math.nan
    target = TargetSpec(metric="val_accuracy", value=0.9)
    spec = StoredScenario("s", "", "", tuple(range(6)), target, (), {"init": "d"}, {"init": ("d", "x")}, raw={})
    row = case_summary(runs, {"s": spec}, blocked=False).set_index("case_id").loc["init=x"]
    assert all(math.isnan(row[k]) for k in ("speedup_vs_baseline", "speedup_low", "speedup_high"))


def _not_judged_data() -> dict:
    """The tiny scenario as it ran, and "missed": no run reaches the target."""
    missed = [run_entry(c, s, None, 0.5) for c in ("default", "xavier_uniform") for s in range(4)]
    return with_scenarios(in_scenario("missed", missed))


REASON = "no run reached the target (val_accuracy ≥ 0.99) within 2 s"


def test_the_overview_and_the_markdown_say_not_judged_and_why():
    data = _not_judged_data()
    row = next(r for r in overview_rows(data) if r.scenario == "missed")
    assert row.verdict == "not judged" and row.effects == (
        f"init=xavier_uniform vs init=default: not judged: {REASON}",
    )
    markdown = markdown_summary(data)
    assert (
        f"| missed | Xavier is faster | **not judged** | init=xavier_uniform vs init=default: not judged: {REASON} |"
        in (markdown)
    )
    assert "Verdicts: held 1, not judged 1 (of 2 claims)." in markdown


def test_the_html_report_shows_not_judged_with_its_reason():
    html = render_report(_not_judged_data())
    overview = html[html.index('id="claims"') : html.index('id="contents"')]
    assert '<span class="not-judged">not judged</span>' in overview and REASON in overview
    section = html[html.index('<h2 id="missed">') :]
    assert '<span class="not-judged">not judged</span>: “Xavier is faster”' in section
    assert f'<td class="l note">{REASON}</td><td>—</td>' in section


def test_a_partly_judged_claim_shows_how_many_pairs_were_not_judged():
    data = results_data()
    spec = data["benchsuite"]["scenarios"]["tiny"]
    spec["matrix"]["init"] = ["default", "xavier_uniform", "kaiming_normal"]
    spec["claims"][0]["cases"] = {"init": ["xavier_uniform", "kaiming_normal"]}
    data["benchmarks"] += [unfinished_entry("kaiming_normal", s, "oom") for s in range(4)]
    (row,) = overview_rows(data)
    assert row.verdict == "held" and row.note == "1 of 2 pairs not judged"
    assert (
        "init=kaiming_normal vs init=default: not judged: no finished run of init=kaiming_normal (4 oom)" in row.effects
    )
    assert '<br><span class="note">1 of 2 pairs not judged</span>' in render_report(data)


def test_compare_shows_not_judged_in_the_claims_matrix_and_its_colour(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_not_judged_data()))
    b.write_text(json.dumps(_not_judged_data()))
    comparison = compare([load_side(a), load_side(b)])
    text = "\n".join(compare_lines(comparison))
    assert f"cpu-test-2c (a)                not judged: {REASON}" in text
    row = next(r for r in comparison.rows if r.scenario == "missed")
    assert row.ratios["cpu-test-2c (b)"]["time_to_target_s"].estimate is None  # nobody reached: no ratio
    assert math.isnan(row.ratios["cpu-test-2c (b)"]["time_to_target_s"].low)
    html = render_comparison(comparison)
    assert '<span class="not-judged">not judged</span>' in html and REASON in html
    assert set(VERDICT_COLOURS) == set(VERDICTS)  # a colour for every verdict of the heat map


def test_compare_of_one_file_or_of_files_with_no_case_in_common_exits_2_saying_why(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(results_data()))
    other = results_data()
    for bench in other["benchmarks"]:
        bench["extra_info"]["scenario"] = "other"
    other["benchsuite"]["scenarios"] = {"other": {**other["benchsuite"]["scenarios"]["tiny"], "name": "other"}}
    b.write_text(json.dumps(other))
    assert main(["compare", str(a)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: nothing to compare: one side only ({a}); compare takes two results files or folders, or more"
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: nothing to compare: no case in common between {a} (tiny: 2 cases); {b} (other: 2 cases)"


def test_compare_marks_a_side_whose_session_did_not_finish(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(results_data()))
    unfinished = results_data()
    unfinished["benchsuite"]["incomplete"] = True
    b.write_text(json.dumps(unfinished))
    comparison = compare([load_side(a), load_side(b)])
    assert [s.incomplete for s in comparison.sides] == [False, True]
    first, second = compare_lines(comparison)[:2]
    assert "incomplete" not in first and second.endswith(f"{b} (incomplete: its session did not finish)")
    assert "the session did not finish; its results file holds the runs finished before it stopped" in (
        render_comparison(comparison)
    )
