"""Calibration of the verdicts that settle (issue 20): how often a claim reads falsely, over all its looks, for every
(n₀, looks) the shipped scenarios use.

- Paired by seed: the exact sign-flip law of the signed-rank statistics of all looks together, by dynamic
  programming over the seeds for a given order of the differences' magnitudes (every sign pattern counted, 2^36 of
  them for 12 seeds and 3 looks), averaged over random orders (the law of continuous, exchangeable differences).
- Two samples: the permutation law of the looks' Mann-Whitney statistics, by simulation with a fixed seed.
- A naive top-up that judges every look at 95 % errs about twice as often: the check can see inflation.
- Synthetic pipelines through the analysis' own sequential loop (:func:`benchsuite.analysis.looks.sequential`: the
  looks' levels, the intervals, the decision table), with normal, t₃ and AR(1) noise (a machine that drifts over the
  session, runs in random order within each seed's round): an A/A claim reads held, and a claim whose effect is
  exactly r* reads refuted, each at most 2.5 % of the time (Monte Carlo, fixed seed).

One side suffices for the statistics (the null laws are symmetric); the pipelines check both.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchsuite.analysis import effects, ranks
from benchsuite.analysis.decisions import HELD, REFUTED, SMALLER
from benchsuite.analysis.looks import sequential, spent_tails
from benchsuite.analysis.samples import PairSamples, Sample
from benchsuite.analysis.spending import look_tails
from benchsuite.scenario.load import load_scenario
from benchsuite.specs.claims import ClaimSpec

SCENARIOS = Path(__file__).parent.parent / "scenarios"
ALPHA = 0.025


def shipped_designs() -> list[tuple[int, int]]:
    """(n₀, looks) of every shipped scenario with claims: its seeds and its top-up's looks."""
    specs = [load_scenario(path) for path in sorted(SCENARIOS.glob("*.yaml"))]
    return sorted({(len(spec.seeds), spec.top_up.looks) for spec in specs if spec.claims})


DESIGNS = shipped_designs()


def _crossing_thresholds(sizes, tails, cdf_of) -> list[int]:
    """Look j's lower bound exceeds 0 exactly when its count statistic reaches the returned value (N + 1: never)."""
    out = []
    for n, tail in zip(sizes, tails, strict=True):
        cdf = cdf_of(n)
        k = ranks.order_statistic_index(cdf, tail)
        out.append(len(cdf) - k if k >= 1 else len(cdf))
    return out


def signflip_error(sizes: tuple[int, ...], tails: tuple[float, ...], order: np.ndarray) -> float:
    """P(some look's signed-rank lower bound exceeds 0) when each seed's difference is ± its magnitude with
    probability 1/2, magnitudes ranked by ``order``: the joint law of (T+_1, ..., T+_J) by dynamic programming
    over the seeds, each look's statistic final (and its crossings dropped) once its last seed is in."""
    crossing = _crossing_thresholds(sizes, tails, ranks.signed_rank_cdf)
    within = [np.argsort(np.argsort(order[:n])) + 1 for n in sizes]  # each seed's rank within each look
    law, start = np.ones((1,) * len(sizes)), 0
    for j, n in enumerate(sizes):
        for seed in range(start, n):
            step = [int(within[look][seed]) for look in range(j, len(sizes))]
            grown = np.zeros([size + r for size, r in zip(law.shape, step, strict=True)])
            grown[tuple(slice(0, size) for size in law.shape)] += 0.5 * law
            grown[tuple(slice(r, r + size) for size, r in zip(law.shape, step, strict=True))] += 0.5 * law
            law = grown
        law = law[: crossing[j]].sum(axis=0)  # look j is final: keep the paths that have not crossed
        start = n
    return 1.0 - float(law)


def permutation_error(sizes, tails, reps: int, seed: int) -> tuple[float, float]:
    """P(some look's Mann-Whitney lower bound exceeds 0) for exchangeable samples, simulated: (estimate, its
    standard error)."""
    crossing = _crossing_thresholds(sizes, tails, lambda n: ranks.mann_whitney_cdf(n, n))
    rng, crossed = np.random.default_rng(seed), 0
    for chunk in range(0, reps, 20_000):
        m = min(20_000, reps - chunk)
        x, y = rng.random((m, sizes[-1])), rng.random((m, sizes[-1]))
        any_look = np.zeros(m, bool)
        for n, c in zip(sizes, crossing, strict=True):
            any_look |= (x[:, :n, None] > y[:, None, :n]).sum(axis=(1, 2)) >= c
        crossed += int(any_look.sum())
    p = crossed / reps
    return p, math.sqrt(p * (1 - p) / reps)


def _sizes(n0: int, looks: int) -> tuple[int, ...]:
    return tuple(n0 * j for j in range(1, looks + 1))


def test_the_shipped_scenarios_are_calibrated():
    assert DESIGNS and all(looks >= 1 for _, looks in DESIGNS)


@pytest.mark.parametrize(("n0", "looks"), DESIGNS)
def test_paired_looks_err_at_most_2_5_percent_by_exact_sign_flips(n0, looks):
    sizes, tails = _sizes(n0, looks), spent_tails(n0, looks, alpha=ALPHA, paired=True)
    rng = np.random.default_rng(n0 * 100 + looks)
    orders = 24 if n0 * looks <= 27 else 12
    errors = [signflip_error(sizes, tails, rng.permutation(sizes[-1])) for _ in range(orders)]
    mean, se = float(np.mean(errors)), float(np.std(errors, ddof=1) / math.sqrt(orders)) if orders > 1 else 0.0
    assert mean + 2 * se <= ALPHA, f"n0={n0}, looks={looks}: {mean:.5f} ± {se:.5f}"


@pytest.mark.parametrize(("n0", "looks"), DESIGNS)
def test_two_sample_looks_err_at_most_2_5_percent_by_permutation(n0, looks):
    sizes, tails = _sizes(n0, looks), spent_tails(n0, looks, alpha=ALPHA, paired=False)
    p, se = permutation_error(sizes, tails, 200_000 if n0 < 12 else 100_000, seed=n0 * 10 + looks)
    assert p + se <= ALPHA, f"n0={n0}, looks={looks}: {p:.5f} ± {se:.5f}"


def test_a_naive_top_up_at_95_percent_per_look_errs_twice_as_often():
    sizes = _sizes(7, 3)
    rng = np.random.default_rng(7)
    orders = [rng.permutation(21) for _ in range(8)]
    naive = np.mean([signflip_error(sizes, (ALPHA,) * 3, o) for o in orders])
    spent = np.mean([signflip_error(sizes, spent_tails(7, 3), o) for o in orders])
    assert naive > 0.045 and spent <= ALPHA and naive > 1.8 * spent
    p_naive, _ = permutation_error(_sizes(7, 3), (ALPHA,) * 3, 40_000, seed=5)
    p_spent, _ = permutation_error(_sizes(7, 3), spent_tails(7, 3, paired=False), 40_000, seed=5)
    assert p_naive > 0.045 and p_naive > 1.8 * p_spent


@pytest.mark.parametrize(
    ("n0", "share"),
    [(7, ALPHA / 2), (7, ALPHA / 4), (12, 0.05)],  # Holm's shares of a claim of 2 and 4 pairs; TOST's 5 % a side
)
def test_other_errors_are_spent_the_same_way(n0, share):
    sizes = _sizes(n0, 3)
    tails = look_tails(sizes, sizes[-1], share, True, True)
    rng = np.random.default_rng(int(1 / share))
    errors = [signflip_error(sizes, tails, rng.permutation(sizes[-1])) for _ in range(24)]
    assert np.mean(errors) + 2 * np.std(errors, ddof=1) / math.sqrt(24) <= share


# ---------------------------------------------------------------- synthetic pipelines through the analysis' looks

CLAIM = ClaimSpec.model_validate({"says": "x beats d", "cases": {"init": ["x"]}, "against": {"init": "d"}})
R_STAR = math.log(CLAIM.required_effect)  # 1.1×


def _noise(kind: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Log time-to-target of the case and the reference for seeds 0..n-1, with no effect."""
    if kind == "normal":
        return rng.normal(0, 0.1, n), rng.normal(0, 0.1, n)
    if kind == "t3":
        return 0.1 * rng.standard_t(3, n), 0.1 * rng.standard_t(3, n)
    # AR(1): the machine's speed drifts over the session (φ = 0.9 a run, 15 % spread), each seed's round of the two
    # runs in random order, and 3 % of noise of their own
    drift, speed = np.empty(2 * n), 0.0
    for t in range(2 * n):
        speed = 0.9 * speed + math.sqrt(1 - 0.81) * 0.15 * rng.normal()
        drift[t] = speed
    first = rng.random(n) < 0.5
    at = 2 * np.arange(n)
    case, reference = drift[np.where(first, at, at + 1)], drift[np.where(first, at + 1, at)]
    return case + rng.normal(0, 0.03, n), reference + rng.normal(0, 0.03, n)


def _verdict(x: np.ndarray, y: np.ndarray, n0: int, looks: int, paired: bool) -> str:
    """The claim's verdict over its looks on oriented values ``x`` (case) and ``y`` (reference), seed by seed."""

    def samples_at(j: int) -> tuple[PairSamples, ...]:
        n = n0 * j
        ranked = effects.paired(x[:n] - y[:n]) if paired else effects.two_sample(x[:n], y[:n])
        return (PairSamples(Sample("init=x", "init=d", "ratio", "runs", ranked, n, n)),)

    judged, _, _ = sequential(CLAIM, _sizes(n0, looks), n0, looks, paired, samples_at)
    return judged[-1].verdict


@pytest.mark.parametrize(("n0", "paired"), [(5, False), (7, True)])
@pytest.mark.parametrize("noise", ["normal", "t3", "ar1"])
def test_pipelines_err_at_most_2_5_percent_a_side(n0, paired, noise):
    rng, reps, looks = np.random.default_rng(n0 * 10 + ("normal", "t3", "ar1").index(noise)), 4000, 3
    false_held = false_refuted = 0
    for _ in range(reps):
        case, reference = _noise(noise, rng, n0 * looks)
        x, y = -case, -reference  # lower is better: oriented, larger is better
        false_held += _verdict(x, y, n0, looks, paired) in (HELD, SMALLER)
        false_refuted += _verdict(x + R_STAR, y, n0, looks, paired) in (REFUTED, SMALLER)
    bound = ALPHA + 2 * math.sqrt(ALPHA * (1 - ALPHA) / reps)  # 2.5 % and twice the Monte Carlo error of 4,000
    assert false_held / reps <= bound and false_refuted / reps <= bound, (false_held / reps, false_refuted / reps)
