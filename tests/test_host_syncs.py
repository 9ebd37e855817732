"""No host sync in the step loop (DESIGN.md, measurement rules): checked at the dispatcher, where every ``.item()``,
``.cpu()`` and host-to-device copy shows up as an aten op, whatever Python code issued it.

On a CPU-only machine a CPU run cannot tell a sync from a host-side read (every tensor is on the host), so the loop
runs on the ``meta`` device: every op is dispatched as on an accelerator, nothing is computed, and a host-to-device
copy or a read of a device tensor is seen for what it is. On CUDA ``torch.cuda.set_sync_debug_mode("error")`` is the
real check.
"""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_spec
from torch.utils._python_dispatch import TorchDispatchMode

from benchsuite.profiling.syncs import HostSyncWatch
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training import loop
from benchsuite.training.build import Trainer, build_trainer, for_device, train_step
from benchsuite.training.loop import Budget, TrainingLoop
from benchsuite.workloads.datasets import Dataset, load_dataset

aten = torch.ops.aten
META, CPU = torch.device("meta"), torch.device("cpu")


class ScalarReads(TorchDispatchMode):
    """Records every ``_local_scalar_dense`` (``.item()``, ``float(t)``, ``bool(t)``) dispatched, on any device."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is aten._local_scalar_dense.default:
            self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def _config(**train):
    spec = ScenarioSpec.model_validate(tiny_spec(train={**tiny_spec()["train"], **train}))
    return next(iter(expand_runs(spec))).case.config


def _watch_steps(monkeypatch, on_step, off_step) -> None:
    """Call ``on_step(n)`` before the loop fetches the batch of step n and trains on it, ``off_step()`` after."""
    real_next, real_step = TrainingLoop._next_batch, loop.train_step

    def next_batch(self, stream):
        on_step(self.steps_done + 1)
        try:
            return real_next(self, stream)
        finally:
            off_step()

    def step(*args, **kwargs):
        on_step(None)
        try:
            return real_step(*args, **kwargs)
        finally:
            off_step()

    monkeypatch.setattr(TrainingLoop, "_next_batch", next_batch)
    monkeypatch.setattr(loop, "train_step", step)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_preloaded_steps_make_no_host_sync_and_copy_to_the_device_once_per_epoch(optimizer):
    """The loop on ``meta`` under the package's :class:`HostSyncWatch`, counting while the loop's training stopwatch
    runs: the only host syncs are each epoch's permutation crossing to the device (a plain copy on ``meta``, pinned
    and non-blocking on CUDA: :func:`benchsuite.training.batches.epoch_order_on`)."""
    config = _config(optimizer=optimizer)
    cpu_data = load_dataset(config.workload.dataset, CPU)  # 64 samples, batch 16: 4 steps per epoch, 8 steps
    fields = (cpu_data.train_x, cpu_data.train_y, cpu_data.val_x, cpu_data.val_y)
    data = Dataset(*(t.to(META) for t in fields), cpu_data.num_classes)
    budget = Budget.of(config.train, len(cpu_data.train_y))
    trainer = build_trainer(config, data, META, budget.total_steps, budget.steps_per_epoch)
    training = TrainingLoop(config, data, budget, META)
    with HostSyncWatch(lambda: training.train_watch.running) as watch:
        status, steps = training.run(trainer, torch.Generator().manual_seed(0))
    assert (status, steps) == ("ok", 8)
    epoch_copies = {
        k: n for k, n in watch.found.items() if k[0].startswith("benchsuite/training/batches.py:") and "copy" in k[1]
    }
    others = {k: n for k, n in watch.found.items() if k not in epoch_copies}
    assert others == {}, f"host syncs inside the step loop: {others}"
    assert sum(epoch_copies.values()) == 2  # two epochs, one permutation each


def test_the_watch_names_the_line_that_syncs_and_ignores_what_lies_outside_the_timed_region():
    from benchsuite.telemetry.clock import Stopwatch

    x = torch.ones(3, device=META)
    timed = Stopwatch(META, training=True)
    with HostSyncWatch(lambda: timed.running) as watch:
        x.sum().item()  # the stopwatch is not running: not counted
        with timed:
            value = x.sum().item()  # counted, with this line
            torch.ones(3).to(META)  # a pageable host-to-device copy
        x.sum().item()
    assert value == 0.5  # the stand-in of a meta scalar
    lines = {where for where, _ in watch.found}
    assert len(watch.found) == 2 and all("/tests/test_host_syncs.py:" in where for where in lines)
    assert {op for _, op in watch.found} == {"aten._local_scalar_dense.default", "aten._to_copy.default"}


def test_the_cuda_optimizer_reads_no_found_inf_on_the_host_under_grad_scaler():
    """fp16 on CUDA: the optimizer :func:`for_device` gives a CUDA run takes GradScaler's ``found_inf`` on the
    device; the unfused path reads it with ``.item()`` every step. The fused kernel runs on a CPU too, so the same
    optimizer steps here under a CPU GradScaler, and every ``_local_scalar_dense`` is recorded (all tensors are on
    the CPU, so each would be a sync on CUDA)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    optimizers = {
        "sgd": torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        "adam": torch.optim.Adam(model.parameters(), lr=1e-3),
        "adamw": torch.optim.AdamW(model.parameters(), lr=1e-3),
    }
    for name, unfused in optimizers.items():
        trainer = Trainer(model, for_device(unfused, "cuda"), None, torch.amp.GradScaler("cpu"), "fp32", CPU)
        x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
        with ScalarReads() as reads:
            for _ in range(3):
                train_step(trainer, x, y)
        assert reads.ops == [], f"{name}: host reads in an fp16 step: {reads.ops}"
        assert trainer.optimizer_impl == "fused"


def test_cpu_optimizers_are_unchanged():
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad"):
        config = _config(optimizer=name)
        trainer = build_trainer(config, load_dataset(config.workload.dataset, CPU), CPU, 4, 4)
        assert trainer.optimizer_impl == "for-loop" and not trainer.optimizer.defaults.get("fused")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_steps_never_sync(monkeypatch, precision):
    """``torch.cuda.set_sync_debug_mode("error")`` around every batch fetch and step of a preloaded run: any
    synchronising CUDA call inside them raises."""
    from benchsuite.training.run import train_run

    spec = ScenarioSpec.model_validate(
        tiny_spec(train={**tiny_spec()["train"], "optimizer": "adam"}, matrix={"precision": [precision]})
    )
    run = next(iter(expand_runs(spec)))
    _watch_steps(
        monkeypatch, lambda n: torch.cuda.set_sync_debug_mode("error"), lambda: torch.cuda.set_sync_debug_mode(0)
    )
    try:
        result = train_run(run, torch.device("cuda"), telemetry_interval_s=None, warmup_steps=0)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert result.status == "ok", result.error
    assert result.steps == 8


def test_a_run_records_the_optimizer_implementation_it_stepped():
    from conftest import tiny_spec

    from benchsuite.scenario.matrix import expand_runs
    from benchsuite.specs.scenario import ScenarioSpec
    from benchsuite.training.run import train_run

    run = expand_runs(ScenarioSpec.model_validate(tiny_spec()))[0]
    result = train_run(run, torch.device("cpu"), telemetry_interval_s=None)
    assert result.status == "ok" and result.optimizer_impl in ("foreach", "for-loop")  # CPU: PyTorch's default
    assert result.extra_info()["optimizer_impl"] == result.optimizer_impl


def test_compile_warms_each_ranks_shard_shapes_not_only_the_global_batch():
    """A data-parallel rank trains on its shard of each global batch: compile must see those shapes before the timed
    region, or the rank recompiles inside it (issue 21)."""
    from types import SimpleNamespace

    from conftest import tiny_spec

    from benchsuite.scenario.matrix import expand_runs
    from benchsuite.specs.scenario import ScenarioSpec
    from benchsuite.training.build import build_trainer, compile_model
    from benchsuite.workloads.datasets import load_dataset

    base = expand_runs(ScenarioSpec.model_validate(tiny_spec()))[0].case.config  # 64 samples, batch 16
    config = base.model_copy(update={"techniques": base.techniques.model_copy(update={"compile_backend": "eager"})})
    data = load_dataset(config.workload.dataset, torch.device("cpu"))
    trainer = build_trainer(config, data, torch.device("cpu"), 8, 4)
    seen = []
    trainer.model.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]))
    half = SimpleNamespace(shard=lambda x, y: (x[: len(x) // 2], y[: len(y) // 2], 0.5))  # rank 0 of 2
    compile_model(trainer, config, data, half)
    assert seen and set(seen) == {8}  # the shard of batch 16, never the global batch
