"""Shared helpers: tiny scenarios on synthetic data, so plugin and training tests run in seconds on a CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest_plugins = ["pytester"]

TINY = {
    "name": "tiny",
    "description": "two inits on random data",
    "workload": {
        "dataset": {"name": "synthetic", "shape": [1, 8], "num_samples": 64, "val_samples": 32, "num_classes": 3},
        "model": {"name": "mlp", "hidden": [16]},
    },
    "train": {"optimizer": "sgd", "lr": 0.05, "batch_size": 16, "max_epochs": 2, "warmup_steps": 1},
    "target": {"metric": "val_accuracy", "value": 0.99},
    "seeds": [0, 1],
    "matrix": {"init": ["default", "xavier_uniform"]},
}


def tiny_spec(**overrides) -> dict:
    """A copy of the tiny scenario with top-level fields replaced."""
    return {**TINY, **overrides}


def write_yaml(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data, encoding="utf-8")
    return path


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """A folder holding the tiny scenario as tiny.yaml."""
    write_yaml(tmp_path / "scenarios" / "tiny.yaml", TINY)
    return tmp_path / "scenarios"
