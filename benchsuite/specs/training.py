"""Training specs: optimizer, learning-rate schedule, batch size and LR scaling rule, budget, evaluation."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from benchsuite.specs.base import Labelled, Spec, name_shorthand

Betas = tuple[Annotated[float, Field(ge=0.0, lt=1.0)], Annotated[float, Field(ge=0.0, lt=1.0)]]

# ---------------------------------------------------------------- optimizers


class _Optimizer(Labelled):
    lr: PositiveFloat | None = None
    """Base learning rate of this optimizer; overrides ``train.lr`` (optimizers need different lrs)."""
    weight_decay: NonNegativeFloat = 0.0
    """L2 penalty added to the gradient (AdamW: decoupled decay, Loshchilov & Hutter 2019)."""


class SgdSpec(_Optimizer):
    """SGD with optional (Nesterov) momentum (torch.optim.SGD)."""

    name: Literal["sgd"]
    """Selects torch.optim.SGD."""
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    """Momentum factor (0 is plain SGD)."""
    nesterov: bool = False
    """Nesterov momentum (Sutskever et al. 2013); needs momentum > 0."""

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> SgdSpec:
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")
        return self


class AdagradSpec(_Optimizer):
    """AdaGrad (Duchi et al. 2011; torch.optim.Adagrad)."""

    name: Literal["adagrad"]
    """Selects torch.optim.Adagrad."""
    lr_decay: NonNegativeFloat = 0.0
    """Learning-rate decay per step (torch's lr_decay)."""
    initial_accumulator_value: NonNegativeFloat = 0.0
    """Starting value of the sum of squared gradients."""
    eps: PositiveFloat = 1e-10
    """Added to the denominator for numerical stability."""


class RmspropSpec(_Optimizer):
    """RMSProp (Tieleman & Hinton 2012; torch.optim.RMSprop)."""

    name: Literal["rmsprop"]
    """Selects torch.optim.RMSprop."""
    alpha: float = Field(0.99, gt=0.0, lt=1.0)
    """Smoothing constant of the running mean of squared gradients."""
    eps: PositiveFloat = 1e-8
    """Added to the denominator for numerical stability."""
    momentum: float = Field(0.0, ge=0.0, lt=1.0)
    """Momentum factor."""
    centered: bool = False
    """Normalise by the estimated variance of the gradient instead of its second moment."""


class AdamSpec(_Optimizer):
    """Adam (Kingma & Ba 2015); ``weight_decay`` is L2 added to the gradient."""

    name: Literal["adam"]
    """Selects torch.optim.Adam."""
    betas: Betas = (0.9, 0.999)
    """Decay rates of the first and second moment estimates."""
    eps: PositiveFloat = 1e-8
    """Added to the denominator for numerical stability."""


class AdamwSpec(_Optimizer):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""

    name: Literal["adamw"]
    """Selects torch.optim.AdamW."""
    betas: Betas = (0.9, 0.999)
    """Decay rates of the first and second moment estimates."""
    eps: PositiveFloat = 1e-8
    """Added to the denominator for numerical stability."""
    weight_decay: NonNegativeFloat = 0.01
    """Decoupled weight decay (torch's default 0.01)."""


OptimizerSpec = Annotated[SgdSpec | AdagradSpec | RmspropSpec | AdamSpec | AdamwSpec, Field(discriminator="name")]

# ---------------------------------------------------------------- learning-rate schedules


class _WarmupSchedule(Labelled):
    warmup_steps: NonNegativeInt = 0
    """Linear warm-up from lr/warm-up-length to the lr over this many steps (Goyal et al. 2017)."""
    warmup_epochs: NonNegativeFloat = 0.0
    """The same warm-up given in epochs (converted with the case's steps per epoch)."""

    @model_validator(mode="after")
    def _one_warmup_unit(self) -> _WarmupSchedule:
        if self.warmup_steps and self.warmup_epochs:
            raise ValueError("give warmup_steps or warmup_epochs, not both")
        return self


class ConstantSchedule(_WarmupSchedule):
    """Constant learning rate (after the optional warm-up)."""

    name: Literal["constant"]
    """Selects a constant learning rate."""


class StepSchedule(_WarmupSchedule):
    """Step drops: multiply the lr by ``gamma`` at each milestone (torch's MultiStepLR)."""

    name: Literal["step"]
    """Selects step drops (torch.optim.lr_scheduler.MultiStepLR)."""
    milestones_epochs: tuple[PositiveFloat, ...] = Field(min_length=1)
    """Epochs at which the lr is multiplied by ``gamma``, strictly increasing."""
    gamma: float = Field(0.1, gt=0.0, lt=1.0)
    """Factor applied at each milestone."""

    @field_validator("milestones_epochs")
    @classmethod
    def _increasing(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(set(value)):
            raise ValueError(f"milestones must increase strictly, got {list(value)}")
        return value


class CosineSchedule(_WarmupSchedule):
    """Linear warm-up, then cosine decay to ``min_lr_ratio`` × lr at the end of the budget (Loshchilov &
    Hutter 2017, without restarts)."""

    name: Literal["cosine"]
    """Selects cosine decay after the warm-up."""
    min_lr_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    """Final lr as a fraction of the lr, reached at the end of the budget."""


class OneCycleSchedule(Labelled):
    """One-cycle policy (Smith & Topin 2019) as torch's OneCycleLR with the case's lr as ``max_lr``."""

    name: Literal["onecycle"]
    """Selects torch.optim.lr_scheduler.OneCycleLR."""
    pct_start: float = Field(0.3, gt=0.0, lt=1.0)
    """Share of the budget spent raising the lr to its maximum."""
    div_factor: PositiveFloat = 25.0
    """Initial lr = max lr / div_factor."""
    final_div_factor: PositiveFloat = 1e4
    """Final lr = initial lr / final_div_factor."""
    anneal_strategy: Literal["cos", "linear"] = "cos"
    """Shape of both phases: cosine or linear."""


ScheduleSpec = Annotated[
    ConstantSchedule | StepSchedule | CosineSchedule | OneCycleSchedule, Field(discriminator="name")
]

LrScaling = Literal["none", "linear", "sqrt"]

# ---------------------------------------------------------------- data serving


class PreloadedLoader(Labelled):
    """Batches gathered from tensors already on the training device (no input pipeline)."""

    name: Literal["preloaded"]
    """Selects batches gathered from tensors on the device."""


class DataLoaderSpec(Labelled):
    """A torch ``DataLoader`` over CPU tensors, copied to the device each step (torch.utils.data docs)."""

    name: Literal["dataloader"]
    """Selects a torch.utils.data.DataLoader."""
    num_workers: NonNegativeInt = 0
    """Worker processes that load batches (0: in the training process)."""
    pin_memory: bool = False
    """Page-locked host memory, so copies to a GPU can be asynchronous (CUDA only)."""
    prefetch_factor: PositiveInt | None = None
    """Batches each worker loads ahead (needs num_workers > 0; torch's default is 2)."""

    @model_validator(mode="after")
    def _prefetch_needs_workers(self) -> DataLoaderSpec:
        if self.prefetch_factor is not None and self.num_workers == 0:
            raise ValueError("prefetch_factor needs num_workers > 0")
        return self


LoaderSpec = Annotated[PreloadedLoader | DataLoaderSpec, Field(discriminator="name")]


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
    min_timed_s: NonNegativeFloat = 0.0
    """Lengthen the telemetry window to at least this many seconds of training: after the run, training goes on in
    segments timed apart from it (time-to-target, steps and timed_s are untouched), so that kernel-busy, power and
    energy of a fast GPU cover enough samples (NVML averages over up to 1 s; 2 s or more is a good value there)."""

    _shorthand_optimizer = field_validator("optimizer", mode="before")(name_shorthand)
    _shorthand_schedule = field_validator("lr_schedule", mode="before")(name_shorthand)
    _shorthand_loader = field_validator("loader", mode="before")(name_shorthand)

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
