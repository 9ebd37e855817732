"""Claims → verdicts: every compared pair gets an effect with an interval, and the claim a verdict from those.

For each pair (a selected case against its reference, sharing every other axis) the effect is the ratio (time,
steps, rates; log scale) or the difference (validation metrics) in the claim's direction, with a 95 % interval from
:mod:`benchsuite.analysis.effects`:

- runs pair by seed when the session ran them in blocks of seeds (seed-major or random order: a seed's round of
  cases ran close in time, so a slow stretch of the machine falls on both sides of a pair and cancels) and there are
  enough seeds for a bounded signed-rank interval at the claim's strictest Holm level (the design decides, never
  the data): Hodges-Lehmann estimate of the per-seed differences, Wilcoxon signed-rank interval;
- otherwise the two samples: Hodges-Lehmann shift, Mann-Whitney interval;
- claims on ``step_time_s`` use the scenario's paired step-timing blocks when it has them.

The pairs of one claim that have something to compare are Holm-corrected: the j-th smallest of their m one-sided
p-values is judged with an interval at 1 - α/(m-j+1). A pair with nothing to compare is "not judged", with the
reason, and takes no part in the correction. How a pair's interval becomes its verdict, and a claim's verdict from
its pairs', is :mod:`benchsuite.analysis.decisions`.

Time-to-target claims are split into their two halves: steps-to-target (the algorithm's part) and seconds per step
(the hardware's part; from paired step-timing blocks when the scenario times them). Sources: Hodges & Lehmann 1963;
Hollander, Wolfe & Chicken 2014; Holm 1979; MLPerf Training rules (convergence judged in epochs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchsuite.analysis import effects
from benchsuite.analysis.contrast import Contrast, by_seed, contrast, half_missed, oriented_column
from benchsuite.analysis.decisions import (
    NOT_JUDGED,
    NOT_RUN,
    REFUTED,
    combine,
    decide,
    interval_confidence,
    p_value,
    p_value_paired,
)
from benchsuite.analysis.missing import why_not_compared
from benchsuite.analysis.pairing import ComparedPair, compared_pairs
from benchsuite.results.stored import StoredScenario
from benchsuite.specs.claim_metrics import CLAIM_METRICS, TIME_METRICS
from benchsuite.specs.claims import ClaimSpec
from benchsuite.specs.scenario import ScenarioSpec

__all__ = ["PairEffect", "PairVerdict", "Verdict", "claim_verdicts", "decide", "judge"]


@dataclass(frozen=True)
class PairEffect:
    """One case against its reference on one metric, on the oriented scale of :mod:`benchsuite.analysis.effects`.

    Attributes:
        case_id, against_id: the compared cases.
        scale: ``ratio`` (``shift`` is a log ratio) or ``difference``.
        shift: estimate and interval, above 0 when the case is better.
        p_value: one-sided p-value of the claim's hypothesis for this pair (Holm orders pairs by it).
        level: the significance level the pair was judged at (Holm).
        n, n_against: runs (or block pairs) on each side; n_missed, n_missed_against: runs that missed the target.
        source: ``runs`` or ``paired blocks``.
        missing: why the pair has nothing to compare (:func:`benchsuite.analysis.missing.why_not_compared`), or
            None; such an effect has no estimate and no interval (NaN bounds).
    """

    case_id: str
    against_id: str
    scale: str
    shift: effects.Shift
    p_value: float
    level: float
    n: int
    n_against: int
    n_missed: int = 0
    n_missed_against: int = 0
    source: str = "runs"
    missing: str | None = None

    def _show(self, value: float) -> float:
        return math.exp(value) if self.scale == "ratio" else value

    @property
    def estimate(self) -> float | None:
        """The effect (a ratio such as a speedup, or a difference), or None when half or more of a side missed the
        target (a ratio of medians would then compare misses; :func:`benchsuite.analysis.contrast.half_missed`), or
        when there is nothing to compare."""
        if self.missing is not None or half_missed(self.n, self.n_missed, self.n_against, self.n_missed_against):
            return None
        return self._show(self.shift.estimate)

    @property
    def low(self) -> float:
        """Lower bound of the interval, as a ratio or a difference (0 or -inf when unbounded; NaN when nothing was
        compared)."""
        return math.nan if self.missing is not None else self._show(self.shift.low)

    @property
    def high(self) -> float:
        """Upper bound of the interval, as a ratio or a difference (inf when unbounded; NaN when nothing was
        compared)."""
        return math.nan if self.missing is not None else self._show(self.shift.high)


@dataclass(frozen=True)
class PairVerdict:
    """A pair's effect, its verdict (one of :data:`benchsuite.analysis.decisions.VERDICTS`) and, for judged time
    claims, the steps and step-time halves."""

    effect: PairEffect
    verdict: str
    reversed: bool = False
    steps: PairEffect | None = None
    step_time: PairEffect | None = None
    unstable_runs: int = 0

    @property
    def reason(self) -> str | None:
        """Why the pair was not judged (``no run reached the target (val_accuracy ≥ 0.9) within 0.52 s``), or None."""
        return self.effect.missing if self.verdict == NOT_JUDGED else None


@dataclass(frozen=True)
class Verdict:
    """Whether a claim held on this hardware, with every pair behind it."""

    claim: ClaimSpec
    verdict: str
    pairs: tuple[PairVerdict, ...]

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
    def note(self) -> str | None:
        """``1 of 2 pairs not judged`` beside the verdict of a claim decided by some of its pairs, else None."""
        if self.verdict == NOT_JUDGED or not self.n_not_judged:
            return None
        return f"{self.n_not_judged} of {len(self.pairs)} pair{'s' if len(self.pairs) > 1 else ''} not judged"

    @property
    def unstable_runs(self) -> int:
        """Compared runs flagged unstable (their step time drifted), for time claims."""
        return sum(p.unstable_runs for p in self.pairs)


@dataclass(frozen=True)
class _Design:
    """How a claim's pairs are analysed: from block-timed pairs, from runs paired by seed, or as two samples."""

    use_blocks: bool
    by_seed: bool


def _design(claim: ClaimSpec, pairs: list[ComparedPair], blocked: bool) -> _Design:
    """Runs pair by seed when the session ran them in blocks of seeds (seed-major or random order), every pair has
    the same seeds on both sides, and there are enough of them for a bounded signed-rank interval at the strictest
    Holm level (α/m); otherwise the two samples are compared (rank-sum). Chosen from the design, never the data
    (:func:`benchsuite.analysis.contrast.by_seed`)."""
    strictest = interval_confidence(claim, effects.ALPHA / len(pairs))
    paired = all(by_seed(p.seeds(), blocked, strictest) for p in pairs)
    return _Design(use_blocks=claim.metric == "step_time_s", by_seed=paired)


def _effect(
    claim: ClaimSpec, pair: ComparedPair, metric: str, level: float, design: _Design, confidence: float | None = None
) -> PairEffect:
    """The effect of one pair on ``metric``, judged at Holm ``level``; its interval at ``confidence`` (default: the
    level's, see :func:`_confidence`)."""
    case_id, against_id = pair.ids
    confidence = interval_confidence(claim, level) if confidence is None else confidence
    if design.use_blocks and pair.blocks is not None:
        shift = effects.paired_shift_interval(pair.blocks, confidence)
        return PairEffect(
            case_id,
            against_id,
            "ratio",
            shift,
            p_value_paired(claim, pair.blocks),
            level,
            len(pair.blocks),
            len(pair.blocks),
            source="paired blocks",
        )
    x, y = (_values(g, metric, claim.better) for g in (pair.case, pair.reference))
    runs = contrast(x, y, paired=design.by_seed, confidence=confidence)
    source = "runs paired by seed" if runs.paired else "runs"
    missing = why_not_compared(pair.case, pair.reference, CLAIM_METRICS[metric], runs)
    return PairEffect(
        case_id,
        against_id,
        CLAIM_METRICS[metric].scale,
        runs.shift,
        _p_value_runs(claim, runs),
        level,
        runs.n,
        runs.n_against,
        runs.n_missed,
        runs.n_missed_against,
        source=source,
        missing=missing,
    )


def _p_value_runs(claim: ClaimSpec, runs: Contrast) -> float:
    """The pair's one-sided p-value from its runs (1 when a side has no value: no evidence)."""
    if runs.empty:
        return 1.0
    return p_value_paired(claim, runs.differences) if runs.paired else p_value(claim, runs.x, runs.y)


def _values(group: pd.DataFrame, metric: str, better: str) -> np.ndarray:
    """Oriented values of ``metric`` (runs that did not finish left out: :func:`benchsuite.analysis.contrast.
    oriented_column`), in seed order (so two cases' arrays pair by seed)."""
    info = CLAIM_METRICS[metric]
    return oriented_column(
        group.sort_values("seed"), info.column, scale=info.scale, censored=info.censored, better=better
    )


def _unstable(pair: ComparedPair) -> int:
    flags = pd.concat([pair.case, pair.reference]).get("unstable")
    return 0 if flags is None else int(flags.fillna(False).astype(bool).sum())


def judge(runs: pd.DataFrame, claim: ClaimSpec, blocks: pd.DataFrame | None = None, blocked: bool = True) -> Verdict:
    """The verdict of ``claim`` on one scenario's ``runs`` (and its paired step-timing ``blocks``); ``blocked``: the
    runs were ordered in blocks of seeds, so they may pair by seed. Pairs with nothing to compare are not judged and
    take no part in the Holm correction of the others (:mod:`benchsuite.analysis.decisions`)."""
    pairs = compared_pairs(runs, claim, blocks)
    if not pairs:
        return Verdict(claim, NOT_RUN, ())
    design = _design(claim, pairs, blocked)
    first = [_effect(claim, p, claim.metric, effects.ALPHA, design) for p in pairs]
    judged = [i for i, e in enumerate(first) if e.missing is None]
    levels = dict(zip(judged, effects.holm_levels([first[i].p_value for i in judged]), strict=True))
    verdicts = [
        _pair_verdict(claim, pair, levels[i], design) if i in levels else PairVerdict(first[i], NOT_JUDGED)
        for i, pair in enumerate(pairs)
    ]
    return Verdict(claim, combine([v.verdict for v in verdicts]), tuple(verdicts))


def _pair_verdict(claim: ClaimSpec, pair: ComparedPair, level: float, design: _Design) -> PairVerdict:
    """A judged pair at its Holm ``level``: its effect, verdict, time halves and unstable runs."""
    effect = _effect(claim, pair, claim.metric, level, design)
    verdict, reversed_ = decide(claim, effect.shift)
    halves = _halves(claim, pair, level, design) if claim.metric in TIME_METRICS else (None, None)
    timed = (
        claim.metric in (*TIME_METRICS, "step_time_s", "throughput_samples_per_s") and effect.source != "paired blocks"
    )
    return PairVerdict(effect, verdict, reversed_, *halves, _unstable(pair) if timed else 0)


def _halves(claim: ClaimSpec, pair: ComparedPair, level: float, design: _Design) -> tuple[PairEffect, PairEffect]:
    """Steps-to-target and seconds-per-step effects of a time-to-target pair, oriented like the claim, analysed
    like it (seconds per step from the paired blocks when the pair was block-timed)."""
    half = claim.model_copy(update={"metric": "steps_to_target", "kind": "better", "margin": None})
    confidence = interval_confidence(claim, level)  # the halves' intervals match the claim's own
    steps = _effect(half, pair, "steps_to_target", level, _Design(False, design.by_seed), confidence)
    step_time = _effect(half, pair, "step_time_s", level, _Design(True, design.by_seed), confidence)
    return steps, step_time


def claim_verdicts(
    runs: pd.DataFrame, spec: StoredScenario | ScenarioSpec, blocks: pd.DataFrame | None = None, blocked: bool = True
) -> list[Verdict]:
    """Judge each of ``spec``'s claims on this scenario's runs and paired step-timing blocks (``blocked``: the
    session ran its runs in blocks of seeds; see :func:`benchsuite.results.frames.run_order`)."""
    mine = runs[runs["scenario"] == spec.name]
    own = None if blocks is None or blocks.empty else blocks[blocks["scenario"] == spec.name]
    return [judge(mine, claim, own, blocked) for claim in spec.claims]
