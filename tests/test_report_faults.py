"""Reports never fail because of data: every figure, table and summary line of a results file whose runs crashed,
diverged, missed the target or ran once says what is missing instead, a section that still raises costs only its
own scenario, and a bad value inside a results file is one line naming the file, the field and the value."""

from __future__ import annotations

import json

import pytest
from results_factory import faults_data, results_data

from benchsuite.cli import main
from benchsuite.report.html import render_report, write_report
from benchsuite.report.sections import scenario_sections
from benchsuite.report.terminal import summary_lines

ENDED = "1 oom, 1 crashed, 1 timeout, 1 failed"  # each case of the crashed scenario of faults_data


@pytest.fixture(scope="module")
def data() -> dict:
    return faults_data()


@pytest.fixture(scope="module")
def html(data, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("faults") / "r.json"
    path.write_text(json.dumps(data))
    return write_report(path, out=path.with_suffix(".html")).read_text()


def _section(html: str, name: str) -> str:
    start = html.index(f'<h2 id="{name}">')
    return html[start : html.index("<h2", start + 1)]


def test_every_section_renders_without_the_last_resort(data, html):
    assert html.startswith("<!DOCTYPE html>") and "could not be built" not in html
    assert [s["failed"] for s in scenario_sections(data)] == [None] * 7
    assert '<span class="held">held</span>' in _section(html, "tiny")  # the good scenario is untouched
    assert "— [1×, 1×]" not in html and "— [0×, ∞]" not in html  # nothing compared is never an interval


def test_a_scenario_whose_every_run_ended_early_says_what_is_missing(html):
    part = _section(html, "crashed")
    assert "<svg" not in part
    assert (
        "no curve: every run of this scenario ended before its first evaluation (2 oom, 2 crashed, 2 timeout, "
        "2 failed)." in part
    )
    assert "no time-to-target: no finished run of this scenario (2 oom, 2 crashed, 2 timeout, 2 failed)." in part
    assert "run statuses: crashed 2, failed 2, oom 2, timeout 2" in part
    assert f"<td>0/4 (0–49 %) · {ENDED}</td>" in part
    assert "<li>init=default, seed 3: failed in model build: RuntimeError: boom</li>" in part
    assert '<span class="not-judged">not judged</span>' in part
    assert f"no finished run of init=xavier_uniform ({ENDED}); no finished run of init=default ({ENDED})" in part
    assert "paired step timing of init=xavier_uniform against init=default: failed after 0 block pairs" in part
    assert "no phases: no profiled window of this scenario recorded a step (2 oom)." in part
    assert "out of memory in the profiled window" in part
    assert "no telemetry timeline: no run of this scenario recorded a telemetry sample." in part
    assert "no forest plot: no compared pair could be judged (1 pair not judged; each claim says why)." in part
    assert '<figure class="forest"' not in part


def test_a_scenario_whose_every_run_diverged_or_missed_draws_its_curves_and_says_no_run_reached(html):
    reason = "no run reached the target (val_accuracy ≥ 0.99) within 2 s"
    for name in ("diverged", "missed"):
        part = _section(html, name)
        assert "over training" in part and f"no time-to-target: {reason}." in part  # the curves, no dots
        assert '<span class="not-judged">not judged</span>' in part and reason in part
    assert "<li>init=default, seeds 0, 1, 2, 3: diverged at step 20</li>" in _section(html, "diverged")


def test_a_single_run_and_scenarios_on_batch_size_and_world_size_render(html):
    single = _section(html, "single")
    assert '<span class="not-run">not run</span>' in single
    assert "no forest plot: no claim had a compared pair here." in single
    batch = _section(html, "batch")
    assert "no time-to-target against batch size: no run finished." in batch
    assert "no throughput against batch size: no run timed a step (4 oom)." in batch
    ranks = _section(html, "ranks")
    assert "Data-parallel scaling" in ranks and "no scaling figure: no throughput (2 crashed)." in ranks


def test_the_terminal_summary_says_what_is_missing(data, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    lines = summary_lines(path)
    assert not any("summary of" in line for line in lines)
    crashed = lines[lines.index("crashed:") : lines.index("diverged:")]
    assert crashed[1].endswith(f"throughput — samples/s, {ENDED}")
    assert "  not ok: init=xavier_uniform, seed 1: timeout in model build: RuntimeError: boom" in crashed
    assert "  claim NOT JUDGED: Xavier is faster (time-to-target, better, needs 1.1×)" in crashed
    assert crashed[-1] == (
        f"    init=xavier_uniform vs init=default: not judged: no finished run of init=xavier_uniform ({ENDED}); "
        f"no finished run of init=default ({ENDED})"
    )
    missed = lines[lines.index("missed:") : lines.index("single:")]
    assert missed[-1] == (
        "    init=xavier_uniform vs init=default: not judged: no run reached the target (val_accuracy ≥ 0.99) "
        "within 2 s"
    )
    assert "  claim NOT RUN: Xavier is faster (time-to-target, better, needs 1.1×)" in lines


def test_a_section_that_raises_costs_only_its_own_scenario(data, monkeypatch, tmp_path):
    from benchsuite.report import figures, terminal

    real = figures.curve_figure

    def broken(bands, metric, target, title, axes_of=None):
        if title == "missed":
            raise ZeroDivisionError("integer division or modulo by zero")
        return real(bands, metric, target, title, axes_of)

    monkeypatch.setattr(figures, "curve_figure", broken)
    html = render_report(data)
    assert (
        "The section of scenario missed could not be built: ZeroDivisionError: integer division or modulo by zero"
    ) in html
    assert html.count("could not be built") == 1 and '<span class="held">held</span>' in _section(html, "tiny")
    assert "<svg" in _section(html, "diverged")

    real_lines = terminal.claim_lines
    monkeypatch.setattr(
        terminal, "claim_lines", lambda v, f, name: 1 / 0 if name == "missed" else real_lines(v, f, name)
    )
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    lines = summary_lines(path)
    assert "  summary of missed failed: ZeroDivisionError: division by zero" in lines
    assert "  claim HELD: Xavier is faster (time-to-target, better, needs 1.1×)" in lines


def test_a_results_file_with_no_run_yet_renders(tmp_path):
    data = results_data()
    data["benchmarks"], data["benchsuite"]["incomplete"] = [], True  # written before the first run
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    html = write_report(path, out=tmp_path / "r.html").read_text()
    assert "This session did not finish: the results file holds the 0 runs finished before it stopped" in html
    assert summary_lines(path) == [
        "WARNING: This session did not finish: the results file holds the 0 runs finished before it stopped",
        "no benchmarked runs",
    ]


def test_an_incomplete_session_is_shown_in_the_report_the_summary_and_the_cli(tmp_path, capsys):
    data = results_data()
    data["benchsuite"]["incomplete"] = True
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    html = render_report(data)
    banner = '<p class="banner" id="incomplete">This session did not finish: the results file holds the 8 runs'
    assert banner in html and html.index(banner) < html.index('id="claims"')
    assert summary_lines(path)[0].startswith("WARNING: This session did not finish: the results file holds the 8 runs")
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 0
    assert "the session did not finish" in capsys.readouterr().err
    from benchsuite.report.overview import markdown_summary

    assert "**This session did not finish: the results file holds the 8 runs" in markdown_summary(data)
    complete = results_data()
    complete["benchsuite"]["incomplete"] = False
    assert "This session did not finish" not in render_report(complete)
    assert "This session did not finish" not in render_report(results_data())  # a file that predates the mark


def test_benchmark_entries_without_benchsuites_extra_info_are_counted(tmp_path):
    data = results_data()
    data["benchmarks"] += [
        {"name": "test_other", "stats": {"median": 1.0}},
        {"name": "test_empty", "stats": {"median": 1.0}, "extra_info": {}},
    ]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    line = "2 benchmark entries without benchsuite's extra_info were left out"
    escaped = line.replace("'", "&#39;")
    assert f'<p class="note">{escaped}.</p>' in render_report(data)
    assert line in summary_lines(path)
    data["benchmarks"].pop()
    assert "1 benchmark entry without benchsuite&#39;s extra_info was left out" in render_report(data)


def _set(data: dict, path: tuple, value) -> dict:
    obj = data
    for key in path[:-1]:
        obj = obj[key]
    if value is _DELETE:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value
    return data


_DELETE = object()
_RUN = ("benchmarks", 0, "extra_info")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ((*_RUN, "timed_s"), "fast", "field 'benchmarks[0].extra_info.timed_s' is \"fast\"; expected a number or null"),
        ((*_RUN, "curve"), {"step": 0}, "field 'benchmarks[0].extra_info.curve' is {\"step\": 0}; expected a list"),
        ((*_RUN, "curve", 1), "x", "field 'benchmarks[0].extra_info.curve[1]' is \"x\"; expected an object"),
        ((*_RUN, "status"), None, "field 'benchmarks[0].extra_info.status' is null; expected text"),
        ((*_RUN, "seed"), "0", "field 'benchmarks[0].extra_info.seed' is \"0\"; expected a number"),
        ((*_RUN, "axes"), ["init"], "field 'benchmarks[0].extra_info.axes' is [\"init\"]; expected an object"),
        (("benchmarks", 0, "stats"), _DELETE, "field 'benchmarks[0].stats' is null; expected an object"),
        (("benchmarks", 0), "x", "field 'benchmarks[0]' is \"x\"; expected an object"),
        (("benchsuite", "scenarios"), [1], "field 'benchsuite.scenarios' is [1]; expected an object or null"),
        (("benchsuite", "scenarios", "tiny"), [1], "field 'benchsuite.scenarios.tiny' is [1]; expected an object"),
        (("benchsuite", "incomplete"), "yes", "field 'benchsuite.incomplete' is \"yes\"; expected true or false"),
        (("machine_info",), [], "field 'machine_info' is []; expected an object or null"),
        (("machine_info", "benchsuite", "gpu"), {"names": "H100"}, "field 'machine_info.benchsuite.gpu.names'"),
    ],
)
def test_a_bad_value_in_a_results_file_is_one_line_naming_the_file_field_and_value(
    tmp_path, capsys, path, value, message
):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_set(results_data(), path, value)))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(results_data()))
    for argv in (["report", str(bad), "-o", str(tmp_path / "r.html")], ["compare", str(good), str(bad)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {bad}: {message}") and "\n" not in err and "Traceback" not in err


def test_a_file_without_machine_info_reads_as_unknown_hardware(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_set(results_data(), ("machine_info",), _DELETE)))
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 0
    assert "benchsuite report — unknown" in (tmp_path / "r.html").read_text()
    assert summary_lines(path)[0].startswith("hardware: unknown (unknown; ? (? logical cores); GPU none)")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("workload", [1]),
        ("train", [1]),
        ("matrix", [1]),
        ("per_device", [1]),
        ("target", "val_accuracy"),
        ("claims", "abc"),
        ("name", 5),
    ],
)
def test_a_stored_scenario_in_an_unreadable_shape_is_described_with_what_can_be_read(field, value):
    data = _set(results_data(), ("benchsuite", "scenarios", "tiny", field), value)
    (section,) = scenario_sections(data)
    assert section["failed"] is None and section["spec"].problems
    assert "could not be built" not in render_report(data)


def test_compare_says_how_the_runs_of_a_case_ended(data, tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(data))
    b.write_text(json.dumps(data))
    assert main(["compare", str(a), str(b), "-o", str(tmp_path / "c.html")]) == 0
    out = capsys.readouterr().out
    assert f"  cpu-test-2c (a)                no finished run ({ENDED})" in out
    assert "  cpu-test-2c (b)                time-to-target — · steps-to-target — · time per step" not in out
    html = (tmp_path / "c.html").read_text()
    assert f"runs not ok: {ENDED}" in html and ">no finished run</td>" in html
