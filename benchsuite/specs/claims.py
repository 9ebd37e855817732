"""What a scenario claims and how its per-step cost is timed: :class:`ClaimSpec` and :class:`StepTimingSpec`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from benchsuite.specs.base import ClaimMetric, Spec, selection_labels
from benchsuite.specs.claim_metrics import CLAIM_METRICS

ClaimKind = Literal["better", "no_worse", "equivalent"]


class ClaimSpec(Spec):
    """A published claim that the scenario tests: the ``cases`` against the ``against`` case on ``metric``.

    Kinds (judged from an effect with a 95 % interval, see :mod:`benchsuite.analysis.verdicts`):

    - ``better``: the cases are better by at least ``max(min_ratio, min_effect)``;
    - ``no_worse``: non-inferiority, the cases are worse by less than ``margin``;
    - ``equivalent``: equivalence (TOST), the cases are within ``margin`` either way.

    Effects are ratios for time, step and rate metrics (``min_effect`` 1.1 means 10 % better) and differences in the
    metric's units for validation metrics (``min_effect`` 0.01 means one accuracy point); see
    :data:`benchsuite.specs.claim_metrics.CLAIM_METRICS`.
    """

    says: str
    """The claim in the source's words."""
    metric: ClaimMetric = "time_to_target_s"
    """What the claim is judged on (time_to_target_s, steps_to_target, step_time_s, throughput_samples_per_s,
    final_val_metric, val_metric_epoch1)."""
    better: Literal["lower", "higher"] = "lower"
    """Which direction of the metric is better."""
    kind: ClaimKind = "better"
    """better, no_worse (non-inferiority) or equivalent (TOST)."""
    cases: dict[str, tuple[str, ...]]
    """Axis → values selecting the cases the claim is about."""
    against: dict[str, str]
    """Axis → value selecting the reference case."""
    min_ratio: float = Field(1.0, ge=1.0)
    """How many times better the cases must be (e.g. 10 for "~10x faster", 2 for "halves the time"); ratio
    metrics only."""
    min_effect: float | None = None
    """The smallest effect that counts as one: a ratio above 1 for ratio metrics (default 1.1), a difference above 0
    for validation metrics (default 0.01). A ``better`` claim needs an interval reaching max(min_ratio, min_effect)."""
    margin: float | None = None
    """no_worse/equivalent only: the largest loss that still counts as none: a difference above 0 for validation
    metrics (0.01 = one accuracy point), a ratio above 1 for ratio metrics (1.05 = 5 %)."""

    _labels = field_validator("cases", "against", mode="before")(selection_labels)

    @model_validator(mode="after")
    def _fits_the_metric(self) -> ClaimSpec:
        ratio = CLAIM_METRICS[self.metric].scale == "ratio"
        floor = 1.0 if ratio else 0.0
        if self.kind == "better" and self.margin is not None:
            raise ValueError("'margin' is for kind no_worse or equivalent; a better claim uses min_effect")
        if self.kind != "better" and self.margin is None:
            raise ValueError(f"kind {self.kind} needs a 'margin' (the largest loss that counts as none)")
        if self.kind != "better" and (self.min_ratio != 1.0 or self.min_effect is not None):
            raise ValueError(f"kind {self.kind} takes a margin, not min_ratio or min_effect")
        if not ratio and self.min_ratio != 1.0:
            raise ValueError(f"min_ratio is for ratio metrics; {self.metric} is compared as a difference (min_effect)")
        for name in ("min_effect", "margin"):
            value = getattr(self, name)
            if value is not None and value <= floor:
                scale = "a ratio above 1" if ratio else "a difference above 0"
                raise ValueError(f"{name} on {self.metric} must be {scale}, got {value}")
        return self

    @property
    def required_effect(self) -> float:
        """r*: the effect a ``better`` claim must be able to reach, max(min_ratio, min_effect or the default)."""
        metric = CLAIM_METRICS[self.metric]
        effect = self.min_effect if self.min_effect is not None else metric.default_min_effect
        return max(self.min_ratio, effect) if metric.scale == "ratio" else effect


class StepTimingSpec(Spec):
    """Paired, interleaved step-timing blocks: each selected case and its reference train alternately in blocks
    (ABBA order) in one process, so a drift of the machine falls on both alike and the per-pair ratio of seconds per
    step cancels it (the design of the telemetry-overhead benchmark; pyperf's advice for noisy machines).

    Blocks are timed apart from the runs and never change time-to-target; they give the step-time half of the
    claims (and claims on ``step_time_s``) a precise interval.
    """

    against: dict[str, str]
    """Axis → value selecting the reference of each pair (the others share its values on the other axes)."""
    cases: dict[str, tuple[str, ...]] = {}
    """Axis → values selecting the timed cases; empty: every case that is not a reference."""
    blocks: PositiveInt = 16
    """Pairs of blocks (one block of each case per pair; two pairs, ABBA, make a quadruple): 16 pairs give 8
    quadruples, enough for a bounded exact signed-rank interval at 95 % from quadruples alone."""
    min_block_s: PositiveFloat = 0.2
    """Each block runs at least this many seconds (its steps are chosen from a warm-up measurement); longer blocks
    average a shared machine's bursts of other work over more steps."""

    _labels = field_validator("cases", "against", mode="before")(selection_labels)
