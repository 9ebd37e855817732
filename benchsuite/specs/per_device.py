"""Per-device sizes of a scenario: ``per_device.<cpu|cuda>`` overrides merged into the base configuration, and an
optional ``matrix`` that resizes the values of matrix axes on that device.

A device may give a case another size (a wider model, a bigger batch, more samples), so that the workload suits the
hardware (a CPU-sized MLP is launch-bound on a GPU), but never another identity: a resized axis keeps its labels in
the same order, so case ids, baselines, claims and step-timing pairs mean the same on every device, and results of
two machines line up case by case (with the configuration difference shown).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from benchsuite.specs.errors import field_path


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: nested mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def config_override(override: dict[str, Any]) -> dict[str, Any]:
    """The part of a ``per_device`` entry that merges into the base configuration (everything but ``matrix``)."""
    return {key: value for key, value in override.items() if key != "matrix"}


def resized_matrix(matrix: BaseModel, override: Any, device_type: str) -> BaseModel:
    """``matrix`` (a :class:`benchsuite.specs.scenario.MatrixSpec`) with the axes that ``per_device.<device>.matrix``
    names replaced by its values.

    Raises:
        ValueError: the override is not a mapping of matrix axes, a value does not validate, or a resized axis
            changes its labels (names the device, the field and the values).
    """
    where = f"per_device.{device_type}.matrix"
    if not isinstance(override, dict):
        raise ValueError(f"{where} must map matrix axes to lists of values (got {override!r})")
    labels = matrix.labels()
    for axis in override:
        if axis not in labels:
            raise ValueError(f"{where} names axis '{axis}', which is not in the matrix {sorted(labels)}")
    try:
        resized = type(matrix).model_validate({**matrix.model_dump(exclude_none=True), **override})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ValueError(f"{where} gives '{field_path(err)}': {err['msg'].removeprefix('Value error, ')}") from None
    for axis in override:
        if resized.labels()[axis] != labels[axis]:
            raise ValueError(
                f"{where}.{axis} has the labels {list(resized.labels()[axis])} where the matrix has "
                f"{list(labels[axis])}: a device may resize a case, not rename, add or drop one "
                "(give the values the same 'label's, in the same order)"
            )
    return resized
