"""Forest plots of verdicts: one row per compared pair, its effect (dot) and interval (line) against no effect (solid
line) and the claim's threshold (dashed: r* of a ``better`` claim, the margin of a ``no_worse`` or ``equivalent``
one; :func:`benchsuite.analysis.decisions.decide`), coloured by the pair's verdict with the colours of the compare
heat map (:data:`benchsuite.report.colours.VERDICT_COLOURS`).

Ratio claims (times, steps, rates) are drawn on a log axis, difference claims (validation metrics) on a linear one,
in separate panels. An unbounded end of an interval is an arrow to the edge of the panel; a pair that was not judged
is its reason in words instead of a dot; the earlier looks of a claim that took several (group-sequential top-ups)
are hollow dots below its row, each annotated with its look and seeds per side. The rows are plain data
(:class:`ForestRow`, built from verdicts by :func:`verdict_rows`, or per machine by
:func:`benchsuite.report.compare.comparison_rows`), so the table is tested apart from the drawing.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchsuite.analysis.decisions import NOT_JUDGED, VERDICTS
from benchsuite.analysis.verdicts import PairVerdict, Verdict
from benchsuite.specs.claim_metrics import CLAIM_METRICS
from benchsuite.specs.claims import ClaimSpec

NO_EFFECT = {"ratio": 1.0, "difference": 0.0}
"""Where an effect is none, per scale."""


@dataclass(frozen=True)
class Mark:
    """One interval drawn in a row.

    Attributes:
        estimate: the effect (None: no estimate, e.g. half of a side missed the target; the interval alone is drawn).
        low, high: the interval (0, -inf or inf: unbounded, an arrow to the edge; NaN: nothing compared).
        verdict: the pair's verdict, which colours the mark.
        offset: where the mark sits below its row's label, in rows.
        hollow: an earlier look (a hollow dot, a thinner line).
        marker: the dot's shape (one per machine in a comparison).
        reason: why the pair was not judged: written instead of a dot.
        who: whose mark (a machine's label in a comparison), written before a reason.
        note: written right of the panel at the mark's height (``look 2 of 3, n = 14``).
    """

    estimate: float | None
    low: float
    high: float
    verdict: str
    offset: float = 0.0
    hollow: bool = False
    marker: str = "o"
    reason: str | None = None
    who: str = ""
    note: str = ""

    @property
    def drawn(self) -> bool:
        """Whether the mark has an interval to draw (it is not a reason)."""
        return self.reason is None and not (math.isnan(self.low) and math.isnan(self.high))


@dataclass(frozen=True)
class ForestRow:
    """One compared pair of one claim.

    Attributes:
        label: ``claim short name — case vs reference``.
        claim: a key shared by the rows of one claim (its threshold lines span them).
        scale: ``ratio`` or ``difference`` (the panel).
        thresholds: where the claim's threshold lines go: (r*,) for ``better``, (1/M,) or (-M,) for ``no_worse``,
            (1/M, M) or (-M, M) for ``equivalent``.
        marks: the row's intervals (this look's first).
    """

    label: str
    claim: str
    scale: str
    thresholds: tuple[float, ...]
    marks: tuple[Mark, ...]

    @property
    def drawn(self) -> bool:
        """Whether any of the row's marks has an interval."""
        return any(m.drawn for m in self.marks)


def thresholds(claim: ClaimSpec) -> tuple[float, ...]:
    """The claim's threshold lines on its effect scale: r* for ``better`` (:attr:`ClaimSpec.required_effect`), the
    margin's bound for ``no_worse`` (1/M for a ratio, -M for a difference), both bounds for ``equivalent``."""
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    if claim.kind == "better":
        return (claim.required_effect,)
    margin = claim.margin or (1.0 if ratio else 0.0)
    lower = 1.0 / margin if ratio else -margin
    return (lower,) if claim.kind == "no_worse" else (lower, margin)


def short_names(claims: Sequence[ClaimSpec]) -> list[str]:
    """A short name per claim of one scenario: what it measures (``time-to-target``), or where two of the
    scenario's claims measure the same, the start of its words (``Two devices reach the target close to…``)."""
    words = [CLAIM_METRICS[c.metric].words for c in claims]
    return [
        w if words.count(w) == 1 else textwrap.shorten(c.says, 44, placeholder="…")
        for w, c in zip(words, claims, strict=True)
    ]


def pair_mark(pair: PairVerdict, **where: Any) -> Mark:
    """A pair's mark: its effect and interval coloured by its verdict, or its reason when it was not judged;
    ``where``: :class:`Mark`'s placement fields (offset, hollow, marker, who, note)."""
    if pair.verdict == NOT_JUDGED:
        reason = getattr(pair, "reason", None) or "nothing to compare"
        return Mark(None, math.nan, math.nan, NOT_JUDGED, reason=reason, **where)
    effect = pair.effect
    return Mark(effect.estimate, effect.low, effect.high, pair.verdict, **where)


LOOK_GAP = 0.42
"""Rows between an earlier look's mark and the next one above it."""


def _looks_marks(looks: Sequence[Any], key: tuple[str, str], planned: int | None) -> tuple[str, list[Mark]]:
    """The note of a claim's last look, and the hollow marks of its earlier looks for the pair ``key`` (newest
    first, each further below the row)."""
    last = f"look {len(looks)}" + (f" of {planned}" if planned and planned >= len(looks) else "")
    note = f"{last}, n = {getattr(looks[-1], 'n', '?')}"
    marks = []
    for j, look in reversed(list(enumerate(looks[:-1], start=1))):
        pair = next((p for p in getattr(look, "pairs", ()) if (p.effect.case_id, p.effect.against_id) == key), None)
        if pair is not None:
            where = {"offset": LOOK_GAP * (len(marks) + 1), "hollow": True, "note": f"look {j}, n = {look.n}"}
            marks.append(pair_mark(pair, **where))
    return note, marks


def verdict_rows(
    named: Iterable[tuple[str, Verdict]], with_scenario: bool = True, planned: Mapping[str, int] | None = None
) -> list[ForestRow]:
    """The forest rows of ``named`` (scenario, verdict) in order: one per compared pair, labelled ``scenario: claim
    — case vs reference`` (without the scenario when ``with_scenario`` is false: a section's plot). A claim that
    took more than one look (``verdict.looks``, when the analysis records them) gets its last look's note and its
    earlier looks' hollow marks; ``planned``: scenario → the looks its top-up allows, for ``look 2 of 3``."""
    named = list(named)
    by_scenario: dict[str, list[int]] = {}
    for i, (scenario, _) in enumerate(named):
        by_scenario.setdefault(scenario, []).append(i)
    name_of = {
        i: name
        for indices in by_scenario.values()
        for i, name in zip(indices, short_names([named[i][1].claim for i in indices]), strict=True)
    }
    rows = []
    for i, (scenario, verdict) in enumerate(named):
        claim = f"{scenario}: {name_of[i]}" if with_scenario else name_of[i]
        looks = tuple(getattr(verdict, "looks", None) or ())
        for pair in verdict.pairs:
            key = (pair.effect.case_id, pair.effect.against_id)
            note, earlier = _looks_marks(looks, key, (planned or {}).get(scenario)) if len(looks) > 1 else ("", [])
            marks = (pair_mark(pair, note=note), *earlier)
            label = f"{claim} — {key[0]} vs {key[1]}"
            rows.append(ForestRow(label, f"{scenario}#{i}", pair.effect.scale, thresholds(verdict.claim), marks))
    return rows


def forest_note(rows: Sequence[ForestRow], what: str = "claim") -> str:
    """Why there is no forest plot: no compared pair at all, or none that could be judged."""
    if not rows:
        return f"no forest plot: no {what} had a compared pair here"
    pairs = f"{len(rows)} pair{'s' if len(rows) != 1 else ''}"
    return f"no forest plot: no compared pair could be judged ({pairs} not judged; each claim says why)"


def verdicts_present(rows: Sequence[ForestRow]) -> list[str]:
    """The verdicts of the rows' drawn marks, in the order of :data:`benchsuite.analysis.decisions.VERDICTS`."""
    present = {m.verdict for r in rows for m in r.marks if m.drawn}
    return [v for v in VERDICTS if v in present]
