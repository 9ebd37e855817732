"""Scenario files: read (``yaml.safe_load``), resolve local data paths, validate against the schema
(:class:`benchsuite.specs.scenario.ScenarioSpec`), expand every case on every device type it names, check local data
files, and report every problem by file and field.

A bad file never raises a traceback at the user: :func:`load_scenario` raises :class:`ScenarioError` whose message
names the file, the field and the bad value, and :func:`load_scenarios` returns the good scenarios beside the
errors so that the others still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from benchsuite.scenario.matrix import expand_cases
from benchsuite.specs.errors import format_validation_error
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.workloads.local import check_local_data


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
    try:
        spec = ScenarioSpec.model_validate(resolve_local_paths(raw, Path(path).parent))
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(path, exc), path) from None
    _check_cases(path, spec)
    if problem := check_local_data(spec):
        raise ScenarioError(f"{path}: {problem}", path)
    return spec


def resolve_local_paths(raw: Any, folder: Path) -> Any:
    """The raw scenario with every local file's ``path`` (in ``workload.dataset`` and in each ``per_device``
    override) made absolute from ``folder``, the scenario file's; anything else is left for validation to judge."""
    if not isinstance(raw, dict):
        return raw
    out = {**raw, "workload": _resolved(raw.get("workload"), folder)}
    if isinstance(raw.get("per_device"), dict):
        out["per_device"] = {
            device: {**o, "workload": _resolved(o.get("workload"), folder)}
            if isinstance(o, dict) and "workload" in o
            else o
            for device, o in raw["per_device"].items()
        }
    return out


def _resolved(workload: Any, folder: Path) -> Any:
    dataset = workload.get("dataset") if isinstance(workload, dict) else None
    if not isinstance(dataset, dict) or dataset.get("name") != "npz" or not isinstance(dataset.get("path"), str):
        return workload
    return {**workload, "dataset": {**dataset, "path": str((folder / dataset["path"]).resolve())}}


def _check_cases(path: Path, spec: ScenarioSpec) -> None:
    """Every case of the matrix validates on every device type the scenario names (an axis value can be fine alone
    and wrong with the base: a world size larger than the batch)."""
    for device_type in ("cpu", *spec.per_device):
        try:
            expand_cases(spec, device_type)
        except ValueError as exc:
            raise ScenarioError(f"{path}: field 'matrix': {exc}", path) from None


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


def _one_line(text: str) -> str:
    return " ".join(text.split())
