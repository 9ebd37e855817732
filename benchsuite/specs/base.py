"""Base of every spec and shared field types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

InitName = Literal["default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"]
NormName = Literal["none", "batchnorm", "layernorm"]
ActivationName = Literal["relu", "gelu", "tanh"]
PrecisionName = Literal["fp32", "tf32", "bf16", "fp16"]
MetricName = Literal["val_accuracy", "val_loss"]
ClaimMetric = Literal[
    "time_to_target_s", "steps_to_target", "final_val_metric", "val_metric_epoch1", "throughput_samples_per_s"
]

SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class Spec(BaseModel):
    """Base of every spec: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def name_shorthand(value: Any) -> Any:
    """Let ``dataset: mnist`` stand for ``dataset: {name: mnist}`` (same for models, optimizers, schedules)."""
    return {"name": value} if isinstance(value, str) else value


def axis_label(value: Any) -> str:
    """How an axis value appears in case ids: a spec's ``label`` or ``name``; ``true``/``false``; ``0.2``; ``128``."""
    if isinstance(value, BaseModel):
        return getattr(value, "label", None) or value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
