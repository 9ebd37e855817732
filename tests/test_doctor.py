"""``benchsuite doctor``'s step checks on the CPU (host syncs per source line on the ``meta`` device, compile), the
CUDA sync-warning witness with a fake ``torch.cuda``, and the whole command on tiny scenarios."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import tiny_spec

from benchsuite.profiling import checks as step_checks
from benchsuite.profiling.syncs import SYNC_WARNING, cuda_sync_warnings
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.training import loop

CPU = torch.device("cpu")


def _run(**changes):
    return expand_runs(ScenarioSpec.model_validate(tiny_spec(seeds=[0], **changes)))[0]


def test_a_clean_step_passes_with_its_once_per_epoch_copy_listed():
    check = step_checks.step_sync_check(_run(matrix={}), CPU, steps=8)  # 4 steps an epoch: two epochs
    assert check.status == "ok", check.text
    assert check.details["per_step"] == [] and check.details["epochs"] == 2
    (copy,) = check.details["per_epoch"]
    assert copy["where"].startswith("benchsuite/training/batches.py:") and copy["syncs"] == 2


def test_a_sync_in_every_step_is_named_with_its_line(monkeypatch):
    real = loop.train_step

    def syncing_step(*args, **kwargs):
        loss = real(*args, **kwargs)
        float(loss)  # the defect: a host read of the loss at every step
        return loss

    monkeypatch.setattr(loop, "train_step", syncing_step)
    check = step_checks.step_sync_check(_run(matrix={}), CPU, steps=8)
    assert check.status == "warn"
    (found,) = check.details["per_step"]
    assert "tests/test_doctor.py:" in found["where"] and "_local_scalar_dense" in found["where"]
    assert found["syncs"] == 8 and found["per_step"] == 1.0
    assert "1/step" in check.text


def test_what_the_cpu_cannot_check_is_skipped_with_the_reason():
    bf16 = step_checks.step_sync_check(_run(matrix={"precision": ["bf16"]}), CPU)
    assert bf16.status == "skipped" and "autocast has no meta device" in bf16.text
    fp16 = step_checks.step_sync_check(_run(matrix={"precision": ["fp16"]}), CPU)
    assert fp16.status == "skipped" and "needs a CUDA device" in fp16.text
    loader = step_checks.step_sync_check(_run(matrix={}, train={**tiny_spec()["train"], "loader": "dataloader"}), CPU)
    assert loader.status == "skipped" and "checked on CUDA only" in loader.text


def test_a_run_that_raises_is_a_failed_check(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(loop, "train_step", broken)
    check = step_checks.step_sync_check(_run(matrix={}), CPU, steps=4)
    assert check.status == "fail" and check.text == "the short run raised RuntimeError: boom"


def test_compile_matches_eager_and_a_broken_backend_fails():
    ok = step_checks.compile_check(CPU, backend="eager")
    assert ok.status == "ok" and ok.name == "compile[fp32]", ok.text
    assert ok.details["compiled_losses"] == ok.details["eager_losses"]
    broken = step_checks.compile_check(CPU, backend="no_such_backend")
    assert broken.status == "fail" and "no_such_backend" in broken.text
    assert step_checks.compile_check(CPU, "tf32").status == "skipped"


class FakeCuda:
    def __init__(self) -> None:
        self.mode = 0
        self.modes: list = []

    def get_sync_debug_mode(self):
        return self.mode

    def set_sync_debug_mode(self, mode):
        self.mode = mode
        self.modes.append(mode)


def test_cuda_sync_warnings_count_only_inside_the_timed_region_and_pass_other_warnings_on():
    cuda = FakeCuda()
    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        timed = Stopwatch(CPU, training=True)
        with cuda_sync_warnings(lambda: timed.running, cuda=cuda) as found:
            warnings.warn(f"x {SYNC_WARNING} y", UserWarning, stacklevel=1)  # outside: not counted
            with timed:
                warnings.warn(f"x {SYNC_WARNING} y", UserWarning, stacklevel=1)
                warnings.warn(f"x {SYNC_WARNING} y", UserWarning, stacklevel=1)
            warnings.warn("something else", UserWarning, stacklevel=1)
    assert cuda.modes == ["warn", 0] and cuda.mode == 0
    assert sum(found.values()) == 2 and all("tests/test_doctor.py:" in where for where in found)
    assert [str(w.message) for w in outer] == ["something else"]


@pytest.mark.parametrize("name", ["precision", "data-serving", "norm"])
def test_the_doctor_finds_its_scenarios_by_name(tmp_path, name):
    from conftest import write_yaml

    from benchsuite.doctor import doctor_scenarios

    for other in {"precision", "data-serving", "norm"} - {name}:
        write_yaml(tmp_path / f"{other}.yaml", tiny_spec(name=other))
    found, problems = doctor_scenarios([tmp_path])
    assert sorted(found) == sorted({"precision", "data-serving", "norm"} - {name})
    assert problems == [f"{tmp_path}: no scenario named '{name}'"]


def _doctor(tmp_path, *args):
    import subprocess
    import sys

    command = [sys.executable, "-m", "benchsuite.cli", "doctor", "--results-dir", str(tmp_path / "results")]
    command += ["--reports-dir", str(tmp_path / "reports"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)


def test_the_doctor_checks_runs_one_seed_and_keeps_its_checks_in_the_results_and_the_report(tmp_path):
    """The whole command on tiny stand-ins of its three scenarios (the real ones take about a minute on a CPU):
    the checks print, one seed of each scenario runs as a benchmark session, the results file keeps the checks, the
    report shows them, and the exit status says whether anything looked wrong."""
    import json

    from conftest import write_yaml

    folder = tmp_path / "scenarios"
    write_yaml(folder / "precision.yaml", tiny_spec(name="precision", matrix={"precision": ["fp32", "bf16"]}))
    write_yaml(folder / "data-serving.yaml", tiny_spec(name="data-serving", matrix={"loader": ["preloaded"]}))
    write_yaml(folder / "norm.yaml", tiny_spec(name="norm", matrix={"norm": ["none", "layernorm"]}))
    write_yaml(folder / "other.yaml", tiny_spec(name="other"))  # not one of the doctor's: left out
    done = _doctor(tmp_path, "--device", "cpu", "--scenarios", str(folder), "--compile-backend", "eager")
    assert done.returncode in (0, 1), done.stderr[-2000:]
    out = done.stdout
    assert "ok      step_syncs[precision=fp32]" in out and "skipped step_syncs[precision=bf16]" in out
    assert "ok      compile[fp32]: compiled (eager)" in out
    (results,) = (tmp_path / "results").glob("*/*.json")
    data = json.loads(results.read_text())
    block = data["benchsuite"]["doctor"]
    names = [check["name"] for check in block["checks"]]
    assert names[:2] == ["device", "mfu_peak"] and "compile[fp32]" in names and block["device"] == "cpu"
    runs = [b["extra_info"] for b in data["benchmarks"] if b["extra_info"].get("kind", "run") == "run"]
    assert {run["scenario"] for run in runs} == {"precision", "data-serving", "norm"}
    assert {run["seed"] for run in runs} == {0} and len(runs) == 5
    said = "nothing looked wrong" if done.returncode == 0 else "looked wrong; results:"
    assert said in out.splitlines()[-1]
    (report,) = (tmp_path / "reports").glob("*.html")
    html = report.read_text()
    assert "Doctor" in html and "step_syncs[precision=fp32]" in html


def test_the_doctor_refuses_cuda_without_cuda(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = _doctor(tmp_path, "--device", "cuda")
    assert done.returncode == 4
    assert (
        done.stderr.strip()
        == f"benchsuite doctor: --device cuda: this torch build has no CUDA (torch {torch.__version__})"
    )
    assert not (tmp_path / "results").exists()


def test_the_doctor_says_when_its_scenarios_are_missing(tmp_path):
    done = _doctor(tmp_path, "--device", "cpu", "--scenarios", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert f"{tmp_path / 'nowhere'}: no scenario named 'precision'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_doctors_cuda_checks_on_a_faked_h100(monkeypatch, tmp_path):
    """The CUDA part of the doctor's checks on fakes: torch.cuda and NVML faked as an H100 (tests/test_gpu_checks.py),
    the step loop of each case run on the CPU with a fake ``torch.cuda`` whose sync warnings are the second witness
    (one case's step is made to sync), and the compile check's steps on the CPU inside TF32 mode."""
    import functools
    import warnings as warnings_module

    from conftest import write_yaml
    from test_gpu_checks import FakeClock, FakeNVML, busy_for, fake_cuda

    from benchsuite.doctor import doctor_scenarios, run_checks
    from benchsuite.profiling.syncs import SYNC_WARNING
    from benchsuite.telemetry import gpu_checks, nvml_checks
    from benchsuite.workloads.datasets import load_dataset

    clock = FakeClock()
    monkeypatch.setattr(nvml_checks, "now", clock)
    folder = tmp_path
    write_yaml(folder / "precision.yaml", tiny_spec(name="precision", matrix={"precision": ["fp32", "fp16"]}))
    write_yaml(folder / "data-serving.yaml", tiny_spec(name="data-serving", matrix={"loader": ["preloaded"]}))
    write_yaml(folder / "norm.yaml", tiny_spec(name="norm", matrix={}))
    scenarios, problems = doctor_scenarios([folder])
    assert problems == []

    device = fake_cuda(monkeypatch)
    nvml = FakeNVML()
    monkeypatch.setattr(
        gpu_checks, "api_checks", functools.partial(gpu_checks.api_checks, nvml=nvml, busy=busy_for(nvml, clock))
    )
    real_step = loop.train_step

    def fp16_syncs(trainer, *args, **kwargs):  # fp16's step warns as a synchronising CUDA call would
        if trainer.precision == "fp16":
            warnings_module.warn(f"called a {SYNC_WARNING}", UserWarning, stacklevel=1)
        return real_step(trainer, *args, **kwargs)

    monkeypatch.setattr(loop, "train_step", fp16_syncs)
    on_cpu = lambda run, device, steps: step_checks._watched_loop(  # noqa: E731
        run, load_dataset(run.case.config.workload.dataset, CPU), CPU, steps, cuda=FakeCuda()
    )
    monkeypatch.setattr(step_checks, "_cuda_syncs", on_cpu)
    monkeypatch.setattr(step_checks.precision, "unsupported_reason", lambda name, device: None)
    real_steps = step_checks._three_steps

    def cpu_steps(device, backend):  # TorchDynamo saves CUDA's RNG state when CUDA looks available
        with monkeypatch.context() as inside:
            inside.setattr(torch.cuda, "is_available", lambda: False)
            return real_steps(CPU, backend)

    monkeypatch.setattr(step_checks, "_three_steps", cpu_steps)

    checks = {c["name"]: c for c in run_checks(device, scenarios, compile_backend="eager")}
    assert [n for n in checks][:7] == [
        "device",
        "mfu_peak",
        "nvml_handle",
        "nvml_metrics",
        "nvml_energy_counter",
        "nvml_clock_events",
        "gpu_state",
    ]
    assert checks["mfu_peak"]["status"] == "ok" and checks["mfu_peak"]["details"]["peak_tflops"]["bf16"] == 989.5
    assert checks["nvml_energy_counter"]["status"] == "ok" and nvml.shutdown
    # every precision, and on CUDA every loader of data-serving too
    assert {n for n in checks if n.startswith("step_syncs")} == {
        "step_syncs[precision=fp32]",
        "step_syncs[precision=fp16]",
        "step_syncs[loader=preloaded]",
    }
    assert checks["step_syncs[precision=fp32]"]["status"] == "ok"
    fp16 = checks["step_syncs[precision=fp16]"]
    assert fp16["status"] == "warn" and "(CUDA sync warning)" in fp16["text"] and "1/step" in fp16["text"]
    assert "dispatcher and CUDA sync warnings" in fp16["details"]["witness"]
    assert checks["compile[tf32]"]["status"] == "ok", checks["compile[tf32]"]["text"]
    assert "TF32" in checks["compile[tf32]"]["text"]
