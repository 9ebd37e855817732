"""Typed, frozen specifications of the scenario file format.

Every block of a scenario YAML file has one pydantic model here. Models forbid unknown keys and are frozen, so a
typo is refused with the field's name and a validated spec can be shared safely (torchtitan's configuration style).
Sequences are tuples so that specs are hashable and can key caches. ``benchsuite schema`` exports the JSON Schema of
:class:`ScenarioSpec` for editors.
"""

from benchsuite.specs.base import (
    SLUG, ActivationName, ClaimMetric, InitName, MetricName, NormName, PrecisionName, Spec, axis_label, name_shorthand,
    selection_labels,
)
from benchsuite.specs.claims import ClaimKind, ClaimSpec, StepTimingSpec
from benchsuite.specs.case import CaseConfig, TargetSpec, TechniquesSpec
from benchsuite.specs.training import (
    AdagradSpec, AdamSpec, AdamwSpec, ConstantSchedule, CosineSchedule, DataLoaderSpec, LoaderSpec, LrScaling,
    OneCycleSchedule, OptimizerSpec, PreloadedLoader,
    RmspropSpec, ScheduleSpec, SgdSpec, StepSchedule, TrainSpec,
)
from benchsuite.specs.workload import (
    MODEL_INPUT_RANK, Cnn1dSpec, Cnn2dSpec, DatasetSpec, Mnist1dSpec, MnistSpec, MlpSpec, ModelSpec, NpzSpec, ResNetSpec, SyntheticSpec,
    WorkloadSpec, check_model_fits, dataset_sample_rank, model_label,
)  # fmt: skip

__all__ = [
    "SLUG", "ActivationName", "ClaimMetric", "InitName", "MetricName", "NormName", "PrecisionName", "Spec",
    "axis_label", "name_shorthand", "selection_labels", "ClaimKind", "ClaimSpec", "StepTimingSpec",
    "CaseConfig", "TargetSpec", "TechniquesSpec", "AdagradSpec", "AdamSpec", "AdamwSpec", "ConstantSchedule",
    "CosineSchedule", "LrScaling", "OneCycleSchedule", "OptimizerSpec", "RmspropSpec", "ScheduleSpec", "SgdSpec",
    "StepSchedule", "TrainSpec", "DataLoaderSpec", "LoaderSpec", "PreloadedLoader", "MODEL_INPUT_RANK", "Cnn1dSpec", "Cnn2dSpec", "ResNetSpec", "NpzSpec", "DatasetSpec", "Mnist1dSpec",
    "MnistSpec", "MlpSpec", "ModelSpec", "SyntheticSpec", "WorkloadSpec", "check_model_fits", "dataset_sample_rank",
    "model_label",
]  # fmt: skip
