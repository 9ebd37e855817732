"""A compared pair's values, ready to be judged at any level: :class:`Sample` (one metric: the rank statistic of the
pair's runs, paired by seed or as two samples, or of its step-timing quadruples; its counts; why there is nothing to
compare) and :class:`PairSamples` (the claim's metric and, for time-to-target, its steps and step-time halves).

Values come by the one comparison rule (:mod:`benchsuite.analysis.contrast`): oriented, finished runs only, misses
censored where they were cut off (:data:`benchsuite.analysis.contrast.CENSORED_AT`). A sample keeps the seed of
each value, so that the leave-one-seed-out check of :mod:`benchsuite.analysis.verdicts` re-judges it from arrays
(:meth:`Sample.without`), and :func:`restricted` keeps the runs of one look's seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from benchsuite.analysis import effects
from benchsuite.analysis.contrast import CENSORED_AT, Contrast, contrast, oriented_bounds
from benchsuite.analysis.decisions import hold_p_value, refute_p_value
from benchsuite.analysis.missing import reached_within, why_not_compared
from benchsuite.analysis.pair_verdicts import PairEffect
from benchsuite.analysis.pairing import ComparedPair
from benchsuite.specs.claim_metrics import CLAIM_METRICS, TIME_METRICS
from benchsuite.specs.claims import ClaimSpec

LEFT_OUT = "nothing to compare once a seed is left out"
"""Why a sample re-judged without one seed has nothing to compare (the leave-one-out check only reads the verdict)."""


@dataclass(frozen=True)
class Design:
    """How a claim's pairs are analysed: ``use_blocks``, from step-timing quadruples where a pair has them (claims on
    step time); ``by_seed``, runs paired by seed (else two samples). Chosen from the design, never the data."""

    use_blocks: bool
    by_seed: bool


@dataclass(frozen=True)
class Sample:
    """One pair's values on one metric: the rank statistic and its counts, and the values it came from.

    Attributes:
        ranked: the rank statistic (:class:`benchsuite.analysis.effects.Ranked`), None when nothing is compared.
        missing: why nothing is compared, or None.
        never_reached, censored_side: ``0/12 reached within 0.52 s`` and ``case`` or ``against`` when one side
            never reached the target (the effect is then a bound only).
        x, y: the oriented values compared (paired: in seed order), ``x_seeds``, ``y_seeds`` their seeds; for step
            timing ``x`` holds the quadruples' log ratios and ``y`` is None.
    """

    case_id: str
    against_id: str
    scale: str
    source: str
    ranked: effects.Ranked | None
    n: int
    n_against: int
    n_missed: int = 0
    n_missed_against: int = 0
    missing: str | None = None
    never_reached: str | None = None
    censored_side: str | None = None
    x: effects.Bounds | None = None
    y: effects.Bounds | None = None
    x_seeds: np.ndarray | None = None
    y_seeds: np.ndarray | None = None

    def effect(self, claim: ClaimSpec, tails: tuple[float, float]) -> PairEffect:
        """The pair's effect with its interval at one-sided errors ``tails`` (holding bound, refuting bound)."""
        if self.ranked is None:
            shift = effects.Shift(math.nan, -math.inf, math.inf, 1.0 - sum(tails), "no values", tuple(tails))
            p_hold = p_refute = 1.0
        else:
            shift = self.ranked.shift(tails)
            p_hold, p_refute = hold_p_value(claim, self.ranked), refute_p_value(claim, self.ranked)
        counts = (self.n, self.n_against, self.n_missed, self.n_missed_against)
        return PairEffect(
            self.case_id,
            self.against_id,
            self.scale,
            shift,
            p_hold,
            tails[1],
            *counts,
            source=self.source,
            missing=self.missing,
            never_reached=self.never_reached,
            censored_side=self.censored_side,
            p_refute=p_refute,
        )

    def without(self, seed: int | None = None, quadruple: int | None = None) -> Sample:
        """This sample with the values of ``seed`` (runs) or the ``quadruple``-th quadruple (step timing) left out,
        its counts and rank statistic recomputed; unchanged when it holds neither."""
        if self.x is None:
            return self
        if self.source == "paired blocks":
            if quadruple is None or quadruple >= len(self.x.lo):
                return self
            d = np.delete(self.x.lo, quadruple)
            return replace(self, ranked=effects.paired(d) if len(d) else None, n=len(d), n_against=len(d), x=None)
        if seed is None or (seed not in self.x_seeds and seed not in self.y_seeds):
            return self
        kx, ky = self.x_seeds != seed, self.y_seeds != seed
        x, y = (effects.Bounds(v.lo[k], v.hi[k]) for v, k in ((self.x, kx), (self.y, ky)))
        runs = contrast(x, y, paired=self.source == "runs paired by seed", tails=(0.025, 0.025))
        ranked = runs.ranked if runs.comparable else None
        counts = {"n": runs.n, "n_against": runs.n_against}
        missed = {"n_missed": runs.n_missed, "n_missed_against": runs.n_missed_against}
        return replace(self, ranked=ranked, missing=None if ranked else LEFT_OUT, x=None, **counts, **missed)


def _values(group: pd.DataFrame, metric: str, better: str) -> tuple[effects.Bounds, np.ndarray]:
    """Oriented values of ``metric`` in seed order (so two cases' arrays pair by seed), misses censored where they
    were cut off (:func:`benchsuite.analysis.contrast.oriented_bounds`), and their seeds."""
    info = CLAIM_METRICS[metric]
    ordered = group.sort_values("seed", kind="stable")
    values = oriented_bounds(
        ordered,
        info.column,
        scale=info.scale,
        censored=info.censored,
        better=better,
        censored_at=CENSORED_AT.get(info.column),
    )
    return values, ordered["seed"].to_numpy()


def _blocks_sample(pair: ComparedPair) -> Sample:
    case_id, against_id = pair.ids
    n = len(pair.blocks)
    ranked = effects.paired(pair.blocks) if n else None
    missing = None if n else "no quadruple of step-timing blocks was timed whole"
    x = effects.Bounds(pair.blocks, pair.blocks)
    return Sample(case_id, against_id, "ratio", "paired blocks", ranked, n, n, missing=missing, x=x)


def _kept(x: effects.Bounds, y: effects.Bounds, xs: np.ndarray, ys: np.ndarray, paired: bool):
    """The measured values (NaN left out, with their pair when ``paired``) and their seeds."""
    if paired:
        common = np.intersect1d(xs, ys)
        ix, iy = np.searchsorted(xs, common), np.searchsorted(ys, common)
        keep = ~(np.isnan(x.lo[ix]) | np.isnan(y.lo[iy]))
        ix, iy = ix[keep], iy[keep]
    else:
        ix, iy = np.nonzero(~np.isnan(x.lo))[0], np.nonzero(~np.isnan(y.lo))[0]
    return effects.Bounds(x.lo[ix], x.hi[ix]), effects.Bounds(y.lo[iy], y.hi[iy]), xs[ix], ys[iy]


def sample(claim: ClaimSpec, pair: ComparedPair, metric: str, design: Design) -> Sample:
    """One pair's values on ``metric`` (oriented like ``claim``) as :class:`Sample`: from its step-timing quadruples
    when ``design.use_blocks`` and it has them, else from its runs (paired by seed when ``design.by_seed``)."""
    if design.use_blocks and pair.blocks is not None:
        return _blocks_sample(pair)
    case_id, against_id = pair.ids
    (x, xs), (y, ys) = (_values(g, metric, claim.better) for g in (pair.case, pair.reference))
    x, y, xs, ys = _kept(x, y, xs, ys, design.by_seed)
    runs = contrast(x, y, paired=design.by_seed, tails=(0.025, 0.025))
    info = CLAIM_METRICS[metric]
    missing = why_not_compared(pair.case, pair.reference, info, runs)
    side = _never_reached_side(runs) if missing is None else None
    never = reached_within(pair.case if side == "case" else pair.reference, info) if side else None
    counts = (runs.n, runs.n_against, runs.n_missed, runs.n_missed_against)
    source = "runs paired by seed" if runs.paired else "runs"
    ranked = runs.ranked if missing is None else None
    return Sample(case_id, against_id, info.scale, source, ranked, *counts, missing, never, side, x, y, xs, ys)


def _never_reached_side(runs: Contrast) -> str | None:
    """Which side of a comparable contrast never reached the target (every value censored), or None."""
    if runs.n_missed == runs.n:
        return "case"
    if runs.n_missed_against == runs.n_against:
        return "against"
    return None


@dataclass(frozen=True)
class PairSamples:
    """A pair's samples on the claim's metric and, for time claims, on its steps and step-time halves."""

    main: Sample
    steps: Sample | None = None
    step_time: Sample | None = None
    unstable_runs: int = 0

    def without(self, seed: int | None = None, quadruple: int | None = None) -> PairSamples:
        """The pair with one seed's values (or one quadruple) left out: :meth:`Sample.without`."""
        steps, step_time = (s.without(seed, quadruple) if s else None for s in (self.steps, self.step_time))
        return PairSamples(self.main.without(seed, quadruple), steps, step_time, self.unstable_runs)


def _unstable(pair: ComparedPair) -> int:
    flags = pd.concat([pair.case, pair.reference]).get("unstable")
    return 0 if flags is None else int(flags.fillna(False).astype(bool).sum())


def pair_samples(claim: ClaimSpec, pair: ComparedPair, design: Design) -> PairSamples:
    """The samples of one pair for ``claim``: its metric, and the halves of a time-to-target claim."""
    main = sample(claim, pair, claim.metric, design)
    steps = step_time = None
    if claim.metric in TIME_METRICS and main.missing is None:
        half = claim.model_copy(update={"metric": "steps_to_target", "kind": "better", "margin": None})
        steps = sample(half, pair, "steps_to_target", Design(False, design.by_seed))
        step_time = sample(half, pair, "step_time_s", Design(True, design.by_seed))
    timed = claim.metric in (*TIME_METRICS, "step_time_s", "throughput_samples_per_s")
    return PairSamples(main, steps, step_time, _unstable(pair) if timed and main.source != "paired blocks" else 0)


def restricted(pair: ComparedPair, seeds) -> ComparedPair:
    """``pair`` with only the runs of ``seeds`` on both sides (its step-timing quadruples kept)."""
    keep = np.asarray(sorted(seeds))
    case, reference = (g[g["seed"].isin(keep)] for g in (pair.case, pair.reference))
    return ComparedPair(case, reference, pair.blocks)
