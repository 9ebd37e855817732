"""The loop of one run: timed segments of training steps, untimed evaluation, stop at the target or the budget.

Timing rules (the AlgoPerf and MLPerf Training convention of untimed evaluation; airbench's and nanoGPT's timing of
the training steps alone): the stopwatch runs over segments of training steps and is stopped
(after a CUDA synchronisation, and on N ranks after a barrier, so a segment ends when the slowest rank ends it) only
at evaluation boundaries: no per-step host sync. The training loss of each step stays on the device and is summed
and read once per evaluation, after the segment's clock has stopped. Evaluation is untimed; on N ranks rank 0 evaluates
and broadcasts whether to stop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from benchsuite.specs.case import CaseConfig
from benchsuite.specs.serving import check_resizing_fits
from benchsuite.specs.training import TrainSpec
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.telemetry.input_stall import InputStall
from benchsuite.training.batches import Batch, batch_stream
from benchsuite.training.build import Trainer, train_step
from benchsuite.training.faults import is_out_of_memory, oom_message
from benchsuite.training.outcome import CurvePoint, Status, StopReason, reaches
from benchsuite.training.plateau import plateau_watch, quality_metric
from benchsuite.training.ranks import Solo
from benchsuite.workloads.datasets import Dataset, load_dataset

EVAL_BATCH = 4096


@dataclass(frozen=True)
class Budget:
    """How long a run may train: ``total_steps`` steps of which ``steps_per_epoch`` make one epoch."""

    steps_per_epoch: int
    total_steps: int
    eval_every_steps: int | None

    @classmethod
    def of(cls, train: TrainSpec, n_train: int, max_steps: int | None = None) -> Budget:
        """The budget of ``train`` over ``n_train`` samples (global batches); ``max_steps`` caps it further."""
        per_epoch = math.ceil(n_train / train.global_batch_size)
        caps = [c for c in (train.max_steps, max_steps) if c is not None]
        if train.max_epochs is not None:
            caps.append(train.max_epochs * per_epoch)
        return cls(per_epoch, min(caps), train.evaluation_interval_steps)

    def evaluates_at(self, step: int) -> bool:
        """Evaluate every ``eval_every_steps`` (``train.eval_every_samples`` in steps), at every epoch end and at the
        last step."""
        return self.next_evaluation(step - 1) == step

    def next_evaluation(self, step: int) -> int:
        """The first step after ``step`` that is evaluated (the loop compares one integer per step)."""
        candidates = [(step // self.steps_per_epoch + 1) * self.steps_per_epoch, self.total_steps]
        if self.eval_every_steps is not None:
            candidates.append((step // self.eval_every_steps + 1) * self.eval_every_steps)
        return min(candidates)


@dataclass(frozen=True)
class Evaluation:
    """What one untimed evaluation measured on the validation split.

    Attributes:
        loss: mean cross-entropy (nats).
        accuracy: top-1 accuracy, in [0, 1].
        balanced_accuracy: mean over the classes present in the labels of each class's recall (top-1 accuracy on
            that class), in [0, 1]; scikit-learn's ``balanced_accuracy_score`` (Brodersen et al. 2010). It equals
            ``accuracy`` when every class has as many samples, and is 1/K for a model that always predicts one class.
    """

    loss: float
    accuracy: float
    balanced_accuracy: float


def balanced_accuracy(hits: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean recall over the classes with samples: ``hits`` (K,) correct predictions and ``counts`` (K,) samples per
    true class; classes without samples are left out, as scikit-learn's ``balanced_accuracy_score`` does. A 0-d
    tensor on their device (no host sync)."""
    present = counts > 0
    recall = hits.double() / counts.clamp(min=1).double()
    return (recall * present).sum() / present.sum()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Evaluation:
    """Mean cross-entropy, top-1 accuracy and balanced accuracy of ``model`` on x (N, *input_shape), y (N,), in eval
    mode. Per-class counts accumulate on the device (``scatter_add`` per batch); the host reads the three figures at
    the end, never per batch or per sample."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    joint = torch.zeros((), device=x.device, dtype=torch.long)  # (K, 2): per true class, [wrong, right]
    for start in range(0, len(y), EVAL_BATCH):
        logits = model(x[start : start + EVAL_BATCH])
        target = y[start : start + EVAL_BATCH]
        loss_sum += F.cross_entropy(logits.float(), target, reduction="sum")
        right = (logits.argmax(dim=1) == target).long()
        k = logits.shape[1]
        cells = torch.zeros(2 * k, device=x.device, dtype=torch.long)  # scatter_add: bincount has no meta kernel
        joint = joint + cells.scatter_add_(0, target * 2 + right, torch.ones_like(target)).view(k, 2)
    model.train(was_training)
    hits, counts = joint[:, 1], joint.sum(dim=1)
    # Three scalar reads after every batch has run (untimed): the first waits for the device, the others are copies.
    loss, correct, balanced = (t.item() for t in (loss_sum, hits.sum(), balanced_accuracy(hits, counts)))
    return Evaluation(loss / len(y), correct / len(y), balanced)


def unwrapped(model: nn.Module) -> nn.Module:
    """The module inside DistributedDataParallel (evaluated on rank 0 alone, so without DDP's collectives)."""
    return getattr(model, "module", model)


class TrainingLoop:
    """State of one run's loop: the two stopwatches, the curve (on rank 0), the segments and the samples seen.

    Args:
        team: the ranks (:class:`benchsuite.training.ranks.Solo` for one process).
    """

    def __init__(self, config: CaseConfig, data: Dataset, budget: Budget, device: torch.device, team=None) -> None:
        self.config, self.data, self.budget, self.device = config, data, budget, device
        self.team = team or Solo()
        self.train_watch = Stopwatch(device, training=True, barrier=self.team.barrier)
        self.eval_watch = Stopwatch(device)
        self.curve: list[CurvePoint] = []
        self.samples = 0
        self.fault_step: int | None = None
        self.fault_stage: str | None = None
        """``training`` or ``evaluation``: where a fault happened (None without one)."""
        self.fault_error: str | None = None
        """The first line of an out-of-memory error in the loop (None without one)."""
        self._evaluating = False
        self.steps_done = 0
        self.stall = InputStall(device)
        """The input stall: device-side (CUDA events) on CUDA, the host's wait on a CPU."""
        self.segments: list[tuple[float, int]] = []
        """(seconds, steps) of every timed segment: the steps between two evaluations."""
        self.stop_reason: StopReason | None = None
        """Why the loop stopped (:meth:`_done`, on rank 0); None until then and after a fault."""
        self.stop_step: int | None = None
        """The step at whose evaluation it stopped."""
        self.plateau = plateau_watch(config)
        """The patience rule of ``train.plateau`` (None without one)."""

    def run(self, trainer: Trainer, generator: torch.Generator) -> tuple[Status, int]:
        """Train; return the final status and the steps completed (``fault_step`` is set on a fault)."""
        step, seg_steps = 0, 0
        try:
            self._evaluate(trainer, step, None)  # step 0: the untrained model, so the curve starts at the origin
            losses: list[torch.Tensor] = []  # summed once per segment, after its clock stops
            evaluation = self.budget.next_evaluation(step)
            self.train_watch.start()
            stream = self._stream(generator)
            while (batch := self._next_batch(stream)) is not None:
                step += 1
                x, y, scale = self.team.shard(*batch)
                losses.append(train_step(trainer, x, y, scale))
                self.steps_done = step
                seg_steps += 1
                self.samples += len(batch[1])
                if step != evaluation:
                    continue
                evaluation = self.budget.next_evaluation(step)
                self.segments.append((self.train_watch.stop(), seg_steps))
                self.stall.settle()
                train_loss = torch.stack(losses).sum().item() / seg_steps
                diverged, done = self._decide(trainer, step, self.team.mean(train_loss))
                if diverged:
                    self.fault_step, self.fault_stage = step, "training"
                    return "diverged", step
                if done:
                    return "ok", step
                losses.clear()
                seg_steps = 0
                self.train_watch.start()
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            if self.train_watch.running:
                self.segments.append((self.train_watch.stop(), seg_steps))
            self._settle_after_oom()
            self.fault_step = step  # the step (or its evaluation) that ran out of memory
            self.fault_stage = "evaluation" if self._evaluating else "training"
            self.fault_error = oom_message(error, self.fault_stage)
            return "oom", self.steps_done
        return "ok", step

    def extend(self, trainer: Trainer, seconds: float, generator: torch.Generator) -> list[tuple[float, float]]:
        """Go on training for ``seconds`` more, in segments of 10 steps timed apart from the run (its time-to-target
        and timed_s are untouched), to lengthen the telemetry window; return the segments' clock intervals. Rank 0
        decides when enough has run, so every rank runs the same segments."""
        watch = Stopwatch(self.device, barrier=self.team.barrier)
        stream = self._stream(generator, total_steps=10**9)
        while self.team.agree([watch.elapsed_s < seconds])[0]:
            with watch:
                for _ in range(10):
                    x, y, scale = self.team.shard(*next(stream))
                    train_step(trainer, x, y, scale)
        return watch.intervals

    def _decide(self, trainer: Trainer, step: int, train_loss: float) -> tuple[bool, bool]:
        """(diverged, done) after an evaluation: rank 0 evaluates and decides, every rank follows."""
        flags = [False, False]
        if self.team.is_leader:
            point = self._evaluate(trainer, step, train_loss)
            diverged = not (math.isfinite(point.train_loss) and math.isfinite(point.val_loss))
            flags = [diverged, not diverged and self._done(point, step)]  # a diverged run has no stop reason
        diverged, done = self.team.agree(flags)
        return diverged, done

    def _stream(self, generator: torch.Generator, total_steps: int | None = None) -> Iterator[Batch]:
        """The run's batches in its sampler's order; with progressive resizing, sized from the step after the steps
        done (the run starts at 0; an extension goes on at the size the run ended at).

        Raises:
            ValueError: progressive resizing on a model or data it cannot resize
                (:func:`benchsuite.specs.serving.check_resizing_fits`).
        """
        train, cpu = self.config.train, torch.device("cpu")
        check_resizing_fits(train.progressive_resizing, self.config.workload.model, self.data.input_shape)
        on_cpu = self.data if self.device == cpu else load_dataset(self.config.workload.dataset, cpu)
        total = self.budget.total_steps if total_steps is None else total_steps
        return batch_stream(
            train.loader,
            self.data,
            on_cpu,
            train.global_batch_size,
            total,
            generator,
            self.device,
            sampler=train.sampler,
            resizing=train.progressive_resizing,
            start_step=self.steps_done,
        )

    def _next_batch(self, stream: Iterator[Batch]) -> Batch | None:
        """The next global batch, or None at the end; the wait is measured by :attr:`stall` (no device sync)."""
        self.stall.wait_begins()
        batch = next(stream, None)
        self.stall.wait_ends()
        return batch

    def _settle_after_oom(self) -> None:
        """Read the stall of the segment that ran out of memory, if the device still lets us (else keep the rest)."""
        try:
            self.stall.settle()
        except RuntimeError:  # includes torch.cuda.OutOfMemoryError; the settled segments stay counted
            self.stall.drop_unsettled()

    def _done(self, point: CurvePoint, step: int) -> bool:
        """Whether the run stops at this evaluation; if so, record why (:attr:`stop_reason`) and where. The rules, in
        the order a reason is named (:attr:`benchsuite.specs.training.TrainSpec.plateau`): the target (with
        ``stop_at_target``), the plateau, the budget."""
        target = self.config.target
        hit = target is not None and reaches(point.metric(target.metric), target.value, target.higher_is_better)
        plateaued = self.plateau is not None and self.plateau.update(point.metric(quality_metric(self.config)))
        rules = (
            ("target", hit and self.config.train.stop_at_target),
            ("plateau", plateaued),
            ("budget", step >= self.budget.total_steps),
        )
        reason = next((name for name, fired in rules if fired), None)
        if reason is not None:
            self.stop_reason, self.stop_step = reason, step
        return reason is not None

    def _evaluate(self, trainer: Trainer, step: int, train_loss: float | None) -> CurvePoint | None:
        if not self.team.is_leader:
            return None
        self._evaluating = True
        with self.eval_watch, trainer.autocast():
            measured = evaluate(unwrapped(trainer.model), self.data.val_x, self.data.val_y)
        self._evaluating = False
        point = CurvePoint(
            step=step,
            epoch=step / self.budget.steps_per_epoch,
            timed_s=self.train_watch.elapsed_s,
            train_loss=train_loss,
            val_loss=measured.loss,
            val_accuracy=measured.accuracy,
            lr=trainer.lr,
            val_balanced_accuracy=measured.balanced_accuracy,
        )
        self.curve.append(point)
        return point
