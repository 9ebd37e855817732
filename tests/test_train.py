"""The training loop: budget, reproducibility, stopping at the target, untimed evaluation, divergence."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_spec

from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.training import TrainSpec
from benchsuite.telemetry import clock
from benchsuite.training import loop
from benchsuite.training import run as training_run
from benchsuite.training.loop import Budget
from benchsuite.training.run import train_run

CPU = torch.device("cpu")


def _run(seed=0, **overrides):
    spec = ScenarioSpec.model_validate(tiny_spec(**overrides))
    return next(r for r in expand_runs(spec) if r.seed == seed)


def test_budget_by_hand():
    spec = TrainSpec(batch_size=128, max_epochs=3, max_steps=None)
    budget = Budget.of(spec, 1000, None)  # ceil(1000 / 128) = 8 steps per epoch
    assert (budget.steps_per_epoch, budget.total_steps) == (8, 24)
    assert Budget.of(spec.model_copy(update={"max_steps": 10}), 1000).total_steps == 10
    assert Budget.of(spec, 1000, max_steps=3).total_steps == 3


def test_evaluation_cadence():
    budget = Budget(steps_per_epoch=8, total_steps=20, eval_every_steps=3)
    assert [s for s in range(1, 21) if budget.evaluates_at(s)] == [3, 6, 8, 9, 12, 15, 16, 18, 20]


def test_evaluating_every_n_samples_is_whole_global_batches_rounded_up():
    spec = TrainSpec(batch_size=128, max_epochs=3, eval_every_samples=300)
    assert spec.evaluation_interval_steps == 3  # ceil(300 / 128)
    assert Budget.of(spec, 1000).eval_every_steps == 3
    assert TrainSpec(batch_size=4096, max_epochs=3, eval_every_samples=2048).evaluation_interval_steps == 1
    assert TrainSpec(batch_size=32, max_epochs=3, eval_every_steps=7).evaluation_interval_steps == 7
    assert TrainSpec(batch_size=32, max_epochs=3).evaluation_interval_steps is None
    per_device = TrainSpec(batch_size=32, max_epochs=3, world_size=2, fixed_batch="per_device", eval_every_samples=640)
    assert per_device.evaluation_interval_steps == 10  # the global batch: 64 samples a step


def test_run_trains_the_whole_budget_and_records_the_curve():
    result = train_run(_run(), CPU)  # 64 samples / batch 16 = 4 steps per epoch, 2 epochs
    assert result.status == "ok" and result.steps == 8 == result.budget_steps
    assert [p.step for p in result.curve] == [0, 4, 8]
    assert result.curve[0].train_loss is None and result.curve[0].timed_s == 0.0
    assert result.samples == 8 * 16
    assert result.timed_s > 0 and result.curve[-1].timed_s == result.timed_s


def test_same_seed_same_curve_other_seed_other_curve():
    a, b, c = train_run(_run(0), CPU), train_run(_run(0), CPU), train_run(_run(1), CPU)
    strip = lambda r: [(p.step, p.train_loss, p.val_loss, p.val_accuracy) for p in r.curve]  # noqa: E731
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_stops_at_the_first_evaluation_that_reaches_the_target():
    result = train_run(_run(target={"metric": "val_loss", "value": 100.0}), CPU)
    assert result.steps == 4  # first evaluation after training: end of epoch 1
    assert result.extra_info()["steps_to_target"] == 0  # already reached before training


def test_trains_on_past_the_target_when_asked():
    overrides = {"target": {"metric": "val_loss", "value": 100.0}}
    result = train_run(_run(train={**tiny_spec()["train"], "stop_at_target": False}, **overrides), CPU)
    assert result.steps == 8


def test_evaluation_and_warm_up_are_outside_the_timed_region(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(clock.time, "perf_counter", lambda: now[0])
    real_evaluate, real_step = loop.evaluate, loop.train_step

    def slow_evaluate(*args):
        now[0] += 1000.0  # evaluation "takes" 1000 s
        return real_evaluate(*args)

    def timed_step(*args):
        now[0] += 1.0  # a training step "takes" 1 s
        return real_step(*args)

    monkeypatch.setattr(loop, "evaluate", slow_evaluate)
    monkeypatch.setattr(loop, "train_step", timed_step)
    monkeypatch.setattr(training_run, "train_step", timed_step)  # warm-up steps
    before = clock.timed_region_seconds()
    result = train_run(_run(), CPU, warmup_steps=2)
    assert result.timed_s == 8.0  # 8 steps, no evaluation, no warm-up
    assert result.eval_s == 3000.0 and result.warmup_s == 2.0
    assert [p.timed_s for p in result.curve] == [0.0, 4.0, 8.0]
    assert clock.timed_region_seconds() - before == 8.0  # what pytest-benchmark records


def test_too_high_lr_is_recorded_as_diverged():
    result = train_run(_run(train={**tiny_spec()["train"], "lr": 1e30}), CPU)
    assert result.status == "diverged" and result.fault_step == result.steps == 4
    assert result.extra_info()["time_to_target_s"] is None


def test_cuda_oom_is_recorded_not_raised(monkeypatch):
    def oom(*args):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(loop, "train_step", oom)
    result = train_run(_run(), CPU, warmup_steps=0)
    assert result.status == "oom" and result.steps == 0 and result.fault_step == 1 and result.fault_stage == "training"


def _oom(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)\nmore detail")


@pytest.mark.parametrize(
    ("module", "function", "stage"),
    [
        (training_run, "load_dataset", "data load"),
        (training_run, "train_step", "warm-up"),
        (training_run, "build_trainer", "model build"),
        (training_run.mfu, "flops_per_sample", "FLOP count"),
        (training_run, "compile_model", "compile"),
    ],
)
def test_cuda_oom_before_the_loop_is_recorded_with_its_stage(monkeypatch, module, function, stage):
    monkeypatch.setattr(module, function, _oom)
    result = train_run(_run(matrix={"compile": [True]}), CPU, warmup_steps=int(stage == "warm-up"))
    assert result.status == "oom" and result.steps == 0 and result.fault_stage == stage
    assert result.error == f"CUDA out of memory in {stage}: CUDA out of memory. Tried to allocate 2.00 GiB (simulated)"
    info = result.extra_info()
    assert info["time_to_target_s"] is None and info["step_time_s"] is None and info["case_id"] == "compile=true"


def test_cuda_oom_in_the_first_evaluation_is_recorded(monkeypatch):
    monkeypatch.setattr(loop, "evaluate", _oom)
    result = train_run(_run(), CPU, warmup_steps=0)
    assert (result.status, result.fault_step, result.fault_stage, result.curve) == ("oom", 0, "evaluation", [])


CPU_OOM = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate "
    "40000000000000 bytes. Error code 12 (Cannot allocate memory)"
)


def _cpu_oom(*args, **kwargs):
    raise RuntimeError(CPU_OOM)


def test_the_cpu_allocator_running_out_is_recorded_as_oom_with_its_stage(monkeypatch):
    monkeypatch.setattr(training_run, "build_trainer", _cpu_oom)
    result = train_run(_run(), CPU, warmup_steps=0)
    assert (result.status, result.fault_stage, result.steps) == ("oom", "model build", 0)
    assert result.error == f"CPU out of memory in model build: {CPU_OOM}"


def test_the_cpu_allocator_running_out_inside_the_loop_is_recorded_with_its_step(monkeypatch):
    monkeypatch.setattr(loop, "train_step", _cpu_oom)
    result = train_run(_run(), CPU, warmup_steps=0)
    assert (result.status, result.fault_step, result.fault_stage) == ("oom", 1, "training")
    assert result.error.startswith("CPU out of memory in training: [enforce fail")


def test_a_real_cpu_allocation_failure_is_recognised():
    from benchsuite.training.faults import is_out_of_memory

    with pytest.raises(RuntimeError) as caught:
        torch.empty(10**13)  # 40 TB: refused at once by the allocator
    assert is_out_of_memory(caught.value)
    assert is_out_of_memory(MemoryError()) and not is_out_of_memory(RuntimeError("shape mismatch"))


@pytest.mark.parametrize(("function", "stage"), [("build_trainer", "model build"), ("compile_model", "compile")])
def test_any_other_exception_in_a_run_is_recorded_as_failed_with_its_first_line(monkeypatch, function, stage):
    def broken(*args, **kwargs):
        raise ValueError("the model's widths do not fit\nsecond line")

    monkeypatch.setattr(training_run, function, broken)
    result = train_run(_run(matrix={"compile": [True]}), CPU, warmup_steps=0)
    assert (result.status, result.fault_stage, result.steps) == ("failed", stage, 0)
    assert result.error == "ValueError: the model's widths do not fit"
    assert result.extra_info()["time_to_target_s"] is None


def test_on_data_parallel_ranks_another_exception_propagates(monkeypatch):
    from benchsuite.training.ranks import Solo

    monkeypatch.setattr(loop, "train_step", lambda *a, **k: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):  # the rank exits; its pool records the run crashed
        train_run(_run(), CPU, warmup_steps=0, team=Solo())


def test_a_run_after_an_oom_trains_normally(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(training_run, "build_trainer", _oom)
        assert train_run(_run(), CPU, warmup_steps=0).status == "oom"
    assert train_run(_run(), CPU, warmup_steps=0).status == "ok"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda():
    result = train_run(_run(), torch.device("cuda"))
    assert result.status == "ok" and result.device.startswith("cuda")


def test_curve_records_the_lr_and_the_run_its_effective_lr():
    train_spec = {
        **tiny_spec()["train"],
        "lr": 0.04,
        "batch_size": 32,
        "lr_scaling": "linear",
        "base_batch_size": 16,
        "lr_schedule": {"name": "step", "milestones_epochs": [1]},
    }
    result = train_run(_run(train=train_spec), CPU)  # 64 / 32 = 2 steps per epoch
    assert result.effective_lr == pytest.approx(0.08)  # linear rule: 0.04 × 32 / 16
    assert [p.lr for p in result.curve] == pytest.approx([0.08, 0.008, 0.008])
    assert result.extra_info()["curve"][1]["lr"] == pytest.approx(0.008)


def test_bf16_autocast_runs_on_cpu_and_is_recorded():
    result = train_run(_run(matrix={"precision": ["bf16"]}), CPU)
    assert result.status == "ok" and result.precision == "bf16 autocast (cpu)"


def test_unsupported_precision_is_refused_with_a_reason():
    with pytest.raises(training_run.UnsupportedCase, match="fp16 autocast with GradScaler needs a CUDA device"):
        train_run(_run(matrix={"precision": ["fp16"]}), CPU)


def test_compile_is_timed_apart_and_does_not_change_the_run():
    plain = train_run(_run(), CPU)
    techniques = {"compile": True, "compile_backend": "eager"}
    compiled = train_run(_run(techniques=techniques), CPU)
    assert compiled.compile_s > 0 and plain.compile_s == 0
    assert [p.val_loss for p in compiled.curve] == pytest.approx([p.val_loss for p in plain.curve], rel=1e-5)


def test_prior_bias_and_dropout_axes_reach_the_model():
    spec = ScenarioSpec.model_validate(tiny_spec(matrix={"dropout": [0.0, 0.5], "prior_bias": [True]}))
    runs = expand_runs(spec)
    assert runs[0].run_id == "tiny[dropout=0-prior_bias=true-seed=0]"
    assert [r.case.config.workload.model.dropout for r in runs[:2]] == [0.0, 0.5]
    assert train_run(runs[-1], CPU).status == "ok"


def test_input_stall_fraction_by_hand(monkeypatch):
    from benchsuite.training import batches as serving

    now = [0.0]
    monkeypatch.setattr(clock.time, "perf_counter", lambda: now[0])
    real_stream, real_step = serving.preloaded_stream, loop.train_step

    def slow_stream(*args):
        for batch in real_stream(*args):
            now[0] += 0.5  # waiting for each batch "takes" 0.5 s
            yield batch

    def timed_step(*args):
        now[0] += 1.0
        return real_step(*args)

    monkeypatch.setattr(serving, "preloaded_stream", slow_stream)
    monkeypatch.setattr(loop, "train_step", timed_step)
    info = train_run(_run(), CPU, warmup_steps=0, telemetry_interval_s=None).extra_info()
    assert info["timed_s"] == 12.0 and info["input_stall_s"] == 4.0  # 8 steps × (1 + 0.5) s; 8 × 0.5 s waiting
    assert info["input_stall_fraction"] == pytest.approx(1 / 3)
    assert info["input_stall_clock"] == "host-clock" and info["input_wait_host_s"] == 4.0


@pytest.mark.parametrize(
    "loader", [{"name": "dataloader"}, {"name": "dataloader", "num_workers": 1, "prefetch_factor": 2}]
)
def test_dataloader_runs_are_reproducible(loader):
    runs = [_run(train={**tiny_spec()["train"], "loader": loader}) for _ in range(2)]
    a, b = (train_run(r, CPU, telemetry_interval_s=None) for r in runs)
    assert a.status == "ok" and a.steps == 8 and a.samples == 8 * 16
    assert [p.val_loss for p in a.curve] == [p.val_loss for p in b.curve]
    assert 0.0 <= a.extra_info()["input_stall_fraction"] <= 1.0


def test_loader_axis_and_validation():
    spec = ScenarioSpec.model_validate(
        tiny_spec(matrix={"loader": ["preloaded", {"name": "dataloader", "pin_memory": True}]})
    )
    assert [r.case.case_id for r in expand_runs(spec)[:2]] == ["loader=preloaded", "loader=dataloader"]
    with pytest.raises(ValueError, match="prefetch_factor needs num_workers"):
        TrainSpec(max_steps=1, loader={"name": "dataloader", "prefetch_factor": 4})


def test_timed_segments_add_up_to_the_timed_region():
    result = train_run(_run(train={**tiny_spec()["train"], "eval_every_steps": 3}), CPU, telemetry_interval_s=None)
    seconds, steps = zip(*result.segments, strict=True)
    assert sum(steps) == result.steps == 8 and steps == (3, 1, 2, 2)  # evaluations at 3, 4 (epoch end), 6, 8
    assert sum(seconds) == pytest.approx(result.timed_s) and len(result.segments) == len(result.curve) - 1
    assert result.extra_info()["step_time_s_median"] > 0


def test_every_loader_serves_the_same_batches_for_a_seed():
    from benchsuite.specs.serving import DataLoaderSpec, PreloadedLoader
    from benchsuite.specs.workload import SyntheticSpec
    from benchsuite.training.batches import batch_stream
    from benchsuite.workloads.datasets import build_synthetic

    data = build_synthetic(SyntheticSpec(name="synthetic", shape=[4], num_samples=50))
    loaders = [
        PreloadedLoader(name="preloaded"),
        DataLoaderSpec(name="dataloader"),
        DataLoaderSpec(name="dataloader", num_workers=1, prefetch_factor=2),
    ]
    streams = [list(batch_stream(s, data, data, 16, 9, torch.Generator().manual_seed(3), CPU)) for s in loaders]
    assert [len(s) for s in streams] == [9, 9, 9]  # 4 batches an epoch (16, 16, 16, 2), across epoch ends
    for other in streams[1:]:
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(streams[0], other, strict=True))
