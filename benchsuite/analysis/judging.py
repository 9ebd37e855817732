"""One look at a claim: every compared pair's effect with its interval at the look's levels, Holm's step-down over
the refutations, each pair's verdict, and the claim's (the pairs' values: :mod:`benchsuite.analysis.samples`).

For each pair (a selected case against its reference, sharing every other axis) the effect is the ratio (time,
steps, rates; log scale) or the difference (validation metrics) in the claim's direction, by the one comparison rule
(:mod:`benchsuite.analysis.contrast`): runs paired by seed when the design pairs them (:class:`Design`), else the two
samples; claims on ``step_time_s`` from the scenario's step-timing quadruples when it has them
(:mod:`benchsuite.analysis.pairing`). Misses are censored where they were cut off (``timed_s``, ``steps``).

Levels (:mod:`benchsuite.analysis.decisions`): each pair's lower (holding) bound is at the look's one-sided level for
the claim's whole error, with no correction: "held" needs every pair held, an intersection-union test (Berger 1982).
Its upper (refuting) bound is Holm-corrected: "refuted" needs one refuted pair, a union (Holm 1979). The pairs in
order of their refutation p-values, ties by the estimate then the case id; the j-th of m judged at the look's level
for α/(m-j+1), stopping at the first not refuted, whose level the rest keep. A look's level for an error α is
``tail_of(α)`` (:func:`benchsuite.analysis.looks.spent_tails`: α spent over the looks). A pair with nothing to
compare is "not judged", with the reason, and takes no part in the correction.

Time-to-target claims are split into their two halves: steps-to-target (the algorithm's part) and seconds per step
(the hardware's part; from step-timing quadruples when the scenario times them), at the pair's levels. Sources:
Hodges & Lehmann 1963; Hollander, Wolfe & Chicken 2014; Holm 1979; Berger 1982; MLPerf Training rules (convergence
judged in epochs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from benchsuite.analysis import ranks
from benchsuite.analysis.decisions import NOT_JUDGED, combine, decide, one_sided_alpha, refute_p_value, strength
from benchsuite.analysis.pair_verdicts import PairVerdict
from benchsuite.analysis.samples import PairSamples, Sample
from benchsuite.specs.claims import ClaimSpec

TailOf = Callable[[float], float]
"""A look's one-sided level for a family-wise one-sided error α (the look's share of α)."""


def holm_levels(claim: ClaimSpec, samples: list[Sample], tail_of: TailOf) -> dict[int, float]:
    """Index of each judged sample → the one-sided level of its refuting bound under Holm's step-down with a stop
    (the module docstring): in order of refutation p-value, then estimate, then case and reference id."""
    alpha = one_sided_alpha(claim)
    judged = [i for i, s in enumerate(samples) if s.ranked is not None]
    keys = {}
    for i in judged:
        ranked, s = samples[i].ranked, samples[i]
        estimate = ranked.estimate()
        lean = -abs(estimate) if claim.kind == "equivalent" else estimate  # the most refuted-looking first
        keys[i] = (refute_p_value(claim, ranked), lean, s.case_id, s.against_id)
    order = sorted(judged, key=lambda i: keys[i])
    levels: dict[int, float] = {}
    for rank, i in enumerate(order):
        level = tail_of(alpha / (len(order) - rank))
        if keys[i][0] > level + ranks.TOLERANCE:  # not refuted: the step-down stops here
            levels.update({j: level for j in order[rank:]})
            break
        levels[i] = level
    return levels


def judge_samples(claim: ClaimSpec, pairs: list[PairSamples], tail_of: TailOf) -> tuple[str, tuple[PairVerdict, ...]]:
    """The claim's verdict at one look and each pair's (:mod:`benchsuite.analysis.decisions`), from the pairs'
    samples and the look's levels ``tail_of``."""
    held_tail = tail_of(one_sided_alpha(claim))
    levels = holm_levels(claim, [p.main for p in pairs], tail_of)
    verdicts = []
    for i, p in enumerate(pairs):
        if i not in levels:
            verdicts.append(PairVerdict(p.main.effect(claim, (held_tail, held_tail)), NOT_JUDGED))
            continue
        verdicts.append(_judged(claim, p, held_tail, levels[i]))
    return combine([v.verdict for v in verdicts]), tuple(verdicts)


def _judged(claim: ClaimSpec, p: PairSamples, held_tail: float, refute_tail: float) -> PairVerdict:
    """A judged pair: holding bound at ``held_tail``, refuting bound at ``refute_tail`` (for an equivalence claim,
    whose two bounds both hold and both refute, the interval at ``held_tail`` and the refutation at
    ``refute_tail``)."""
    equivalent = claim.kind == "equivalent"
    tails = (held_tail, held_tail) if equivalent else (held_tail, refute_tail)
    effect = p.main.effect(claim, tails)
    if equivalent:
        effect = replace(effect, level=refute_tail)
    refuting = p.main.ranked.shift((refute_tail, refute_tail)) if equivalent else None
    verdict, reversed_ = decide(claim, effect.shift, refuting)
    half = claim.model_copy(update={"metric": "steps_to_target", "kind": "better", "margin": None})
    steps, step_time = (s.effect(half, tails) if s is not None else None for s in (p.steps, p.step_time))
    return PairVerdict(
        effect, verdict, reversed_, steps, step_time, p.unstable_runs, strength(claim, effect.shift, verdict)
    )
