"""What one run yields: its evaluation curve and the figures derived from it.

Time-to-target follows the AlgoPerf / MLPerf convention: the timed training seconds at the first evaluation whose
validation metric reaches the target; evaluation itself is not timed. A run that never reaches the target has no
time-to-target (``None``), not a large one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from benchsuite.specs.names import LOWER_IS_BETTER_METRICS
from benchsuite.telemetry.step_times import UNSTABLE_CV, step_times

Status = Literal["ok", "diverged", "oom", "failed", "crashed", "timeout"]
"""How a run ended: trained to its target or budget (``ok``), a non-finite loss (``diverged``), out of memory on the
device or the host (``oom``), another exception inside a run of one process (``failed``), or, for the ranks of a
data-parallel run, a failed rank (``crashed``) or one past the time limit (``timeout``)."""

StopReason = Literal["target", "plateau", "budget"]
"""Why a run's loop stopped (:attr:`benchsuite.specs.training.TrainSpec.plateau` gives the order): it reached its
target (with ``stop_at_target``), its validation metric plateaued, or its budget ended."""


@dataclass(frozen=True)
class CurvePoint:
    """One evaluation.

    Attributes:
        step: optimizer steps taken so far (0 = before training).
        epoch: passes over the training split so far (fractional).
        timed_s: seconds of the timed training region so far (evaluation excluded).
        train_loss: mean training loss over the steps since the previous evaluation (None at step 0).
        val_loss: mean cross-entropy on the validation split.
        val_accuracy: top-1 accuracy on the validation split, in [0, 1].
        val_balanced_accuracy: mean per-class recall on the validation split, in [0, 1] (scikit-learn's
            ``balanced_accuracy_score``, Brodersen et al. 2010); None in results written before it was recorded.
    """

    step: int
    epoch: float
    timed_s: float
    train_loss: float | None
    val_loss: float
    val_accuracy: float
    lr: float | None = None
    """Learning rate the next optimizer step uses."""
    val_balanced_accuracy: float | None = None

    def metric(self, name: str) -> float:
        """The value of validation metric ``name`` (``val_accuracy``, ``val_loss`` or ``val_balanced_accuracy``);
        NaN for a metric the point did not record (an old results file), which never reaches a target."""
        value = getattr(self, name)
        return math.nan if value is None else value


@dataclass(frozen=True)
class TargetHit:
    """Where a curve first reached its target."""

    time_to_target_s: float
    steps_to_target: int
    epochs_to_target: float


def reaches(value: float, target: float, higher_is_better: bool) -> bool:
    """Whether ``value`` meets ``target`` (>= for accuracy, <= for loss); NaN never does."""
    if math.isnan(value):
        return False
    return value >= target if higher_is_better else value <= target


def time_to_target(curve: list[CurvePoint], metric: str, target: float, higher_is_better: bool) -> TargetHit | None:
    """The first evaluation of ``curve`` whose ``metric`` reaches ``target``, or None if none does."""
    for point in curve:
        if reaches(point.metric(metric), target, higher_is_better):
            return TargetHit(point.timed_s, point.step, point.epoch)
    return None


def metric_after_epochs(curve: list[CurvePoint], metric: str, epochs: float) -> float | None:
    """``metric`` at the evaluation taken exactly after ``epochs`` epochs, or None if there was none."""
    for point in curve:
        if math.isclose(point.epoch, epochs):
            return point.metric(metric)
    return None


def _sig(value: Any, digits: int = 7) -> Any:
    """A float kept to ``digits`` significant digits (curves are long; 17-digit floats triple the results file)."""
    return float(f"{value:.{digits}g}") if isinstance(value, float) and math.isfinite(value) else value


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run (one case, one seed), with raw curve and derived figures.

    Times are wall seconds on ``device``: ``timed_s`` is the timed training region; ``warmup_s``, ``eval_s``,
    ``compile_s``, ``pretrain_s`` and ``setup_s`` (data preload + model build, a pretraining stage's included) are
    measured apart and never included in it.
    """

    run_id: str
    scenario: str
    case_id: str
    seed: int
    axes: dict[str, str]
    is_baseline: bool
    device: str
    status: Status
    steps: int
    budget_steps: int
    """Steps the budget allowed (the run may stop earlier at its target or a fault)."""
    samples: int
    batch_size: int
    steps_per_epoch: int
    timed_s: float
    warmup_steps: int
    warmup_s: float
    eval_s: float
    setup_s: float
    num_params: int
    target_metric: str | None
    target_value: float | None
    curve: list[CurvePoint] = field(default_factory=list)
    compile_s: float = 0.0
    """torch.compile time, measured apart from the timed region (0 without compile)."""
    effective_lr: float | None = None
    """Base lr after the batch-size scaling rule (the peak lr of the schedule)."""
    precision: str = "fp32"
    """The precision in effect, e.g. ``bf16 autocast (cpu)``."""
    optimizer_impl: str | None = None
    """The optimizer's implementation that ran: ``fused`` (CUDA SGD/Adam/AdamW: no host read of GradScaler's
    found_inf), ``foreach`` or ``for-loop`` (:func:`benchsuite.training.build.optimizer_implementation`)."""
    config: dict[str, Any] = field(default_factory=dict)
    """The case's full configuration as run (per-device overrides and axis values applied)."""
    telemetry: dict[str, Any] = field(default_factory=dict)
    """Telemetry summary (see :func:`benchsuite.telemetry.summary.run_summary`)."""
    utilisation: dict[str, Any] = field(default_factory=dict)
    """FLOPs per sample, achieved FLOP/s and MFU (see :mod:`benchsuite.telemetry.mfu`)."""
    timeline: list[dict[str, float]] = field(default_factory=list)
    """Downsampled telemetry samples (``t_s`` since the first sample plus every metric)."""
    fault_step: int | None = None
    """Step at whose evaluation a fault (divergence, OOM) was seen."""
    fault_stage: str | None = None
    """Where a fault happened: ``training``, ``evaluation`` (the loop's), or a stage before or after the loop where
    the run ran out of memory or failed (``data load``, ``warm-up``, ``model build``, ``FLOP count``, ``pretrain``,
    ``compile``, ``telemetry extension``, ``communication probe``); None if none."""
    error: str | None = None
    """The fault's message (first line of the out-of-memory or other error), or None."""
    segments: list[tuple[float, int]] = field(default_factory=list)
    """(seconds, steps) of every timed segment, in order: the raw timing from which step-time statistics derive."""
    world_size: int = 1
    """Data-parallel ranks that trained the run (``batch_size`` is the global batch over them)."""
    ranks: list[dict[str, Any]] = field(default_factory=list)
    """Per rank: device, torch threads, timed seconds, median step time and telemetry summary (rank 0 first)."""
    stop_reason: StopReason | None = None
    """Why the loop stopped (``target``, ``plateau``, ``budget``); None for a run that ended on a fault."""
    stop_step: int | None = None
    """The step at whose evaluation the loop stopped (None with ``stop_reason``)."""
    pretrain_s: float = 0.0
    """Seconds of the pretraining steps (``train.pretrain``), measured apart from the timed region (0 without)."""
    pretrain_steps: int = 0
    """Optimizer steps of the pretraining stage (0 without one)."""

    @property
    def epochs(self) -> float:
        return self.steps / self.steps_per_epoch

    @property
    def step_time_s(self) -> float | None:
        """Mean seconds per optimizer step in the timed region."""
        return self.timed_s / self.steps if self.steps else None

    @property
    def throughput_samples_per_s(self) -> float | None:
        """Training samples per second of the timed region."""
        return self.samples / self.timed_s if self.timed_s > 0 else None

    @property
    def quality_metric(self) -> str:
        """The metric quality is judged by: the target's, else validation accuracy."""
        return self.target_metric or "val_accuracy"

    def hit(self) -> TargetHit | None:
        """Where the target was first reached, or None (no target, or never reached)."""
        return target_hit(self.curve, self.target_metric, self.target_value)

    def extra_info(self) -> dict[str, Any]:
        """Every per-run figure, flat and JSON-ready, for ``benchmark.extra_info``."""
        hit = self.hit()
        times = step_times(self.segments)
        last = self.curve[-1] if self.curve else None
        info = {k: v for k, v in asdict(self).items() if k not in ("curve", "segments", "telemetry", "utilisation")}
        info.update(self.telemetry)
        info.update(self.utilisation)
        info.update(
            epochs=self.epochs,
            step_time_s=self.step_time_s,
            step_time_s_median=times.median_s,
            step_time_s_p25=times.p25_s,
            step_time_s_p75=times.p75_s,
            step_time_cv=times.cv,
            unstable=times.cv is not None and times.cv > UNSTABLE_CV,
            segments=[[round(seconds, 7), steps] for seconds, steps in self.segments],
            throughput_samples_per_s=self.throughput_samples_per_s,
            reached_target=hit is not None,
            time_to_target_s=hit.time_to_target_s if hit else None,
            steps_to_target=hit.steps_to_target if hit else None,
            epochs_to_target=hit.epochs_to_target if hit else None,
            final_val_metric=last.metric(self.quality_metric) if last else None,
            final_val_loss=last.val_loss if last else None,
            final_val_accuracy=last.val_accuracy if last else None,
            val_metric_epoch1=metric_after_epochs(self.curve, self.quality_metric, 1.0),
            curve=[{k: _sig(v) for k, v in asdict(p).items()} for p in self.curve],
        )
        return info


def target_hit(curve: list[CurvePoint], metric: str | None, value: float | None) -> TargetHit | None:
    """Where ``curve`` first reaches the target ``metric`` ≥ ``value`` (accuracies) or ≤ ``value`` (loss), or None: the
    one rule for a run's time-to-target, read by its record and by its energy-to-target."""
    if metric is None or value is None:
        return None
    return time_to_target(curve, metric, value, higher_is_better=metric not in LOWER_IS_BETTER_METRICS)


def smoke_problems(info: dict[str, Any], expected_steps: int) -> list[str]:
    """What is wrong with a smoke run (its ``extra_info``): wrong status or step count, non-finite or out-of-range
    figures."""
    if info["status"] != "ok":
        where = (
            f"at step {info['fault_step']}" if info.get("fault_step") is not None else f"in {info.get('fault_stage')}"
        )
        return [f"status {info['status']} {where}" + (f": {info['error']}" if info.get("error") else "")]
    problems = []
    if info["steps"] != expected_steps:
        problems.append(f"took {info['steps']} steps, expected {expected_steps}")
    for p in info["curve"]:
        if not math.isfinite(p["val_loss"]) or not 0.0 <= p["val_accuracy"] <= 1.0:
            problems.append(
                f"bad evaluation at step {p['step']}: val_loss={p['val_loss']}, val_accuracy={p['val_accuracy']}"
            )
    return problems
