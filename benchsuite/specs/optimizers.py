"""Optimizer specs (``train.optimizer``): SGD, Adagrad, RMSprop, Adam and AdamW with their settings, one class each,
selected by ``name``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    PositiveFloat,
    model_validator,
)

from benchsuite.specs.base import Labelled

Betas = tuple[Annotated[float, Field(ge=0.0, lt=1.0)], Annotated[float, Field(ge=0.0, lt=1.0)]]


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
