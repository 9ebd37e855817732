"""benchsuite compare treats a missed target as the report does: a miss is censored where it was cut off (Gehan's
ranking, through the analysis' one comparison rule), so a side that never reached the target gives a bound such as
``> 1.54×``, the same as the single-machine verdict on the same runs, never an infinite ratio."""

from __future__ import annotations

import copy
import json
import math

import pytest
from results_factory import results_data

from benchsuite.analysis.verdicts import claim_verdicts
from benchsuite.compare.ratios import ratio
from benchsuite.compare.sides import compare, load_side
from benchsuite.report.compare import render_comparison
from benchsuite.report.filters import fmt_compared, fmt_effect
from benchsuite.report.terminal import compare_lines
from benchsuite.results import frames

MISSED = "init=xavier_uniform"


def _missing_all(data: dict, case: str, machine: str) -> dict:
    """``data`` on another machine, where every run of ``case`` trained its 2 s and missed the target."""
    data = copy.deepcopy(data)
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if info["case_id"] == case:
            info.update(reached_target=False, time_to_target_s=None, steps_to_target=None, epochs_to_target=None)
    data["benchsuite"]["machine_id"] = data["machine_info"]["benchsuite"]["machine_id"] = machine
    return data


def _files(tmp_path, *datas):
    paths = []
    for i, data in enumerate(datas):
        path = tmp_path / f"m{i}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    return paths


def test_a_side_that_never_reached_gives_the_censored_bound_of_the_analysis(tmp_path):
    a, b = _files(tmp_path, results_data(), _missing_all(results_data(), MISSED, "cpu-missed-2c"))
    comparison = compare([load_side(a), load_side(b)])
    row = next(r for r in comparison.rows if r.case_id == MISSED)
    ttt = row.ratios["cpu-missed-2c"]["time_to_target_s"]
    # B's 4 runs censored at 2 s against A's 1.0, 1.1, 1.2, 1.3 s: Mann-Whitney 4 a side at 2.5 % uses the extreme
    # difference, B/A > 2 / 1.3; the old rule (a miss at -inf) made it [∞, ∞]
    assert ttt.estimate is None and ttt.low == pytest.approx(2 / 1.3) and ttt.high == math.inf
    assert (ttt.censored_side, ttt.never_reached) == ("case", "0/4 reached within 2 s")
    assert fmt_compared(ttt) == "> 1.54× (0/4 reached within 2 s)"
    steps = row.ratios["cpu-missed-2c"]["steps_to_target"]  # censored at the 20 steps each ran, against A's 10
    assert steps.low == pytest.approx(2.0) and fmt_compared(steps) == "> 2× (0/4 reached within 20 steps)"

    # the same runs in one file, init=default being the runs that missed: the verdict's bound is the same number
    same = results_data(default_ttt=(None,) * 4)
    runs, spec, blocks = frames.runs_frame(same), frames.scenario_specs(same)["tiny"], frames.blocks_frame(same)
    (verdict,) = claim_verdicts(runs, spec, blocks, frames.blocked_by_seed(same))  # case-major: two samples
    effect = verdict.pairs[0].effect
    assert effect.low == pytest.approx(ttt.low) and fmt_effect(effect).startswith("> 1.54× ")

    lines = "\n".join(compare_lines(comparison))
    assert "time-to-target > 2 s (> 1.54× (0/4 reached within 2 s))" in lines  # no median: its bound, and the ratio's
    html = render_comparison(comparison)
    assert "&gt; 1.54× (0/4 reached within 2 s)" in html and "&gt; 2 s" in html and "∞, ∞" not in html


def test_a_reference_that_never_reached_gives_an_upper_bound(tmp_path):
    a, b = _files(tmp_path, _missing_all(results_data(), MISSED, "cpu-test-2c"), _slower_id(results_data()))
    row = next(r for r in compare([load_side(a), load_side(b)]).rows if r.case_id == MISSED)
    ttt = row.ratios["cpu-b-2c"]["time_to_target_s"]
    assert ttt.estimate is None and ttt.low == 0.0 and ttt.high == pytest.approx(1.3 / 2)
    assert fmt_compared(ttt) == "< 0.65× (0/4 reached within 2 s)"


def _slower_id(data: dict) -> dict:
    data["benchsuite"]["machine_id"] = data["machine_info"]["benchsuite"]["machine_id"] = "cpu-b-2c"
    return data


def test_nothing_compared_is_no_ratio():
    runs = frames.runs_frame(results_data(default_ttt=(None,) * 4))
    missed = runs[runs["case_id"] == "init=default"]
    none = ratio(missed, missed, "time_to_target_s")  # no run of either side reached the target
    assert none.estimate is None and math.isnan(none.low) and math.isnan(none.high) and fmt_compared(none) == ""
