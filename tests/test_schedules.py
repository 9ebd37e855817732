"""LR scaling rules and schedules, against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from benchsuite.specs.schedules import ConstantSchedule, CosineSchedule, OneCycleSchedule, StepSchedule
from benchsuite.training.schedules import build_scheduler, lr_factor, scaled_lr, warmup_length


@pytest.mark.parametrize(
    ("batch", "rule", "expected"),
    [
        (4096, "linear", 1e-3 * 32),  # Goyal et al. 2017: lr ∝ batch
        (4096, "sqrt", 1e-3 * math.sqrt(32)),  # Malladi et al. 2022: lr ∝ sqrt(batch)
        (32, "linear", 1e-3 / 4),
        (32, "sqrt", 1e-3 / 2),
        (128, "linear", 1e-3),
        (4096, "none", 1e-3),
    ],
)
def test_scaled_lr(batch, rule, expected):
    assert scaled_lr(1e-3, batch, 128, rule) == pytest.approx(expected)


def test_scaling_rule_needs_a_base_batch():
    with pytest.raises(ValueError, match="needs base_batch_size"):
        scaled_lr(1e-3, 256, None, "linear")


def _factors(schedule, steps, total=10, per_epoch=5):
    return [lr_factor(schedule, s, total, per_epoch) for s in steps]


def test_constant_with_linear_warmup():
    schedule = ConstantSchedule(name="constant", warmup_steps=4)
    assert _factors(schedule, range(6)) == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert _factors(ConstantSchedule(name="constant"), [0, 9]) == [1.0, 1.0]


def test_warmup_in_epochs_is_converted_with_steps_per_epoch():
    assert warmup_length(ConstantSchedule(name="constant", warmup_epochs=1.5), steps_per_epoch=10) == 15
    with pytest.raises(ValueError, match="not both"):
        ConstantSchedule(name="constant", warmup_steps=2, warmup_epochs=1)


def test_step_drops_at_epoch_milestones():
    schedule = StepSchedule(name="step", milestones_epochs=(1, 2), gamma=0.1)
    assert _factors(schedule, [0, 4, 5, 9, 10, 14], total=15) == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_cosine_decays_to_the_floor():
    schedule = CosineSchedule(name="cosine")
    assert _factors(schedule, [0, 5, 10]) == pytest.approx([1.0, 0.5, 0.0])
    floored = CosineSchedule(name="cosine", min_lr_ratio=0.1)
    assert _factors(floored, [5, 10]) == pytest.approx([0.55, 0.1])


def test_cosine_after_warmup():
    schedule = CosineSchedule(name="cosine", warmup_steps=2)
    # warm-up 0.5, 1.0; then progress (s - 2) / 8
    assert _factors(schedule, [0, 1, 2, 6, 10]) == pytest.approx([0.5, 1.0, 1.0, 0.5, 0.0])


def _lrs(schedule, optimizer_cls=torch.optim.AdamW, steps=10, lr=0.1):
    optimizer = optimizer_cls(torch.nn.Linear(2, 2).parameters(), lr=lr)
    scheduler = build_scheduler(optimizer, schedule, total_steps=steps, steps_per_epoch=5)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def test_a_constant_lr_without_warm_up_needs_no_scheduler():
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    assert build_scheduler(optimizer, ConstantSchedule(name="constant"), total_steps=10, steps_per_epoch=5) is None
    assert _lrs(ConstantSchedule(name="constant", warmup_steps=2))[:3] == pytest.approx([0.05, 0.1, 0.1])


def test_lambda_schedules_drive_the_optimizer():
    assert _lrs(StepSchedule(name="step", milestones_epochs=(1,))) == pytest.approx([0.1] * 5 + [0.01] * 5)


def test_onecycle_is_torch_onecycle_with_the_case_lr_as_max():
    lrs = _lrs(OneCycleSchedule(name="onecycle", pct_start=0.3))
    assert lrs[0] == pytest.approx(0.1 / 25)  # max_lr / div_factor
    assert max(lrs) == pytest.approx(0.1) and lrs.index(max(lrs)) == 2  # peak at pct_start of 9 step-intervals
    assert lrs[-1] < lrs[0]


def test_onecycle_works_without_momentum():
    assert len(_lrs(OneCycleSchedule(name="onecycle"), optimizer_cls=torch.optim.Adagrad)) == 10
