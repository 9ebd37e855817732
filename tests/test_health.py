"""What looked wrong (:mod:`benchsuite.analysis.health`) and the doctor's summary (:mod:`benchsuite.report.doctor`):
hand-built results dicts that hit each rule, a clean file and an old one that hit none, the ``benchsuite.doctor``
block read back and refused when malformed, and the Doctor part of the terminal summary and the HTML report."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from results_factory import format1_data, results_data

from benchsuite.analysis.health import MFU_HIGH, MFU_LOW, Finding, findings
from benchsuite.report.doctor import doctor_lines, doctor_section, headline
from benchsuite.report.html import render_report
from benchsuite.report.terminal import summary_lines
from benchsuite.results.files import read_results
from benchsuite.results.formats import ResultsError
from benchsuite.telemetry.checks import Check

CHECKS = [
    Check("nvml_energy_counter", "ok", "energy counter read: 1.2 kJ over 3 s").as_dict(),
    Check("mfu_peak", "warn", "NVIDIA Foo is not in the peak table: no MFU", {"name": "NVIDIA Foo"}).as_dict(),
    Check("step_syncs_bf16", "fail", "3 host syncs per step in the bf16 step (loop.py:88)").as_dict(),
    Check("compile_tf32", "skipped", "no CUDA device: TF32 does not apply").as_dict(),
]


def _runs(data: dict) -> list[dict]:
    return [b["extra_info"] for b in data["benchmarks"] if b["extra_info"].get("kind", "run") == "run"]


def _fine_grid(data: dict) -> dict:
    """Every run evaluated at every step up to 40, the runs that reached doing so at step 40: a grid share of
    1/40, below the 5 % the grid rule flags."""
    for info in _runs(data):
        last = info["curve"][-1]
        info["curve"] = [{**last, "step": step, "timed_s": info["timed_s"] * step / 40} for step in range(41)]
        if info["steps_to_target"] is not None:
            info["steps_to_target"] = 40
    return data


def clean(doctor: bool = False) -> dict:
    """A file where nothing looks wrong: every run ok and steady, its telemetry whole, the grid fine (and with
    ``doctor``, a doctor block whose checks all passed)."""
    data = _fine_grid(results_data(profiles=True))
    for info in _runs(data):
        info.update(dropped_metrics=[], dropped_reasons={}, step_time_cv=0.02)
    if doctor:
        data["benchsuite"]["doctor"] = {"device": "cpu", "checks": [CHECKS[0], CHECKS[3]], "seconds": 12.34}
    return data


def _kinds(data: dict) -> list[tuple[str, str]]:
    return [(f.kind, f.where) for f in findings(data)]


def _one(data: dict, kind: str) -> Finding:
    found = [f for f in findings(data) if f.kind == kind]
    assert len(found) == 1, found
    return found[0]


def _case_runs(data: dict, case: str) -> list[dict]:
    return [i for i in _runs(data) if i["case_id"] == case]


def test_a_clean_file_has_no_findings():
    assert findings(clean()) == []
    assert findings(clean(doctor=True)) == []


def test_an_old_file_without_the_new_fields_has_no_findings(tmp_path: Path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_fine_grid(format1_data())))
    data = read_results(path)
    assert data["benchsuite"]["format"] == "benchsuite-results/3"  # migrated, so the test reads what a report reads
    assert findings(data) == []


@pytest.mark.parametrize(
    "odd",
    [
        {},
        {"benchmarks": None},
        {"benchmarks": [None, 3, {"extra_info": None}, {"extra_info": {"case_id": 4, "scenario": None}}]},
        {"benchmarks": [{"extra_info": {"scenario": "s", "case_id": "c", "mfu": "high", "dropped_metrics": 3}}]},
        {"benchmarks": [{"extra_info": {"kind": "profile", "scenario": "s", "case_id": "c", "syncs": [1]}}]},
        {"benchmarks": [], "benchsuite": {"doctor": {"checks": "not a list"}}},
        {"benchmarks": [], "benchsuite": {"doctor": {"checks": [None, {"status": "warn"}]}}},
    ],
)
def test_odd_data_never_raises(odd):
    found = findings(odd)
    assert all(isinstance(f, Finding) for f in found)
    assert doctor_lines(odd)[0].startswith("doctor: ")


def test_a_run_that_did_not_end_ok_is_listed_per_case_with_its_first_error_line():
    data = clean()
    run = _case_runs(data, "init=default")[1]
    run.update(status="crashed", error="RuntimeError: boom\n  at line 3", time_to_target_s=None, steps_to_target=None)
    _case_runs(data, "init=default")[2]["status"] = "oom"
    finding = _one(data, "not_ok")
    assert finding.where == "tiny/init=default"
    assert finding.text == "2 of 4 runs did not end ok (1 oom, 1 crashed): RuntimeError: boom"


def test_a_dropped_metric_is_counted_over_the_runs_with_its_reason():
    data = clean()
    for info in _runs(data)[:3]:
        info.update(dropped_metrics=["power_w"], dropped_reasons={"power_w": "NVMLError_NotSupported: Not Supported"})
    finding = _one(data, "dropped_metric")
    assert finding.where == "session"
    assert finding.text == "power_w dropped in 3 of 8 runs: NVMLError_NotSupported: Not Supported"


def test_runs_with_too_few_telemetry_samples_are_counted_per_scenario():
    data = clean()
    for info in _runs(data)[:5]:
        info["telemetry_coverage"] = (
            "1 of 3 samples fell inside the timed region (at least 3 are needed): no timed-region telemetry; "
            "train.min_timed_s lengthens the window"
        )
    finding = _one(data, "telemetry_coverage")
    assert finding.where == "tiny"
    assert finding.text.startswith("5 of 8 runs had too few telemetry samples in their timed region")
    assert "(first: 1 of 3 samples fell inside the timed region (at least 3 are needed))" in finding.text


@pytest.mark.parametrize(
    ("mfu", "kind", "words"),
    [
        (0.02, "mfu_low", "MFU 2.0 % (median of 4 runs) is below 5 %"),
        (0.75, "mfu_high", "MFU 75 % (median of 4 runs) is above 60 %"),
        (0.3, None, None),
    ],
)
def test_mfu_outside_its_range_is_listed_per_case(mfu, kind, words):
    data = clean()
    for info in _runs(data):
        info.update(device="cuda:0", mfu=mfu if info["case_id"] == "init=default" else 0.3)
    found = [f for f in findings(data) if f.kind.startswith("mfu")]
    if kind is None:
        assert found == []
    else:
        assert [(f.kind, f.where) for f in found] == [(kind, "tiny/init=default")]
        assert found[0].text.startswith(words)
    assert MFU_LOW < 0.3 < MFU_HIGH


def test_a_case_is_judged_on_its_median_mfu():
    data = clean()
    for info, mfu in zip(_case_runs(data, "init=default"), (0.02, 0.03, 0.9, None), strict=True):
        info["mfu"] = mfu
    assert _one(data, "mfu_low").text.startswith("MFU 3.0 % (median of 3 runs)")


def test_cuda_runs_without_mfu_say_the_gpu_is_not_in_the_peak_table():
    data = clean()
    data["machine_info"]["benchsuite"]["gpu"] = {"count": 1, "names": ["NVIDIA Foo"], "memory_mib": [1000]}
    for info in _case_runs(data, "init=default"):
        info.update(device="cuda:0", mfu=None)
    finding = _one(data, "no_mfu")
    assert finding.where == "session"
    assert finding.text.startswith("4 of 4 finished CUDA runs have no MFU: the GPU (NVIDIA Foo) is not in the peak")


def test_cpu_runs_without_mfu_are_no_finding():
    data = clean()
    assert all(info["mfu"] is None and info["device"] == "cpu" for info in _runs(data))
    assert "no_mfu" not in [kind for kind, _ in _kinds(data)]


def test_an_unstable_run_is_listed_per_case_with_its_cv():
    data = clean()
    _case_runs(data, "init=xavier_uniform")[2].update(unstable=True, step_time_cv=0.31)
    finding = _one(data, "unstable")
    assert finding.where == "tiny/init=xavier_uniform"
    assert finding.text.startswith("1 of 4 runs unstable (step-time CV 0.31; above 0.2)")


def test_a_machine_too_noisy_to_judge_time_claims_is_a_session_finding():
    data = clean()
    for info in _runs(data)[:3]:
        info.update(unstable=True, step_time_cv=0.4)
    assert _one(data, "noisy").text.startswith("3 of 8 runs unstable")


def test_a_case_whose_time_to_target_is_the_evaluation_grid_is_listed():
    data = results_data()  # evaluated every 10 steps, reached at step 10: the gap is the whole way
    found = [f for f in findings(data) if f.kind == "grid"]
    assert [f.where for f in found] == ["tiny/init=default", "tiny/init=xavier_uniform"]
    assert found[0].text.startswith("evaluation grid 100 % of the steps to target (gap 10 steps; median of 3 runs")
    assert found[1].text.startswith("evaluation grid 100 % of the steps to target (gap 10 steps; median of 4 runs")


def test_host_syncs_in_a_profiled_window_are_listed_with_their_top_sources():
    data = clean()
    window = data["benchmarks"][-1]["extra_info"]
    sources = [{"where": f"loop.py:{n}", "per_step": n / 10} for n in (10, 30, 5, 20)]
    window["syncs"] = {"checked": True, "per_step": 6.5, "sources": sources}
    finding = _one(data, "host_syncs")
    assert finding.where == "tiny/init=xavier_uniform"
    assert finding.text.startswith(
        "6.5 host syncs per step in the profiled window (loop.py:30 3/step, loop.py:20 2/step, loop.py:10 1/step, ...)"
    )


def test_unchecked_or_absent_syncs_are_no_finding():
    data = clean()
    data["benchmarks"][-1]["extra_info"]["syncs"] = {"checked": False, "per_step": 4.0, "sources": []}
    data["benchmarks"][-2]["extra_info"]["syncs"] = {"checked": True, "per_step": 0.0, "sources": []}
    assert findings(data) == []


def test_checks_that_warned_or_failed_are_one_finding_each_and_come_first():
    data = clean()
    data["benchsuite"]["doctor"] = {"device": "cuda:0", "checks": CHECKS, "seconds": 40.0}
    _case_runs(data, "init=default")[0].update(status="failed", error="ValueError: x")
    _runs(data)[0].update(dropped_metrics=["power_w"], dropped_reasons={"power_w": "no"})
    found = findings(data)
    assert [(f.kind, f.where) for f in found] == [
        ("check", "mfu_peak"),
        ("check", "step_syncs_bf16"),
        ("dropped_metric", "session"),
        ("not_ok", "tiny/init=default"),
    ]
    assert found[0].text == "NVIDIA Foo is not in the peak table: no MFU"
    assert found[1].text == "3 host syncs per step in the bf16 step (loop.py:88)"


def test_a_doctor_block_is_kept_when_read_back(tmp_path: Path):
    path = tmp_path / "doctor.json"
    path.write_text(json.dumps(clean(doctor=True)))
    assert read_results(path)["benchsuite"]["doctor"] == clean(doctor=True)["benchsuite"]["doctor"]


@pytest.mark.parametrize(
    ("doctor", "says"),
    [
        ({"checks": {"a": 1}}, "field 'benchsuite.doctor.checks' is {\"a\": 1}; expected a list or null"),
        ({"checks": [{"name": "x", "status": "bad", "text": "t"}]}, "'benchsuite.doctor.checks[0].status' is \"bad\""),
        (
            {"checks": [{"name": "x", "status": "ok"}]},
            "field 'benchsuite.doctor.checks[0].text' is null; expected text",
        ),
        ({"checks": [], "seconds": "long"}, "field 'benchsuite.doctor.seconds' is \"long\"; expected a number"),
        ([1], "field 'benchsuite.doctor' is [1]; expected an object or null"),
    ],
)
def test_a_malformed_doctor_block_is_refused_in_one_line(tmp_path: Path, doctor, says):
    data = clean()
    data["benchsuite"]["doctor"] = doctor
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as error:
        read_results(path)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_the_headline_counts_what_looked_wrong():
    assert (headline(0), headline(1), headline(3)) == (
        "doctor: nothing looked wrong",
        "doctor: 1 thing looked wrong",
        "doctor: 3 things looked wrong",
    )


def test_doctor_lines_list_the_notices_the_findings_and_every_check():
    data = clean()
    data["benchsuite"]["doctor"] = {"device": "cuda:0", "checks": CHECKS, "seconds": 40.0}
    data["machine_info"]["benchsuite"]["gpu_state"] = [{"index": 0, "name": "NVIDIA Foo", "clocks_locked": False}]
    assert doctor_lines(data) == [
        "doctor: 3 things looked wrong",
        "GPU clocks not locked",
        "- [check] mfu_peak: NVIDIA Foo is not in the peak table: no MFU",
        "- [check] step_syncs_bf16: 3 host syncs per step in the bf16 step (loop.py:88)",
        "checks (40.0 s):",
        "ok      nvml_energy_counter: energy counter read: 1.2 kJ over 3 s",
        "warn    mfu_peak: NVIDIA Foo is not in the peak table: no MFU",
        "fail    step_syncs_bf16: 3 host syncs per step in the bf16 step (loop.py:88)",
        "skipped compile_tf32: no CUDA device: TF32 does not apply",
    ]


def test_the_terminal_summary_ends_with_the_doctor_only_for_a_doctor_file(tmp_path: Path):
    doctor, plain = tmp_path / "doctor.json", tmp_path / "plain.json"
    doctor.write_text(json.dumps(clean(doctor=True)))
    plain.write_text(json.dumps(clean()))
    with_doctor, without = summary_lines(doctor), summary_lines(plain)
    assert with_doctor[: len(without)] == without
    assert with_doctor[len(without) :] == [
        "doctor: nothing looked wrong",
        "checks (12.3 s):",
        "ok      nvml_energy_counter: energy counter read: 1.2 kJ over 3 s",
        "skipped compile_tf32: no CUDA device: TF32 does not apply",
    ]
    assert not any(line.startswith("doctor:") for line in without)


def test_the_terminal_summary_of_a_doctor_file_without_runs_still_has_the_doctor(tmp_path: Path):
    data = clean(doctor=True)
    data["benchmarks"] = []
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(data))
    assert summary_lines(path)[-5:-3] == ["no benchmarked runs", "doctor: nothing looked wrong"]


def test_the_html_report_has_a_doctor_section_with_the_checks_and_the_findings():
    data = clean()
    data["benchsuite"]["doctor"] = {"device": "cuda:0", "checks": CHECKS, "seconds": 40.0}
    _case_runs(data, "init=default")[0].update(status="failed", error="ValueError: x")
    html = render_report(data)
    part = html[html.index('<section id="doctor">') : html.index("</section>", html.index('<section id="doctor">'))]
    assert "<strong>doctor: 3 things looked wrong</strong> · checks on cuda:0 in 40" in part
    for check in CHECKS:
        assert f'<td class="l">{check["name"]}</td><td class="l">{check["text"]}</td>' in part
    assert '<span class="refuted">fail</span>' in part and '<span class="held">ok</span>' in part
    assert "<li><code>check</code> <strong>mfu_peak</strong>: NVIDIA Foo is not in the peak table" in part
    assert "<li><code>not_ok</code> <strong>tiny/init=default</strong>: 1 of 4 runs did not end ok (1 failed)" in part
    assert '<li><a href="#doctor">Doctor</a></li>' in html
    assert html.index('<section id="doctor">') < html.index('<h2 id="claims">')


def test_the_html_report_of_a_file_without_a_doctor_block_has_no_doctor_section():
    data = clean()
    html = render_report(data)
    assert 'id="doctor"' not in html and "#doctor" not in html and "looked wrong" not in html
    assert doctor_section(data) is None
    with_doctor = copy.deepcopy(data)
    with_doctor["benchsuite"]["doctor"] = {"device": "cpu", "checks": [], "seconds": None}
    assert 'id="doctor"' in render_report(with_doctor)
