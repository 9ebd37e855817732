"""History across commits: each commit's points with their intervals, steps found by PELT and confirmed by the interval
comparison of the runs either side, machines kept apart, claims over commits, the page and the ``history`` command."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from results_factory import commit_results

from benchsuite.analysis import series
from benchsuite.compare.history import build_history
from benchsuite.report.history import render_history, write_history


def _write(folder, k: int, **kwargs):
    data = commit_results(k, **kwargs)
    path = folder / data["benchsuite"]["machine_id"] / f"{data['benchsuite']['run_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _history(tmp_path, n: int = 5, **kwargs):
    for k in range(n):
        _write(tmp_path / "results", k, **kwargs)
    return build_history([tmp_path / "results"], workers=1)


def test_a_13x_step_at_the_third_commit_is_found_there_with_an_interval_excluding_1(tmp_path):
    history = _history(tmp_path, step_at=2, factor=1.3)
    steps = history.confirmed
    found = {(s.case_id, s.figure) for s in steps}
    assert found == {
        (case, figure)
        for case in ("init=default", "init=xavier_uniform")
        for figure in ("time_to_target_s", "step_time_s_median", "throughput_samples_per_s")
    }  # steps-to-target did not change, and no other commit is a step
    for s in steps:
        assert (s.index, s.before, s.after) == (2, "2222222", "3333333")
        if s.figure == "throughput_samples_per_s":
            assert s.ratio.high < 1.0 and s.ratio.estimate == pytest.approx(1 / 1.3, rel=0.03) and s.regression
        else:
            assert s.ratio.low > 1.0 and s.ratio.estimate == pytest.approx(1.3, rel=0.03) and s.regression


def test_a_history_without_a_step_reports_none(tmp_path):
    history = _history(tmp_path, n=8)
    assert history.confirmed == ()
    assert all(p is not None for p in history.points[("cpu-test-2c", "tiny", "init=default", "step_time_s_median")])


def test_an_improvement_is_a_step_for_the_better(tmp_path):
    (step, *_) = [s for s in _history(tmp_path, step_at=3, factor=0.7).confirmed if s.figure == "step_time_s_median"]
    assert step.index == 3 and step.ratio.high < 1.0 and not step.regression


def test_files_of_other_machine_ids_are_kept_apart(tmp_path):
    for k in range(5):
        _write(tmp_path / "results", k, step_at=2, factor=1.3)
        _write(tmp_path / "results", k, machine="cpu-other-2c", noise=0.03, step_at=None, factor=1.0)
    _write(tmp_path / "results", 5, machine="cpu-other-2c", step_at=0, factor=3.0)  # the other machine jumps
    history = build_history([tmp_path / "results"], workers=1)
    assert sorted(history.machines) == ["cpu-other-2c", "cpu-test-2c"]
    assert [e.short for e in history.machines["cpu-test-2c"]] == ["1111111", "2222222", "3333333", "4444444", "5555555"]
    mine = {s.index for s in history.confirmed if s.machine_id == "cpu-test-2c"}
    theirs = {s.index for s in history.confirmed if s.machine_id == "cpu-other-2c"}
    assert mine == {2} and theirs == {5}  # each machine's step at its own commit, none from mixing the two


def test_a_point_is_the_median_with_the_order_statistic_interval_of_the_median():
    p = series.point([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (p.median, p.low, p.high, p.n) == (3.0, 1.0, 5.0, 5)
    assert p.coverage == pytest.approx(1 - 2 / 32)  # [min, max] of 5: 93.75 %
    ten = series.point(np.arange(1.0, 11.0))
    assert (ten.low, ten.high) == (2.0, 9.0) and ten.coverage == pytest.approx(1 - 2 * 11 / 1024)  # k = 2
    missed = series.point([1.0, 2.0, np.nan, np.nan, np.nan], missed=[False, False, True, True, True])
    assert math.isnan(missed.median) and missed.high == math.inf and missed.missed == 3
    one_miss = series.point([1.0, 2.0, 3.0, 4.0, np.nan], missed=[False] * 4 + [True])
    assert one_miss.median == 3.0 and one_miss.high == math.inf  # a miss lies beyond every run that reached


def test_the_penalty_comes_from_the_measured_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.02, 20)
    assert series.change_points(noise, series.noise_variance(noise, np.full(20, 0.02**2))) == []
    stepped = noise + np.where(np.arange(20) >= 12, 0.2, 0.0)
    assert series.change_points(stepped, series.noise_variance(stepped, np.full(20, 0.02**2))) == [12]
    assert series.change_points(stepped, 0.2**2) == []  # the same step in noise ten times larger is not told from it
    # the noise is the larger of the runs' spread and the commit-to-commit spread (robust to the step itself)
    assert series.noise_variance(stepped, np.full(20, 0.05**2)) == pytest.approx(0.05**2)
    steps = [
        np.random.default_rng(s).normal(0.0, 0.02, 20) + np.where(np.arange(20) >= 12, 0.2, 0.0) for s in range(200)
    ]
    between = [series.noise_variance(x, np.full(20, 1e-9)) for x in steps]
    assert np.median(between) == pytest.approx(0.02**2, rel=0.2)  # the commit-to-commit spread, step or not
    assert series.change_points([0.0, 1.0], 0.01) == []  # two points cannot show a step
    with pytest.raises(ValueError, match="finite"):
        series.change_points([0.0, math.nan, 1.0], 0.01)


def test_claims_over_commits_and_report_links_on_the_page(tmp_path):
    paths = [_write(tmp_path / "results", k, step_at=2) for k in range(5)]
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "cpu-test-2c_20261103T130000Z.html").write_text("<html></html>")  # commit 3's report only
    out, history = write_history([tmp_path / "results"], tmp_path / "site" / "history.html", reports)
    html = out.read_text()
    assert html.count('href="../reports/cpu-test-2c_20261103T130000Z.html"') >= 3  # entry, strip cell, points
    assert "cpu-test-2c_20261101T130000Z.html" not in html  # no report, no link
    assert html.count('class="cell held-cell"') == 5 and "Xavier is faster" in html
    assert "<code>2222222..3333333</code>" in html and "regression" in html
    assert "src=" not in html and 'href="http' not in html  # self-contained
    assert len(paths) == sum(len(e) for e in history.machines.values())


def test_the_page_says_when_there_are_too_few_commits_and_leaves_out_a_bad_file(tmp_path):
    _write(tmp_path / "results", 0)
    (tmp_path / "results" / "cpu-test-2c" / "broken.json").write_text("{not json")
    history = build_history([tmp_path / "results"], workers=1)
    assert len(history.problems) == 1 and "broken.json: not valid JSON" in history.problems[0]
    html = render_history(history)
    assert "a series needs 3 commits" in html and "left out:" in html
    assert "One run: nothing to draw over commits yet" in html and "<svg" not in html  # one point a case: no figure


def test_the_history_command_writes_the_page_and_prints_the_steps(tmp_path):
    for k in range(5):
        _write(tmp_path / "results", k, step_at=2)
    out = tmp_path / "history.html"
    cmd = [sys.executable, "-m", "benchsuite.cli", "history", str(tmp_path / "results"), "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cpu-test-2c: 5 runs, commits 1111111..5555555" in done.stdout
    step = (
        r"step: cpu-test-2c / tiny / init=default: step_time_s_median 1\.\d+× \[1\.\d+×, 1\.\d+×\] at 2222222..3333333"
    )
    assert re.search(step + r" \(regression\)", done.stdout)
    assert out.read_text().startswith("<!DOCTYPE html>")
    missing = subprocess.run([*cmd[:4], str(tmp_path / "nowhere")], capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_files_are_read_in_parallel_with_the_same_result(tmp_path):
    serial = _history(tmp_path, step_at=2)
    parallel = build_history([tmp_path / "results"], workers=2)
    assert [(s.case_id, s.figure, s.index, s.ratio) for s in parallel.steps] == [
        (s.case_id, s.figure, s.index, s.ratio) for s in serial.steps
    ]


def test_last_keeps_each_machines_newest_runs(tmp_path):
    for k in range(6):
        _write(tmp_path / "results", k, step_at=2)
        _write(tmp_path / "results", k, machine="cpu-other-2c")
    history = build_history([tmp_path / "results"], workers=1, last=3)
    assert {m: [e.short for e in es] for m, es in history.machines.items()} == {
        "cpu-test-2c": ["4444444", "5555555", "6666666"],
        "cpu-other-2c": ["4444444", "5555555", "6666666"],
    }
    assert history.confirmed == ()  # the step at the third commit is before the window
