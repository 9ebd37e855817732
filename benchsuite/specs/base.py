"""Base of every spec and shared field types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from benchsuite.metrics import METRICS

InitName = Literal["default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"]
NormName = Literal["none", "batchnorm", "layernorm"]
ActivationName = Literal["relu", "gelu", "tanh"]
PrecisionName = Literal["fp32", "tf32", "bf16", "fp16"]
MetricName = Literal["val_accuracy", "val_loss"]
ClaimMetric = Literal[tuple(METRICS)]  # type: ignore[valid-type]  # the metric registry is the one list of names

SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class Spec(BaseModel):
    """Base of every spec: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


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


def selection_labels(selection: Any) -> Any:
    """Axis values written in YAML (``128``, ``true``, ``0.2``) → the labels used in case ids, in a selection such
    as ``{batch_size: [4096]}`` or ``{init: default}``; anything else is returned for validation to refuse."""
    if not isinstance(selection, dict):
        return selection
    return {k: [axis_label(x) for x in v] if isinstance(v, (list, tuple)) else axis_label(v) for k, v in selection.items()}
