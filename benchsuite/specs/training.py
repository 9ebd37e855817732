"""Training specs: optimizer, learning-rate schedule, batch size and LR scaling rule, budget, evaluation."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

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
from benchsuite.specs.workload import DatasetSpec

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

# ---------------------------------------------------------------- sampling and progressive resizing


class UniformSampler(Labelled):
    """Each epoch a fresh uniform permutation of every training sample (each seen once per epoch)."""

    name: Literal["uniform"]
    """Selects a uniform permutation per epoch."""


class RepeatFactorSampler(Labelled):
    """Repeat-factor sampling (Gupta, Dollár & Girshick 2019, "LVIS", section 4): a sample of class c has the repeat
    factor r_c = max(1, sqrt(t / f_c)), f_c the fraction of training samples of class c and t the threshold.

    An epoch stays n samples (n the training samples): its n indices are drawn with replacement, each sample with
    probability proportional to its r_c (:func:`benchsuite.training.batches.repeat_factors`). Class c then makes up
    r_c·f_c / Σ_c' r_c'·f_c' of the draws, as in LVIS's repeated epochs, while the budget, the epoch-end evaluations
    and every schedule given in epochs keep their meaning."""

    name: Literal["repeat_factor"]
    """Selects repeat-factor sampling."""
    threshold: float = Field(0.1, gt=0.0, le=1.0)
    """t: classes rarer than this fraction are repeated (r_c = sqrt(t / f_c) > 1). LVIS uses 0.001 over 1,203
    classes; the default 0.1 is the balanced share of 10-class data, so every class below its balanced share is
    repeated and a balanced dataset is sampled (almost) uniformly."""


SamplerSpec = Annotated[UniformSampler | RepeatFactorSampler, Field(discriminator="name")]

#: Built-in models whose output does not depend on the input's height and width (global average pooling before the
#: classifier): resnet. cnn2d flattens its last feature map into a Linear layer sized for the native resolution,
#: and mlp flattens the input. A plugin's model spec declares ``resolution_agnostic: ClassVar[bool] = True``.
RESOLUTION_AGNOSTIC_MODELS = ("resnet",)


class ProgressiveResizingSpec(Labelled):
    """Progressive resizing (fast.ai, Howard: "small images first"): square training images of ``sizes[0]`` pixels
    for the first ``epochs[0]`` epochs, ``sizes[1]`` for the next ``epochs[1]``, ..., then ``sizes[-1]``, which must
    be the data's native size (checked against the data). Each batch of images (N, C, H, W) is resized on the device
    (bilinear, antialiased where supported, :func:`benchsuite.training.batches.resized`) inside the timed step;
    evaluation always sees full resolution.

    Example: ``{sizes: [14, 20, 28], epochs: [2, 2]}`` trains at 14×14 for 2 epochs, at 20×20 for 2, then at 28×28.
    As a ``progressive_resizing`` matrix axis value it needs a ``label``; ``null`` there is native size throughout.
    """

    # the lengths are checked by the validators (a Field min_length would add a second, misleading message when
    # an element is refused)
    sizes: tuple[PositiveInt, ...]
    """Side lengths in pixels, at least two, strictly increasing; the last is the data's native height and width."""
    epochs: tuple[PositiveInt, ...]
    """Epochs at each size but the last (one fewer than ``sizes``); the last size holds to the end of training."""

    @field_validator("sizes")
    @classmethod
    def _sizes_increase(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) < 2:
            raise ValueError(
                f"sizes needs at least two sizes (the smallest first, the native size last), got {list(value)}"
            )
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError(f"sizes must increase strictly, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _one_stage_per_size(self) -> ProgressiveResizingSpec:
        if len(self.epochs) != len(self.sizes) - 1:
            raise ValueError(
                f"epochs {list(self.epochs)} needs {len(self.sizes) - 1} entries, one per size of "
                f"{list(self.sizes)} but the last (which holds to the end)"
            )
        return self

    def size_at(self, step: int, steps_per_epoch: int) -> int:
        """The side length for step ``step`` (0-based: the first step is 0) when an epoch is ``steps_per_epoch``
        steps: ``sizes[k]`` in the k-th stage of ``epochs``, ``sizes[-1]`` after them (host arithmetic only)."""
        epoch, end = step // steps_per_epoch, 0
        for size, epochs in zip(self.sizes, self.epochs, strict=False):
            end += epochs
            if epoch < end:
                return size
        return self.sizes[-1]


def check_resizing_fits(resizing: ProgressiveResizingSpec | None, model: Any, sample_shape: Any) -> None:
    """Raise ``ValueError`` when ``resizing`` cannot train ``model`` on samples of ``sample_shape`` (C, H, W) (None:
    not known before the data is read; the rest is still checked).

    The model must be resolution-agnostic (:data:`RESOLUTION_AGNOSTIC_MODELS`, or a spec class with
    ``resolution_agnostic = True``); the samples must be square images whose side is ``sizes[-1]``; a resnet's
    smallest size must survive its 2× pool per stage after the first (``sizes[0] >= 2 ** (len(widths) - 1)``).
    """
    if resizing is None:
        return
    name = getattr(model, "name", "?")
    if name not in RESOLUTION_AGNOSTIC_MODELS and not getattr(type(model), "resolution_agnostic", False):
        raise ValueError(
            f"progressive_resizing needs a resolution-agnostic model (global pooling before the classifier: "
            f"{', '.join(RESOLUTION_AGNOSTIC_MODELS)}), got model '{name}'"
        )
    widths = getattr(model, "widths", None)
    if name == "resnet" and widths is not None and resizing.sizes[0] < 2 ** (len(widths) - 1):
        raise ValueError(
            f"progressive_resizing.sizes[0] = {resizing.sizes[0]} is too small for a resnet of {len(widths)} stages "
            f"(at least {2 ** (len(widths) - 1)} pixels)"
        )
    if sample_shape is not None and (len(sample_shape) != 3 or sample_shape[1:] != (resizing.sizes[-1],) * 2):
        raise ValueError(
            f"progressive_resizing.sizes ends at {resizing.sizes[-1]}, but samples are {list(sample_shape)}: "
            f"the last size must be the native side of square (C, H, W) images"
        )


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
