"""The words that qualify a claim's verdict, for the terminal, the Markdown summary and the HTML report alike: how
strongly a held claim held (:func:`strength_text`), which look it stands at (:func:`look_text`), whether one seed
carries it (:func:`fragile_text`), all of them in one order (:func:`verdict_qualifiers`), and how many false verdicts
a session can expect (:func:`expected_false_verdicts`).

The verdict's own words (its look, its pairs not judged) come from :class:`benchsuite.analysis.verdicts.Verdict`;
here they are put in order beside the verdict, each said once.
"""

from __future__ import annotations

from typing import Any

from benchsuite.specs.claim_metrics import CLAIM_METRICS

EXPECTED_FALSE_VERDICTS = (
    "A claim whose effect is nil reads held (or smaller than claimed) at most {better} of the time, and one whose "
    "effect is exactly the claimed r* reads refuted (or smaller than claimed) at most {better}, however many pairs "
    "and looks it takes ({other} for no-loss and equivalence claims, on their margins); so among this report's {n} "
    "judged claim{s}, at most {expected} false verdict{vs} {are} expected, fewer where effects lie far from those "
    "boundaries."
)
"""The sentence of "How to read this report" on false verdicts; :func:`expected_false_verdicts` fills it in."""


def expected_false_verdicts(claims: list[Any]) -> str:
    """:data:`EXPECTED_FALSE_VERDICTS` for ``claims`` (each with a ``kind``): each can read falsely on one side only,
    at most 2.5 % (``better``) or 5 % (``no_worse``, ``equivalent``; their one-sided level), so the session expects at
    most the sum of those."""
    better = sum(getattr(c, "kind", "better") == "better" for c in claims)
    expected = 0.025 * better + 0.05 * (len(claims) - better)
    return EXPECTED_FALSE_VERDICTS.format(
        better="2.5 %",
        other="5 %",
        n=len(claims),
        s="s" if len(claims) != 1 else "",
        expected=f"{expected:.2g}",
        vs="" if expected == 1 else "s",
        are="is" if expected == 1 else "are",
    )


STRENGTH_WORDS = {"confirmed": "confirmed: at least {r}", "consistent": "consistent with {r}: better, {r} not excluded"}
"""How strongly a held ``better`` claim held (:attr:`benchsuite.analysis.verdicts.Verdict.strength`), r* filled in."""


def required_text(claim: Any) -> str:
    """A claim's r* in its metric's terms: ``1.1×`` or ``+0.01``."""
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    return f"{claim.required_effect:g}×" if ratio else f"+{claim.required_effect:g}"


def declares_effect(claim: Any) -> bool:
    """Whether ``claim`` states the effect it claims (``min_ratio`` above 1, or ``min_effect``): only then are its
    words confirmed or consistent (a claim that states none is judged against the default r*, and says so in its
    needs)."""
    return getattr(claim, "min_ratio", 1.0) > 1.0 or getattr(claim, "min_effect", None) is not None


def strength_text(claim: Any, strength: str | None) -> str | None:
    """``confirmed: at least 2×`` or ``consistent with 2×: better, 2× not excluded`` for a held ``better`` claim or
    pair of ``claim`` (its ``strength``) that states its effect (:func:`declares_effect`), else None."""
    if strength not in STRENGTH_WORDS or not declares_effect(claim):
        return None
    return STRENGTH_WORDS[strength].format(r=required_text(claim))


def _listed(unit: str, numbers: tuple[int, ...]) -> str:
    """``seed 3``, or ``any one of seeds 0, 1, 2, 3`` (the first six, then ``…``)."""
    if len(numbers) == 1:
        return f"{unit} {numbers[0]}"
    return f"any one of {unit}s " + ", ".join(map(str, numbers[:6])) + (", …" if len(numbers) > 6 else "")


def fragile_text(verdict: Any) -> str | None:
    """``fragile: leaving out seed 3 changes it`` (``any one of seeds 0, 1, 2``, ``quadruple 2``) when leaving out one
    seed (or step-timing quadruple) of its deciding look changes the verdict, else None."""
    seeds, quadruples = getattr(verdict, "fragile_seeds", ()), getattr(verdict, "fragile_quadruples", ())
    parts = [_listed(unit, tuple(n)) for unit, n in (("seed", seeds), ("quadruple", quadruples)) if n]
    return f"fragile: leaving out {' or '.join(parts)} changes it" if parts else None


def look_text(verdict: Any) -> str | None:
    """The look a claim's verdict stands at, its n said once (:attr:`benchsuite.analysis.verdicts.Verdict.
    look_note`): ``look 2 of 3, n = 14``, ``look 3 of 3, n = 21, within the indifference zone``, ``look 2 of 3 cut
    short, n = 10 of 14``; None for a claim decided at its only look (or a verdict that records no looks)."""
    text = getattr(verdict, "look_note", None)
    return text if isinstance(text, str) and text else None


def ordered_qualifiers(
    reversed_: bool = False,
    strength: str | None = None,
    look: str | None = None,
    note: str | None = None,
    fragile: str | None = None,
) -> list[str]:
    """The words beside a verdict in their one order: ``reversed``, its strength, its look, its note (pairs not
    judged) and fragility, each given once (None: left out)."""
    return (["reversed"] if reversed_ else []) + [text for text in (strength, look, note, fragile) if text]


def verdict_qualifiers(verdict: Any) -> list[str]:
    """The words beside a claim's verdict (:func:`ordered_qualifiers`): ``reversed``, its strength
    (:func:`strength_text`), its look (:func:`look_text`), how many of its pairs were not judged
    (:attr:`benchsuite.analysis.verdicts.Verdict.pairs_note`) and fragility (:func:`fragile_text`)."""
    return ordered_qualifiers(
        bool(getattr(verdict, "reversed", False)),
        strength_text(verdict.claim, getattr(verdict, "strength", None)),
        look_text(verdict),
        getattr(verdict, "pairs_note", None),
        fragile_text(verdict),
    )


def qualifiers_text(verdict: Any) -> str:
    """:func:`verdict_qualifiers` joined by ``; `` (empty when there are none): what the terminal, the Markdown and
    the HTML print in brackets beside a verdict."""
    return "; ".join(verdict_qualifiers(verdict))
