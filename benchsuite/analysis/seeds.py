"""Seeds from the right spread: how many seeds a scenario's first look (n₀) needs for its claims, from the spread
of a results file's runs (Kalibera & Jones 2013, "Rigorous benchmarking in reasonable time": size the repetitions
from the variation measured at the level where it arises, here the seeds, and spend them where a verdict needs
them).

For each pair a claim compares from runs (a ``step_time_s`` claim on a block-timed pair is judged from its paired
blocks, which seeds never change), on the verdicts' comparison scale (log for ratio metrics, oriented so that
larger is better, misses of the target censored at what they trained: :mod:`benchsuite.analysis.contrast`):

- d, the per-seed differences case − reference of the claim's metric (runs paired by seed; where they do not pair,
  the two samples, whose difference spreads as s = √(s²_case + s²_reference));
- s, their standard deviation, and the estimate (the Hodges-Lehmann estimate the verdicts use);
- δ, the distance of the estimate to the nearest threshold of the claim: no effect (a ratio of 1, or 0) and r*
  (:attr:`ClaimSpec.required_effect`) for ``better`` claims, -M for ``no_worse``, ±M for ``equivalent``;
- z, the normal quantile of the pair's interval at the claim's strictest Holm level α/m for m pairs (two-sided
  1 - α/m for better claims, 1 - 2α/m for the one-sided bounds of no_worse and equivalent ones);
- n = ⌈(z·s/δ)²⌉: the seeds for which the interval's half-width z·s/√n falls below δ, so that the interval clears
  every threshold and the verdict no longer moves when the next session's estimate moves by its own error;
- the floor: the smallest n whose exact signed-rank interval at that level is bounded
  (:func:`benchsuite.analysis.effects.paired_bounded`; 6 for a claim of one pair at 95 %), below which the runs are
  not compared pair by pair at all.

A claim needs the largest n of its pairs, or the smallest of a pair that already refutes it on its own (a claim is
the conjunction of its pairs); a pair whose misses decide it by rank (every difference infinite, or half a side
missed) needs the floor. A scenario needs the largest n of its claims and never fewer than the floor. A claim whose
n exceeds ``reach`` seeds (default: the seeds of every look of its top-ups, 3·n₀) is *beyond reach*: its estimate
lies too close to a threshold for seeds to settle it in reasonable time; it is said, and it does not drive the
suggestion (the top-ups, or a sharper claim, are its remedy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from benchsuite.analysis import effects
from benchsuite.analysis.contrast import oriented_column
from benchsuite.analysis.decisions import interval_confidence, margin_bound
from benchsuite.analysis.pairing import ComparedPair, common_seeds, compared_pairs
from benchsuite.results import frames
from benchsuite.results.stored import StoredScenario
from benchsuite.specs.claim_metrics import CLAIM_METRICS
from benchsuite.specs.claims import ClaimSpec


@dataclass(frozen=True)
class PairSeeds:
    """What one compared pair needs.

    Attributes:
        case_id, against_id: the pair.
        n: seeds (per case) the pair ran with.
        paired: whether the spread is of differences paired by seed (else of two samples).
        spread: s, the standard deviation of the differences on the comparison scale (NaN when not measured).
        estimate: the Hodges-Lehmann estimate on that scale (±inf when misses decide it).
        threshold: the nearest threshold on that scale; distance: δ, the estimate's distance to it.
        confidence: the two-sided level of the pair's interval (the claim's strictest Holm level).
        needed: n = ⌈(z·s/δ)²⌉ (None when misses decide by rank; ``math.inf`` when δ is 0).
        refutes: whether the estimate lies where a clear interval refutes the claim (its pair alone decides it).
    """

    case_id: str
    against_id: str
    n: int
    paired: bool
    spread: float
    estimate: float
    threshold: float
    distance: float
    confidence: float
    needed: int | float | None
    refutes: bool


@dataclass(frozen=True)
class ClaimSeeds:
    """What one claim needs: its pairs, the seeds they call for and why, in words."""

    claim: ClaimSpec
    pairs: tuple[PairSeeds, ...]
    needed: int | float | None
    beyond_reach: bool
    why: str


@dataclass(frozen=True)
class ScenarioSeeds:
    """One scenario's n₀ now, the n₀ its claims call for, and why.

    Attributes:
        scenario: its name.
        current: n₀, the seeds of its first look.
        suggested: the seeds its claims call for (the floor at least; ``current`` when no claim is judged from runs).
        floor: the smallest n with a bounded signed-rank interval for its strictest claim.
        claims: each claim's need.
        why: the reason, in words.
    """

    scenario: str
    current: int
    suggested: int
    floor: int
    claims: tuple[ClaimSeeds, ...]
    why: str

    @property
    def more(self) -> bool:
        """Whether the claims call for more seeds than the first look has."""
        return self.suggested > self.current


def signed_rank_floor(confidence: float) -> int:
    """The smallest number of pairs whose exact signed-rank interval at ``confidence`` is bounded (2/2ⁿ ≤ 1 -
    confidence: 6 at 95 %, 8 at 98.75 %)."""
    n = 1
    while not effects.paired_bounded(n, confidence):
        n += 1
    return n


def suggest_seeds(data: dict, reach: float = 3.0) -> list[ScenarioSeeds]:
    """Per scenario of a results file (as :func:`benchsuite.results.files.read_results` returns it), the n₀ its
    claims need from the spread of its runs (see the module docstring); scenarios without claims are left out.

    Args:
        data: the results.
        reach: a claim needing more than ``reach`` × n₀ seeds is beyond reach and does not drive the suggestion.
    """
    runs, blocks = frames.runs_frame(data), frames.blocks_frame(data)
    blocked = frames.blocked_by_seed(data)
    out = []
    for name, spec in frames.scenario_specs(data).items():
        if spec.claims:
            mine = runs[runs["scenario"] == name] if not runs.empty else runs
            own = blocks[blocks["scenario"] == name] if not blocks.empty else None
            out.append(_scenario(spec, mine, own, blocked, reach))
    return out


def _scenario(
    spec: StoredScenario, runs: pd.DataFrame, blocks: pd.DataFrame | None, blocked: bool, reach: float
) -> ScenarioSeeds:
    current = len(spec.seeds)
    claims = tuple(_claim(claim, runs, blocks, blocked, reach * current) for claim in spec.claims)
    judged = [c for c in claims if c.pairs]
    floor = max((_floor(c.claim, len(c.pairs)) for c in judged), default=1)
    driving = [c for c in judged if not c.beyond_reach and c.needed is not None]
    if not judged:
        return ScenarioSeeds(spec.name, current, current, floor, claims, "no claim is judged from runs here")
    suggested = max([floor, *(math.ceil(c.needed) for c in driving)])
    lead = max(driving, key=lambda c: c.needed, default=None)
    if lead is not None and lead.needed >= floor:
        why = f"{_short(lead.claim.says)}: {lead.why}"
    else:
        why = f"the floor: {floor} seeds give the strictest claim a bounded signed-rank interval"
    beyond = [c for c in judged if c.beyond_reach]
    if beyond:
        why += "; beyond reach: " + "; ".join(f"{_short(c.claim.says)} ({c.why})" for c in beyond)
    return ScenarioSeeds(spec.name, current, suggested, floor, claims, why)


def _floor(claim: ClaimSpec, m: int) -> int:
    return signed_rank_floor(interval_confidence(claim, effects.ALPHA / max(m, 1)))


def _claim(
    claim: ClaimSpec, runs: pd.DataFrame, blocks: pd.DataFrame | None, blocked: bool, reach: float
) -> ClaimSeeds:
    compared = [] if runs.empty else compared_pairs(runs, claim, blocks)
    from_runs = [p for p in compared if not (claim.metric == "step_time_s" and p.blocks is not None)]
    if not from_runs:
        why = "judged from paired step-timing blocks" if compared else "no compared pair ran"
        return ClaimSeeds(claim, (), None, False, why)
    confidence = interval_confidence(claim, effects.ALPHA / len(compared))
    pairs = tuple(_pair(claim, p, blocked, confidence) for p in from_runs)
    floor = signed_rank_floor(confidence)
    needs = [p.needed if p.needed is not None else floor for p in pairs]
    refuting = [need for p, need in zip(pairs, needs, strict=True) if p.refutes]
    needed = min(refuting) if refuting else max(needs)
    lead = pairs[needs.index(needed)]
    return ClaimSeeds(claim, pairs, needed, needed > reach, _pair_words(claim, lead, needed, floor))


def _pair(claim: ClaimSpec, pair: ComparedPair, blocked: bool, confidence: float) -> PairSeeds:
    metric = CLAIM_METRICS[claim.metric]
    x, y = (
        oriented_column(
            g.sort_values("seed"), metric.column, scale=metric.scale, censored=metric.censored, better=claim.better
        )
        for g in (pair.case, pair.reference)
    )
    case_id, against_id = pair.ids
    paired = blocked and common_seeds(pair.case, pair.reference) is not None
    if paired:
        keep = ~(np.isnan(x) | np.isnan(y))
        d = effects.paired_differences(x[keep], y[keep])
        n = len(d)
        estimate = effects.paired_shift_interval(d, confidence).estimate if n else math.nan
        finite = d[np.isfinite(d)]
        spread = float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan
    else:
        x, y = x[~np.isnan(x)], y[~np.isnan(y)]
        n = min(len(x), len(y))
        estimate = effects.hodges_lehmann(x, y) if n else math.nan
        parts = [np.var(v[np.isfinite(v)], ddof=1) for v in (x, y) if np.isfinite(v).sum() > 1]
        spread = float(math.sqrt(sum(parts))) if len(parts) == 2 else math.nan
    thresholds = _thresholds(claim)
    if math.isfinite(estimate):
        threshold = min(thresholds, key=lambda t: abs(estimate - t))
        distance = abs(estimate - threshold)
    else:
        threshold, distance = thresholds[0], math.inf
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    if not math.isfinite(distance) or not math.isfinite(spread):
        needed = None  # misses decide by rank, or too few values to measure a spread
    elif distance == 0.0:
        needed = math.inf
    else:
        needed = max(1, math.ceil((z * spread / distance) ** 2))
    return PairSeeds(
        case_id,
        against_id,
        n,
        paired,
        spread,
        estimate,
        threshold,
        distance,
        confidence,
        needed,
        _refutes(claim, estimate),
    )


def _thresholds(claim: ClaimSpec) -> tuple[float, ...]:
    """The claim's thresholds on the oriented comparison scale (see the module docstring)."""
    if claim.kind == "no_worse":
        return (-margin_bound(claim),)
    if claim.kind == "equivalent":
        return (-margin_bound(claim), margin_bound(claim))
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    return (0.0, math.log(claim.required_effect) if ratio else claim.required_effect)


def _refutes(claim: ClaimSpec, estimate: float) -> bool:
    """Whether an interval around ``estimate`` that clears every threshold refutes the claim."""
    if math.isnan(estimate):
        return False
    if claim.kind == "no_worse":
        return estimate < -margin_bound(claim)
    if claim.kind == "equivalent":
        return abs(estimate) > margin_bound(claim)
    return estimate < 0.0


def _pair_words(claim: ClaimSpec, pair: PairSeeds, needed: float, floor: int) -> str:
    """Why the claim needs ``needed`` seeds, from the pair that decides it, in the metric's words."""
    ratio = CLAIM_METRICS[claim.metric].scale == "ratio"
    where = f"{pair.case_id} vs {pair.against_id}"
    if pair.needed is None:
        return f"{where}: misses of the target decide by rank, so the floor ({floor})"
    show = (lambda v: f"{math.exp(v):.3g}x") if ratio else (lambda v: f"{v:+.3g}")
    spread = f"sd {pair.spread:.3g} of the {'log ' if ratio else ''}per-seed differences"
    spread += "" if pair.paired else " (two samples)"
    level = f"{100 * pair.confidence:.4g} %"
    count = "∞" if math.isinf(needed) else f"{math.ceil(needed)}"
    return (
        f"{where}: {spread}, estimate {show(pair.estimate)} at {pair.distance:.3g} from the threshold "
        f"{show(pair.threshold)}; a {level} interval clears it with n = {count} (n now {pair.n})"
    )


def _short(says: str, width: int = 60) -> str:
    return says if len(says) <= width else says[: width - 1].rstrip() + "…"
