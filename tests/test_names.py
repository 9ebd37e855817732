"""One source of truth for names: every registry is keyed by exactly the names of ``benchsuite.specs.names``, and the
specs accept exactly those names (their Literals and the discriminators of their unions)."""

from __future__ import annotations

import typing

import pytest
import torch

from benchsuite.specs import base, names, training, workload
from benchsuite.training import precision, techniques
from benchsuite.training.schedules import build_scheduler
from benchsuite.workloads.datasets import DATASET_BUILDERS
from benchsuite.workloads.models import ACTIVATION_LAYERS, MODEL_BUILDERS


def union_names(annotated) -> set[str]:
    """The ``name`` literals of the spec classes in a discriminated union ``Annotated[Union[...], Field(...)]``."""
    members = typing.get_args(typing.get_args(annotated)[0])
    return {typing.get_args(cls.model_fields["name"].annotation)[0] for cls in members}


@pytest.mark.parametrize(
    ("kind", "literal", "registry"),
    [
        ("INIT_NAMES", base.InitName, techniques.INIT_FILLS),
        ("NORM_NAMES", base.NormName, techniques.NORM_LAYERS),
        ("ACTIVATION_NAMES", base.ActivationName, ACTIVATION_LAYERS),
        ("PRECISION_NAMES", base.PrecisionName, precision.PRECISION_POLICIES),
    ],
)
def test_literal_names_and_registries_are_the_same_list(kind, literal, registry):
    assert typing.get_args(literal) == getattr(names, kind)
    assert tuple(registry) == getattr(names, kind)


@pytest.mark.parametrize(
    ("kind", "union", "registry"),
    [
        ("MODEL_NAMES", workload.ModelSpec, MODEL_BUILDERS),
        ("DATASET_NAMES", workload.DatasetSpec, DATASET_BUILDERS),
        ("OPTIMIZER_NAMES", training.OptimizerSpec, techniques.OPTIMIZER_BUILDERS),
        ("SCHEDULE_NAMES", training.ScheduleSpec, None),
        ("LOADER_NAMES", training.LoaderSpec, None),
    ],
)
def test_spec_unions_and_registries_take_the_names_of_one_list(kind, union, registry):
    assert union_names(union) == set(getattr(names, kind))
    if registry is not None:
        assert set(registry) == set(getattr(names, kind))


@pytest.mark.parametrize("name", names.SCHEDULE_NAMES)
def test_every_schedule_name_builds_a_scheduler(name):
    extra = {"milestones_epochs": [1.0]} if name == "step" else {"warmup_steps": 2} if name == "constant" else {}
    spec = typing.get_args(typing.get_args(training.ScheduleSpec)[0])
    schedule = next(cls for cls in spec if typing.get_args(cls.model_fields["name"].annotation)[0] == name)(
        name=name, **extra
    )
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    assert build_scheduler(optimizer, schedule, total_steps=10, steps_per_epoch=5) is not None


def test_report_words_name_only_known_names():
    from benchsuite.report import words

    for table, kind in (
        (words.DATASET_WORDS, "DATASET_NAMES"),
        (words.OPTIMIZER_WORDS, "OPTIMIZER_NAMES"),
        (words.NORM_WORDS, "NORM_NAMES"),
        (words.INIT_WORDS, "INIT_NAMES"),
        (words.PRECISION_WORDS, "PRECISION_NAMES"),
    ):
        assert set(table) <= set(getattr(names, kind)), kind
    assert set(words.OPTIMIZER_WORDS) == set(names.OPTIMIZER_NAMES) and set(words.DATASET_WORDS) == set(
        names.DATASET_NAMES
    )
