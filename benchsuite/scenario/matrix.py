"""Matrix expansion: a scenario's axes → the cartesian product of cases → one run per case and seed, in a run order
that spreads the machine's drift over the cases (randomised complete blocks or seed-major: :data:`RUN_ORDERS`), and
the top-up runs of its later looks (:func:`top_up_runs`) for the cases its claims compare."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from benchsuite.specs.base import axis_label
from benchsuite.specs.case import CaseConfig
from benchsuite.specs.profile import ProfileSpec
from benchsuite.specs.scenario import AXES, ScenarioSpec


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
    applied to the base configuration with the scenario's ``per_device`` overrides for that device (and its resized
    axis values, :meth:`ScenarioSpec.matrix_for`).

    Each combination is validated again as a :class:`CaseConfig`, so an axis value that does not fit the base
    configuration is refused like any other bad field.

    Raises:
        ValueError: a combination that does not validate (names the case, the device type and the problem).
    """
    base = spec.base_for(device_type)
    axes = spec.matrix_for(device_type).values()
    baseline = spec.baseline_labels()
    cases = []
    for combo in itertools.product(*axes.values()):
        settings = dict(zip(axes, combo, strict=True))
        labels = tuple((axis, axis_label(value)) for axis, value in settings.items())
        try:
            config = apply_axes(base, settings)
        except ValidationError as exc:
            case_id = "-".join(f"{a}={v}" for a, v in labels)
            problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False))
            raise ValueError(f"matrix case '{case_id}' on {device_type}: {problems}") from None
        is_baseline = all(dict(labels).get(a) == v for a, v in baseline.items())
        cases.append(Case(scenario=spec.name, axes=labels, config=config, is_baseline=is_baseline))
    return cases


#: Run orders (``--run-order``). A shared machine drifts by tens of per cent over seconds; case-major order (all
#: seeds of a case together) lets one slow stretch fall on one whole case and fake an effect between cases.
#: Seed-major order interleaves the cases (every case of seed 0, then every case of seed 1, ...), and ``random`` (the
#: default) shuffles the cases inside each seed's block (randomised complete blocks), from a recorded seed, so that
#: no case always runs first (or last) in its round either.
RUN_ORDERS = ("seed-major", "random", "case-major")


def expand_runs(
    spec: ScenarioSpec, device_type: str = "cpu", order: str = "seed-major", order_seed: int = 0
) -> list[Run]:
    """Every case of ``spec`` on ``device_type`` with every seed, in ``order`` (one of :data:`RUN_ORDERS`).

    ``order_seed`` seeds the shuffle of ``random`` order, per scenario (the same seed and scenario give the same
    order on any machine).

    Raises:
        ValueError: an unknown order.
    """
    cases = expand_cases(spec, device_type)
    if order == "case-major":
        return [Run(case, seed) for case in cases for seed in spec.seeds]
    if order == "seed-major":
        return [Run(case, seed) for seed in spec.seeds for case in cases]
    if order == "random":
        rng = random.Random(f"{order_seed}:{spec.name}")
        return [Run(case, seed) for seed in spec.seeds for case in rng.sample(cases, len(cases))]
    raise ValueError(f"unknown run order '{order}', expected one of {', '.join(RUN_ORDERS)}")


@dataclass(frozen=True)
class TopUpRun:
    """One run of a later look (group-sequential seeds, :class:`benchsuite.specs.sequential.TopUpSpec`): a case with
    one of the seeds that look adds, trained only while a claim that compares the case is still open.

    Attributes:
        run: the run (its ``run_id`` is the one recorded: seeds identify looks).
        look: the look it belongs to (2 or more).
        claims: indices into the scenario's ``claims`` of the claims that compare this case from its runs.
    """

    run: Run
    look: int
    claims: tuple[int, ...]

    @property
    def case(self) -> Case:
        return self.run.case

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def run_id(self) -> str:
        """The test id, with the look: ``init[look=2:init=xavier_uniform-seed=7]``."""
        return f"{self.case.scenario}[look={self.look}:{self.case.case_id}-seed={self.seed}]"

    def __str__(self) -> str:
        return self.run_id


def claim_cases(spec: ScenarioSpec, device_type: str = "cpu") -> dict[str, tuple[int, ...]]:
    """Case id → indices of the claims of ``spec`` that compare the case from its runs: every case a claim's
    ``cases`` selects and the reference it is compared with (the case that shares its other axes and takes the
    claim's ``against`` on the named ones, the pairing rule of :mod:`benchsuite.analysis.pairing`), in matrix order.

    A pair that the claim judges from paired step-timing blocks (a ``step_time_s`` claim on a block-timed pair) is
    left out: more seeds never change its verdict.
    """
    cases = expand_cases(spec, device_type)
    by_labels = {case.axes: case for case in cases}
    timed = {frozenset((p.case.case_id, p.reference.case_id)) for p in timing_pairs(spec, device_type)}
    needed: dict[str, set[int]] = {}
    for index, claim in enumerate(spec.claims):
        for case in cases:
            labels = dict(case.axes)
            if not all(labels.get(axis) in values for axis, values in claim.cases.items()):
                continue
            reference = by_labels.get(tuple((axis, claim.against.get(axis, label)) for axis, label in case.axes))
            if reference is None or reference is case:
                continue
            if claim.metric == "step_time_s" and frozenset((case.case_id, reference.case_id)) in timed:
                continue
            for side in (case, reference):
                needed.setdefault(side.case_id, set()).add(index)
    return {case.case_id: tuple(sorted(needed[case.case_id])) for case in cases if case.case_id in needed}


def top_up_runs(spec: ScenarioSpec, device_type: str = "cpu") -> list[TopUpRun]:
    """The top-up runs of looks 2..``top_up.looks`` of ``spec``: one per case its claims compare
    (:func:`claim_cases`) and seed the look adds (:meth:`benchsuite.specs.sequential.TopUpSpec.new_seeds`), look by
    look, seed-major within a look, the cases in matrix order on the look's first seed and reversed on every other
    seed (so that no case always runs first in its round). None without claims or with ``top_up.looks: 1``.

    Raises:
        ValueError: ``top_up.seeds`` too few or among the scenario's seeds.
    """
    needed = claim_cases(spec, device_type)
    cases = [case for case in expand_cases(spec, device_type) if case.case_id in needed]
    items = []
    for look in range(2, spec.top_up.looks + 1):
        for k, seed in enumerate(spec.top_up.new_seeds(spec.seeds, look)):
            for case in cases if k % 2 == 0 else cases[::-1]:
                items.append(TopUpRun(Run(case, seed), look, needed[case.case_id]))
    return items if cases else []


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


@dataclass(frozen=True)
class TimingPair:
    """Two cases whose seconds per step are timed in paired, interleaved blocks: a test item of its own, run after
    the scenario's runs (see :class:`benchsuite.specs.claims.StepTimingSpec`)."""

    case: Case
    reference: Case
    blocks: int
    min_block_s: float

    @property
    def run_id(self) -> str:
        """Readable test id, e.g. ``precision[step-timing:precision=bf16-vs-precision=fp32]``."""
        return f"{self.case.scenario}[step-timing:{self.case.case_id}-vs-{self.reference.case_id}]"

    def __str__(self) -> str:
        return self.run_id


def timing_pairs(spec: ScenarioSpec, device_type: str = "cpu") -> list[TimingPair]:
    """The block-timed pairs of ``spec``: every case its ``step_timing.cases`` selects (all, when empty) with the
    case that shares its other axes and takes ``step_timing.against`` on the named ones; none without
    ``step_timing``. Blocks run in one process, so data-parallel cases are not block-timed."""
    timing = spec.step_timing
    if timing is None:
        return []
    cases = expand_cases(spec, device_type)
    by_labels = {case.axes: case for case in cases}
    pairs = []
    for case in cases:
        labels = dict(case.axes)
        if not all(labels.get(axis) in values for axis, values in timing.cases.items()):
            continue
        reference = by_labels.get(tuple((axis, timing.against.get(axis, label)) for axis, label in case.axes))
        in_one_process = all(c.config.train.world_size == 1 for c in (case, reference or case))
        if reference is not None and reference is not case and in_one_process:
            pairs.append(TimingPair(case, reference, timing.blocks, timing.min_block_s))
    return pairs


@dataclass(frozen=True)
class ProfileItem:
    """One case profiled in a window of its own, after the scenario's runs and paired timings: a test item of its own
    (see :class:`benchsuite.specs.profile.ProfileSpec`)."""

    case: Case
    spec: ProfileSpec

    @property
    def run_id(self) -> str:
        """Readable test id, e.g. ``batch-scaling[profile:batch_size=4096-lr_scaling=linear]``."""
        return f"{self.case.scenario}[profile:{self.case.case_id}]"

    def __str__(self) -> str:
        return self.run_id


def profile_items(spec: ScenarioSpec, device_type: str = "cpu") -> list[ProfileItem]:
    """One profiled window per case of ``spec`` on ``device_type``, in matrix order; none when the scenario's
    ``profile.enabled`` is off."""
    if not spec.profile.enabled:
        return []
    return [ProfileItem(case, spec.profile) for case in expand_cases(spec, device_type)]


def find_case(spec: ScenarioSpec, selection: str | None, device_type: str = "cpu") -> Case:
    """The one case of ``spec`` that ``selection`` names: its case id (``batch_size=4096-lr_scaling=linear``) or
    comma-separated ``axis=value`` pairs that only it has (``batch_size=4096,lr_scaling=linear``); None names the
    scenario's only case.

    Raises:
        ValueError: no case, or more than one, fits (the message lists the case ids).
    """
    cases = expand_cases(spec, device_type)
    ids = ", ".join(c.case_id for c in cases)
    if not selection:
        if len(cases) == 1:
            return cases[0]
        raise ValueError(f"scenario '{spec.name}' has {len(cases)} cases; name one with --case ({ids})")
    wanted = dict(part.split("=", 1) for part in selection.split(",") if "=" in part)
    found = [c for c in cases if c.case_id == selection] or [
        c for c in cases if wanted and all(dict(c.axes).get(a) == v for a, v in wanted.items())
    ]
    if len(found) != 1:
        what = "no case" if not found else f"{len(found)} cases"
        raise ValueError(f"--case {selection!r} names {what} of scenario '{spec.name}' (its cases: {ids})")
    return found[0]
