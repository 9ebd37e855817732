"""Data-serving specs: how batches reach the model (``train.loader``: preloaded on the device or a DataLoader), how an
epoch's order is drawn (``train.sampler``) and progressive resizing (``train.progressive_resizing``), with the check
that a resizing schedule fits the model and the data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    field_validator,
    model_validator,
)

from benchsuite.specs.base import Labelled


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
