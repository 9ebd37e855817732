"""Scenario files: load (``yaml.safe_load``), validate against the typed schema, report errors by file and field.

A bad file never raises a traceback at the user: :func:`load_scenario` raises :class:`ScenarioError` whose message
names the file, the field and the bad value, and :func:`load_scenarios` returns the good scenarios beside the
errors so that the others still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, PositiveInt, ValidationError, field_validator, model_validator

from benchsuite.per_device import config_override, deep_merge, resized_matrix
from benchsuite.specs import (
    SLUG,
    CaseConfig,
    ClaimSpec,
    InitName,
    LoaderSpec,
    LrScaling,
    ModelSpec,
    NormName,
    OptimizerSpec,
    PrecisionName,
    ScheduleSpec,
    Spec,
    StepTimingSpec,
    axis_label,
    check_model_fits,
    name_shorthand,
    selection_labels,
)

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
    "init": ("techniques", "init"),
    "norm": ("techniques", "norm"),
    "prior_bias": ("techniques", "prior_bias"),
    "precision": ("techniques", "precision"),
    "compile": ("techniques", "compile"),
}

_SPEC_AXES = ("model", "optimizer", "lr_schedule", "loader")


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
    per_device: dict[Literal["cpu", "cuda"], dict[str, Any]] = {}
    """Sizes by device type (:mod:`benchsuite.per_device`): overrides of the base configuration, merged key by key,
    e.g. ``{cuda: {workload: {dataset: {num_samples: 200000}}, train: {max_epochs: 40}}}``, and an optional
    ``matrix`` that resizes axis values on that device, keeping their labels (``{cuda: {matrix: {model: [...]}}}``)."""

    _baseline_labels = field_validator("baseline", mode="before")(selection_labels)

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
            field = ".".join(str(p) for p in err["loc"])
            got = _short(err.get("input"))
            raise ValueError(f"per_device.{device_type} gives '{field}': {err['msg']} (got {got})") from None

    def matrix_for(self, device_type: str) -> MatrixSpec:
        """The matrix on ``device_type``: axes resized by ``per_device.<device_type>.matrix``, labels kept.

        Raises:
            ValueError: see :func:`benchsuite.per_device.resized_matrix`.
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
        raise ValueError(f"{where} judges final_val_metric, which needs a fixed budget: set train.stop_at_target: "
                         "false (runs that stop at the target all end near it)")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, the field and the bad value."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class LoadReport:
    """The outcome of loading many files: the good scenarios (with their paths) and one error per bad file."""

    scenarios: tuple[tuple[Path, ScenarioSpec], ...]
    errors: tuple[ScenarioError, ...]


def load_scenario(path: Path) -> ScenarioSpec:
    """Read and validate one scenario file.

    Raises:
        ScenarioError: unreadable file, YAML syntax error, or a schema violation (all violations, one per line).
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}", path) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {_one_line(str(exc))}", path) from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of fields at the top level, got {type(raw).__name__}", path)
    from benchsuite.workloads.local import check_local_data, resolve_local_paths

    try:
        spec = ScenarioSpec.model_validate(resolve_local_paths(raw, Path(path).parent))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(path, exc), path) from None
    _check_cases(path, spec)
    if problem := check_local_data(spec):
        raise ScenarioError(f"{path}: {problem}", path)
    return spec


def _check_cases(path: Path, spec: ScenarioSpec) -> None:
    """Every case of the matrix validates on every device type the scenario names (an axis value can be fine alone
    and wrong with the base: a world size larger than the batch)."""
    from benchsuite.matrix import expand_cases

    for device_type in ("cpu", *spec.per_device):
        try:
            expand_cases(spec, device_type)
        except ValueError as exc:
            raise ScenarioError(f"{path}: field 'matrix': {exc}", path) from None


def format_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per violation: ``FILE: field 'a.b': message (got VALUE)``."""
    lines = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if not err["loc"]:  # a check across fields: its message names the fields and values itself
            lines.append(f"{path}: {msg}")
            continue
        field = ".".join(str(p) for p in err["loc"])
        got = "" if err["type"] == "missing" else f" (got {_short(err.get('input'))})"
        lines.append(f"{path}: field '{field}': {msg}{got}")
    return "\n".join(lines)


def scenario_files(paths: list[Path]) -> list[Path]:
    """Expand directories to their ``*.yaml``/``*.yml`` files (sorted); files are kept as given."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        out.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p])
    return out


def load_scenarios(paths: list[Path]) -> LoadReport:
    """Load every scenario under ``paths``; bad files become errors and do not stop the others.

    Two files that declare the same scenario ``name`` are an error for the second one.
    """
    good: list[tuple[Path, ScenarioSpec]] = []
    errors: list[ScenarioError] = []
    seen: dict[str, Path] = {}
    for path in scenario_files(paths):
        try:
            spec = load_scenario(path)
        except ScenarioError as exc:
            errors.append(exc)
            continue
        if spec.name in seen:
            msg = f"{path}: field 'name': '{spec.name}' is already used by {seen[spec.name]}"
            errors.append(ScenarioError(msg, path))
            continue
        seen[spec.name] = path
        good.append((path, spec))
    return LoadReport(tuple(good), tuple(errors))


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())
