"""Training specs: ``train`` (:class:`TrainSpec`: batch size and lr scaling, budget, evaluation, world size), stopping
on a plateau and pretraining. Its optimizer, learning-rate schedule and data serving are specs of their own:
:mod:`benchsuite.specs.optimizers`, :mod:`benchsuite.specs.schedules`, :mod:`benchsuite.specs.serving`."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from benchsuite.specs.base import Labelled, Spec, name_shorthand
from benchsuite.specs.optimizers import AdamSpec, OptimizerSpec
from benchsuite.specs.schedules import ConstantSchedule, LrScaling, ScheduleSpec
from benchsuite.specs.serving import (
    LoaderSpec,
    PreloadedLoader,
    ProgressiveResizingSpec,
    SamplerSpec,
    UniformSampler,
)
from benchsuite.specs.workload import DatasetSpec

# ---------------------------------------------------------------- stopping on a plateau, pretraining


class PlateauSpec(Spec):
    """A patience rule: stop when the validation metric has not improved for a while (Prechelt 1998, "Early
    stopping — but when?", the patience criterion; Keras's EarlyStopping has the same two settings).

    The metric is the target's (``val_loss`` falls, ``val_accuracy`` rises), or ``val_accuracy`` without a target. The
    evaluations after training began count (the untrained model's evaluation at step 0 is no reference): an
    evaluation improves when it beats the best value so far by more than ``min_delta``; ``patience`` consecutive
    evaluations that do not stop the run (:class:`benchsuite.training.plateau.PlateauWatch`)."""

    patience: PositiveInt = 5
    """Consecutive evaluations without an improvement of more than ``min_delta`` that stop the run."""
    min_delta: NonNegativeFloat = 0.0
    """The smallest change of the metric that counts as an improvement, in the metric's own units (accuracy as a
    fraction, loss in nats); 0: any strict improvement."""


class PretrainSpec(Labelled):
    """A pretraining stage before the run: the case's model trained on another dataset (or a subset of its own), its
    weights the run's starting point. Its seconds are reported apart (``pretrain_s``), never in the timed region nor in
    time-to-target; nothing is downloaded (the datasets are those of ``workload.dataset``).

    It trains with the case's optimizer, effective lr, schedule (laid over the pretraining budget) and techniques, on
    preloaded batches, unevaluated; the run then starts a fresh optimizer and schedule. Where the two datasets have a
    different number of classes the classifier head (the model's last Linear layer) keeps the initialisation the run
    would have had without pretraining: it is re-initialised for the target; every other weight and buffer is
    carried over and must fit (a run whose pretrained model does not fit fails in stage ``pretrain``)."""

    dataset: DatasetSpec | None = None
    """The dataset to pretrain on (any ``workload.dataset``); None: the case's own training split."""
    # ``label`` (from Labelled): its name in case ids as a ``pretrain`` matrix axis value, where it is required
    # (``null`` in that axis is no pretraining, labelled ``none``).
    subset_samples: PositiveInt | None = None
    """Pretrain on this many of its training samples (a fixed permutation, seed 0, independent of the run seed);
    None: all of them."""
    batch_size: PositiveInt | None = None
    """Samples per pretraining step; None: the case's global batch."""
    max_epochs: PositiveInt | None = None
    """Pretraining budget in epochs of its (sub)set (with or instead of ``max_steps``)."""
    max_steps: PositiveInt | None = None
    """Pretraining budget in optimizer steps (with or instead of ``max_epochs``)."""

    _shorthand_dataset = field_validator("dataset", mode="before")(name_shorthand)

    @model_validator(mode="after")
    def _has_budget(self) -> PretrainSpec:
        if self.max_epochs is None and self.max_steps is None:
            raise ValueError("set pretrain max_epochs or max_steps (the pretraining budget)")
        return self


class TrainSpec(Spec):
    """Base training configuration. At least one of ``max_epochs`` and ``max_steps`` bounds the budget."""

    optimizer: OptimizerSpec = AdamSpec(name="adam")
    """The optimizer and its settings (a name alone takes the defaults)."""
    lr: PositiveFloat = 1.0e-3
    """Base learning rate (at ``base_batch_size`` when a scaling rule is used)."""
    lr_schedule: ScheduleSpec = ConstantSchedule(name="constant")
    """The learning-rate schedule (a name alone takes the defaults)."""
    batch_size: PositiveInt = 128
    """The global batch (``fixed_batch: global``, split across the ranks) or each rank's (``per_device``)."""
    world_size: PositiveInt = 1
    """Processes training the case in data parallel (DistributedDataParallel, launched by torchrun): one per GPU on
    CUDA, one per share of the CPU's cores (torch threads = cores / world size) on a CPU."""
    fixed_batch: Literal["global", "per_device"] = "global"
    """Which batch a world-size sweep holds: ``global`` (batch_size is split across the ranks: strong scaling) or
    ``per_device`` (each rank takes batch_size; the global batch grows with the world size: weak scaling)."""
    loader: LoaderSpec = PreloadedLoader(name="preloaded")
    """How batches are served: preloaded on the device, or a DataLoader (input stall is measured either way)."""
    sampler: SamplerSpec = UniformSampler(name="uniform")
    """How each epoch's training order is drawn: a uniform permutation, or repeat-factor sampling (LVIS)."""
    progressive_resizing: ProgressiveResizingSpec | None = None
    """Train on smaller images first (a schedule of sizes by epoch); None trains at the native size throughout."""
    lr_scaling: LrScaling = "none"
    """How the lr follows the batch size: linear (Goyal et al. 2017) or square-root (Malladi et al. 2022)."""
    base_batch_size: PositiveInt | None = None
    """Batch size at which the base lr holds; needed by a scaling rule."""
    max_epochs: PositiveInt | None = None
    """Training budget in epochs (with or instead of ``max_steps``)."""
    max_steps: PositiveInt | None = None
    """Training budget in optimizer steps (with or instead of ``max_epochs``)."""
    eval_every_steps: PositiveInt | None = None
    """Evaluate every N steps; the end of every epoch is always evaluated too."""
    eval_every_samples: PositiveInt | None = None
    """Evaluate every N training samples instead (every ceil(N / global batch) steps; not with ``eval_every_steps``):
    in a batch sweep the grid is then the same in samples for every batch, so it stays a small share of each case's
    steps-to-target (:mod:`benchsuite.analysis.grid`); a fixed step grid is as coarse as a whole run of a large
    batch."""
    warmup_steps: NonNegativeInt = 5
    """Untimed steps on a throwaway model before the timed run (kernel/allocator warm-up, reported apart)."""
    stop_at_target: bool = True
    """Stop at the first evaluation that reaches the target; false trains the whole budget (final quality)."""
    plateau: PlateauSpec | None = None
    """Also stop once the validation metric plateaus (:class:`PlateauSpec`); None: never. A run stops at the first
    evaluation where a rule fires, and records which (``stop_reason``, with ``stop_step``), named in this order:
    ``target`` (reached, with ``stop_at_target``), ``plateau``, ``budget`` (``max_epochs``/``max_steps``, which still
    bound it), so a plateau at the budget's last evaluation says that the run had converged. A final-quality scenario
    sets ``stop_at_target: false`` and a plateau (each case trained to convergence, as a claim like "batch 4096 loses
    no validation accuracy" needs); a time-to-target scenario needs none (a plateau there ends a run as a miss at the
    seconds it trained). The final metric (``final_val_metric``) stays the last evaluation's, not the best one's: the
    run keeps training weights, not a checkpoint of its best evaluation, so the last evaluation is the model it ends
    with, and the best of many noisy evaluations on the split that also chose it is biased upwards; with at most
    ``patience`` evaluations past the best, the two differ by what the patience window lost."""
    pretrain: PretrainSpec | None = None
    """A pretraining stage before the run (:class:`PretrainSpec`), timed apart (``pretrain_s``); None: none."""
    min_timed_s: NonNegativeFloat = 0.0
    """Lengthen the telemetry window to at least this many seconds of training: after the run, training goes on in
    segments timed apart from it (time-to-target, steps and timed_s are untouched), so that kernel-busy, power and
    energy of a fast GPU cover enough samples (NVML averages over up to 1 s; 2 s or more is a good value there)."""

    _shorthand_optimizer = field_validator("optimizer", mode="before")(name_shorthand)
    _shorthand_schedule = field_validator("lr_schedule", mode="before")(name_shorthand)
    _shorthand_loader = field_validator("loader", mode="before")(name_shorthand)
    _shorthand_sampler = field_validator("sampler", mode="before")(name_shorthand)

    @model_validator(mode="after")
    def _consistent(self) -> TrainSpec:
        if self.max_epochs is None and self.max_steps is None:
            raise ValueError("set max_epochs or max_steps (the training budget)")
        if self.lr_scaling != "none" and self.base_batch_size is None:
            raise ValueError(f"lr_scaling '{self.lr_scaling}' needs base_batch_size")
        if self.world_size > 1 and not isinstance(self.loader, PreloadedLoader):
            raise ValueError(
                f"world_size {self.world_size} needs the preloaded loader (each rank takes its shard of "
                "every global batch)"
            )
        if self.eval_every_steps is not None and self.eval_every_samples is not None:
            raise ValueError(
                f"set eval_every_steps ({self.eval_every_steps}) or eval_every_samples ({self.eval_every_samples}), "
                "not both (a per-device size that changes one sets the other to null)"
            )
        if self.global_batch_size < self.world_size:
            raise ValueError(
                f"a global batch of {self.global_batch_size} cannot give each of {self.world_size} ranks a sample"
            )
        return self

    @property
    def global_batch_size(self) -> int:
        """Samples per optimizer step over all ranks: batch_size, or batch_size × world_size with ``per_device``."""
        return self.batch_size * self.world_size if self.fixed_batch == "per_device" else self.batch_size

    @property
    def evaluation_interval_steps(self) -> int | None:
        """Steps between evaluations besides the epoch ends: ``eval_every_steps``, or ``eval_every_samples`` in whole
        global batches (rounded up), or None (epoch ends only)."""
        if self.eval_every_samples is not None:
            return math.ceil(self.eval_every_samples / self.global_batch_size)
        return self.eval_every_steps

    @property
    def base_lr(self) -> float:
        """The optimizer's own lr if it sets one, else ``lr``."""
        return self.optimizer.lr or self.lr
