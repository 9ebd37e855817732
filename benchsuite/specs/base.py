"""Base of every spec and shared field types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from benchsuite.specs import names
from benchsuite.specs.claim_metrics import CLAIM_METRICS

# The names come from benchsuite.specs.names, the one list that the registries are keyed by.
InitName = Literal[names.INIT_NAMES]  # type: ignore[valid-type]
NormName = Literal[names.NORM_NAMES]  # type: ignore[valid-type]
ActivationName = Literal[names.ACTIVATION_NAMES]  # type: ignore[valid-type]
PrecisionName = Literal[names.PRECISION_NAMES]  # type: ignore[valid-type]
MetricName = Literal[names.TARGET_METRIC_NAMES]  # type: ignore[valid-type]
ClaimMetric = Literal[tuple(CLAIM_METRICS)]  # type: ignore[valid-type]  # the metric registry is the one list of names

SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class Spec(BaseModel):
    """Base of every spec: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Labelled(Spec):
    """A spec that can be a matrix axis value (a model, an optimizer, a schedule, a loader)."""

    label: str | None = Field(None, pattern=SLUG)
    """Name in case ids; defaults to ``name`` (give distinct labels when one axis repeats a name)."""


def name_shorthand(value: Any) -> Any:
    """Let ``dataset: mnist`` stand for ``dataset: {name: mnist}`` (same for models, optimizers, schedules)."""
    return {"name": value} if isinstance(value, str) else value


def axis_label(value: Any) -> str:
    """How an axis value appears in case ids: a spec's ``label`` or ``name``; ``true``/``false``; ``0.2``; ``128``;
    ``none`` for null (no pretraining)."""
    if value is None:
        return "none"
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
    return {
        k: [axis_label(x) for x in v] if isinstance(v, (list, tuple)) else axis_label(v) for k, v in selection.items()
    }
