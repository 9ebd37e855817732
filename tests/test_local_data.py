"""Local .npz data: found relative to the scenario file, checked when the scenario loads (one line per problem,
naming the file, the field and the value), trained like a built-in dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import tiny_spec, write_yaml

from benchsuite.scenario.load import ScenarioError, load_scenario
from benchsuite.scenario.matrix import expand_runs
from benchsuite.training.run import train_run


def _arrays(n: int = 60, **extra) -> dict:
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(n, 1, 40)).astype(np.float32), "y": rng.integers(0, 3, n), **extra}


def _scenario(tmp_path, dataset: dict, arrays: dict | None = None, model: dict | None = None):
    data_dir = tmp_path / "scenarios" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if arrays is not None:
        np.savez(data_dir / "mine.npz", **arrays)
    workload = {
        "dataset": {"name": "npz", "path": "data/mine.npz", **dataset},
        "model": model or {"name": "mlp", "hidden": [16]},
    }
    return write_yaml(tmp_path / "scenarios" / "mine.yaml", tiny_spec(workload=workload, target=None))


def test_a_local_file_is_found_next_to_the_scenario_and_trains(tmp_path):
    spec = load_scenario(_scenario(tmp_path, {}, _arrays()))
    assert spec.workload.dataset.path == str(tmp_path / "scenarios" / "data" / "mine.npz")
    result = train_run(expand_runs(spec)[0], torch.device("cpu"), telemetry_interval_s=None)
    assert result.status == "ok" and result.samples == 2 * 48  # 60 samples, 12 held out, 2 epochs


def test_validation_arrays_in_the_file_are_used(tmp_path):
    arrays = _arrays(x_val=np.zeros((10, 1, 40), np.float32), y_val=np.arange(10) % 3)
    spec = load_scenario(_scenario(tmp_path, {"val_keys": ["x_val", "y_val"]}, arrays))
    from benchsuite.workloads.local import read_npz

    x, y, x_val, y_val, classes = read_npz(spec.workload.dataset)
    assert (len(y), len(y_val), classes) == (60, 10, 3)


@pytest.mark.parametrize(
    ("dataset", "arrays", "message"),
    [
        ({}, None, "data/mine.npz: no such file"),
        ({"x_key": "inputs"}, _arrays(), "has no array 'inputs' (it has 'x', 'y')"),
        (
            {},
            {"x": np.zeros((5, 40), np.float32), "y": np.zeros(4, np.int64)},
            "'x' has 5 samples but 'y' has 4 labels",
        ),
        ({"num_classes": 2}, _arrays(), "labels 'y' must lie in [0, 2), found 0 to 2"),
        (
            {},
            {"x": np.zeros((5, 40), np.float32), "y": np.zeros(5, np.float32)},
            "labels 'y' must be integers of shape (N,)",
        ),
        ({}, {"x": np.array([["a"] * 40] * 5), "y": np.zeros(5, np.int64)}, "samples 'x' must be numbers"),
        (
            {"val_keys": ["x_val", "y_val"]},
            _arrays(x_val=np.zeros((4, 8), np.float32), y_val=np.zeros(4, np.int64)),
            "validation samples have shape (8,), training samples (1, 40)",
        ),
    ],
)
def test_every_bad_file_gets_its_message_with_file_and_field(tmp_path, dataset, arrays, message):
    with pytest.raises(ScenarioError) as error:
        load_scenario(_scenario(tmp_path, dataset, arrays))
    text = str(error.value)
    assert "mine.yaml: field 'workload.dataset.path': " in text and message in text and "\n" not in text


def test_a_file_that_is_not_npz_and_a_model_of_the_wrong_rank(tmp_path):
    path = _scenario(tmp_path, {}, None)
    (tmp_path / "scenarios" / "data" / "mine.npz").write_text("not a zip")
    with pytest.raises(ScenarioError, match="not a readable .npz file"):
        load_scenario(path)
    with pytest.raises(
        ScenarioError,
        match=r"field 'workload.model': model 'cnn2d' needs samples of rank 3 but .*"
        r"has samples of shape \(1, 40\)",
    ):
        load_scenario(_scenario(tmp_path, {}, _arrays(), model={"name": "cnn2d"}))
