"""The one comparison rule: how the runs of a case are compared with the runs of its reference on one figure. The
per-case summary (speedup against the baseline), the claim verdicts and the comparison of results files all call it.

- Scale: ratio figures (times, step counts, rates) on the log scale, floored at :data:`TINY` so that a zero never
  becomes -inf; difference figures (validation metrics) as they are. Values are *oriented*: signed so that larger is
  better, so an effect above 0 means "the case is better" (:mod:`benchsuite.analysis.effects`).
- Finished runs: only a run that finished its training loop (status in :data:`FINISHED`: ``ok``, or ``diverged``, a
  run that trained and never reached its target) is measured. A run that ended early (``oom``, ``crashed``,
  ``timeout``, ``failed``, or a status this benchsuite does not know) has no figures: it is left out of every
  comparison, never counted as a miss.
- Censoring: a finished run that missed its target (NaN in a censored figure such as time-to-target) is known only
  to lie beyond where it was cut off: its time-to-target beyond the seconds it trained (``timed_s``), its
  steps-to-target beyond the steps it ran (:data:`CENSORED_AT`). It enters as :class:`benchsuite.analysis.effects.
  Bounds` (Gehan 1965; Efron 1967), so that it loses to every run that reached the target sooner and is
  undecided against the others (:func:`oriented_bounds`); where the cut-off is not recorded it is -inf, worse than
  every run and tied with the other such misses (:func:`oriented`). A value missing from a figure that is not
  censored, or from a censored one of a run that did reach its target (energy-to-target on a machine without an
  energy counter), was not measured: it is left out, with its pair when the runs pair by seed.
- Nothing to compare: a contrast with a side that has no value, or in which every run of both sides missed the
  target (misses tie: the interval would be [1×, 1×] of nothing), is not :attr:`Contrast.comparable`; verdicts call
  such a pair "not judged" (:mod:`benchsuite.analysis.decisions`), compare shows no ratio. When one side reached the
  target and the other never did, the contrast stands: the side that reached it is better.
- Design: runs pair by seed when the session ran them in blocks of seeds (a seed's round of cases ran close in time,
  so a slow stretch of the machine falls on both sides of a pair and cancels), both sides ran the same seeds once each,
  and there are enough of them for a bounded Wilcoxon signed-rank interval at the level asked: the one-sample
  Hodges-Lehmann estimate of the per-seed differences. Otherwise the two samples are compared (Hodges-Lehmann shift,
  Mann-Whitney interval). The design decides, never the values (:func:`by_seed`).
- A side on which half or more of the runs missed gets no estimate (a ratio of medians would compare misses); its
  interval is still shown.

Sources: Hodges & Lehmann 1963; Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., 2014
(§3.2, §4.3); Gehan 1965; Efron 1967.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from benchsuite.analysis import effects

#: The floor of a ratio figure before its log (seconds, steps and rates are never this small).
TINY = 1e-12

#: Where a censored figure's miss was cut off: the column of the run's own budget spent (a run that missed its target
#: at time-to-target trained ``timed_s`` seconds, at steps-to-target ``steps`` steps, without reaching it).
CENSORED_AT = {"time_to_target_s": "timed_s", "steps_to_target": "steps"}

#: Statuses of a run that finished its training loop, so that its figures were measured: trained to its target or
#: budget (``ok``), or stopped by a non-finite loss (``diverged``: it trained, and missed its target).
FINISHED = ("ok", "diverged")


def finished(statuses) -> np.ndarray:
    """Mask of the runs whose status (one per run) is in :data:`FINISHED`."""
    return np.isin(np.asarray(statuses, dtype=object), FINISHED)


def oriented(values, *, scale: Literal["ratio", "difference"], censored: bool, better: str) -> np.ndarray:
    """``values`` (one per run) on the comparison scale, larger = better: log (floored at :data:`TINY`) for ratio
    figures, then the sign of ``better`` (``lower`` or ``higher``); a NaN in a ``censored`` figure (a missed target)
    becomes -inf, a NaN elsewhere stays NaN (not measured: :func:`contrast` leaves it out)."""
    values = np.asarray(values, dtype=float)
    scaled = np.log(np.clip(values, TINY, None)) if scale == "ratio" else values
    signed = scaled if better == "higher" else -scaled
    return np.where(np.isnan(values) & censored, -np.inf, signed)


def oriented_column(runs: pd.DataFrame, column: str, *, scale: str, censored: bool, better: str) -> np.ndarray:
    """``column`` of ``runs`` (one row per run, in the order given) on the comparison scale (:func:`oriented`), with
    the runs that did not finish (``status``, :data:`FINISHED`) left out as NaN, and in a ``censored`` figure the NaN
    of a run that reached its target (``reached_target``) left out too: it was not measured, it is no miss. A column
    the runs do not have is NaN throughout (not measured)."""
    values = runs[column].to_numpy(dtype=float) if column in runs else np.full(len(runs), np.nan)
    out = oriented(values, scale=scale, censored=censored, better=better)
    if "status" in runs:
        out[~finished(runs["status"])] = np.nan
    if censored and "reached_target" in runs:
        out[np.isnan(values) & runs["reached_target"].eq(True).to_numpy()] = np.nan  # None, NaN: not reached
    return out


def by_seed(
    seeds: list[int] | None, blocked: bool, confidence: float | None = None, *, tail: float | None = None
) -> bool:
    """Whether two sides are compared pair by pair: the runs were ordered in blocks of seeds (``blocked``), both sides
    ran the same ``seeds`` once each (None when they did not), and there are enough of them for a bounded signed-rank
    bound at one-sided error ``tail`` (or at a two-sided ``confidence``)."""
    return blocked and seeds is not None and effects.paired_bounded(len(seeds), confidence, tail=tail)


def oriented_bounds(
    runs: pd.DataFrame, column: str, *, scale: str, censored: bool, better: str, censored_at: str | None = None
) -> effects.Bounds:
    """:func:`oriented_column`, with each miss of a ``censored`` figure known only beyond its cut-off, the run's
    ``censored_at`` column (:data:`CENSORED_AT`; a ratio figure): (-inf, oriented cut-off] when lower is better,
    [oriented cut-off, inf) when higher is; a miss without a positive cut-off stays -inf (:func:`oriented`)."""
    values = oriented_column(runs, column, scale=scale, censored=censored, better=better)
    lo, hi = values.copy(), values.copy()
    if not censored or censored_at is None or censored_at not in runs:
        return effects.Bounds(lo, hi)
    cut = runs[censored_at].to_numpy(dtype=float)
    known = np.isneginf(values) & np.isfinite(cut) & (cut > 0)
    bound = oriented(cut, scale=scale, censored=False, better=better)
    if better == "lower":
        hi[known] = bound[known]
    else:
        lo[known], hi[known] = bound[known], np.inf
    return effects.Bounds(lo, hi)


def _missed(values: effects.Bounds) -> np.ndarray:
    """Mask of the censored values: not a finite measured value."""
    return ~(np.isfinite(values.lo) & (values.lo == values.hi))


@dataclass(frozen=True)
class Contrast:
    """The runs of a case against those of its reference on one figure, on the oriented scale.

    Attributes:
        shift: Hodges-Lehmann estimate with its interval, above 0 when the case is better; unbounded (±inf) with a
            NaN estimate when a side has no value.
        paired: whether the runs were compared pair by seed.
        x, y: the oriented values compared (case, reference) as :class:`benchsuite.analysis.effects.Bounds`, in seed
            order when paired, unmeasured ones left out.
        ranked: the rank statistic behind ``shift`` (intervals at other levels, p-values), None when a side is empty.
    """

    shift: effects.Shift
    paired: bool
    x: effects.Bounds
    y: effects.Bounds
    ranked: effects.Ranked | None = None

    @property
    def n(self) -> int:
        return len(self.x.lo)

    @property
    def n_against(self) -> int:
        return len(self.y.lo)

    @property
    def n_missed(self) -> int:
        """Runs of the case that missed the target."""
        return int(_missed(self.x).sum())

    @property
    def n_missed_against(self) -> int:
        """Runs of the reference that missed the target."""
        return int(_missed(self.y).sum())

    @property
    def empty(self) -> bool:
        """A side has no value: nothing was compared."""
        return self.n == 0 or self.n_against == 0

    @property
    def none_reached(self) -> bool:
        """Both sides have values and every one of them is a miss: nothing to compare (misses tie)."""
        return not self.empty and bool(_missed(self.x).all() and _missed(self.y).all())

    @property
    def comparable(self) -> bool:
        """Whether there is anything to compare: both sides have a value and some run reached the target."""
        return not self.empty and not self.none_reached

    @property
    def half_missed(self) -> bool:
        """Half or more of a side missed the target (or a side is empty): no estimate is given."""
        return half_missed(self.n, self.n_missed, self.n_against, self.n_missed_against)

    @property
    def differences(self):
        """Per-seed differences x - y of a paired contrast (a miss on both sides of unknown cut-off is 0): an array,
        or :class:`benchsuite.analysis.effects.Bounds` when a miss is censored at a known cut-off.

        Raises:
            ValueError: the contrast is not paired.
        """
        if not self.paired:
            raise ValueError("differences exist only for runs paired by seed")
        d = effects.paired_differences(self.x, self.y)
        return d.lo if np.array_equal(d.lo, d.hi) else d


def half_missed(n: int, n_missed: int, n_against: int, n_missed_against: int) -> bool:
    """Whether half or more of either side's ``n`` runs missed the target (an empty side counts): such a contrast
    gives no estimate, since a ratio of medians would compare misses."""
    return 2 * n_missed >= n or 2 * n_missed_against >= n_against


def contrast(
    x, y, *, paired: bool, confidence: float | None = None, tails: tuple[float, float] | None = None
) -> Contrast:
    """Compare oriented values ``x`` (the case's runs) with ``y`` (its reference's), arrays or
    :class:`benchsuite.analysis.effects.Bounds`, at two-sided ``confidence`` (or one-sided errors ``tails`` of the
    lower and upper bound): per-seed differences when ``paired`` (``x`` and ``y`` in the same seed order;
    :func:`by_seed` decides), else the two samples. Unmeasured values (NaN) are left out, with their pair when paired.

    Raises:
        ValueError: ``paired`` with sides of different lengths, or neither ``confidence`` nor ``tails``.
    """
    if tails is None and confidence is None:
        raise ValueError("contrast needs a confidence or the tails of its bounds")
    tails = tails or effects.tails_of(confidence)
    x, y = effects.as_bounds(x), effects.as_bounds(y)
    if paired:
        if len(x.lo) != len(y.lo):
            raise ValueError(
                f"runs paired by seed need one value per seed on each side, got {len(x.lo)} and {len(y.lo)}"
            )
        keep = ~(np.isnan(x.lo) | np.isnan(y.lo))
        x, y = effects.Bounds(x.lo[keep], x.hi[keep]), effects.Bounds(y.lo[keep], y.hi[keep])
    else:
        x, y = (effects.Bounds(v.lo[~np.isnan(v.lo)], v.hi[~np.isnan(v.lo)]) for v in (x, y))
    if len(x.lo) == 0 or len(y.lo) == 0:
        shift = effects.Shift(math.nan, -math.inf, math.inf, 1.0 - sum(tails), "no values", tuple(tails))
        return Contrast(shift, paired, x, y)
    ranked = effects.paired(effects.paired_differences(x, y)) if paired else effects.two_sample(x, y)
    return Contrast(ranked.shift(tails), paired, x, y, ranked)
