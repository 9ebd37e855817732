"""The benchsuite command line: schema, validate, list, report, seeds. Errors are messages, never tracebacks."""

from __future__ import annotations

import json
import math

from conftest import tiny_spec, write_yaml
from results_factory import SPEC, results_data

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
    assert main(["list", "--run-order", "seed-major", str(scenario_dir)]) == 0
    assert capsys.readouterr().out.split() == [  # seed-major: every case of seed 0, then of seed 1
        "tiny[init=default-seed=0]",
        "tiny[init=xavier_uniform-seed=0]",
        "tiny[init=default-seed=1]",
        "tiny[init=xavier_uniform-seed=1]",
    ]
    assert main(["list", str(scenario_dir)]) == 0  # random by default: each seed's block shuffled
    ids = capsys.readouterr().out.split()
    assert sorted(ids[:2]) == ["tiny[init=default-seed=0]", "tiny[init=xavier_uniform-seed=0]"] and len(ids) == 4
    assert main(["list", "--run-order", "case-major", str(scenario_dir)]) == 0
    assert capsys.readouterr().out.split()[:2] == ["tiny[init=default-seed=0]", "tiny[init=default-seed=1]"]


def test_list_ends_each_scenario_with_its_step_timing_items(capsys, tmp_path):
    spec = tiny_spec(step_timing={"against": {"init": "default"}})
    assert main(["list", str(write_yaml(tmp_path / "t.yaml", spec))]) == 0
    assert capsys.readouterr().out.split()[-1] == "tiny[step-timing:init=xavier_uniform-vs-init=default]"


def test_list_shows_the_top_ups_of_later_looks_after_the_runs(capsys, tmp_path):
    claim = {
        "says": "x",
        "metric": "steps_to_target",
        "cases": {"init": ["xavier_uniform"]},
        "against": {"init": "default"},
    }
    path = write_yaml(tmp_path / "t.yaml", tiny_spec(claims=[claim], top_up={"looks": 2}))
    assert main(["list", str(path)]) == 0
    assert capsys.readouterr().out.split()[4:] == [
        "tiny[look=2:init=default-seed=2]",
        "tiny[look=2:init=xavier_uniform-seed=2]",
        "tiny[look=2:init=xavier_uniform-seed=3]",
        "tiny[look=2:init=default-seed=3]",
    ]
    assert main(["list", "--no-top-ups", str(path)]) == 0
    assert "look=" not in capsys.readouterr().out


def _spread_data(differences: list[float]) -> dict:
    """Two cases of the results factory whose per-seed log ratios of time-to-target are ``differences``."""
    data = results_data(default_ttt=(2.0,) * 4, xavier_ttt=tuple(2.0 * math.exp(-d) for d in differences))
    data["benchsuite"]["run_order"] = {"mode": "random", "seed": 3}  # blocked: the runs pair by seed
    return data


def test_seeds_suggests_n0_from_the_spread_and_the_distance_to_the_nearest_threshold(tmp_path):
    import pytest

    from benchsuite.analysis.seeds import signed_rank_floor, suggest_seeds

    assert signed_rank_floor(0.95) == 6 and signed_rank_floor(1 - 0.05 / 4) == 8
    (far,) = suggest_seeds(_spread_data([0.1, 0.1, 0.3, 0.3]))
    assert (far.current, far.suggested, far.floor, far.more) == (4, 6, 6, True)  # the floor: the spread needs 5
    (pair,) = far.claims[0].pairs
    # Hodges-Lehmann 0.2 on the log scale, 0.105 above r* = log 1.1; sd 0.115; n = ⌈(1.96 · 0.115 / 0.105)²⌉ = 5
    assert pair.paired and pair.estimate == pytest.approx(0.2) and pair.spread == pytest.approx(0.11547, abs=1e-5)
    assert pair.threshold == pytest.approx(math.log(1.1)) and pair.needed == 5 and not far.claims[0].beyond_reach
    (near,) = suggest_seeds(_spread_data([0.0, 0.0, 0.4, 0.4]))  # twice the spread: n = 19, beyond 3 × 4
    assert near.claims[0].needed == 19 and near.claims[0].beyond_reach and near.suggested == 6
    assert "beyond reach" in near.why and "n = 19 (n now 4)" in near.why
    (reached,) = suggest_seeds(_spread_data([0.0, 0.0, 0.4, 0.4]), reach=5)
    assert reached.suggested == 19 and "sd 0.231 of the log per-seed differences" in reached.why


def test_seeds_prints_each_scenario_and_refuses_a_bad_file(capsys, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_spread_data([0.1, 0.1, 0.3, 0.3])))
    assert main(["seeds", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("tiny: n0 4 -> 6 (more; floor 6): the floor: 6 seeds") and f"  - {SPEC.claims[0].says}: " in out
    )
    (tmp_path / "x.json").write_text("[]")
    assert main(["seeds", str(tmp_path / "x.json")]) == 2
    assert "x.json: not a pytest-benchmark results file" in capsys.readouterr().err


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
    for command in ("schema", "validate", "list", "compare", "nearest", "base", "report", "history", "seeds", "doctor"):
        assert command in out
    with _pytest.raises(SystemExit):
        main(["list", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "order of the runs, as pytest's --run-order (default: random)" in text
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
