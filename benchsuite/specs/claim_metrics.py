"""The registry of metrics a claim can be judged on: the one list of their names, scales, directions and units.

Two scales (a verdict is an effect with its interval; the README's "Measurement rules"):

- ``ratio``: times, step counts and rates are compared as ratios on the log scale (a 1.6x speedup);
  the default minimal effect is a ratio of 1.1.
- ``difference``: quality metrics (validation accuracy or loss, in the metric's own units) are compared as
  differences (+0.02 accuracy); the default minimal effect is 0.01.

``censored`` metrics are undefined for a run that never reached its target: such a run is censored at the seconds
(or steps) it trained, known only to lie beyond them (Gehan 1965), never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scale = Literal["ratio", "difference"]


@dataclass(frozen=True)
class Metric:
    """How one claim metric is read and compared.

    Attributes:
        column: the per-run column of :func:`benchsuite.results.frames.runs_frame` that holds the value.
        scale: ``ratio`` (log scale) or ``difference``.
        better: the usual direction (a claim may state the other).
        unit: unit for reports (``s``, ``steps``, ``samples/s``, or ``""`` for the validation metric's own).
        censored: undefined for runs that miss the target (censored at what they trained, never dropped).
        words: a short phrase for reports.
    """

    column: str
    scale: Scale
    better: Literal["lower", "higher"]
    unit: str
    censored: bool
    words: str

    @property
    def default_min_effect(self) -> float:
        """The smallest effect worth a claim unless the claim declares its own: 1.1x, or 0.01 in metric units."""
        return 1.1 if self.scale == "ratio" else 0.01


#: Claim metrics by name. ``step_time_s`` is the median over a run's timed segments of seconds per step; when the
#: scenario times paired blocks (``step_timing``), claims on it are judged from those instead.
CLAIM_METRICS: dict[str, Metric] = {
    "time_to_target_s": Metric("time_to_target_s", "ratio", "lower", "s", True, "time-to-target"),
    "steps_to_target": Metric("steps_to_target", "ratio", "lower", "steps", True, "steps-to-target"),
    "step_time_s": Metric("step_time_s_median", "ratio", "lower", "s", False, "step time"),
    "throughput_samples_per_s": Metric("throughput_samples_per_s", "ratio", "higher", "samples/s", False, "throughput"),
    # model FLOP/s of the timed region (FlopCounterMode's count per sample x samples / timed s): how well a workload
    # uses the hardware, comparable across models of different FLOPs (benchsuite.telemetry.mfu)
    "achieved_flops_per_s": Metric("achieved_flops_per_s", "ratio", "higher", "FLOP/s", False, "achieved FLOP/s"),
    "final_val_metric": Metric("final_val_metric", "difference", "higher", "", False, "final validation metric"),
    "val_metric_epoch1": Metric(
        "val_metric_epoch1", "difference", "higher", "", False, "validation metric after epoch 1"
    ),
}

#: Metrics whose claims split into an algorithm half (steps) and a hardware half (time per step).
TIME_METRICS = ("time_to_target_s",)
