"""Matrix expansion: a scenario's axes → the cartesian product of cases → one run per case and seed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from benchsuite.scenario import AXES, ScenarioSpec
from benchsuite.specs import CaseConfig, axis_label


@dataclass(frozen=True)
class Case:
    """One point of a scenario's matrix.

    Attributes:
        scenario: the scenario's name.
        axes: ``(axis, label)`` pairs in the matrix's axis order; empty for a scenario without a matrix.
        config: the base configuration with this case's axis values applied.
        is_baseline: whether this is the scenario's baseline case.
    """

    scenario: str
    axes: tuple[tuple[str, str], ...]
    config: CaseConfig
    is_baseline: bool = False

    @property
    def case_id(self) -> str:
        """``init=xavier_uniform`` or ``model=mlp-norm=none``; ``base`` without axes."""
        return "-".join(f"{a}={v}" for a, v in self.axes) or "base"


@dataclass(frozen=True)
class Run:
    """One case trained with one seed: the unit that the pytest plugin turns into a test item."""

    case: Case
    seed: int

    @property
    def run_id(self) -> str:
        """Readable test id, e.g. ``init[init=xavier_uniform-seed=1]``."""
        return f"{self.case.scenario}[{self.case.case_id}-seed={self.seed}]"

    def __str__(self) -> str:
        return self.run_id


def expand_cases(spec: ScenarioSpec, device_type: str = "cpu") -> list[Case]:
    """All cases of ``spec`` on ``device_type``: the cartesian product of its matrix axes, in :data:`AXES` order,
    applied to the base configuration with the scenario's ``per_device`` overrides for that device.

    Each combination is validated again as a :class:`CaseConfig`, so an axis value that does not fit the base
    configuration is refused like any other bad field.
    """
    base = spec.base_for(device_type)
    axes = spec.matrix.values()
    baseline = spec.baseline_labels()
    cases = []
    for combo in itertools.product(*axes.values()):
        settings = dict(zip(axes, combo))
        labels = tuple((axis, axis_label(value)) for axis, value in settings.items())
        cases.append(
            Case(
                scenario=spec.name,
                axes=labels,
                config=apply_axes(base, settings),
                is_baseline=all(dict(labels).get(a) == v for a, v in baseline.items()),
            )
        )
    return cases


def expand_runs(spec: ScenarioSpec, device_type: str = "cpu") -> list[Run]:
    """Every case of ``spec`` on ``device_type`` with every seed, case-major (all seeds of a case together)."""
    return [Run(case, seed) for case in expand_cases(spec, device_type) for seed in spec.seeds]


def apply_axes(base: CaseConfig, settings: dict[str, Any]) -> CaseConfig:
    """Return ``base`` with each ``axis → value`` written to the (nested) field that :data:`AXES` maps it to."""
    data = base.model_dump()
    for axis, value in settings.items():
        *parents, field = AXES[axis]
        node = data
        for key in parents:
            node = node[key]
        node[field] = value.model_dump() if hasattr(value, "model_dump") else value
    return CaseConfig.model_validate(data)
