"""Registries open to other packages: the example package (examples/benchsuite-example) registers a model and a
dataset through entry points; scenarios name them like built-ins, bad parameters get the usual one-line error, and
the example scenario runs. The package is installed into a folder of its own (``pip install --target``) and used
through PYTHONPATH by subprocesses, so this test session's environment stays as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

import pytest
from conftest import write_yaml
from pydantic import BaseModel, ConfigDict

import benchsuite.test_scenarios
from benchsuite.specs import registry
from benchsuite.specs.workload import BUILTIN_MODELS, MlpSpec

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "benchsuite-example"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    source = shutil.copytree(EXAMPLE, tmp_path_factory.mktemp("example") / EXAMPLE.name)  # pip builds in place
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _run(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_the_example_scenario_validates_and_runs_in_the_smoke_test(site, tmp_path):
    scenarios = EXAMPLE / "scenarios"
    valid = _run(site, "-m", "benchsuite.cli", "validate", str(scenarios), cwd=tmp_path)
    assert valid.returncode == 0 and "residual-width, 2 cases x 6 seeds" in valid.stdout
    smoke = _run(
        site,
        "-m",
        "pytest",
        str(Path(benchsuite.test_scenarios.__file__)),
        f"--scenarios={scenarios}",
        "--device=cpu",
        "-p",
        "no:cacheprovider",
        "-q",
        cwd=tmp_path,
    )
    assert smoke.returncode == 0 and "14 passed" in smoke.stdout, smoke.stdout[-2000:]  # 12 runs, 2 profiled windows


def test_a_bad_parameter_to_a_plugin_spec_is_refused_with_file_field_and_value(site, tmp_path):
    spec = (EXAMPLE / "scenarios" / "residual-width.yaml").read_text()
    spec = spec.replace("width: 16, depth: 2", "width: -4, depth: 2")
    path = tmp_path / "bad.yaml"
    path.write_text(spec)
    done = _run(site, "-m", "benchsuite.cli", "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert (
        f"{path}: field 'matrix.model.0.example-residual-mlp.width': Input should be greater than 0 (got -4)"
        in done.stderr
    )


def test_without_the_package_the_name_is_unknown(tmp_path):
    path = write_yaml(
        tmp_path / "s.yaml",
        {
            "name": "x",
            "description": "d",
            "seeds": [0],
            "train": {"max_steps": 1},
            "workload": {"dataset": "example-spirals", "model": "mlp"},
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "benchsuite.cli", "validate", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "field 'workload.dataset'" in done.stderr and "example-spirals" in done.stderr


class Good(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Literal["good"]

    def build(self, input_shape, num_classes, norm):  # pragma: no cover - never built here
        raise NotImplementedError


class Thawed(BaseModel):
    name: Literal["thawed"]

    def build(self):  # pragma: no cover
        raise NotImplementedError


def _points(*points):
    return lambda group: [SimpleNamespace(name=n, value=f"pkg:{n}", load=load) for n, load in points]


def test_entry_points_are_loaded_checked_and_broken_ones_left_out_with_a_warning(monkeypatch):
    def broken():
        raise ImportError("no module named pkg")

    monkeypatch.setattr(
        registry,
        "entry_points",
        _points(
            ("mlp", lambda: MlpSpec),
            ("good", lambda: Good),
            ("thawed", lambda: Thawed),
            ("broken", broken),
            ("other", lambda: Good),
            ("cnn1d", lambda: Good),
        ),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        specs = registry.registered_specs("benchsuite.models", BUILTIN_MODELS)
    assert specs == (*BUILTIN_MODELS, Good)
    messages = "\n".join(str(w.message) for w in caught)
    assert "entry point thawed = pkg:thawed (benchsuite.models) is left out: it must be frozen" in messages
    assert "entry point broken = pkg:broken (benchsuite.models) could not be loaded: ImportError" in messages
    assert (
        "entry point other = pkg:other (benchsuite.models) is left out: its 'name' field must be Literal['other']"
    ) in messages
    assert "entry point cnn1d = pkg:cnn1d (benchsuite.models) is left out: the name is benchsuite's own" in messages


def test_benchsuite_registers_its_own_models_and_datasets_as_entry_points():
    from importlib.metadata import entry_points

    from benchsuite.specs import names

    assert {p.name for p in entry_points(group=registry.MODEL_GROUP)} >= set(names.MODEL_NAMES)
    assert {p.name for p in entry_points(group=registry.DATASET_GROUP)} >= set(names.DATASET_NAMES)
