"""Scenarios as they were run, read back from a results file.

A report is built from the specs stored with the runs, never from today's scenario files. A stored spec that no
longer validates against today's schema (a field renamed or removed since) is still read: the parts the analysis
needs (target, baseline, matrix labels, each claim) are read one by one, what cannot be read is listed in
``problems``, and the report goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from benchsuite.specs.base import axis_label, selection_labels
from benchsuite.specs.case import TargetSpec
from benchsuite.specs.claims import ClaimSpec
from benchsuite.specs.errors import format_validation_error
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.sequential import TopUpSpec


@dataclass(frozen=True)
class StoredScenario:
    """The parts of a stored scenario that analysis and reports read.

    Attributes:
        name, description, source, seeds: as stored.
        target: the target, or None (none, or unreadable: see ``problems``).
        claims: the claims that could be read.
        baseline: axis → label of the baseline as stored (empty: the first value of every axis).
        axes: axis → labels of its values, in matrix order.
        raw: the stored spec as written.
        problems: one line per part that could not be read with today's schema.
        top_up: the looks and their seeds (:class:`benchsuite.specs.sequential.TopUpSpec`); files from before
            top-ups store none and read today's default.
    """

    name: str
    description: str
    source: str
    seeds: tuple[int, ...]
    target: TargetSpec | None
    claims: tuple[ClaimSpec, ...]
    baseline: dict[str, str]
    axes: dict[str, tuple[str, ...]]
    raw: dict[str, Any] = field(repr=False)
    problems: tuple[str, ...] = ()
    top_up: TopUpSpec = TopUpSpec()

    def baseline_labels(self) -> dict[str, str]:
        """Axis → label that makes a case a baseline (as :meth:`ScenarioSpec.baseline_labels`)."""
        return dict(self.baseline) or {axis: labels[0] for axis, labels in self.axes.items()}


def stored_scenario(key: str, raw: Any) -> StoredScenario:
    """Read one stored spec: validated whole when today's schema takes it, else part by part."""
    raw = raw if isinstance(raw, dict) else {}
    try:
        spec = ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        return _part_by_part(key, raw, exc)
    return StoredScenario(
        spec.name,
        spec.description,
        spec.source,
        spec.seeds,
        spec.target,
        spec.claims,
        dict(spec.baseline),
        spec.matrix.labels(),
        raw,
        top_up=spec.top_up,
    )


def _part_by_part(key: str, raw: dict[str, Any], exc: ValidationError) -> StoredScenario:
    first = format_validation_error(f"scenario '{key}' as stored", exc).splitlines()[0]
    problems = [f"{first} (today's schema); read part by part"]
    target = _read(TargetSpec, raw.get("target"), "target", problems) if raw.get("target") is not None else None
    stored = raw.get("claims") or []
    if not isinstance(stored, list):
        problems.append(f"claims could not be read: a list was expected, got {type(stored).__name__}")
        stored = []
    read = [_read(ClaimSpec, claim, f"claims[{i}]", problems) for i, claim in enumerate(stored)]
    claims = tuple(claim for claim in read if claim is not None)
    matrix = raw.get("matrix") if isinstance(raw.get("matrix"), dict) else {}
    axes = {axis: tuple(_label(v) for v in values) for axis, values in matrix.items() if isinstance(values, list)}
    baseline = selection_labels(raw.get("baseline") or {})
    seeds = tuple(s for s in raw.get("seeds") or [] if isinstance(s, int))
    top_up = _read(TopUpSpec, raw["top_up"], "top_up", problems) if raw.get("top_up") is not None else None
    return StoredScenario(
        raw["name"] if isinstance(raw.get("name"), str) else key,  # the key is the name the runs give
        str(raw.get("description", "")),
        str(raw.get("source", "")),
        seeds,
        target,
        claims,
        baseline if isinstance(baseline, dict) else {},
        axes,
        raw,
        tuple(problems),
        top_up or TopUpSpec(),
    )


def _read(model: Any, value: Any, where: str, problems: list[str]) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems.append(f"{where} could not be read: {format_validation_error(where, exc).splitlines()[0]}")
        return None


def _label(value: Any) -> str:
    """The case-id label of a stored axis value (a spec as a dict: its ``label`` or ``name``)."""
    if isinstance(value, dict):
        return str(value.get("label") or value.get("name"))
    return axis_label(value)
