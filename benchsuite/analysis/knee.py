"""The throughput knee of a batch-size sweep: the smallest batch size that comes within a share (90 %) of the best
batch size's throughput. A figure, not a verdict.

The article "Training Time Speed Ups" says a small batch-size tweak is enough to fully use the device, but gives no
number to hold it to: no threshold, no batch size. So nothing here is held or refuted; the report shows where the
throughput curve flattens, with intervals, and the reader judges the claim.

Rule (:func:`throughput_knee`), for a scenario whose runs have an ``axis_batch_size`` column with at least 3 distinct
(whole-number) batch sizes, on the runs that ended ``ok`` with a throughput (``throughput_samples_per_s``):

- per batch size, the median throughput with its distribution-free 95 % interval: the order statistics
  [x(k), x(n+1-k)] of the sign test (Binomial(n, 1/2) null), through the same order-statistic machinery as every
  interval of :mod:`benchsuite.analysis.effects` (:class:`~benchsuite.analysis.effects.Ranked`,
  :func:`~benchsuite.analysis.ranks.order_statistic_index`); on log throughput, so a bound too few runs cannot give is
  0 or ∞ (5 runs are too few at 95 %: 1/32 > 0.025);
- the best batch size: the highest median (the smallest batch size on a tie);
- per batch size, its throughput as a share of the best's: the two-sample Hodges-Lehmann ratio (on log values) with
  its exact Mann-Whitney 95 % interval, :func:`benchsuite.analysis.effects.shift_interval`, the same effect the
  verdicts use for rates; the best batch is the reference, its ratio 1 by definition;
- the knee: the smallest batch size whose ratio estimate reaches ``share``; *settled* when its interval's lower bound
  does too (otherwise the knee may lie at a larger batch).

Other axes of the matrix (``lr_scaling`` in batch-scaling) are pooled: a batch size's runs under every value of the
other axes form one sample. That is right when those axes do not change the work of a step (a learning-rate rule
changes the step size, not the arithmetic of a step), as for every shipped scenario with a batch-size axis; a
scenario that crossed batch size with, say, precision or model width would need the knee per group instead. The
samples are compared as two samples, not paired by seed: pooled runs do not pair one-to-one.

Caveat: the best batch is picked by the same data it is compared against, so its median is a little optimistic (the
winner's curse) and every ratio a little low; with a flat top (two batch sizes within noise) this is the larger
effect, and the interval of the runner-up's ratio shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from benchsuite.analysis import effects

CONFIDENCE = 0.95
"""Two-sided level of every interval of the knee."""

MIN_BATCH_SIZES = 3
"""Fewer distinct batch sizes give no curve to find a knee on."""


@dataclass(frozen=True)
class KneeRow:
    """One batch size of the sweep.

    Attributes:
        batch_size: the batch size (the ``batch_size`` axis value).
        median, median_low, median_high: median throughput (samples/s) of its ok runs with the 95 % sign-test interval
            (0 and ∞ where the runs are too few for a bound).
        ratio, ratio_low, ratio_high: its throughput ÷ the best batch's, Hodges-Lehmann with the exact Mann-Whitney
            95 % interval (1, [1, 1] for the best batch itself).
        n: its ok runs with a throughput.
    """

    batch_size: int
    median: float
    median_low: float
    median_high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    n: int


@dataclass(frozen=True)
class Knee:
    """The throughput knee of one scenario (:func:`throughput_knee`).

    Attributes:
        scenario: the scenario's name.
        batch_size: the knee, the smallest batch size whose ratio estimate reaches ``share``.
        ratio, ratio_low, ratio_high: the knee's throughput ÷ the best's with its 95 % interval.
        best_batch_size: the batch size of the highest median throughput.
        best_throughput_samples_per_s: that median.
        share: the share of the best's throughput the knee must reach (0.9).
        n_runs: the ok runs with a throughput over all batch sizes.
        rows: per batch size, in ascending order, its median, ratio and their intervals.
        pooled: the other matrix axes whose values vary among the scenario's runs, pooled into each batch size's
            sample (``("lr_scaling",)`` in batch-scaling; empty when batch size is the only axis).
    """

    scenario: str
    batch_size: int
    ratio: float
    ratio_low: float
    ratio_high: float
    best_batch_size: int
    best_throughput_samples_per_s: float
    share: float
    n_runs: int
    rows: tuple[KneeRow, ...]
    pooled: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        """Whether the knee's lower bound reaches ``share`` too (its throughput is within the share of the best's at
        95 %), not only its estimate."""
        return self.ratio_low >= self.share * (1 - _ROUNDING)

    @property
    def below(self) -> KneeRow | None:
        """The batch size just below the knee (its estimate misses the share), or None when the knee is the
        smallest."""
        smaller = [r for r in self.rows if r.batch_size < self.batch_size]
        return smaller[-1] if smaller else None

    @property
    def runs_per_batch(self) -> tuple[int, int]:
        """The fewest and most runs of a batch size."""
        counts = [r.n for r in self.rows]
        return min(counts), max(counts)


_ROUNDING = 1e-9
"""Relative slack of ``ratio ≥ share``, so that a ratio of exactly the share survives log/exp rounding."""


def median_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Median of positive ``values`` (the ordinary median, as the case lines show) with its distribution-free
    interval [x(k), x(n+1-k)] from the sign test (Binomial(n, 1/2) null; :class:`benchsuite.analysis.effects.Ranked`
    on log values, so an unbounded side is 0 or ∞); NaN for no values."""
    values = np.asarray(values, float)
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    x = np.sort(np.log(values))
    cdf = stats.binom.cdf(np.arange(len(x) + 1), len(x), 0.5)
    low, high = effects.Ranked(x, x, cdf).interval(*effects.tails_of(confidence))
    return float(np.median(values)), math.exp(low), math.exp(high)


def _batch_sizes(runs: pd.DataFrame) -> pd.Series:
    """Each run's ``axis_batch_size`` as a whole number (NaN where it is missing or not one)."""
    values = pd.to_numeric(runs["axis_batch_size"], errors="coerce")
    return values.where(values == values.round())


def throughput_knee(runs: pd.DataFrame, scenario: str, share: float = 0.9) -> Knee | None:
    """The throughput knee of ``scenario`` in ``runs`` (a runs table, :func:`benchsuite.results.frames.runs_frame`):
    the smallest batch size whose throughput reaches ``share`` of the best batch size's (module docstring: the rule,
    its intervals, why other axes are pooled).

    Returns None when the scenario has no ``batch_size`` axis, when any of its runs lacks a whole-number batch size,
    or when fewer than 3 batch sizes have an ok run with a throughput.
    """
    if "axis_batch_size" not in runs or "throughput_samples_per_s" not in runs:
        return None
    mine = runs[runs["scenario"] == scenario]
    if mine.empty or mine["axis_batch_size"].isna().any():
        return None
    batch = _batch_sizes(mine)
    if batch.isna().any():
        return None
    throughput = pd.to_numeric(mine["throughput_samples_per_s"], errors="coerce")
    kept = (mine["status"] == "ok") & throughput.notna() & (throughput > 0) & np.isfinite(throughput)
    samples = {int(b): throughput[kept & (batch == b)].to_numpy(float) for b in sorted(batch[kept].unique())}
    if len(samples) < MIN_BATCH_SIZES:
        return None
    medians = {b: median_interval(x) for b, x in samples.items()}
    best = max(samples, key=lambda b: (medians[b][0], -b))
    rows = tuple(_row(b, x, medians[b], samples[best], b == best) for b, x in samples.items())
    knee = next(r for r in rows if r.ratio >= share * (1 - _ROUNDING))  # the best's ratio is 1: one always does
    return Knee(
        scenario=scenario,
        batch_size=knee.batch_size,
        ratio=knee.ratio,
        ratio_low=knee.ratio_low,
        ratio_high=knee.ratio_high,
        best_batch_size=best,
        best_throughput_samples_per_s=medians[best][0],
        share=share,
        n_runs=sum(len(x) for x in samples.values()),
        rows=rows,
        pooled=tuple(
            c.removeprefix("axis_")
            for c in mine.columns
            if c.startswith("axis_") and c != "axis_batch_size" and mine[c].nunique(dropna=False) > 1
        ),
    )


def _row(batch: int, x: np.ndarray, median: tuple[float, float, float], best: np.ndarray, is_best: bool) -> KneeRow:
    """A batch size's row: its median with its interval, and its ratio to the best's samples ``best``."""
    if is_best:
        ratio = (1.0, 1.0, 1.0)
    else:
        shift = effects.shift_interval(np.log(x), np.log(best), CONFIDENCE)
        ratio = (math.exp(shift.estimate), math.exp(shift.low), math.exp(shift.high))
    return KneeRow(batch, *median, *ratio, len(x))
