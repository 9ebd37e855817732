"""The training loop: one plain function, :func:`train_run`.

Timing rules (DESIGN.md, airbench/nanoGPT style): data preload, model build and warm-up happen before the timed
region and are reported apart; the stopwatch runs over segments of training steps and is stopped (with a CUDA
synchronisation) only at evaluation boundaries, so there is no per-step host sync. The training loss is summed on
the device and read once per evaluation. Evaluation is untimed.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from benchsuite import mfu, precision
from benchsuite.clock import Stopwatch, now
from benchsuite.matrix import Run
from benchsuite.outcome import CurvePoint, RunResult, Status, reaches, time_to_target
from benchsuite.telemetry import DEFAULT_INTERVAL_S, Sampler, downsample, run_summary
from benchsuite.runtime import Trainer, build_trainer, compile_model, effective_lr, train_step
from benchsuite.serving import Batch, batch_stream, batches
from benchsuite.specs import CaseConfig, DataLoaderSpec, TrainSpec
from benchsuite.workloads import Dataset, load_dataset

EVAL_BATCH = 4096


@dataclass(frozen=True)
class Budget:
    """How long a run may train: ``total_steps`` steps of which ``steps_per_epoch`` make one epoch."""

    steps_per_epoch: int
    total_steps: int
    eval_every_steps: int | None

    @classmethod
    def of(cls, train: TrainSpec, n_train: int, max_steps: int | None = None) -> Budget:
        """The budget of ``train`` over ``n_train`` samples; ``max_steps`` caps it further (smoke runs)."""
        per_epoch = math.ceil(n_train / train.batch_size)
        caps = [c for c in (train.max_steps, max_steps) if c is not None]
        if train.max_epochs is not None:
            caps.append(train.max_epochs * per_epoch)
        return cls(per_epoch, min(caps), train.eval_every_steps)

    def evaluates_at(self, step: int) -> bool:
        """Evaluate every ``eval_every_steps``, at every epoch end and at the last step."""
        every = self.eval_every_steps is not None and step % self.eval_every_steps == 0
        return every or step % self.steps_per_epoch == 0 or step == self.total_steps


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy of ``model`` on x (N, *input_shape), y (N,), in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(y), EVAL_BATCH):
        logits = model(x[start : start + EVAL_BATCH])
        target = y[start : start + EVAL_BATCH]
        loss_sum += F.cross_entropy(logits.float(), target, reduction="sum")
        correct += (logits.argmax(dim=1) == target).sum()
    model.train(was_training)
    return loss_sum.item() / len(y), correct.item() / len(y)


class UnsupportedCase(ValueError):
    """The case cannot run on this device (e.g. fp16 autocast on a CPU); the message says why."""


def warm_up(config: CaseConfig, data: Dataset, device: torch.device, steps: int) -> float:
    """Run ``steps`` steps on a throwaway model, optimizer and precision setup; return their seconds (untimed)."""
    if steps == 0:
        return 0.0
    trainer = build_trainer(config, data, device, total_steps=steps, steps_per_epoch=steps)
    watch = Stopwatch(device)
    with watch:
        for idx in batches(len(data.train_y), config.train.batch_size, steps, torch.Generator(), device):
            train_step(trainer, data.train_x[idx], data.train_y[idx])
    return watch.elapsed_s


def train_run(
    run: Run,
    device: torch.device,
    *,
    max_steps: int | None = None,
    warmup_steps: int | None = None,
    telemetry_interval_s: float | None = DEFAULT_INTERVAL_S,
) -> RunResult:
    """Train one run until its target is reached (if ``stop_at_target``) or its budget ends.

    Args:
        run: the case and seed; the seed makes the run reproducible (same seed, same curve on CPU).
        device: where data, model and optimizer live.
        max_steps: further cap on the budget (smoke checks).
        warmup_steps: overrides ``train.warmup_steps``.
        telemetry_interval_s: seconds between telemetry samples (NVML + psutil) around the loop; None: off.

    Returns:
        The run's result with status ``ok``, ``diverged`` (non-finite loss) or ``oom`` (CUDA out of memory).

    Raises:
        UnsupportedCase: the case's precision cannot run on ``device``.
    """
    config, device = run.case.config, torch.device(device)
    reason = precision.unsupported_reason(config.techniques.precision, device)
    if reason:
        raise UnsupportedCase(reason)
    with precision.matmul_mode(config.techniques.precision, device):
        return _train(run, config, device, max_steps, warmup_steps, telemetry_interval_s)


def _train(run: Run, config: CaseConfig, device: torch.device, max_steps: int | None, warmup: int | None,
           interval_s: float | None) -> RunResult:  # fmt: skip
    setup = Stopwatch(device)
    with setup:
        data = load_dataset(config.workload.dataset, device)
    budget = Budget.of(config.train, len(data.train_y), max_steps)
    warmup_n = config.train.warmup_steps if warmup is None else warmup
    warmup_s = warm_up(config, data, device, warmup_n)
    with setup:
        torch.manual_seed(run.seed)
        trainer = build_trainer(config, data, device, budget.total_steps, budget.steps_per_epoch)
    first = slice(0, min(config.train.batch_size, len(data.train_y)))
    flops_sample = mfu.flops_per_sample(trainer.model, data.train_x[first], data.train_y[first], config.model_dump_json())
    compile_s = compile_model(trainer, config, data) if config.techniques.compile else 0.0
    loop = _Loop(config, data, budget, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    loader = config.train.loader
    workers = isinstance(loader, DataLoaderSpec) and loader.num_workers > 0
    sampler = Sampler(device, interval_s, children=workers) if interval_s else None
    with sampler or contextlib.nullcontext():
        status, steps = loop.run(trainer, torch.Generator().manual_seed(run.seed))
    telemetry, timeline = _telemetry(sampler, loop, config, device)
    return RunResult(
        run_id=run.run_id, scenario=run.case.scenario, case_id=run.case.case_id, seed=run.seed,
        axes=dict(run.case.axes), is_baseline=run.case.is_baseline, device=str(device), status=status,
        steps=steps, budget_steps=budget.total_steps, samples=loop.samples, batch_size=config.train.batch_size,
        steps_per_epoch=budget.steps_per_epoch, timed_s=loop.train_watch.elapsed_s, warmup_steps=warmup_n,
        warmup_s=warmup_s, eval_s=loop.eval_watch.elapsed_s, setup_s=setup.elapsed_s, compile_s=compile_s,
        num_params=sum(p.numel() for p in trainer.optimizer.param_groups[0]["params"]),
        effective_lr=effective_lr(config), precision=precision.in_effect(config.techniques.precision, device),
        target_metric=config.target.metric if config.target else None,
        target_value=config.target.value if config.target else None,
        curve=loop.curve, segments=loop.segments, fault_step=loop.fault_step, config=config.model_dump(mode="json"),
        telemetry=telemetry, timeline=timeline,
        utilisation={**mfu.utilisation(flops_sample, loop.samples, loop.train_watch.elapsed_s,
                                       mfu.peak_flops(device, config.techniques.precision)),
                     "input_stall_s": loop.stall_s,
                     "input_stall_fraction": loop.stall_s / loop.train_watch.elapsed_s if loop.train_watch.elapsed_s else None},
    )  # fmt: skip


def _telemetry(sampler: Sampler | None, loop: _Loop, config: CaseConfig, device: torch.device) -> tuple[dict, list]:
    """Telemetry summary (with energy-to-target and torch's peak allocated memory) and the bounded timeline."""
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    if sampler is None:
        return {"torch_peak_allocated_mib": peak}, []
    target = config.target
    hit = time_to_target(loop.curve, target.metric, target.value, target.higher_is_better) if target else None
    summary = run_summary(sampler, loop.train_watch.intervals, hit.time_to_target_s if hit else None)
    start = sampler.samples[0][0] if sampler.samples else 0.0
    return {**summary, "torch_peak_allocated_mib": peak}, downsample(sampler.samples, start)


class _Loop:
    """State of one run's loop: the two stopwatches, the curve and the samples seen."""

    def __init__(self, config: CaseConfig, data: Dataset, budget: Budget, device: torch.device) -> None:
        self.config, self.data, self.budget, self.device = config, data, budget, device
        self.train_watch = Stopwatch(device, training=True)
        self.eval_watch = Stopwatch(device)
        self.curve: list[CurvePoint] = []
        self.samples = 0
        self.fault_step: int | None = None
        self.steps_done = 0
        self.stall_s = 0.0
        self.segments: list[tuple[float, int]] = []
        """(seconds, steps) of every timed segment: the steps between two evaluations."""

    def run(self, trainer: Trainer, generator: torch.Generator) -> tuple[Status, int]:
        """Train; return the final status and the steps completed (``fault_step`` is set on a fault)."""
        step = 0
        self._evaluate(trainer, step, None)
        loss_sum, seg_steps = torch.zeros((), device=self.device), 0
        try:
            self.train_watch.start()
            stream = self._stream(generator)
            while (batch := self._next_batch(stream)) is not None:
                step += 1
                loss_sum += train_step(trainer, *batch)
                self.steps_done = step
                seg_steps += 1
                self.samples += len(batch[1])
                if not self.budget.evaluates_at(step):
                    continue
                self.segments.append((self.train_watch.stop(), seg_steps))
                point = self._evaluate(trainer, step, loss_sum.item() / seg_steps)
                if not (math.isfinite(point.train_loss) and math.isfinite(point.val_loss)):
                    self.fault_step = step
                    return "diverged", step
                if self._done(point, step):
                    return "ok", step
                loss_sum.zero_()
                seg_steps = 0
                self.train_watch.start()
        except torch.cuda.OutOfMemoryError:
            if self.train_watch.running:
                self.segments.append((self.train_watch.stop(), seg_steps))
            self.fault_step = step  # the step (or its evaluation) that ran out of memory
            return "oom", self.steps_done
        return "ok", step

    def _stream(self, generator: torch.Generator) -> Iterator[Batch]:
        train, cpu = self.config.train, torch.device("cpu")
        on_cpu = self.data if self.device == cpu else load_dataset(self.config.workload.dataset, cpu)
        return batch_stream(train.loader, self.data, on_cpu, train.batch_size, self.budget.total_steps, generator,
                            self.device)  # fmt: skip

    def _next_batch(self, stream: Iterator[Batch]) -> Batch | None:
        """The next batch, or None at the end; the host-side wait is added to ``stall_s`` (no device sync)."""
        waited = now()
        batch = next(stream, None)
        self.stall_s += now() - waited
        return batch

    def _done(self, point: CurvePoint, step: int) -> bool:
        target = self.config.target
        hit = target is not None and reaches(point.metric(target.metric), target.value, target.higher_is_better)
        return step >= self.budget.total_steps or (hit and self.config.train.stop_at_target)

    def _evaluate(self, trainer: Trainer, step: int, train_loss: float | None) -> CurvePoint:
        with self.eval_watch, trainer.autocast():
            val_loss, val_accuracy = evaluate(trainer.model, self.data.val_x, self.data.val_y)
        point = CurvePoint(
            step=step, epoch=step / self.budget.steps_per_epoch, timed_s=self.train_watch.elapsed_s,
            train_loss=train_loss, val_loss=val_loss, val_accuracy=val_accuracy, lr=trainer.lr,
        )  # fmt: skip
        self.curve.append(point)
        return point


__all__ = ["Budget", "UnsupportedCase", "batches", "evaluate", "train_run", "warm_up"]
