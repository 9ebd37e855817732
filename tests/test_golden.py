"""Golden curve: the tiny CPU scenario's losses at fixed steps for seed 0, stored in ``tests/golden/`` and compared
with a tolerance, so a change that silently alters training (an init, the loss scaling, the data order, the
schedule) fails here (torchtitan keeps golden loss files the same way).

When a change is meant to alter training, regenerate the file and commit it with the change::

    BENCHSUITE_GOLDEN=regenerate pytest tests/test_golden.py

The tolerance (relative 1e-4) is far above float32 rounding (about 1e-7 relative), where kernels of different CPUs
may differ, and far below a change to what is trained (1 % on one layer's initial weights moves the curve by more;
the second test shows it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from conftest import tiny_spec

from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training.run import train_run

GOLDEN = Path(__file__).parent / "golden" / "tiny_init-default_seed0.json"
RELATIVE_TOLERANCE = 1e-4


def curve() -> dict:
    """Train the tiny scenario's first case (init=default) with seed 0 for its full budget, evaluating every 2
    steps; return the losses by step."""
    spec = ScenarioSpec.model_validate(tiny_spec(train={**tiny_spec()["train"], "eval_every_steps": 2}))
    run = next(r for r in expand_runs(spec) if r.seed == 0)
    result = train_run(run, torch.device("cpu"), telemetry_interval_s=None)
    assert result.status == "ok"
    return {
        "run": run.run_id,
        "steps": [p.step for p in result.curve],
        "val_loss": [p.val_loss for p in result.curve],
        "train_loss": [p.train_loss for p in result.curve[1:]],
    }


def test_training_matches_the_golden_curve():
    measured = curve()
    if os.environ.get("BENCHSUITE_GOLDEN") == "regenerate":
        GOLDEN.write_text(json.dumps(measured, indent=2) + "\n")
        pytest.skip(f"regenerated {GOLDEN.name}")
    golden = json.loads(GOLDEN.read_text())
    assert measured["run"] == golden["run"] and measured["steps"] == golden["steps"]
    for key in ("val_loss", "train_loss"):
        assert measured[key] == pytest.approx(golden[key], rel=RELATIVE_TOLERANCE), (
            f"{key} left the golden curve {GOLDEN.name}; if the change is meant to alter training, regenerate it: "
            "BENCHSUITE_GOLDEN=regenerate pytest tests/test_golden.py"
        )


def test_the_golden_check_fails_on_a_small_change_to_training(monkeypatch):
    from benchsuite.training import techniques

    real = techniques.apply_init

    def nudged(model, name, activation):
        real(model, name, activation)
        with torch.no_grad():
            next(model.parameters()).mul_(1.01)  # 1 % on the first layer's weights

    monkeypatch.setattr("benchsuite.training.build.apply_init", nudged)
    golden = json.loads(GOLDEN.read_text())
    assert curve()["val_loss"] != pytest.approx(golden["val_loss"], rel=RELATIVE_TOLERANCE)
