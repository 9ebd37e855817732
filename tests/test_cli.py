"""The benchsuite command line: schema, validate, list, report. Errors are messages, never tracebacks."""

from __future__ import annotations

import json

from conftest import tiny_spec, write_yaml
from results_factory import results_data

from benchsuite.cli import main


def test_schema_is_json_schema_of_the_format(capsys, tmp_path):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "ScenarioSpec" and "matrix" in schema["properties"]
    assert main(["schema", "-o", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text()) == schema


def test_validate_good_and_bad(capsys, scenario_dir):
    assert main(["validate", str(scenario_dir)]) == 0
    assert "tiny, 2 cases x 2 seeds" in capsys.readouterr().out
    write_yaml(scenario_dir / "zbad.yaml", tiny_spec(name="bad", seeds="many"))
    assert main(["validate", str(scenario_dir)]) == 1
    out = capsys.readouterr()
    assert "ok      " in out.out
    assert "zbad.yaml: field 'seeds'" in out.err and "'many'" in out.err and "Traceback" not in out.err


def test_validate_shipped_scenarios(capsys):
    from pathlib import Path

    assert main(["validate", str(Path(__file__).parents[1] / "scenarios")]) == 0


def test_list_prints_run_ids(capsys, scenario_dir):
    assert main(["list", str(scenario_dir)]) == 0
    assert capsys.readouterr().out.split() == [  # seed-major: every case of seed 0, then of seed 1
        "tiny[init=default-seed=0]",
        "tiny[init=xavier_uniform-seed=0]",
        "tiny[init=default-seed=1]",
        "tiny[init=xavier_uniform-seed=1]",
    ]
    assert main(["list", "--run-order", "case-major", str(scenario_dir)]) == 0
    assert capsys.readouterr().out.split()[:2] == ["tiny[init=default-seed=0]", "tiny[init=default-seed=1]"]


def test_list_ends_each_scenario_with_its_step_timing_items(capsys, tmp_path):
    spec = tiny_spec(step_timing={"against": {"init": "default"}})
    assert main(["list", str(write_yaml(tmp_path / "t.yaml", spec))]) == 0
    assert capsys.readouterr().out.split()[-1] == "tiny[step-timing:init=xavier_uniform-vs-init=default]"


def test_report_rebuilds_html(capsys, tmp_path):
    results = tmp_path / "r.json"
    results.write_text(json.dumps(results_data()))
    assert main(["report", str(results), "-o", str(tmp_path / "out.html")]) == 0
    assert "<svg" in (tmp_path / "out.html").read_text()


def test_report_of_a_bad_file_is_a_message(capsys, tmp_path):
    (tmp_path / "x.json").write_text("[]")
    assert main(["report", str(tmp_path / "x.json")]) == 2
    assert "x.json: not a pytest-benchmark results file" in capsys.readouterr().err


def test_committed_schema_is_current():
    from pathlib import Path

    import pydantic
    import pytest

    from benchsuite.cli import scenario_schema

    committed = json.loads((Path(__file__).parents[1] / "scenarios" / "scenario.schema.json").read_text())
    if committed.get("$comment") != scenario_schema()["$comment"]:  # pydantic versions spell schemas differently
        pytest.skip(
            f"the committed schema was written by another pydantic ({committed.get('$comment')}); "
            f"this is {pydantic.VERSION}"
        )
    assert committed == scenario_schema(), "run: benchsuite schema -o scenarios/scenario.schema.json"


def test_cli_help_lists_every_command_and_shows_defaults(capsys):
    import pytest as _pytest

    from benchsuite.cli import main

    with _pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    for command in ("schema", "validate", "list", "compare", "nearest", "report"):
        assert command in out
    with _pytest.raises(SystemExit):
        main(["list", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "order of the runs, as pytest's --run-order (default: seed-major)" in text
    assert "seed of the random order (default: 0)" in text


def test_cli_refuses_a_bad_value_with_the_rule(capsys):
    import pytest as _pytest

    from benchsuite.cli import main

    with _pytest.raises(SystemExit) as done:
        main(["list", "--run-order-seed", "-1"])
    assert done.value.code == 2
    assert "argument --run-order-seed: must be a whole number of at least 0, got '-1'" in capsys.readouterr().err


def test_every_scenario_field_is_documented_in_the_schema_editors_read():
    from benchsuite.cli import scenario_schema

    schema = scenario_schema()
    undocumented = [
        f"{name}.{field}"
        for name, part in [("ScenarioSpec", schema), *schema["$defs"].items()]
        for field, prop in part.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undocumented == []
    assert schema["$defs"]["TrainSpec"]["properties"]["max_steps"]["description"].startswith("Training budget in")


def test_profile_prints_where_a_step_goes_and_writes_the_trace(capsys, tmp_path):
    path = write_yaml(tmp_path / "tiny.yaml", {**tiny_spec(), "profile": {"steps": 2, "wait": 0, "warmup": 1}})
    assert (
        main(
            [
                "profile",
                str(path),
                "--case",
                "init=xavier_uniform",
                "--device",
                "cpu",
                "--trace-dir",
                str(tmp_path / "traces"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("profile of tiny / init=xavier_uniform on cpu: ok")
    assert "2 recorded steps, phases from the host timeline" in out and "  forward " in out and "aten::" in out
    assert (tmp_path / "traces" / "tiny_init=xavier_uniform.json.gz").exists()


def test_profile_names_the_cases_when_the_selection_fits_none_or_several(capsys, tmp_path):
    path = write_yaml(tmp_path / "tiny.yaml", tiny_spec())
    assert main(["profile", str(path), "--device", "cpu"]) == 1
    assert "has 2 cases; name one with --case (init=default, init=xavier_uniform)" in capsys.readouterr().err
    assert main(["profile", str(path), "--case", "init=he", "--device", "cpu"]) == 1
    assert "--case 'init=he' names no case of scenario 'tiny'" in capsys.readouterr().err
