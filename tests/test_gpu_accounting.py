"""Honest GPU numbers: MFU per GPU at any world size, a machine id from the world sizes that run, and ``--device
cuda`` refused where torch has no CUDA device."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import tiny_spec, write_yaml

import benchsuite.test_scenarios
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.telemetry import hardware, mfu
from benchsuite.training import record
from benchsuite.training.loop import Budget

MODULE = str(Path(benchsuite.test_scenarios.__file__))
FAKE_PEAK = 100e12
"""A fake dense peak of one GPU (FLOP/s), put in the peak table for the test."""


def _record(world_size: int, samples: int, timed_s: float = 2.0):
    """The record a run of ``world_size`` ranks on fake H100s makes, ``samples`` trained in ``timed_s`` seconds."""
    spec = ScenarioSpec.model_validate(tiny_spec(seeds=[0], matrix={"world_size": [world_size]}))
    (run,) = expand_runs(spec, "cuda")
    watch = SimpleNamespace(elapsed_s=timed_s)
    loop = SimpleNamespace(
        train_watch=watch,
        eval_watch=SimpleNamespace(elapsed_s=0.0),
        samples=samples,
        curve=[],
        segments=[(timed_s, 10)],
        fault_step=None,
        fault_stage=None,
        fault_error=None,
        stop_reason=None,
        stop_step=None,
        stall=SimpleNamespace(figures=lambda timed_s: {}),
    )
    trainer = SimpleNamespace(
        optimizer=SimpleNamespace(param_groups=[{"params": [torch.zeros(3)]}]), optimizer_impl="fused"
    )
    budget = Budget(steps_per_epoch=10, total_steps=10, eval_every_steps=None)
    prepared = record.Prepared(None, budget, trainer, 1, 0.0, 0.0, 0.0, flops_per_sample=1e9)
    trained = record.Trained(loop, "ok", 10, None, [])
    measured = record.Measured({}, [], [], None)
    return record.assemble(run, torch.device("cuda", 0), prepared, trained, measured, world_size)


def test_data_parallel_mfu_is_per_gpu_not_times_the_world_size(monkeypatch):
    """MFU as in PaLM (Chowdhery et al. 2022, appendix B): the job's FLOP/s over the peak of all the GPUs it used.
    Eight ranks doing what one does, each on its own GPU, use those GPUs as well as the one: the same MFU."""
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    monkeypatch.setitem(mfu.PEAK_FLOPS, "H100 SXM", dict.fromkeys(("fp32", "tf32", "bf16", "fp16"), FAKE_PEAK))
    one = _record(1, samples=100_000).utilisation
    eight = _record(8, samples=800_000).utilisation  # each rank trains the samples the single GPU did
    assert one["peak_flops_per_s"] == eight["peak_flops_per_s"] == FAKE_PEAK  # one device's peak
    assert one["achieved_flops_per_s"] == pytest.approx(1e9 * 100_000 / 2.0)
    assert eight["achieved_flops_per_s"] == pytest.approx(8 * one["achieved_flops_per_s"])  # the whole job's rate
    assert one["mfu"] == pytest.approx(0.5)
    assert eight["mfu"] == pytest.approx(one["mfu"])  # not 4.0 (400 %)


def test_utilisation_divides_by_every_device_used():
    u = mfu.utilisation(flops_sample=1e9, samples=8000, timed_s=2.0, peak=1e12, world_size=8)
    assert u["achieved_flops_per_s"] == 4e12 and u["mfu"] == pytest.approx(0.5)
    assert mfu.utilisation(1e9, 8000, 2.0, None, world_size=8)["mfu"] is None  # CPU: achieved FLOP/s only


FAKE_GPUS = textwrap.dedent(
    """
    # Eight fake H100s for torch (collection only: nothing trains), and the machine id the session would record.
    from types import SimpleNamespace

    import pytest
    import torch

    PROPS = SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2**30, major=9, minor=0, uuid="GPU-0")
    torch.cuda.is_available = lambda: True
    torch.cuda.device_count = lambda: 8
    torch.cuda.current_device = lambda: 0
    torch.cuda.get_device_properties = lambda i: PROPS


    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(session):
        info = {}
        session.config.hook.pytest_benchmark_update_machine_info(config=session.config, machine_info=info)
        print("MACHINE-ID", info["benchsuite"]["machine_id"])
    """
)


def _machine_id(tmp_path: Path, *args: str) -> str:
    """The machine id a ``--device cuda`` session on eight fake GPUs records, with the world sizes 1, 2 and 16
    collected (16 needs more GPUs than this node has)."""
    write_yaml(tmp_path / "s" / "w.yaml", tiny_spec(seeds=[0], matrix={"world_size": [1, 2, 16]}))
    (tmp_path / "fakegpus.py").write_text(FAKE_GPUS)
    argv = [MODULE, f"--scenarios={tmp_path / 's'}", "--device=cuda", "--no-profile", "--collect-only", "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "fakegpus", "-p", "no:cacheprovider", *argv, *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("MACHINE-ID ")]
    assert lines, done.stdout + done.stderr
    return lines[-1].split()[1]


def test_machine_id_counts_the_world_sizes_that_run_not_every_collected_one(tmp_path):
    assert _machine_id(tmp_path) == "nvidia-h100-80gb-hbm3-x2"  # 16 cannot run on 8 GPUs: skipped, not counted
    assert _machine_id(tmp_path, "-k", "not 2-seed") == "nvidia-h100-80gb-hbm3-x1"  # world size 2 deselected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_device_cuda_without_cuda_is_refused_before_anything_trains(tmp_path):
    write_yaml(tmp_path / "s" / "tiny.yaml", tiny_spec())
    argv = [MODULE, "--scenarios=s", "--device=cuda", "--benchmark", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    reason = hardware.cuda_unavailable_reason()
    assert reason in (f"this torch build has no CUDA (torch {torch.__version__})", "no CUDA device is visible")
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"benchsuite: --device cuda: {reason}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "results").exists()  # refused before the first write


def test_cuda_unavailable_reason_names_the_build_or_the_missing_device(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    assert hardware.cuda_unavailable_reason() == f"this torch build has no CUDA (torch {torch.__version__})"
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert hardware.cuda_unavailable_reason() == "no CUDA device is visible (CUDA_VISIBLE_DEVICES='')"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert hardware.cuda_unavailable_reason() is None
