"""One source of truth for names: every registry is keyed by exactly the names of ``benchsuite.names``, and the
specs accept exactly those names (their Literals and the discriminators of their unions)."""

from __future__ import annotations

import typing

import pytest
import torch

from benchsuite import names, precision, techniques
from benchsuite.schedules import build_scheduler
from benchsuite.specs import base, training, workload
from benchsuite.workloads.datasets import DATASETS
from benchsuite.workloads.models import ACTIVATIONS, MODELS


def union_names(annotated) -> set[str]:
    """The ``name`` literals of the spec classes in a discriminated union ``Annotated[Union[...], Field(...)]``."""
    members = typing.get_args(typing.get_args(annotated)[0])
    return {typing.get_args(cls.model_fields["name"].annotation)[0] for cls in members}


@pytest.mark.parametrize(
    ("kind", "literal", "registry"),
    [("INITS", base.InitName, techniques.INITS), ("NORMS", base.NormName, techniques.NORMS),
     ("ACTIVATIONS", base.ActivationName, ACTIVATIONS), ("PRECISIONS", base.PrecisionName, precision.PRECISIONS)],
)  # fmt: skip
def test_literal_names_and_registries_are_the_same_list(kind, literal, registry):
    assert typing.get_args(literal) == getattr(names, kind)
    assert tuple(registry) == getattr(names, kind)


@pytest.mark.parametrize(
    ("kind", "union", "registry"),
    [("MODELS", workload.ModelSpec, MODELS), ("DATASETS", workload.DatasetSpec, DATASETS),
     ("OPTIMIZERS", training.OptimizerSpec, techniques.OPTIMIZERS), ("SCHEDULES", training.ScheduleSpec, None),
     ("LOADERS", training.LoaderSpec, None)],
)  # fmt: skip
def test_spec_unions_and_registries_take_the_names_of_one_list(kind, union, registry):
    assert union_names(union) == set(getattr(names, kind))
    if registry is not None:
        assert set(registry) == set(getattr(names, kind))


@pytest.mark.parametrize("name", names.SCHEDULES)
def test_every_schedule_name_builds_a_scheduler(name):
    extra = {"milestones_epochs": [1.0]} if name == "step" else {}
    spec = typing.get_args(typing.get_args(training.ScheduleSpec)[0])
    schedule = next(cls for cls in spec if typing.get_args(cls.model_fields["name"].annotation)[0] == name)(
        name=name, **extra)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    assert build_scheduler(optimizer, schedule, total_steps=10, steps_per_epoch=5) is not None


def test_report_words_name_only_known_names():
    from benchsuite.report import words

    for table, kind in ((words.DATASETS, "DATASETS"), (words.OPTIMIZERS, "OPTIMIZERS"), (words.NORMS, "NORMS"),
                        (words.INITS, "INITS"), (words.PRECISIONS, "PRECISIONS")):  # fmt: skip
        assert set(table) <= set(getattr(names, kind)), kind
    assert set(words.OPTIMIZERS) == set(names.OPTIMIZERS) and set(words.DATASETS) == set(names.DATASETS)
