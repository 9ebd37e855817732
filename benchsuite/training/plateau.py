"""The patience rule of ``train.plateau`` (:class:`benchsuite.specs.training.PlateauSpec`): whether a run's validation
metric has stopped improving (Prechelt 1998, "Early stopping — but when?", the patience criterion)."""

from __future__ import annotations

import math

from benchsuite.specs import names
from benchsuite.specs.case import CaseConfig
from benchsuite.specs.training import PlateauSpec


class PlateauWatch:
    """Follows one validation metric over a run's evaluations and says when it has plateaued.

    An evaluation improves when its value beats the best so far by more than ``min_delta`` (higher for accuracy,
    lower for loss); it then becomes the best. The metric has plateaued once ``patience`` consecutive evaluations have
    not improved. The first evaluation given is the first best (a NaN one is none: a NaN value never improves).

    Args:
        spec: patience (in evaluations) and min_delta (in the metric's units).
        higher_is_better: True for accuracy, False for loss.
    """

    def __init__(self, spec: PlateauSpec, higher_is_better: bool) -> None:
        self.spec, self.higher_is_better = spec, higher_is_better
        self.best: float | None = None
        """The best value so far (None before the first finite one)."""
        self.stale = 0
        """Consecutive evaluations since the last improvement."""

    def update(self, value: float) -> bool:
        """Take the next evaluation's value; return whether the metric has now plateaued."""
        if self._improves(value):
            self.best, self.stale = value, 0
        else:
            self.stale += 1
        return self.stale >= self.spec.patience

    def _improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        gain = value - self.best if self.higher_is_better else self.best - value
        return gain > self.spec.min_delta


def quality_metric(config: CaseConfig) -> str:
    """The validation metric a run's quality is judged by: the target's, else ``val_accuracy`` (as
    :attr:`benchsuite.training.outcome.RunResult.quality_metric`)."""
    return config.target.metric if config.target is not None else "val_accuracy"


def plateau_watch(config: CaseConfig) -> PlateauWatch | None:
    """The patience rule of ``train.plateau`` on :func:`quality_metric` (lower is better for a loss); None without
    one."""
    if config.train.plateau is None:
        return None
    higher = quality_metric(config) not in names.LOWER_IS_BETTER_METRICS  # the one direction rule (TargetSpec's)
    return PlateauWatch(config.train.plateau, higher_is_better=higher)
