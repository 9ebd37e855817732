"""Looks: a claim judged group-sequentially, on more seeds each time, until a look decides it.

A scenario's ``seeds`` are its first look (n₀ per case); a claim that look leaves inconclusive gets more seeds for its
cases, n₀ more per look, up to ``top_up.looks`` looks (:class:`benchsuite.specs.sequential.TopUpSpec`; the session
runs them, :mod:`benchsuite.top_ups`). Here:

- Look j uses only the runs whose seed is among ``top_up.look_seeds(seeds, j)``, paired by seed within the look. It
  exists when both sides of every pair of the claim have all of those seeds (runs that did not finish count: they
  ran, and are left out of the comparison as always).
- A look cut short (the top-up budget ran out partway) is judged as a look with the seeds every side has, at its
  own information fraction (Lan & DeMets 1983: a look's level follows from the error spent by its share of the
  seeds, whenever it comes, so long as when it comes does not depend on the data; a budget of seconds does not). It
  says so (:attr:`Look.complete`), and a claim it leaves open is not settled.
- Each look's interval is at the error spent by that look (:func:`spent_tails`, :mod:`benchsuite.analysis.spending`):
  for 7 seeds and 3 looks, one-sided 1/128 (the Walsh averages' extremes), then 0.0123 and 0.0111; the decision
  table is :mod:`benchsuite.analysis.decisions`', the multiplicity :mod:`benchsuite.analysis.judging`'s, at each look.
- The verdict is frozen at the first look that decides it (held, smaller than claimed, refuted, not judged); at the
  last planned look an undecided claim is inconclusive "within the indifference zone" (its interval holds both no
  effect and r*), and settled: more seeds were not planned.
- Runs pair by seed when the design pairs them: the session ran blocks of seeds, every pair's sides ran the same
  seeds at look 1, and the signed-rank statistic of n₀ pairs can reach look 1's level; otherwise every look compares
  two samples. Decided once for the claim, from the design (:func:`benchsuite.analysis.contrast.by_seed`).
- Claims judged from step-timing quadruples only (``step_time_s`` on block-timed pairs) have one look at the full
  error: more seeds never change them.

Sources: Jennison & Turnbull, *Group Sequential Methods with Applications to Clinical Trials*, 2000 (repeated
confidence intervals, ch. 9); Lan & DeMets 1983 (error spending).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from benchsuite.analysis.contrast import by_seed
from benchsuite.analysis.decisions import INCONCLUSIVE, one_sided_alpha
from benchsuite.analysis.judging import judge_samples
from benchsuite.analysis.pair_verdicts import PairVerdict
from benchsuite.analysis.pairing import ComparedPair, compared_pairs
from benchsuite.analysis.samples import Design, PairSamples, pair_samples, restricted
from benchsuite.analysis.spending import look_tails
from benchsuite.results import frames
from benchsuite.specs.claims import ClaimSpec
from benchsuite.specs.sequential import TopUpSpec


def spent_tails(n0: int, looks: int, *, alpha: float = 0.025, paired: bool = True) -> tuple[float, ...]:
    """The one-sided level of each of ``looks`` planned looks of n₀, 2n₀, ... seeds per side spending ``alpha`` in all
    (:func:`benchsuite.analysis.spending.look_tails`: Pocock-type Lan-DeMets spending, each look but the last at the
    largest level its statistic attains, ``paired``: signed-rank of n pairs, else Mann-Whitney of n a side).

    >>> [round(t, 4) for t in spent_tails(7, 3)]
    [0.0078, 0.0123, 0.0111]

    Raises:
        ValueError: n₀ or ``looks`` below 1.
    """
    if n0 < 1 or looks < 1:
        raise ValueError(f"spent_tails needs n0 ≥ 1 and looks ≥ 1, got {n0} and {looks}")
    return look_tails(tuple(n0 * j for j in range(1, looks + 1)), n0 * looks, alpha, paired, True)


@dataclass(frozen=True)
class Look:
    """One look at a claim.

    Attributes:
        n: seeds per side the look judged (quadruples of block pairs, for a claim judged from step timing).
        tail: the one-sided level the look spent on each pair's holding bound (the claim's refuting bounds at
            Holm's shares of the look's spending).
        verdict: the claim's verdict at this look.
        pairs: every compared pair's verdict at this look.
        number: the look's number, 1 for the scenario's own seeds.
        planned: seeds per side the look plans (n₀ · number); ``n`` below it: the look was cut short.
    """

    n: int
    tail: float
    verdict: str
    pairs: tuple[PairVerdict, ...]
    number: int = 1
    planned: int | None = None

    @property
    def complete(self) -> bool:
        """Whether the look had every seed it plans."""
        return self.planned is None or self.n >= self.planned


@dataclass(frozen=True)
class Plan:
    """The looks a claim may take: the scenario's ``seeds`` (look 1) and its ``top_up``; ``seeds`` None: one look at
    the full error over whatever seeds ran (a claim judged without its scenario)."""

    seeds: tuple[int, ...] | None = None
    top_up: TopUpSpec = TopUpSpec(looks=1)

    @property
    def looks(self) -> int:
        return 1 if self.seeds is None else self.top_up.looks

    @classmethod
    def of(cls, spec: Any) -> Plan:
        """The plan of a stored (or loaded) scenario: its seeds and its top-up (one look without seeds)."""
        seeds = tuple(getattr(spec, "seeds", ()) or ())
        return cls(seeds or None, getattr(spec, "top_up", None) or TopUpSpec())


@dataclass(frozen=True)
class Sequence:
    """A claim's looks, with what re-judging its last look needs (the leave-one-out check of
    :mod:`benchsuite.analysis.verdicts`): the design, the last look's seeds, its levels and its pairs' samples."""

    looks: tuple[Look, ...]
    plan: Plan
    design: Design | None = None
    seeds: tuple[int, ...] = ()
    tail_of: Callable[[float], float] | None = None
    samples: tuple[PairSamples, ...] = ()

    @property
    def settled(self) -> bool:
        """Decided at some look, or undecided at the last planned one with all its seeds (or nothing to judge)."""
        if not self.looks:
            return True
        last = self.looks[-1]
        return last.verdict != INCONCLUSIVE or (last.number >= self.plan.looks and last.complete)

    @property
    def next_look(self) -> int | None:
        """The look an unsettled claim needs next (the last one again when it was cut short), or None."""
        if self.settled:
            return None
        last = self.looks[-1]
        return last.number + 1 if last.complete else last.number


def _has(pair: ComparedPair, seeds: set[int], design: Design) -> set[int]:
    """The ``seeds`` both sides of ``pair`` ran (every seed, for a pair judged from step-timing quadruples)."""
    if design.use_blocks and pair.blocks is not None:
        return seeds
    return seeds & set(pair.case["seed"]) & set(pair.reference["seed"])


def _look(
    claim: ClaimSpec, pairs: list[ComparedPair], design: Design, seeds, tail_of, **where
) -> tuple[Look, tuple[PairSamples, ...]]:
    """One look at ``seeds``: the look, and its pairs' samples."""
    samples = tuple(pair_samples(claim, restricted(p, seeds), design) for p in pairs)
    verdict, judged = judge_samples(claim, list(samples), tail_of)
    return Look(tail=tail_of(one_sided_alpha(claim)), verdict=verdict, pairs=judged, **where), samples


def _one_look(claim: ClaimSpec, pairs: list[ComparedPair], blocked: bool, plan: Plan) -> Sequence:
    """One look at the claim's full error over every seed that ran (no plan, or step-timing quadruples only)."""
    use_blocks = claim.metric == "step_time_s"
    alpha = one_sided_alpha(claim)
    paired = all(by_seed(p.seeds(), blocked, tail=alpha) for p in pairs)
    design = Design(use_blocks, paired)
    seeds = set().union(*(set(p.case["seed"]) | set(p.reference["seed"]) for p in pairs))
    blocks_only = use_blocks and all(p.blocks is not None for p in pairs)
    n = max((len(p.blocks) for p in pairs), default=0) if blocks_only else _seed_count(pairs, paired)
    look, samples = _look(claim, pairs, design, seeds, _full, n=n, number=1)
    return Sequence((look,), plan, design, tuple(sorted(seeds)), _full, samples)


def _full(alpha: float) -> float:
    """The level of a single look: the whole error."""
    return alpha


def _seed_count(pairs: list[ComparedPair], paired: bool) -> int:
    if paired:
        return max(len(p.seeds() or ()) for p in pairs)
    return max(max(len(p.case), len(p.reference)) for p in pairs)


def judge_looks(claim: ClaimSpec, pairs: list[ComparedPair], blocked: bool, plan: Plan) -> Sequence:
    """``claim``'s looks on its compared ``pairs`` (every run they have; ``blocked``: the session ran blocks of seeds)
    under ``plan``: judged look by look until one decides (see the module docstring)."""
    if not pairs:
        return Sequence((), plan)
    use_blocks = claim.metric == "step_time_s"
    single = plan.seeds is None or plan.looks == 1  # no plan, or a plan of one look: the claim's whole error at once
    if single or (use_blocks and all(p.blocks is not None for p in pairs)):
        return _one_look(claim, pairs, blocked, plan)
    probe = Design(use_blocks, False)
    available: list[tuple[int, ...]] = []
    for j in range(1, plan.looks + 1):
        wanted = set(plan.top_up.look_seeds(plan.seeds, j))
        have = set.intersection(*(_has(p, wanted, probe) for p in pairs))
        if not have or (available and len(have) <= len(available[-1])):
            break
        available.append(tuple(sorted(have)))
    if not available:  # none of the scenario's seeds ran (a file of other seeds): one look over what ran
        return _one_look(claim, pairs, blocked, plan)
    alpha, n_max, n0 = one_sided_alpha(claim), len(plan.seeds) * plan.looks, len(plan.seeds)
    first = [restricted(p, available[0]) for p in pairs]
    can_pair = look_tails((len(available[0]),), n_max, alpha, True, plan.looks == 1)[0] > 0
    same_seeds = all(by_seed(p.seeds(), blocked, tail=1.0) for p in first)  # blocked, one run per seed a side
    design = Design(use_blocks, can_pair and same_seeds)

    def samples_at(j: int) -> tuple[PairSamples, ...]:
        return tuple(pair_samples(claim, restricted(p, available[j - 1]), design) for p in pairs)

    sizes = tuple(len(s) for s in available)
    looks, samples, tail_of = sequential(claim, sizes, n0, plan.looks, design.by_seed, samples_at)
    return Sequence(looks, plan, design, available[len(looks) - 1], tail_of, samples)


def sequential(
    claim: ClaimSpec,
    sizes: tuple[int, ...],
    n0: int,
    looks: int,
    paired: bool,
    samples_at: Callable[[int], tuple[PairSamples, ...]],
) -> tuple[tuple[Look, ...], tuple[PairSamples, ...], Callable[[float], float]]:
    """Judge look j = 1, 2, ... on ``samples_at(j)`` (its pairs' samples on ``sizes[j-1]`` seeds per side; n₀ per look
    planned, ``looks`` looks, the statistic ``paired`` or two-sample) until a look decides: the looks judged, the last
    one's samples and levels. The one loop behind :func:`judge_looks` and the calibration of tests/
    test_calibration.py.

    Raises:
        ValueError: no sizes, or sizes beyond n₀ · ``looks``.
    """
    if not sizes:
        raise ValueError("sequential needs at least one look")
    judged: list[Look] = []
    for j in range(1, len(sizes) + 1):
        tail_of = _tails(sizes[:j], n0 * looks, paired, j == looks)
        samples = samples_at(j)
        verdict, pairs = judge_samples(claim, list(samples), tail_of)
        judged.append(Look(sizes[j - 1], tail_of(one_sided_alpha(claim)), verdict, pairs, j, n0 * j))
        if verdict != INCONCLUSIVE:
            break
    return tuple(judged), samples, tail_of


def _tails(sizes: tuple[int, ...], n_max: int, paired: bool, last: bool) -> Callable[[float], float]:
    """The last of ``sizes``' looks' level for any family-wise error α."""
    return lambda alpha: look_tails(sizes, n_max, alpha, paired, last)[-1]


def scenario_looks(
    runs: pd.DataFrame, spec: Any, blocks: pd.DataFrame | None = None, blocked: bool = True
) -> list[tuple[ClaimSpec, Sequence]]:
    """Each claim of the scenario ``spec`` (stored or loaded) with its looks on the runs and step-timing blocks of a
    results file (every scenario's; this one's are picked)."""
    mine = runs[runs["scenario"] == spec.name] if len(runs) else runs
    own = None if blocks is None or blocks.empty else blocks[blocks["scenario"] == spec.name]
    plan = Plan.of(spec)
    out = []
    for claim in spec.claims:
        pairs = compared_pairs(mine, claim, own) if len(mine) else []
        out.append((claim, judge_looks(claim, pairs, blocked, plan)))
    return out


def open_claims(data: dict[str, Any], scenario: str) -> list[tuple[ClaimSpec, int]]:
    """The claims of ``scenario`` that its looks so far leave unsettled, each with the next look it needs, from a
    results dict (as :func:`benchsuite.results.files.read_results` returns it, or as the session holds it).

    A claim is settled once a look decides it or its last planned look, complete, leaves it inconclusive; a claim
    with no compared pair is settled (nothing to top up). The next look is the one after the last judged, or the
    last judged again when it was cut short. Empty when the file does not hold the scenario.
    """
    specs = frames.scenario_specs(data)
    if scenario not in specs:
        return []
    runs = frames.runs_frame(data)
    judged = scenario_looks(runs, specs[scenario], frames.blocks_frame(data), frames.blocked_by_seed(data))
    return [(claim, sequence.next_look) for claim, sequence in judged if not sequence.settled]
