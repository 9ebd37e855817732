"""Claims → verdicts: every compared pair gets an effect with an interval, and the claim a verdict from those, look by
look until one decides it.

- Which runs are compared: :mod:`benchsuite.analysis.pairing`; by which rule: :mod:`benchsuite.analysis.contrast`
  (runs paired by seed when the design pairs them, else two samples; claims on ``step_time_s`` from step-timing
  quadruples; misses censored where they were cut off).
- One look (its levels, Holm's step-down over the refutations, each pair's verdict): :mod:`benchsuite.analysis.
  judging`; the decision tables and how a claim combines its pairs: :mod:`benchsuite.analysis.decisions`.
- The looks (more seeds for a claim left inconclusive, each look at the error it spends, the verdict frozen at the
  first look that decides): :mod:`benchsuite.analysis.looks`.

Expected false verdicts: a ``better`` claim with no effect reads held (or smaller than claimed) at most 2.5 % of the
time, and one whose effect is exactly r* reads refuted (or smaller than claimed) at most 2.5 %, whatever its number
of pairs and looks (intersection-union for "held", Holm for "refuted", error spending over looks;
tests/test_calibration.py checks both by exact enumeration and simulation); 5 % on the margins of ``no_worse`` and
``equivalent`` claims, their one-sided level. A session of m claims expects at most the sum of those false verdicts
(:func:`benchsuite.report.verdict_words.expected_false_verdicts`).

A held ``better`` claim is **confirmed** when every pair's lower bound reaches r*, else **consistent** (better, r*
not excluded); the report says which for claims that state their r* (``min_ratio``, ``min_effect``).

A verdict is **fragile** when leaving out any one seed (or one step-timing quadruple) of its deciding look, at that
look's levels, changes it: it rests on that seed. Where leaving a seed out leaves too few values to reach a level at
all (6 pairs at the 1/128 of 7 seeds' first look), the check cannot tell and says nothing.

Sources: Hodges & Lehmann 1963; Hollander, Wolfe & Chicken 2014; Holm 1979; Berger 1982; Jennison & Turnbull 2000;
Lan & DeMets 1983.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from benchsuite.analysis import ranks
from benchsuite.analysis.decisions import (
    CONFIRMED,
    CONSISTENT,
    HELD,
    INCONCLUSIVE,
    NOT_JUDGED,
    NOT_RUN,
    REFUTED,
    decide,
)
from benchsuite.analysis.judging import judge_samples
from benchsuite.analysis.looks import Look, Plan, Sequence, judge_looks, scenario_looks
from benchsuite.analysis.pair_verdicts import PairEffect, PairVerdict
from benchsuite.analysis.pairing import compared_pairs
from benchsuite.analysis.samples import Sample
from benchsuite.results.stored import StoredScenario
from benchsuite.specs.claims import ClaimSpec
from benchsuite.specs.scenario import ScenarioSpec

__all__ = ["Look", "PairEffect", "PairVerdict", "Verdict", "claim_verdicts", "decide", "judge"]


@dataclass(frozen=True)
class Verdict:
    """Whether a claim held on this hardware, with every pair behind it (at the look that decided it) and its looks.

    Attributes:
        claim: the claim.
        verdict: one of :data:`benchsuite.analysis.decisions.VERDICTS`.
        pairs: every compared pair at the last look judged.
        looks: the looks judged, oldest first (empty for a claim not run).
        planned_looks: the looks the scenario's top-up allows.
        fragile_seeds, fragile_quadruples: the seeds, and step-timing quadruples (counted from 1), whose leaving out
            changes the verdict at its look (see the module docstring); both empty: not fragile.
    """

    claim: ClaimSpec
    verdict: str
    pairs: tuple[PairVerdict, ...]
    looks: tuple[Look, ...] = ()
    planned_looks: int = 1
    fragile_seeds: tuple[int, ...] = ()
    fragile_quadruples: tuple[int, ...] = ()

    @property
    def settled(self) -> bool:
        """Decided at some look, or inconclusive at the last planned look with all its seeds (or not run)."""
        if not self.looks:
            return True
        last = self.looks[-1]
        return last.verdict != INCONCLUSIVE or (last.number >= self.planned_looks and last.complete)

    @property
    def fragile(self) -> bool:
        """Whether leaving out one seed (or quadruple) of the deciding look changes the verdict."""
        return bool(self.fragile_seeds or self.fragile_quadruples)

    @property
    def strength(self) -> str | None:
        """For a held ``better`` claim: ``confirmed`` when every judged pair is, else ``consistent``; else None."""
        if self.verdict != HELD or self.claim.kind != "better":
            return None
        judged = [p for p in self.pairs if p.verdict != NOT_JUDGED]
        return CONFIRMED if all(p.strength == CONFIRMED for p in judged) else CONSISTENT

    @property
    def reversed(self) -> bool:
        """Refuted with every judged pair's interval wholly on the other side of no effect (a note on the verdict,
        shown per pair; an interval ending near no effect can carry it in one session and not the next)."""
        return self.verdict == REFUTED and all(p.reversed for p in self.pairs if p.verdict != NOT_JUDGED)

    @property
    def label(self) -> str:
        """The verdict: ``held``, ``smaller than claimed``, ``inconclusive``, ``refuted``, ``not judged`` or ``not
        run`` (:mod:`benchsuite.analysis.decisions`)."""
        return self.verdict

    @property
    def n_not_judged(self) -> int:
        """Pairs of the claim that had nothing to compare."""
        return sum(p.verdict == NOT_JUDGED for p in self.pairs)

    @property
    def reason(self) -> str | None:
        """Why the claim was not judged (its pairs' reasons, each once), or None when it was judged or not run."""
        if self.verdict != NOT_JUDGED:
            return None
        return "; ".join(dict.fromkeys(p.reason for p in self.pairs if p.reason))

    @property
    def look_note(self) -> str | None:
        """The look the verdict stands at, its n said once: ``look 2 of 3, n = 14`` for a claim that took more than
        one look; where an inconclusive claim stands: ``look 3 of 3, n = 21, within the indifference zone`` at its
        last planned look (``n = 21, within the indifference zone`` when it plans one), ``look 2 of 3 cut short, n =
        10 of 14`` or ``look 1 of 3, n = 7, look 2 not run`` before it; None for a claim decided at its only look,
        or not run."""
        if not self.looks:
            return None
        last, inconclusive = self.looks[-1], self.verdict == INCONCLUSIVE
        if len(self.looks) < 2 and not inconclusive:
            return None
        look = f"look {last.number}" + (f" of {self.planned_looks}" if self.planned_looks >= last.number else "")
        if inconclusive and not last.complete:
            return f"{look} cut short, n = {last.n} of {last.planned}"
        said = f"{look}, n = {last.n}" if len(self.looks) > 1 or self.planned_looks > 1 else f"n = {last.n}"
        if not inconclusive:
            return said
        return f"{said}, within the indifference zone" if self.settled else f"{said}, look {last.number + 1} not run"

    @property
    def pairs_note(self) -> str | None:
        """``1 of 2 pairs not judged`` beside the verdict of a claim decided by some of its pairs, else None."""
        if self.verdict == NOT_JUDGED or not self.n_not_judged:
            return None
        return f"{self.n_not_judged} of {len(self.pairs)} pair{'s' if len(self.pairs) > 1 else ''} not judged"

    @property
    def note(self) -> str | None:
        """:attr:`look_note` and :attr:`pairs_note`, joined by ``; ``; else None (the report puts them in its order
        beside the verdict: :func:`benchsuite.report.verdict_words.verdict_qualifiers`)."""
        return "; ".join(part for part in (self.look_note, self.pairs_note) if part) or None

    @property
    def unstable_runs(self) -> int:
        """Compared runs flagged unstable (their step time drifted), for time claims."""
        return sum(p.unstable_runs for p in self.pairs)


def _left_out(claim: ClaimSpec, sequence: Sequence) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The seeds (and step-timing quadruples) of the deciding look whose leaving out, at its levels, changes the
    claim's verdict; a seed whose leaving out makes a level the look reached unreachable for any data (too few
    values left for it) is skipped: the check cannot tell there."""
    last = sequence.looks[-1]
    if last.verdict in (NOT_JUDGED, NOT_RUN) or not sequence.samples:
        return (), ()

    def changes(**left_out) -> bool:
        kept = [p.without(**left_out) for p in sequence.samples]
        if not all(_reachable(pair, p.main) for pair, p in zip(last.pairs, kept, strict=True)):
            return False
        return judge_samples(claim, kept, sequence.tail_of)[0] != last.verdict

    blocks = [p.main.n for p in sequence.samples if p.main.source == "paired blocks"]
    runs_based = len(blocks) < len(sequence.samples)
    seeds = tuple(int(s) for s in sequence.seeds if runs_based and changes(seed=s))
    return seeds, tuple(q + 1 for q in range(max(blocks, default=0)) if changes(quadruple=q))


def _reachable(pair: PairVerdict, kept: Sample) -> bool:
    """Whether ``kept`` (a pair's sample with a seed left out) can still reach every level its pair reached at the
    look: a bound of 6 pairs cannot be at 1/128, whatever their values."""
    if pair.verdict == NOT_JUDGED or kept.ranked is None:
        return True
    reached = pair.effect.shift.tails
    return all(ranks.order_statistic_index(kept.ranked.cdf, tail) >= 1 for tail in reached if tail > 0)


def judge(
    runs: pd.DataFrame,
    claim: ClaimSpec,
    blocks: pd.DataFrame | None = None,
    blocked: bool = True,
    plan: Plan | None = None,
) -> Verdict:
    """The verdict of ``claim`` on one scenario's ``runs`` (and its paired step-timing ``blocks``); ``blocked``: the
    runs were ordered in blocks of seeds, so they may pair by seed; ``plan``: the scenario's looks
    (:class:`benchsuite.analysis.looks.Plan`; default one look at the full error over every seed that ran)."""
    return _verdict(claim, judge_looks(claim, compared_pairs(runs, claim, blocks), blocked, plan or Plan()))


def _verdict(claim: ClaimSpec, sequence: Sequence) -> Verdict:
    if not sequence.looks:
        return Verdict(claim, NOT_RUN, (), (), sequence.plan.looks)
    last = sequence.looks[-1]
    return Verdict(claim, last.verdict, last.pairs, sequence.looks, sequence.plan.looks, *_left_out(claim, sequence))


def claim_verdicts(
    runs: pd.DataFrame, spec: StoredScenario | ScenarioSpec, blocks: pd.DataFrame | None = None, blocked: bool = True
) -> list[Verdict]:
    """Judge each of ``spec``'s claims on this scenario's runs and paired step-timing blocks, look by look as its
    ``seeds`` and ``top_up`` plan them (``blocked``: the session ran its runs in blocks of seeds; see
    :func:`benchsuite.results.frames.run_order`)."""
    return [_verdict(claim, sequence) for claim, sequence in scenario_looks(runs, spec, blocks, blocked)]
