"""Scenario files: good files load, bad files are refused with file, field and value named."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY, tiny_spec, write_yaml

from benchsuite.scenario.load import ScenarioError, load_scenario, load_scenarios
from benchsuite.specs.scenario import ScenarioSpec

SCENARIOS = Path(__file__).parents[1] / "scenarios"
#: The main job's scenarios and the extended selection (``--scenarios scenarios/extended``).
SHIPPED = sorted([*SCENARIOS.glob("*.yaml"), *(SCENARIOS / "extended").glob("*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    spec = load_scenario(path)
    assert spec.name == path.stem
    judged_on_runs = [c for c in spec.claims if c.metric != "step_time_s"]
    assert len(spec.seeds) >= 5 or not judged_on_runs  # fewer seeds cannot bound a 95 % interval of a pair
    for claim in spec.claims:
        if claim.metric == "step_time_s":
            assert spec.step_timing is not None  # per-step claims are judged from paired blocks
    assert spec.step_timing is None or spec.step_timing.blocks >= 16  # 8 ABBA quadruples at least


def test_step_timing_defaults_to_16_pairs_of_long_blocks_and_top_ups_to_3_looks(tmp_path):
    spec = load_scenario(write_yaml(tmp_path / "s.yaml", tiny_spec(step_timing={"against": {"init": "default"}})))
    assert (spec.step_timing.blocks, spec.step_timing.min_block_s) == (16, 0.2)
    assert spec.top_up.looks == 3 and spec.top_up.look_seeds(spec.seeds, 3) == (0, 1, 2, 3, 4, 5)


def test_top_up_seeds_that_cannot_serve_the_looks_are_refused(tmp_path):
    message = _error(tmp_path, tiny_spec(top_up={"looks": 2, "seeds": [1, 7]}))
    assert "top_up.seeds needs 2 seeds not among seeds [0, 1] for 2 looks, got [1, 7]" in message


def test_defaults_are_filled(tmp_path):
    spec = load_scenario(write_yaml(tmp_path / "s.yaml", TINY))
    assert spec.train.eval_every_steps is None and spec.train.stop_at_target is True
    assert spec.techniques.init == "default" and spec.techniques.norm == "none"
    assert spec.workload.model.hidden == (16,)


def test_name_shorthand_for_dataset_and_model(tmp_path):
    data = tiny_spec(workload={"dataset": "mnist1d", "model": "cnn1d"}, matrix={})
    spec = load_scenario(write_yaml(tmp_path / "s.yaml", data))
    assert spec.workload.dataset.name == "mnist1d" and spec.workload.model.channels == (32, 32, 32)


def _error(tmp_path, data) -> str:
    path = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "Traceback" not in message
    return message


@pytest.mark.parametrize(
    ("data", "field", "value"),
    [
        (tiny_spec(colour="red"), "colour", "'red'"),
        (tiny_spec(train={**TINY["train"], "lr": -1}), "train.lr", "-1"),
        (tiny_spec(train={**TINY["train"], "optimiser": "sgd"}), "train.optimiser", "'sgd'"),
        (tiny_spec(matrix={"init": ["default", "glorot"]}), "matrix.init.1", "'glorot'"),
        (
            tiny_spec(train={**TINY["train"], "eval_every_steps": 5, "eval_every_samples": 640}),
            "train",
            "eval_every_samples (640), not both",
        ),
        (tiny_spec(matrix={"norm": ["groupnorm"]}), "matrix.norm.0", "'groupnorm'"),
        (tiny_spec(matrix={"learning_rate": [0.1]}), "matrix.learning_rate", "[0.1]"),
        (tiny_spec(matrix={"dropout": [1.5]}), "matrix.dropout.0", "1.5"),
        (tiny_spec(matrix={"optimizer": [{"name": "lion"}]}), "matrix.optimizer.0", "'lion'"),
        (
            tiny_spec(train={**TINY["train"], "optimizer": {"name": "sgd", "betas": [0.9, 0.9]}}),
            "train.optimizer.sgd.betas",
            "[0.9, 0.9]",
        ),
        (tiny_spec(train={**TINY["train"], "lr_scaling": "linear"}), "train", "needs base_batch_size"),
        (tiny_spec(matrix={"precision": ["fp8"]}), "matrix.precision.0", "'fp8'"),
        (tiny_spec(seeds=[1, 1]), "seeds", "[1, 1]"),
        (tiny_spec(name="Has Spaces"), "name", "'Has Spaces'"),
        (tiny_spec(target={"metric": "val_accuracy", "value": 1.5}), "target", "1.5"),
    ],
)
def test_bad_field_is_named_with_value(tmp_path, data, field, value):
    message = _error(tmp_path, data)
    assert f"field '{field}'" in message
    assert value in message


def test_missing_field_is_named(tmp_path):
    data = {k: v for k, v in TINY.items() if k != "seeds"}
    assert "field 'seeds': Field required" in _error(tmp_path, data)


def test_no_budget_is_refused(tmp_path):
    data = tiny_spec(train={"optimizer": "sgd", "lr": 0.1})
    assert "max_epochs or max_steps" in _error(tmp_path, data)


def test_baseline_must_name_a_matrix_axis_and_value(tmp_path):
    assert "'norm', which is not in the matrix" in _error(tmp_path, tiny_spec(baseline={"norm": "none"}))
    assert "baseline.init = 'kaiming_normal' is not a value" in _error(
        tmp_path, tiny_spec(baseline={"init": "kaiming_normal"})
    )


def test_model_must_fit_the_dataset(tmp_path):
    data = tiny_spec(matrix={"model": [{"name": "mlp"}, {"name": "cnn2d"}]})
    assert "model 'cnn2d' needs samples of rank 3" in _error(tmp_path, data)


def test_models_in_one_axis_need_distinct_labels(tmp_path):
    data = tiny_spec(matrix={"model": [{"name": "mlp", "hidden": [8]}, {"name": "mlp", "hidden": [32]}]})
    assert "repeats a value" in _error(tmp_path, data)
    data["matrix"]["model"][1]["label"] = "wide"
    assert load_scenario(write_yaml(tmp_path / "ok.yaml", data)).matrix.labels()["model"] == ("mlp", "wide")


def test_a_check_across_fields_gives_one_line_without_a_dump_of_the_file(tmp_path):
    data = tiny_spec(
        matrix={"model": [{"name": "mlp"}, {"name": "cnn1d"}]},
        per_device={"cuda": {"matrix": {"model": [{"name": "mlp", "label": "big"}, {"name": "cnn1d"}]}}},
    )
    message = _error(tmp_path, data)
    assert message == (
        f"{tmp_path / 'bad.yaml'}: per_device.cuda.matrix.model has the labels ['big', 'cnn1d'] where "
        "the matrix has ['mlp', 'cnn1d']: a device may resize a case, not rename, add or drop one (give "
        "the values the same 'label's, in the same order)"
    )


def test_claim_on_time_to_target_needs_a_target(tmp_path):
    claim = {"says": "x", "cases": {"init": ["xavier_uniform"]}, "against": {"init": "default"}}
    data = {**tiny_spec(claims=[claim])}
    del data["target"]
    assert "needs a 'target'" in _error(tmp_path, data)


def test_yaml_syntax_error(tmp_path):
    assert "not valid YAML" in _error(tmp_path, "name: [unclosed\n")


def test_top_level_must_be_a_mapping(tmp_path):
    assert "expected a mapping" in _error(tmp_path, "- a\n- b\n")


def test_every_violation_is_listed_one_per_line(tmp_path):
    data = tiny_spec(seeds=[], train={**TINY["train"], "lr": 0})
    lines = _error(tmp_path, data).splitlines()
    assert {line.split("field ")[1].split(":")[0] for line in lines} == {"'train.lr'", "'seeds'"}


def test_bad_files_do_not_stop_good_ones(tmp_path):
    write_yaml(tmp_path / "a_good.yaml", TINY)
    write_yaml(tmp_path / "b_bad.yaml", tiny_spec(name="other", train={"lr": "fast"}))
    write_yaml(tmp_path / "c_dup.yaml", TINY)
    report = load_scenarios([tmp_path])
    assert [spec.name for _, spec in report.scenarios] == ["tiny"]
    assert [e.path.name for e in report.errors] == ["b_bad.yaml", "c_dup.yaml"]
    assert "already used by" in str(report.errors[1])


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_json_schema_forbids_unknown_keys():
    schema = ScenarioSpec.model_json_schema()
    assert schema["additionalProperties"] is False
    assert {"workload", "train", "seeds", "matrix"} <= set(schema["properties"])


_CLAIM = {"says": "x", "cases": {"init": ["xavier_uniform"]}, "against": {"init": "default"}}


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"kind": "no_worse"}, "kind no_worse needs a 'margin'"),
        ({"margin": 0.01}, "'margin' is for kind no_worse or equivalent"),
        ({"metric": "val_metric_epoch1", "min_ratio": 2}, "min_ratio is for ratio metrics"),
        ({"kind": "equivalent", "margin": 0.9}, "margin on time_to_target_s must be a ratio above 1, got 0.9"),
        ({"metric": "val_metric_epoch1", "min_effect": -0.1}, "must be a difference above 0, got -0.1"),
        ({"kind": "no_worse", "margin": 1.05, "min_ratio": 2}, "takes a margin, not min_ratio"),
        ({"metric": "speed"}, "claims.0.metric"),
    ],
)
def test_bad_claims_are_refused_with_the_field(tmp_path, claim, message):
    assert message in _error(tmp_path, tiny_spec(claims=[{**_CLAIM, **claim}]))


def test_final_quality_claims_need_a_fixed_budget(tmp_path):
    claim = {**_CLAIM, "metric": "final_val_metric", "better": "higher", "kind": "no_worse", "margin": 0.01}
    assert "needs a fixed budget: set train.stop_at_target: false" in _error(tmp_path, tiny_spec(claims=[claim]))
    fixed = tiny_spec(claims=[claim], train={**TINY["train"], "stop_at_target": False})
    assert load_scenario(write_yaml(tmp_path / "ok.yaml", fixed)).claims[0].margin == 0.01


def test_step_timing_must_select_matrix_values(tmp_path):
    message = _error(tmp_path, tiny_spec(step_timing={"against": {"init": "glorot"}}))
    assert "step_timing.against.init = 'glorot' is not a value" in message
    assert "field 'step_timing.blocks'" in _error(
        tmp_path, tiny_spec(step_timing={"against": {"init": "default"}, "blocks": 0})
    )


def test_a_matrix_case_that_does_not_fit_the_base_is_refused_at_load(tmp_path):
    data = tiny_spec(matrix={"world_size": [1, 64]})  # a global batch of 16 cannot feed 64 ranks
    message = _error(tmp_path, data)
    assert (
        "field 'matrix': matrix case 'world_size=64' on cpu: a global batch of 16 cannot give each of 64 ranks"
        in message
    )
