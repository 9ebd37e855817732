"""Training specs: optimizer, learning-rate schedule, batch size and LR scaling rule, budget, evaluation."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from benchsuite.specs.base import SLUG, Spec, name_shorthand

Betas = tuple[Annotated[float, Field(ge=0.0, lt=1.0)], Annotated[float, Field(ge=0.0, lt=1.0)]]

# ---------------------------------------------------------------- optimizers


class _Optimizer(Spec):
    lr: PositiveFloat | None = None
    """Base learning rate of this optimizer; overrides ``train.lr`` (optimizers need different lrs)."""
    weight_decay: NonNegativeFloat = 0.0
    label: str | None = Field(None, pattern=SLUG)
    """Name in case ids; defaults to ``name``."""


class SgdSpec(_Optimizer):
    """SGD with optional (Nesterov) momentum (torch.optim.SGD)."""

    name: Literal["sgd"]
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    nesterov: bool = False

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> SgdSpec:
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")
        return self


class AdagradSpec(_Optimizer):
    """AdaGrad (Duchi et al. 2011; torch.optim.Adagrad)."""

    name: Literal["adagrad"]
    lr_decay: NonNegativeFloat = 0.0
    initial_accumulator_value: NonNegativeFloat = 0.0
    eps: PositiveFloat = 1e-10


class RmspropSpec(_Optimizer):
    """RMSProp (Tieleman & Hinton 2012; torch.optim.RMSprop)."""

    name: Literal["rmsprop"]
    alpha: float = Field(0.99, gt=0.0, lt=1.0)
    eps: PositiveFloat = 1e-8
    momentum: float = Field(0.0, ge=0.0, lt=1.0)
    centered: bool = False


class AdamSpec(_Optimizer):
    """Adam (Kingma & Ba 2015); ``weight_decay`` is L2 added to the gradient."""

    name: Literal["adam"]
    betas: Betas = (0.9, 0.999)
    eps: PositiveFloat = 1e-8


class AdamwSpec(_Optimizer):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""

    name: Literal["adamw"]
    betas: Betas = (0.9, 0.999)
    eps: PositiveFloat = 1e-8
    weight_decay: NonNegativeFloat = 0.01


OptimizerSpec = Annotated[
    Union[SgdSpec, AdagradSpec, RmspropSpec, AdamSpec, AdamwSpec], Field(discriminator="name")
]

# ---------------------------------------------------------------- learning-rate schedules


class _WarmupSchedule(Spec):
    warmup_steps: NonNegativeInt = 0
    """Linear warm-up from lr/warm-up-length to the lr over this many steps (Goyal et al. 2017)."""
    warmup_epochs: NonNegativeFloat = 0.0
    """The same warm-up given in epochs (converted with the case's steps per epoch)."""
    label: str | None = Field(None, pattern=SLUG)

    @model_validator(mode="after")
    def _one_warmup_unit(self) -> _WarmupSchedule:
        if self.warmup_steps and self.warmup_epochs:
            raise ValueError("give warmup_steps or warmup_epochs, not both")
        return self


class ConstantSchedule(_WarmupSchedule):
    """Constant learning rate (after the optional warm-up)."""

    name: Literal["constant"]


class StepSchedule(_WarmupSchedule):
    """Step drops: multiply the lr by ``gamma`` at each milestone (torch's MultiStepLR)."""

    name: Literal["step"]
    milestones_epochs: tuple[PositiveFloat, ...] = Field(min_length=1)
    gamma: float = Field(0.1, gt=0.0, lt=1.0)

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
    min_lr_ratio: float = Field(0.0, ge=0.0, lt=1.0)


class OneCycleSchedule(Spec):
    """One-cycle policy (Smith & Topin 2019) as torch's OneCycleLR with the case's lr as ``max_lr``."""

    name: Literal["onecycle"]
    pct_start: float = Field(0.3, gt=0.0, lt=1.0)
    div_factor: PositiveFloat = 25.0
    final_div_factor: PositiveFloat = 1e4
    anneal_strategy: Literal["cos", "linear"] = "cos"
    label: str | None = Field(None, pattern=SLUG)


ScheduleSpec = Annotated[
    Union[ConstantSchedule, StepSchedule, CosineSchedule, OneCycleSchedule], Field(discriminator="name")
]

LrScaling = Literal["none", "linear", "sqrt"]

# ---------------------------------------------------------------- data serving


class PreloadedLoader(Spec):
    """Batches gathered from tensors already on the training device (no input pipeline)."""

    name: Literal["preloaded"]
    label: str | None = Field(None, pattern=SLUG)


class DataLoaderSpec(Spec):
    """A torch ``DataLoader`` over CPU tensors, copied to the device each step (torch.utils.data docs)."""

    name: Literal["dataloader"]
    num_workers: NonNegativeInt = 0
    pin_memory: bool = False
    prefetch_factor: PositiveInt | None = None
    """Batches each worker loads ahead (needs num_workers > 0; torch's default is 2)."""
    label: str | None = Field(None, pattern=SLUG)

    @model_validator(mode="after")
    def _prefetch_needs_workers(self) -> DataLoaderSpec:
        if self.prefetch_factor is not None and self.num_workers == 0:
            raise ValueError("prefetch_factor needs num_workers > 0")
        return self


LoaderSpec = Annotated[Union[PreloadedLoader, DataLoaderSpec], Field(discriminator="name")]


class TrainSpec(Spec):
    """Base training configuration. At least one of ``max_epochs`` and ``max_steps`` bounds the budget."""

    optimizer: OptimizerSpec = AdamSpec(name="adam")
    lr: PositiveFloat = 1.0e-3
    """Base learning rate (at ``base_batch_size`` when a scaling rule is used)."""
    lr_schedule: ScheduleSpec = ConstantSchedule(name="constant")
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
    max_steps: PositiveInt | None = None
    eval_every_steps: PositiveInt | None = None
    """Evaluate every N steps; the end of every epoch is always evaluated too."""
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
            raise ValueError(f"world_size {self.world_size} needs the preloaded loader (each rank takes its shard of "
                             "every global batch)")  # fmt: skip
        if self.global_batch_size < self.world_size:
            raise ValueError(f"a global batch of {self.global_batch_size} cannot give each of {self.world_size} ranks "
                             "a sample")  # fmt: skip
        return self

    @property
    def global_batch_size(self) -> int:
        """Samples per optimizer step over all ranks: batch_size, or batch_size × world_size with ``per_device``."""
        return self.batch_size * self.world_size if self.fixed_batch == "per_device" else self.batch_size

    @property
    def base_lr(self) -> float:
        """The optimizer's own lr if it sets one, else ``lr``."""
        return self.optimizer.lr or self.lr
