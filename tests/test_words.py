"""A scenario's workload in words: from the stored spec, at the size of the device that ran it, never a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchsuite.report import words
from benchsuite.scenario.load import load_scenario

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _raw(name: str) -> dict:
    return load_scenario(SCENARIOS / f"{name}.yaml").model_dump(mode="json")


def test_batch_scaling_in_words():
    raw = _raw("batch-scaling")
    assert words.workload_text(raw) == (
        "MLP 40-256-256-10 on MNIST-1D, 8,000 training samples, Adam lr 1e-3, constant lr after a 2-epoch warm-up, "
        "batch 128, up to 60 epochs, target validation accuracy ≥ 0.60"
    )
    assert words.matrix_text(raw) == "Varies batch_size: 32, 128, 512, 2048, 4096; lr_scaling: linear, sqrt"
    assert words.workload_text(raw, "cuda").startswith("MLP 40-4096-4096-10 on MNIST-1D, 160,000 training samples")


def test_resized_models_are_described_at_the_size_that_ran():
    raw = _raw("norm")
    assert words.matrix_text(raw).startswith(
        "Varies model: mlp = MLP 40-256-256-10, cnn1d = 1-D CNN, channels 32-32-32"
    )
    assert words.matrix_text(raw, "cuda").startswith(
        "Varies model: mlp = MLP 40-4096-4096-10, cnn1d = 1-D CNN, channels 512-512-512, kernel 5, stride 2; norm: none"
    )


def test_optimizers_schedules_and_techniques_in_words():
    assert "sgd = SGD with momentum 0.9 lr 0.1" in words.matrix_text(_raw("optimizers"))
    assert "step = lr × 0.1 at epochs 10, 15" in words.matrix_text(_raw("schedules"))
    assert "AdamW lr 5e-3, weight decay 0.01" in words.workload_text(_raw("schedules"))
    assert "Varies precision: fp32, tf32, bf16, fp16" == words.matrix_text(_raw("precision"))
    for raw in (_raw(name) for name in ("init", "data-parallel", "known-answers", "precision-width")):
        assert "=" not in words.workload_text(raw) and "None" not in words.workload_text(raw)


@pytest.mark.parametrize(
    ("lr", "text"), [(1e-3, "1e-3"), (5e-5, "5e-5"), (2.5e-4, "2.5e-4"), (0.02, "0.02"), (0.1, "0.1")]
)
def test_lr_text(lr, text):
    assert words.lr_text(lr) == text


def test_a_stored_spec_missing_fields_is_described_with_what_it_has():
    old = {"workload": {"dataset": {"name": "mnist1d"}, "model": {"name": "mlp", "hidden": [64]}}, "train": {}}
    assert words.workload_text(old) == "MLP 40-64-10 on MNIST-1D, Adam"
