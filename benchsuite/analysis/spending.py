"""Error spending over looks: how much one-sided error each look of a group-sequential claim may spend.

A claim judged at several looks (more seeds each time, :mod:`benchsuite.analysis.looks`) would find an effect by
chance more often than its level if every look were judged at that level (three looks at 2.5 % a side err about 5 %
of the time). Here the error a claim may make, α a side, is spent over the information fraction t (seeds so far /
seeds at the last planned look) by the Lan-DeMets spending function of Pocock type,

    α(t) = α · ln(1 + (e - 1) · t)        (Lan & DeMets 1983),

which spends nearly evenly (for 3 looks: 45 %, 31 %, 24 % of α), so that the first look, at the scenario's own
seeds, can already decide a clear claim. Look j's one-sided level (its *tail*) is the one at which the chance of a
first crossing at looks 1..j, for a statistic whose looks are Brownian motion, is α(t_j) (Jennison & Turnbull,
*Group Sequential Methods with Applications to Clinical Trials*, 2000, ch. 7 on error spending, ch. 19 on the
recursive numerical integration used here), with the correlations between looks of the rank statistics themselves
(:func:`rank_clock`). Rank statistics reach only some levels at a given n (a signed-rank bound of 7 pairs at 1/128,
2/128, 3/128 ...), so each look's level is lowered to the largest one its statistic attains at its size, and what
it leaves unspent is carried to the next look (the crossing probabilities are those of the attained levels); the
last planned look keeps the level computed for it, since nothing comes after it. Even so the normal theory of the
joint law understates how often two looks of a discrete rank statistic both err, so looks after the first spend
:data:`JOINT_SHARE` of what the function allows them (tests/test_calibration.py: at most 2.5 % a side, exactly
counted). Looks at unplanned sizes (a top-up cut short) take the spending at their own information fraction (Lan &
DeMets 1983).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from scipy import optimize, special

from benchsuite.analysis import ranks

JOINT_SHARE = 0.9
"""Share of the error after the first look that later looks spend: the normal theory of the joint law of a rank
statistic's looks understates by up to 3–4 % how often some look errs with 5 to 12 seeds a look (exact sign-flip and
permutation calibrations, tests/test_calibration.py: 2.57 % for 5 seeds and 3 looks at the full share), so later
looks spend 90 % of what the spending function allows after the first (the first look's error is its attained level,
exact)."""

GRID = 801
"""Points of the numerical integration over the continuation region of each look (trapezoid rule on ±8 sd)."""


def pocock_spending(alpha: float, t: float) -> float:
    """α(t) = α·ln(1 + (e - 1)·t), the error spent by information fraction t (clipped to [0, 1]; Lan & DeMets 1983)."""
    return alpha * math.log(1.0 + (math.e - 1.0) * min(max(t, 0.0), 1.0))


def _pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


class _Continuation:
    """The density, on a grid, of the score S(t) = B(t) of a Brownian motion that has crossed no boundary yet."""

    def __init__(self) -> None:
        self.time = 0.0
        self.grid: np.ndarray | None = None
        self.weights: np.ndarray | None = None  # density × trapezoid weight at each grid point

    def crossing(self, time: float, bound: float) -> float:
        """P(S(time) > bound and no earlier crossing)."""
        sd = math.sqrt(time - self.time)
        if self.grid is None:
            return float(special.ndtr(-bound / sd))
        return float(np.sum(self.weights * special.ndtr((self.grid - bound) / sd)))

    def advance(self, time: float, bound: float) -> None:
        """Move to ``time``, keeping the paths below ``bound`` (``inf``: no boundary)."""
        sd = math.sqrt(time - self.time)
        spread = 8.0 * math.sqrt(time)
        grid = np.linspace(-spread, min(bound, spread), GRID)
        step = np.full(GRID, grid[1] - grid[0])
        step[[0, -1]] /= 2.0
        if self.grid is None:
            density = _pdf(grid / sd) / sd
        else:
            density = self.weights @ (_pdf((grid[None, :] - self.grid[:, None]) / sd) / sd)
        self.time, self.grid, self.weights = time, grid, density * step


def _excess(z: float, region: _Continuation, t: float, wanted: float) -> float:
    """How much more than ``wanted`` a look at time t with boundary z (in sd) would spend."""
    return region.crossing(t, z * math.sqrt(t)) - wanted


def nominal_tails(
    times: tuple[float, ...],
    alpha: float,
    attain: Callable[[int, float], float] = lambda j, tail: tail,
    clock: tuple[float, ...] | None = None,
) -> tuple[float, ...]:
    """One-sided levels of looks at information fractions ``times`` (increasing, the last ≤ 1) spending ``alpha`` by
    :func:`pocock_spending`: look j's level is the one whose first-crossing probability, after the attained levels of
    the looks before it, brings the total to α(t_1) + :data:`JOINT_SHARE` · (α(t_j) - α(t_1)), lowered by
    ``attain(j, level)`` (0-based j) to one its statistic attains (0: the look cannot cross). ``clock``: the
    Brownian times whose correlations, sqrt(s_i / s_j), are those of the looks' statistics (default ``times``;
    :func:`rank_clock` for rank statistics of a few seeds).

    Raises:
        ValueError: times not increasing in (0, 1].
    """
    if not times or any(b <= a for a, b in zip((0.0, *times), times, strict=False)) or times[-1] > 1.0 + 1e-12:
        raise ValueError(f"looks need increasing information fractions in (0, 1], got {times}")
    region, spent, out, first = _Continuation(), 0.0, [], pocock_spending(alpha, times[0])
    for j, (fraction, t) in enumerate(zip(times, clock or times, strict=True)):
        wanted = first + JOINT_SHARE * (pocock_spending(alpha, fraction) - first) - spent
        if wanted <= 1e-15:
            nominal = 0.0
        elif j == 0:  # the first look errs exactly at its level
            nominal = wanted
        else:
            z = optimize.brentq(_excess, -8.0, 40.0, args=(region, t, wanted), xtol=1e-10)
            nominal = float(special.ndtr(-z))
        tail = attain(j, nominal)
        bound = -special.ndtri(tail) * math.sqrt(t) if tail > 0 else math.inf
        spent += region.crossing(t, bound) if tail > 0 else 0.0
        region.advance(t, bound)
        out.append(tail)
    return tuple(out)


@functools.cache
def look_tails(sizes: tuple[int, ...], n_max: int, alpha: float, paired: bool, last: bool) -> tuple[float, ...]:
    """The one-sided level of each look of a rank statistic with ``sizes`` seeds per side at its looks (``n_max`` at
    the last planned one), spending ``alpha`` (:func:`nominal_tails`): each level the largest attained by the
    signed-rank statistic of that many pairs (``paired``) or by Mann-Whitney's of that many a side, except the last
    look's when ``last`` (the last planned look: nothing comes after it to carry to).

    Raises:
        ValueError: sizes not increasing, or beyond ``n_max``.
    """
    if any(n <= 0 for n in sizes) or sizes[-1] > n_max:
        raise ValueError(f"look sizes {sizes} must be positive and at most {n_max}")

    def attain(j: int, tail: float) -> float:
        if last and j == len(sizes) - 1:
            return tail
        n = sizes[j]
        return ranks.attained(ranks.signed_rank_cdf(n) if paired else ranks.mann_whitney_cdf(n, n), tail)

    return nominal_tails(tuple(n / n_max for n in sizes), alpha, attain, rank_clock(sizes, paired))


def _rank_covariance(a: int, b: int, paired: bool) -> float:
    """Null covariance of a rank statistic at a seeds and at b ≥ a (the first a of them; continuous values): the
    signed-rank count of positive Walsh averages, or Mann-Whitney's U of a and b a side. Its kernels cover 1/4 each;
    two sharing an index covary by 1/12 (1/8 for a Walsh average with its own difference's sign), others by 0
    (Hollander, Wolfe & Chicken 2014, §3.1 and §4.1: the variances; the covariances the same way)."""
    if paired:
        var_a = a * (a + 1) * (2 * a + 1) / 24.0
        return var_a + a * (b - a) * (1.0 / 8.0 + (a - 1) / 12.0)
    return a * a * (2 * a + 1) / 12.0 + a * a * (b - a) / 6.0


def rank_clock(sizes: tuple[int, ...], paired: bool) -> tuple[float, ...]:
    """Brownian times s_j of looks at ``sizes`` whose consecutive correlations sqrt(s_j / s_{j+1}) are those of the rank
    statistic (slightly below sqrt(n_j / n_{j+1}) for a few seeds, which would understate how often some look
    errs), scaled to end at 1."""
    clock = [1.0]
    for a, b in zip(sizes, sizes[1:], strict=False):
        rho = _rank_covariance(a, b, paired) / math.sqrt(
            _rank_covariance(a, a, paired) * _rank_covariance(b, b, paired)
        )
        clock.append(clock[-1] / (rho * rho))
    return tuple(c / clock[-1] for c in clock)
