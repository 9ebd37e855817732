"""Registries open to other packages, through Python entry points (``importlib.metadata``; the mechanism pytest uses
for its ``pytest11`` plugins).

Groups: ``benchsuite.models`` and ``benchsuite.datasets``. An entry point's name is the name a scenario uses
(``model: {name: my-resnet, width: 64}``); its value is a pydantic model class, the spec of that model or dataset:

- a field ``name: Literal["<the entry point's name>"]`` and the builder's own parameters as fields (validated with
  the same one-line errors as built-ins: file · field · value); frozen (``model_config = ConfigDict(frozen=True,
  extra="forbid")``), so a spec can key caches and unknown keys are refused;
- models: ``build(self, input_shape, num_classes, norm) -> torch.nn.Module`` (``norm(features, kind)`` gives the
  scenario's normalisation layer; ``kind`` is ``linear``, ``conv1d`` or ``conv2d``); optional ``label`` field and
  ``input_rank`` class attribute (rank of one sample it needs);
- datasets: ``build(self) -> (x_train, y_train, x_val, y_val, num_classes)`` with arrays or tensors, samples
  (N, *sample_shape) and integer labels (N,).

A plugin needs nothing from benchsuite at import time. benchsuite's own model and dataset specs are registered the same
way, in its pyproject.toml (and taken directly when benchsuite runs from a tree that is not installed); they carry no
``build``: the registries of :mod:`benchsuite.workloads` build them by name, so the specs stay free of torch.
An entry point that cannot be loaded, or whose class breaks the contract, is left out with a warning naming it.
"""

from __future__ import annotations

import typing
import warnings
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

MODEL_GROUP = "benchsuite.models"
DATASET_GROUP = "benchsuite.datasets"


def spec_name(cls: type) -> str | None:
    """The ``name`` literal of a spec class, or None when it has none."""
    field = getattr(cls, "model_fields", {}).get("name")
    args = typing.get_args(field.annotation) if field is not None else ()
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def contract_problem(cls: Any, name: str) -> str | None:
    """Why ``cls`` cannot serve as the spec registered under ``name``, or None."""
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return f"{cls!r} is not a pydantic model class"
    if spec_name(cls) != name:
        return f"its 'name' field must be Literal[{name!r}], not {spec_name(cls)!r}"
    if not callable(getattr(cls, "build", None)):
        return "it has no build method"
    if not cls.model_config.get("frozen"):
        return "it must be frozen (model_config = ConfigDict(frozen=True))"
    return None


def registered_specs(group: str, builtins: tuple[type, ...]) -> tuple[type, ...]:
    """Every spec class registered under ``group`` (benchsuite's own and other packages'), built-ins first, one per
    name. A built-in name cannot be taken over by another package."""
    found: dict[str, type] = {spec_name(cls): cls for cls in builtins}
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        where = f"entry point {point.name} = {point.value} ({group})"
        try:
            cls = point.load()
        except Exception as exc:  # a broken plugin must not stop benchsuite: leave it out and say so
            warnings.warn(f"{where} could not be loaded: {type(exc).__name__}: {exc}", stacklevel=2)
            continue
        if found.get(point.name) is cls:
            continue
        problem = "the name is benchsuite's own" if point.name in found else contract_problem(cls, point.name)
        if problem:
            warnings.warn(f"{where} is left out: {problem}", stacklevel=2)
            continue
        found[point.name] = cls
    return tuple(found.values())
