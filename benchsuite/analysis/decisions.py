"""The verdict vocabulary, and how intervals become verdicts: one pair's from its interval, a claim's from its pairs'.

A pair's interval is the effect of :mod:`benchsuite.analysis.judging` on the oriented scale (above 0: the case is
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

A held ``better`` pair is **confirmed** when its lower bound reaches r* (the effect is at least the claimed one) and
**consistent** when it lies between no effect and r* (better, and r* not excluded): :func:`strength`.

``no_worse`` (non-inferiority with margin M; one-sided 95 % bound): held when lower > -M (ratio: 1/M), refuted when
upper < -M, else inconclusive. ``equivalent`` (TOST, 90 % interval): held when inside (-M, M), refuted when wholly
outside, else inconclusive. Sources: Walker & Nowacki 2011 (non-inferiority and equivalence); Schuirmann 1987 (TOST).

Each bound answers one question, at its own one-sided error (:func:`one_sided_alpha`: 2.5 % for ``better`` claims,
5 % for the others, spent over looks by :mod:`benchsuite.analysis.spending`): the lower bound whether the case is
better (or not worse, or inside the margins: the *holding* side), the upper bound whether it is smaller than claimed
(or worse than the margin: the *refuting* side). Their p-values are :func:`hold_p_value` and :func:`refute_p_value`.

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

Multiplicity (:mod:`benchsuite.analysis.judging`): "held" needs every pair held, an intersection-union test, so each
pair's holding bound is at the claim's full error and no correction is needed (Berger 1982): the claim reads held
falsely only if some pair, which alone errs at most α, does. "Refuted" (or "smaller than claimed") needs any one pair
refuted, a union, so the refuting bounds are Holm-corrected (Holm 1979): the pairs in order of their refutation
p-values (ties by the estimate, then the case id: the data decide the order, never the matrix), the j-th of m at
α/(m-j+1), and the first that is not refuted stops the step-down: it and every pair after it keep their refuting
bound at that level. The claim then reads refuted falsely, when every pair reaches r*, at most α.

A claim decided by some of its pairs says how many were not judged beside its verdict (``held; 1 of 2 pairs not
judged``): a refuted pair refutes the conjunction whatever the others show, and a held claim holds for the pairs
that could be judged, which the report names.
"""

from __future__ import annotations

import math

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


def one_sided_alpha(claim: ClaimSpec) -> float:
    """The error each bound of the claim's pairs may make in all (over every look): α/2 = 2.5 % for ``better``
    claims (a 95 % interval), α = 5 % for ``no_worse`` and ``equivalent`` ones (TOST's 90 % interval)."""
    return effects.ALPHA / 2.0 if claim.kind == "better" else effects.ALPHA


def required_bound(claim: ClaimSpec) -> float:
    """r* of a ``better`` claim on the oriented scale (log of a ratio)."""
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    return math.log(claim.required_effect) if ratio else claim.required_effect


def hold_p_value(claim: ClaimSpec, ranked: effects.Ranked) -> float:
    """One-sided p-value of the holding side (H0: no effect for ``better``, a loss of the margin for ``no_worse``; for
    ``equivalent`` the larger of TOST's two), the one the holding bound inverts."""
    if claim.kind == "better":
        return ranked.p_above(0.0)
    bound = margin_bound(claim)
    if claim.kind == "no_worse":
        return ranked.p_above(-bound)
    return max(ranked.p_above(-bound), ranked.p_below(bound))


def refute_p_value(claim: ClaimSpec, ranked: effects.Ranked) -> float:
    """One-sided p-value of the refuting side (H0: the effect reaches r* for ``better``, stays within the margin for
    ``no_worse``; for ``equivalent``, the smaller of "beyond M" and "beyond -M"), the one the refuting bound
    inverts."""
    if claim.kind == "better":
        return ranked.p_below(required_bound(claim))
    bound = margin_bound(claim)
    if claim.kind == "no_worse":
        return ranked.p_below(-bound)
    return min(ranked.p_above(bound), ranked.p_below(-bound))


def interval_confidence(claim: ClaimSpec, level: float) -> float:
    """Two-sided level of a pair's interval: 1 - level for better claims; 1 - 2·level (a one-sided bound at
    ``level``, as TOST uses) for no_worse and equivalent claims."""
    return 1.0 - level if claim.kind == "better" else 1.0 - 2.0 * level


def decide(claim: ClaimSpec, shift: effects.Shift, refuting: effects.Shift | None = None) -> tuple[str, bool]:
    """(verdict, reversed) of one pair from its interval (see the module docstring's table). ``refuting``: for an
    ``equivalent`` claim, the interval at the refuting level (Holm's), when it differs from ``shift``'s."""
    low, high = shift.low, shift.high
    if claim.kind == "no_worse":
        bound = -margin_bound(claim)
        return (HELD if low > bound else REFUTED if high < bound else INCONCLUSIVE), False
    if claim.kind == "equivalent":
        bound = margin_bound(claim)
        wide = refuting or shift
        inside, outside = -bound < low and high < bound, wide.high < -bound or wide.low > bound
        return (HELD if inside else REFUTED if outside else INCONCLUSIVE), False
    required = required_bound(claim)
    if low > 0:
        return (HELD if high >= required else SMALLER), False
    if high < required:
        return REFUTED, high < 0
    return INCONCLUSIVE, False


CONFIRMED, CONSISTENT = "confirmed", "consistent"
"""How strongly a held ``better`` pair or claim holds: its lower bound reaches r*, or only no effect."""


def strength(claim: ClaimSpec, shift: effects.Shift, verdict: str) -> str | None:
    """:data:`CONFIRMED` or :data:`CONSISTENT` for a held ``better`` pair (see the module docstring), else None."""
    if verdict != HELD or claim.kind != "better":
        return None
    return CONFIRMED if shift.low >= required_bound(claim) else CONSISTENT


def combine(pair_verdicts: list[str]) -> str:
    """A claim's verdict from its pairs' (see the module docstring's second table)."""
    if not pair_verdicts:
        return NOT_RUN
    judged = [v for v in pair_verdicts if v != NOT_JUDGED]
    if not judged:
        return NOT_JUDGED
    return next(v for v in PRECEDENCE if v in judged)
