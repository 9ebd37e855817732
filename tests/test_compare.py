"""benchsuite compare: matching, one-sided cases, the claims matrix, the HTML comparison and the regression gate."""

from __future__ import annotations

import copy
import json
import math

import pytest
from results_factory import results_data

from benchsuite.cli import main
from benchsuite.compare.gate import GateRule, gate
from benchsuite.compare.sides import compare, load_side
from benchsuite.results.formats import ResultsError

TIMED = ("timed_s", "time_to_target_s", "step_time_s", "step_time_s_median", "eval_s")


def _slower(data: dict, factor: float) -> dict:
    """Every timed figure of every run × ``factor`` (and throughput ÷ it): the same runs on slower hardware."""
    data = copy.deepcopy(data)
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        for key in TIMED:
            if info.get(key) is not None:
                info[key] *= factor
        info["throughput_samples_per_s"] /= factor
        info["curve"] = [{**p, "timed_s": p["timed_s"] * factor} for p in info["curve"]]
        bench["stats"]["median"] *= factor
    data["machine_info"]["benchsuite"]["machine_id"] = data["benchsuite"]["machine_id"] = "cpu-slow-2c"
    return data


def _files(tmp_path, *datas):
    paths = []
    for i, data in enumerate(datas):
        path = tmp_path / f"m{i}" / f"2026112{i}T000000Z.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        paths.append(path)
    return paths


def test_cases_match_by_scenario_and_id_and_ratios_are_against_the_first(tmp_path):
    a, b = _files(tmp_path, results_data(), _slower(results_data(), 1.25))
    comparison = compare([load_side(a), load_side(b)])
    assert [s.label for s in comparison.sides] == ["cpu-test-2c", "cpu-slow-2c"]
    row = next(r for r in comparison.rows if r.case_id == "init=xavier_uniform")
    ratio = row.ratios["cpu-slow-2c"]["step_time_s_median"]
    assert (ratio.estimate, ratio.low, ratio.high) == pytest.approx((1.25, 1.25, 1.25))
    assert row.ratios["cpu-slow-2c"]["throughput_samples_per_s"].estimate == pytest.approx(0.8)
    assert row.ratios["cpu-slow-2c"]["steps_to_target"].estimate == pytest.approx(1.0)
    assert row.values["cpu-slow-2c"]["step_time_s_median"] == pytest.approx(0.125)


def test_cases_on_one_side_are_listed_and_differing_configurations_not_compared(tmp_path):
    other = results_data()
    other["benchmarks"] = other["benchmarks"][:4]  # only init=default
    for bench in other["benchmarks"]:
        bench["extra_info"]["config"] = {"train": {"lr": 0.1}}
    mine = results_data()
    for bench in mine["benchmarks"]:
        bench["extra_info"]["config"] = {"train": {"lr": 0.05}}
    other["benchsuite"]["machine_id"] = other["machine_info"]["benchsuite"]["machine_id"] = "cpu-other-2c"
    comparison = compare([load_side(p) for p in _files(tmp_path, mine, other)])
    assert comparison.only_on == {"cpu-test-2c": [("tiny", "init=xavier_uniform")], "cpu-other-2c": []}
    (row,) = comparison.rows
    assert row.config_differs == {"cpu-other-2c": True}
    assert row.ratios["cpu-other-2c"]["time_to_target_s"].estimate is None
    with pytest.raises(ResultsError, match="nothing to compare"):
        gate(comparison, [GateRule.parse("time_per_step:+10%")])


def test_claims_matrix_holds_each_machines_verdicts(tmp_path):
    refuted = results_data(default_ttt=(1.0, 1.1, 1.2, 1.3), xavier_ttt=(2.0, 2.1, 2.2, 2.3))
    refuted["benchsuite"]["machine_id"] = refuted["machine_info"]["benchsuite"]["machine_id"] = "cpu-other-2c"
    comparison = compare([load_side(p) for p in _files(tmp_path, results_data(), refuted)])
    (claim,) = comparison.claims
    assert claim.scenario == "tiny" and claim.verdicts["cpu-test-2c"].verdict == "held"
    assert claim.verdicts["cpu-other-2c"].verdict == "refuted"


def test_a_folder_means_its_newest_file_or_all_of_them_pooled(tmp_path):
    folder = tmp_path / "cpu-test-2c"
    folder.mkdir()
    (folder / "20261120T000000Z.json").write_text(json.dumps(_slower(results_data(), 2.0)))
    (folder / "20261121T000000Z.json").write_text(json.dumps(results_data()))
    assert load_side(folder).sources == (str(folder / "20261121T000000Z.json"),)
    pooled = load_side(folder, pool=True)
    assert len(pooled.runs) == 16 and not pooled.blocked  # two sessions' runs never pair by seed


@pytest.mark.parametrize(
    ("factor", "rule", "status"),
    [
        (1.0, "time_per_step:+10%", 0),  # the file against itself passes
        (1.25, "time_per_step:+10%", 1),  # every timed figure x1.25 fails a +10 % gate
        (1.25, "throughput:-10%", 1),
        (1.25, "time_per_step:+30%", 0),  # a 25 % slowdown is inside a 30 % threshold
        (1.05, "time_per_step:+10%", 0),
    ],
)
def test_regression_gate(tmp_path, capsys, factor, rule, status):
    a, b = _files(tmp_path, results_data(), _slower(results_data(), factor))
    assert main(["compare", str(a), str(b), "--fail-on", rule]) == status
    out = capsys.readouterr().out
    assert f"gate: {1 if status else 0} breach" in out or (status and "breach" in out)
    if status:
        assert "regression: tiny / init=" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "{a}", "{missing}"],
        ["compare", "{a}", "{garbled}"],
        ["compare", "{a}", "{a}", "--fail-on", "speed:+10%"],
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path, capsys, argv):
    (a,) = _files(tmp_path, results_data())
    (tmp_path / "garbled.json").write_text('{"benchmarks": [], "benchsuite": {"format": "benchsuite-results/7"}}')
    paths = {"a": a, "missing": tmp_path / "nope.json", "garbled": tmp_path / "garbled.json"}
    assert main([arg.format(**paths) for arg in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err


def test_html_comparison_stands_alone_with_the_claims_matrix(tmp_path, capsys):
    a, b = _files(tmp_path, results_data(), _slower(results_data(), 1.25))
    out = tmp_path / "cmp.html"
    assert main(["compare", str(a), str(b), "-o", str(out)]) == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<h2>Claims matrix</h2>" in html and html.count("<svg") >= 2
    assert "src=" not in html and "<link" not in html
    assert "1.25× [1.25×, 1.25×]" in html
    assert '<figure class="forest" id="forest"><svg' in html  # the claims' forest plot, one mark per machine
    text = capsys.readouterr().out
    assert "claims matrix:" in text and "cpu-slow-2c" in text


def test_time_to_target_pairs_by_seed_across_machines(tmp_path):
    six = {"default_ttt": (2.0, 2.2, 2.4, 2.6, 2.1, 2.3), "xavier_ttt": (1.0, 1.1, 1.2, 1.3, 1.05, 1.15)}
    a, b = _files(tmp_path, results_data(**six), _slower(results_data(**six), 1.25))
    assert main(["compare", str(a), str(b), "--fail-on", "time_to_target:+10%"]) == 1
    row = compare([load_side(a), load_side(b)]).rows[1]
    ratio = row.ratios["cpu-slow-2c"]["time_to_target_s"]  # each seed's run against the same seed's
    assert (ratio.estimate, ratio.low, ratio.high) == pytest.approx((1.25, 1.25, 1.25))


def test_a_case_on_two_of_three_machines_is_compared_where_it_ran(tmp_path, capsys):
    partial = _slower(results_data(), 1.25)
    partial["benchmarks"] = [b for b in partial["benchmarks"] if b["extra_info"]["case_id"] == "init=default"]
    third = _slower(results_data(), 2.0)
    third["benchsuite"]["machine_id"] = third["machine_info"]["benchsuite"]["machine_id"] = "cpu-third-2c"
    paths = _files(tmp_path, results_data(), partial, third)
    comparison = compare([load_side(p) for p in paths])
    row = next(r for r in comparison.rows if r.case_id == "init=xavier_uniform")
    assert row.ratios["cpu-slow-2c"]["step_time_s_median"].estimate is None  # cpu-slow-2c did not run it
    assert row.ratios["cpu-third-2c"]["step_time_s_median"].estimate == pytest.approx(2.0)
    assert all(not cases for cases in comparison.only_on.values())
    assert main(["compare", *map(str, paths), "-o", str(tmp_path / "c.html")]) == 0
    assert "cpu-slow-2c                    not run" in capsys.readouterr().out
    assert ">not run</td>" in (tmp_path / "c.html").read_text()


def test_the_same_machine_twice_gets_distinct_labels(tmp_path):
    a, b = _files(tmp_path, results_data(), results_data())
    labels = [s.label for s in compare([load_side(a), load_side(b), load_side(a)]).sides]
    assert len(set(labels)) == 3 and labels[1] == "cpu-test-2c (20261121T000000Z)"


def test_a_breach_line_prints_an_unbounded_end_as_infinity():
    from benchsuite.compare import gate

    assert (gate._times(math.inf), gate._times(1.2549)) == ("∞", "1.25×")
