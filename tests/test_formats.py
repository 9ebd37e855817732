"""Results formats: every format this project wrote reads again; anything else is one clear line."""

from __future__ import annotations

import json

import pytest
from results_factory import format1_data, results_data

from benchsuite.cli import main
from benchsuite.report.html import render_report
from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.results.formats import CURRENT, ResultsError, migrate


def _write(tmp_path, data, name="r.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, (str, bytes)) else data) if not isinstance(
        data, bytes
    ) else path.write_bytes(data)
    return path


def test_format_1_migrates_to_the_current_format():
    old = format1_data()
    data = migrate(old, "old.json")
    assert data["benchsuite"]["format"] == f"benchsuite-results/{CURRENT}" and old["benchsuite"]["format"].endswith(
        "/1"
    )
    assert data["benchsuite"]["run_order"] == {"mode": "case-major", "seed": None}  # how format-1 sessions ran
    info = data["benchmarks"][0]["extra_info"]
    assert info["step_time_s_median"] == info["step_time_s"] and info["unstable"] is False and info["segments"] == []
    # the machine id is recomputed from the CPU record pytest-benchmark kept: a Zen 3 EPYC, no native bf16
    assert data["benchsuite"]["machine_id"] == data["machine_info"]["benchsuite"]["machine_id"] == "cpu-amd-zen3-2c"
    runs = frames.runs_frame(data)
    assert runs["step_time_s_median"].notna().all() and not frames.blocked_by_seed(data)


def test_the_earliest_scenario_spelling_migrates():
    # the first results files named the optimizer by a string and kept SGD's momentum in train
    old = format1_data()
    for optimizer in ("adam", "sgd"):
        spec = old["benchsuite"]["scenarios"]["tiny"]
        spec["train"] = {
            **{k: v for k, v in spec["train"].items() if k != "optimizer"},
            "optimizer": optimizer,
            "momentum": 0.8,
        }
        stored = frames.scenario_specs(migrate(old, "old.json"))["tiny"]
        assert stored.problems == () and stored.raw["train"]["optimizer"]["name"] == optimizer
        assert stored.raw["train"]["optimizer"].get("momentum") == (0.8 if optimizer == "sgd" else None)


def test_a_stored_spec_today_refuses_is_reported_as_stored(tmp_path, capsys):
    data = results_data()
    data["benchsuite"]["scenarios"]["tiny"]["train"]["gradient_accumulation"] = 4  # a field from another version
    stored = frames.scenario_specs(data)["tiny"]
    assert stored.claims and stored.target is not None and stored.baseline_labels() == {"init": "default"}
    assert "field 'train.gradient_accumulation'" in stored.problems[0]
    html = render_report(data)
    assert "gradient_accumulation" in html and '<span class="held">held</span>' in html
    path = _write(tmp_path, data)
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}: scenario 'tiny' as stored: field 'train.gradient_accumulation'" in err
    assert "Traceback" not in err and "errors.pydantic.dev" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2): truncated",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a text file"),
        ('{"x": 1}', "not a pytest-benchmark results file"),
        ('{"benchmarks": []}', "not a benchsuite results file (no 'benchsuite' block)"),
        ('{"benchmarks": [], "benchsuite": {"format": "asv/2"}}', "unknown results format 'asv/2'"),
        (
            '{"benchmarks": [], "benchsuite": {"format": "benchsuite-results/9"}}',
            "results format benchsuite-results/9 is newer than this benchsuite reads (up to benchsuite-results/3)",
        ),
    ],
)
def test_unreadable_results_get_one_line_naming_the_file(tmp_path, capsys, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(ResultsError, match=None) as info:
        read_results(path)
    assert str(info.value) == f"{path}: {message}" or str(info.value).startswith(f"{path}: {message}")
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: ") and "\n" not in err and "Traceback" not in err


def test_a_truncated_file_is_refused_not_half_read(tmp_path):
    text = json.dumps(results_data())
    with pytest.raises(ResultsError, match="truncated or corrupted"):
        read_results(_write(tmp_path, text[: len(text) // 2]))


def test_a_format_2_file_reads_as_one_without_profiles_and_renders_without_the_section():
    old = results_data()
    old["benchsuite"]["format"] = "benchsuite-results/2"
    old["benchsuite"]["scenarios"]["tiny"].pop("profile")  # format-2 sessions stored no profile block
    data = migrate(old, "old.json")
    assert data["benchsuite"]["format"] == "benchsuite-results/3" and frames.profiles(data) == {}
    assert frames.phases_frame(data).empty
    html = render_report(data)
    assert "Where the time goes" not in html and "<svg" in html


def test_the_committed_references_of_older_formats_still_render(tmp_path):
    from pathlib import Path

    from benchsuite.report.html import write_report

    root = Path(__file__).parents[1] / "results"
    files = sorted(root.glob("*/*.json"))
    assert files, "the committed reference runs"
    for path in files:
        out = write_report(path, out=tmp_path / f"{path.parent.name}.html")
        assert out.read_text().count("<svg") >= 5


def test_a_shape_only_a_migration_reads_is_refused_with_one_line(tmp_path):
    old = format1_data()
    old["benchsuite"]["scenarios"]["tiny"]["train"].update(optimizer=[1], momentum=0.9)  # a list is no optimizer
    with pytest.raises(ResultsError, match=r"^old.json: cannot migrate to benchsuite-results/2: TypeError: "):
        migrate(old, "old.json")


def test_the_incomplete_mark_and_the_failed_status_read_without_a_new_format():
    data = results_data()
    data["benchsuite"]["incomplete"] = True
    data["benchmarks"][0]["extra_info"].update(status="failed", error="ValueError: bad batch")
    migrated = migrate(data, "r.json")
    assert migrated["benchsuite"]["format"] == f"benchsuite-results/{CURRENT}" and frames.incomplete(migrated)
    assert frames.runs_frame(migrated)["status"].iloc[0] == "failed"
    assert not frames.incomplete(results_data())  # files that predate the mark are complete
