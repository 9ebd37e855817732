"""Learning-rate schedule specs (``train.lr_schedule``: constant, step, cosine, one-cycle, each with its warm-up) and
the lr scaling rules (``train.lr_scaling``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    field_validator,
    model_validator,
)

from benchsuite.specs.base import Labelled


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
