"""Learning rate: the batch-size scaling rules and the per-step schedules.

- Linear scaling rule: lr = base_lr × batch / base_batch (Goyal et al. 2017, "Accurate, Large Minibatch SGD"),
  used with a gradual linear warm-up.
- Square-root rule: lr = base_lr × sqrt(batch / base_batch), for Adam-family optimizers (Malladi et al. 2022, "On
  the SDEs and Scaling Rules for Adaptive Gradient Algorithms").
- Schedules are stepped once per optimizer step. ``constant``, ``step`` and ``cosine`` are one LambdaLR whose
  factor is a linear warm-up times the decay; ``onecycle`` is torch's OneCycleLR (Smith & Topin 2019).
"""

from __future__ import annotations

import math
from functools import partial

import torch

from benchsuite.specs.schedules import ConstantSchedule, CosineSchedule, LrScaling, OneCycleSchedule, StepSchedule


def scaled_lr(base_lr: float, batch_size: int, base_batch_size: int | None, rule: LrScaling) -> float:
    """The lr at ``batch_size`` under ``rule`` from ``base_lr`` at ``base_batch_size``.

    Raises:
        ValueError: a scaling rule without a base batch size.
    """
    if rule == "none":
        return base_lr
    if not base_batch_size:
        raise ValueError(f"lr_scaling '{rule}' needs base_batch_size")
    ratio = batch_size / base_batch_size
    return base_lr * (ratio if rule == "linear" else math.sqrt(ratio))


def warmup_length(schedule, steps_per_epoch: int) -> int:
    """Warm-up steps of ``schedule`` (``warmup_epochs`` converted with ``steps_per_epoch``, rounded up)."""
    if isinstance(schedule, OneCycleSchedule):
        return 0
    return schedule.warmup_steps or math.ceil(schedule.warmup_epochs * steps_per_epoch)


def lr_factor(schedule, step: int, total_steps: int, steps_per_epoch: int) -> float:
    """Multiplier of the lr for the optimizer step with index ``step`` (0-based), for non-one-cycle schedules.

    Warm-up: (step + 1) / W for the first W steps, then 1. Decay: constant 1; step: gamma ** (milestones passed);
    cosine: min + (1 - min) (1 + cos(pi p)) / 2 with p the progress through the steps after warm-up.
    """
    warm = warmup_length(schedule, steps_per_epoch)
    factor = min(1.0, (step + 1) / warm) if warm else 1.0
    if isinstance(schedule, StepSchedule):
        passed = sum(step >= m * steps_per_epoch for m in schedule.milestones_epochs)
        factor *= schedule.gamma**passed
    elif isinstance(schedule, CosineSchedule):
        progress = min(1.0, max(0.0, (step - warm) / max(1, total_steps - warm)))
        floor = schedule.min_lr_ratio
        factor *= floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    elif not isinstance(schedule, ConstantSchedule):
        raise TypeError(f"no lr factor for schedule {schedule.name!r}")
    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, schedule, total_steps: int, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A scheduler for ``optimizer`` (whose lr is the case's effective lr), stepped once per optimizer step; None for a
    constant lr without warm-up, whose scheduler would multiply the lr by 1 at every step (and cost a step 2 % of a
    small MLP's time on a CPU)."""
    if isinstance(schedule, ConstantSchedule) and warmup_length(schedule, steps_per_epoch) == 0:
        return None
    if isinstance(schedule, OneCycleSchedule):
        defaults = optimizer.defaults
        cycle_momentum = "betas" in defaults or defaults.get("momentum", 0) > 0
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=defaults["lr"],
            total_steps=total_steps,
            pct_start=schedule.pct_start,
            anneal_strategy=schedule.anneal_strategy,
            div_factor=schedule.div_factor,
            final_div_factor=schedule.final_div_factor,
            cycle_momentum=cycle_momentum,
        )
    factor = partial(lr_factor, schedule, total_steps=total_steps, steps_per_epoch=steps_per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: factor(step))
