"""The verdict vocabulary, and how intervals become verdicts: one pair's from its interval, a claim's from its pairs'.

A pair's interval is the effect of :mod:`benchsuite.analysis.verdicts` on the oriented scale (above 0: the case is
better). Decision for a ``better`` claim, with r* = max(min_ratio, min_effect) and "1" the no-effect value (0 for
differences):

============================  ===========================
interval                      verdict
============================  ===========================
lower > 1, upper ≥ r*         held
lower > 1, upper < r*         smaller than claimed
lower ≤ 1, upper < r*         refuted ("reversed" when upper < 1)
lower ≤ 1, upper ≥ r*         inconclusive
nothing to compare            not judged (with the reason)
============================  ===========================

``no_worse`` (non-inferiority with margin M; one-sided 95 % bound): held when lower > -M (ratio: 1/M), refuted when
upper < -M, else inconclusive. ``equivalent`` (TOST, 90 % interval): held when inside (-M, M), refuted when wholly
outside, else inconclusive. Sources: Walker & Nowacki 2011 (non-inferiority and equivalence); Schuirmann 1987 (TOST).

A pair is **not judged** when it has nothing to compare (:attr:`benchsuite.analysis.contrast.Contrast.comparable`):
a side has no finished run with a value (every run crashed, ran out of memory, failed or timed out, or the figure
was not recorded), or, on a censored figure (time-to-target, steps-to-target), no run of either side reached the
target. Such a pair is never held or refuted; it carries the reason in words (:mod:`benchsuite.analysis.missing`).

A claim of several pairs is a conjunction of its judged pairs:

==========================================  ===========================
pairs                                        claim
==========================================  ===========================
none (no compared pair ran here)             not run
every pair not judged                        not judged (the pairs' reasons)
any judged pair refuted                      refuted
else any judged pair inconclusive            inconclusive
else any judged pair smaller than claimed    smaller than claimed
else (every judged pair held)                held
==========================================  ===========================

A claim decided by some of its pairs says how many were not judged beside its verdict (``held; 1 of 2 pairs not
judged``): a refuted pair refutes the conjunction whatever the others show, and a held claim holds for the pairs
that could be judged, which the report names.
"""

from __future__ import annotations

import math

import numpy as np

from benchsuite.analysis import effects
from benchsuite.specs.claim_metrics import CLAIM_METRICS
from benchsuite.specs.claims import ClaimSpec

HELD, SMALLER, INCONCLUSIVE, REFUTED = "held", "smaller than claimed", "inconclusive", "refuted"
NOT_JUDGED = "not judged"
"""A pair, or a claim, with nothing to compare (see the module docstring)."""
NOT_RUN = "not run"
"""A claim with no compared pair on this device."""

PRECEDENCE = (REFUTED, INCONCLUSIVE, SMALLER, HELD)
"""A claim takes the first of these its judged pairs show."""

VERDICTS = (*PRECEDENCE, NOT_JUDGED, NOT_RUN)
"""Every verdict a claim or a pair can have: the one list reports colour and count."""


def margin_bound(claim: ClaimSpec) -> float:
    """The claim's margin on the oriented scale (log of a ratio margin)."""
    margin = claim.margin or 0.0
    return math.log(margin) if CLAIM_METRICS[claim.metric].scale == "ratio" else margin


def hypothesis_shift(claim: ClaimSpec) -> float:
    """The shift the claim's one-sided test is about: 0 for better, -margin for no_worse (and equivalent's lower
    side)."""
    return 0.0 if claim.kind == "better" else -margin_bound(claim)


def p_value(claim: ClaimSpec, x: np.ndarray, y: np.ndarray) -> float:
    """One-sided Mann-Whitney p-value of the claim's hypothesis on oriented samples ``x`` (case), ``y`` (reference);
    for equivalence the larger of TOST's two."""
    if claim.kind == "equivalent":
        return max(effects.p_better(x, y, hypothesis_shift(claim)), effects.p_better(y, x, hypothesis_shift(claim)))
    return effects.p_better(x, y, hypothesis_shift(claim))


def p_value_paired(claim: ClaimSpec, d: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank p-value of the claim's hypothesis on oriented per-pair differences ``d``."""
    if claim.kind == "equivalent":
        return max(
            effects.p_better_paired(d, hypothesis_shift(claim)), effects.p_better_paired(-d, hypothesis_shift(claim))
        )
    return effects.p_better_paired(d, hypothesis_shift(claim))


def interval_confidence(claim: ClaimSpec, level: float) -> float:
    """Two-sided level of a pair's interval: 1 - level for better claims; 1 - 2·level (a one-sided bound at
    ``level``, as TOST uses) for no_worse and equivalent claims."""
    return 1.0 - level if claim.kind == "better" else 1.0 - 2.0 * level


def decide(claim: ClaimSpec, shift: effects.Shift) -> tuple[str, bool]:
    """(verdict, reversed) of one pair from its interval (see the module docstring's table)."""
    low, high = shift.low, shift.high
    if claim.kind == "no_worse":
        bound = -margin_bound(claim)
        return (HELD if low > bound else REFUTED if high < bound else INCONCLUSIVE), False
    if claim.kind == "equivalent":
        bound = margin_bound(claim)
        inside, outside = -bound < low and high < bound, high < -bound or low > bound
        return (HELD if inside else REFUTED if outside else INCONCLUSIVE), False
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    required = math.log(claim.required_effect) if ratio else claim.required_effect
    if low > 0:
        return (HELD if high >= required else SMALLER), False
    if high < required:
        return REFUTED, high < 0
    return INCONCLUSIVE, False


def combine(pair_verdicts: list[str]) -> str:
    """A claim's verdict from its pairs' (see the module docstring's second table)."""
    if not pair_verdicts:
        return NOT_RUN
    judged = [v for v in pair_verdicts if v != NOT_JUDGED]
    if not judged:
        return NOT_JUDGED
    return next(v for v in PRECEDENCE if v in judged)
