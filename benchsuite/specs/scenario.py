"""The schema of a whole scenario file: the matrix axes (:data:`AXES`), :class:`MatrixSpec` and :class:`ScenarioSpec`
(a base :class:`CaseConfig` plus seeds, a matrix, a baseline, claims, step timing and per-device sizes), with the
checks across fields that a file must pass. Reading files is :mod:`benchsuite.scenario.load`'s job.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt, ValidationError, field_validator, model_validator

from benchsuite.specs.base import (
    SLUG,
    InitName,
    NormName,
    PrecisionName,
    Spec,
    axis_label,
    name_shorthand,
    selection_labels,
)
from benchsuite.specs.case import CaseConfig
from benchsuite.specs.claims import ClaimSpec, StepTimingSpec
from benchsuite.specs.errors import field_path, short
from benchsuite.specs.optimizers import OptimizerSpec
from benchsuite.specs.per_device import config_override, deep_merge, resized_matrix
from benchsuite.specs.profile import ProfileSpec
from benchsuite.specs.schedules import LrScaling, ScheduleSpec
from benchsuite.specs.sequential import TopUpSpec
from benchsuite.specs.serving import LoaderSpec, ProgressiveResizingSpec, SamplerSpec
from benchsuite.specs.training import PretrainSpec
from benchsuite.specs.workload import ModelSpec, check_model_fits

#: Matrix axes, in the order they are applied and appear in case ids: axis → path of the field it sets in
#: :class:`CaseConfig`.
AXES: dict[str, tuple[str, ...]] = {
    "model": ("workload", "model"),
    "dropout": ("workload", "model", "dropout"),
    "optimizer": ("train", "optimizer"),
    "lr_schedule": ("train", "lr_schedule"),
    "batch_size": ("train", "batch_size"),
    "lr_scaling": ("train", "lr_scaling"),
    "world_size": ("train", "world_size"),
    "loader": ("train", "loader"),
    "sampler": ("train", "sampler"),
    "pretrain": ("train", "pretrain"),
    "progressive_resizing": ("train", "progressive_resizing"),
    "init": ("techniques", "init"),
    "norm": ("techniques", "norm"),
    "prior_bias": ("techniques", "prior_bias"),
    "precision": ("techniques", "precision"),
    "compile": ("techniques", "compile"),
}

_SPEC_AXES = ("model", "optimizer", "lr_schedule", "loader", "sampler")


class MatrixSpec(Spec):
    """Axes whose cartesian product gives the cases; each list is non-empty with distinct values."""

    model: tuple[ModelSpec, ...] | None = Field(None, min_length=1)
    """Models to compare (each needs a distinct ``label`` when names repeat)."""
    dropout: tuple[Annotated[float, Field(ge=0.0, lt=1.0)], ...] | None = Field(None, min_length=1)
    """Dropout probabilities applied to the model."""
    optimizer: tuple[OptimizerSpec, ...] | None = Field(None, min_length=1)
    """Optimizers to compare."""
    lr_schedule: tuple[ScheduleSpec, ...] | None = Field(None, min_length=1)
    """Learning-rate schedules to compare."""
    batch_size: tuple[PositiveInt, ...] | None = Field(None, min_length=1)
    """Global batch sizes to compare."""
    lr_scaling: tuple[LrScaling, ...] | None = Field(None, min_length=1)
    """LR scaling rules to compare (none, linear, sqrt)."""
    world_size: tuple[PositiveInt, ...] | None = Field(None, min_length=1)
    """Data-parallel world sizes to compare."""
    loader: tuple[LoaderSpec, ...] | None = Field(None, min_length=1)
    """Data-serving set-ups to compare."""
    sampler: tuple[SamplerSpec, ...] | None = Field(None, min_length=1)
    """Training-order samplers to compare (uniform, repeat_factor; distinct ``label``s for two thresholds)."""
    pretrain: tuple[PretrainSpec | None, ...] | None = Field(None, min_length=1)
    """Pretraining stages to compare, each with a ``label``; ``null`` is none (from scratch, labelled ``none``)."""
    progressive_resizing: tuple[ProgressiveResizingSpec | None, ...] | None = Field(None, min_length=1)
    """Resolution schedules to compare, each with a ``label``; ``null`` is native size throughout (``none``)."""
    init: tuple[InitName, ...] | None = Field(None, min_length=1)
    """Weight inits to compare."""
    norm: tuple[NormName, ...] | None = Field(None, min_length=1)
    """Normalisation layers to compare."""
    prior_bias: tuple[bool, ...] | None = Field(None, min_length=1)
    """With and without the prior-bias init of the classifier."""
    precision: tuple[PrecisionName, ...] | None = Field(None, min_length=1)
    """Precisions to compare (fp32, tf32, bf16, fp16)."""
    compile: tuple[bool, ...] | None = Field(None, min_length=1)
    """With and without torch.compile."""

    @field_validator(*_SPEC_AXES, mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return [name_shorthand(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _labelled_stages(self) -> MatrixSpec:
        for axis in ("pretrain", "progressive_resizing"):
            for i, value in enumerate(getattr(self, axis) or ()):
                if value is not None and value.label is None:
                    raise ValueError(f"matrix.{axis}.{i} needs a 'label' (its name in case ids)")
        return self

    @model_validator(mode="after")
    def _distinct(self) -> MatrixSpec:
        for axis, labels in self.labels().items():
            if len(set(labels)) != len(labels):
                raise ValueError(f"axis '{axis}' repeats a value {list(labels)} (give specs distinct 'label's)")
        return self

    def labels(self) -> dict[str, tuple[str, ...]]:
        """Axis → the labels of its values, in declaration order, for the axes that are set."""
        return {axis: tuple(axis_label(v) for v in values) for axis, values in self.values().items()}

    def values(self) -> dict[str, tuple[Any, ...]]:
        """Axis → its values, in :data:`AXES` order, for the axes that are set."""
        return {axis: getattr(self, axis) for axis in AXES if getattr(self, axis) is not None}


class ScenarioSpec(CaseConfig):
    """One scenario file: a base :class:`CaseConfig` plus seeds, a matrix, a baseline and the claims it tests."""

    name: str = Field(pattern=SLUG)
    """Slug of the scenario: the prefix of its test ids and the key of its results."""
    description: str
    """What the scenario trains and asks, in a few sentences."""
    source: str = ""
    """Paper or article the scenario replicates."""
    seeds: tuple[int, ...] = Field(min_length=1)
    """Seeds every case runs with (distinct); their count is n per case."""
    matrix: MatrixSpec = MatrixSpec()
    """Axes whose cartesian product gives the cases."""
    baseline: dict[str, str] = {}
    """Axis → value of the baseline; axes left out vary (one baseline per value of them)."""
    claims: tuple[ClaimSpec, ...] = ()
    """The published claims the scenario tests, each judged from an effect with its interval."""
    step_timing: StepTimingSpec | None = None
    """Paired, interleaved step-timing blocks of selected cases against a reference (timed apart from the runs)."""
    top_up: TopUpSpec = TopUpSpec()
    """Group-sequential seeds: more seeds, look by look, for the cases of claims a look leaves inconclusive."""
    profile: ProfileSpec = ProfileSpec()
    """A profiled window per case after its runs: phases of a step, top operators, memory, syncs, a trace."""
    per_device: dict[Literal["cpu", "cuda"], dict[str, Any]] = {}
    """Sizes by device type (:mod:`benchsuite.specs.per_device`): overrides of the base configuration, merged key by
    key, e.g. ``{cuda: {workload: {dataset: {num_samples: 200000}}, train: {max_epochs: 40}}}``, and an optional
    ``matrix`` that resizes axis values on that device, keeping their labels (``{cuda: {matrix: {model: [...]}}}``)."""

    _baseline_labels = field_validator("baseline", mode="before")(selection_labels)

    def first_seeds(self, n: int | None) -> ScenarioSpec:
        """This scenario with only its first ``n`` seeds (``--seeds``; None, or n at least the seeds: itself), so that
        the results store the scenario as it ran."""
        return self if n is None or n >= len(self.seeds) else self.model_copy(update={"seeds": self.seeds[:n]})

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds repeat: {list(seeds)}")
        return seeds

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioSpec:
        labels = self.matrix.labels()
        _check_selection("baseline", self.baseline, labels)
        for i, claim in enumerate(self.claims):
            _check_selection(f"claims[{i}].against", claim.against, labels)
            _check_selection(f"claims[{i}].cases", claim.cases, labels)
            _check_fixed_budget(f"claims[{i}]", claim, self.train.stop_at_target)
        self.top_up.extra_seeds(self.seeds)  # top_up.seeds too few, or among the seeds
        if self.step_timing is not None:
            _check_selection("step_timing.against", self.step_timing.against, labels)
            _check_selection("step_timing.cases", self.step_timing.cases, labels)
        for model in self.matrix.model or ():
            check_model_fits(model, self.workload.dataset)
        if self.target is None and any(c.metric in ("time_to_target_s", "steps_to_target") for c in self.claims):
            raise ValueError("a claim on time_to_target_s or steps_to_target needs a 'target'")
        for device_type in self.per_device:
            self.base_for(device_type)
            self.matrix_for(device_type)
        return self

    def base_for(self, device_type: str) -> CaseConfig:
        """The base :class:`CaseConfig` on ``device_type`` (``cpu``/``cuda``): ``per_device`` merged in.

        Raises:
            ValueError: the override does not give a valid configuration (names the device and the field).
        """
        data = self.model_dump(include=set(CaseConfig.model_fields))
        override = config_override(self.per_device.get(device_type, {}))
        try:
            return CaseConfig.model_validate(deep_merge(data, override))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            got = short(err.get("input"))
            raise ValueError(f"per_device.{device_type} gives '{field_path(err)}': {err['msg']} (got {got})") from None

    def matrix_for(self, device_type: str) -> MatrixSpec:
        """The matrix on ``device_type``: axes resized by ``per_device.<device_type>.matrix``, labels kept.

        Raises:
            ValueError: see :func:`benchsuite.specs.per_device.resized_matrix`.
        """
        override = self.per_device.get(device_type, {}).get("matrix")
        return self.matrix if override is None else resized_matrix(self.matrix, override, device_type)

    def baseline_labels(self) -> dict[str, str]:
        """Axis → label that makes a case a baseline. Axes the baseline does not name vary freely: each case is
        compared with the baseline that shares its values on them. Without a ``baseline``, the first value of every
        axis."""
        if self.baseline:
            return dict(self.baseline)
        return {axis: values[0] for axis, values in self.matrix.labels().items()}


def _check_selection(where: str, selection: dict[str, Any], labels: dict[str, tuple[str, ...]]) -> None:
    for axis, value in selection.items():
        if axis not in labels:
            raise ValueError(f"{where} names axis '{axis}', which is not in the matrix {sorted(labels)}")
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if v not in labels[axis]:
                raise ValueError(f"{where}.{axis} = '{v}' is not a value of that axis {list(labels[axis])}")


def _check_fixed_budget(where: str, claim: ClaimSpec, stop_at_target: bool) -> None:
    """Final quality means something only when every run trains the same budget: runs that stop at the target
    all end near it."""
    if claim.metric == "final_val_metric" and stop_at_target:
        raise ValueError(
            f"{where} judges final_val_metric, which needs a fixed budget: set train.stop_at_target: "
            "false (runs that stop at the target all end near it)"
        )
