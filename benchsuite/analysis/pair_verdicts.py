"""A compared pair's effect and verdict, as the report reads them: :class:`PairEffect` (the effect with its interval,
its levels, its counts) and :class:`PairVerdict` (its verdict, strength and, for time claims, the two halves).
Built by :mod:`benchsuite.analysis.judging`; re-exported by :mod:`benchsuite.analysis.verdicts`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchsuite.analysis import effects
from benchsuite.analysis.contrast import half_missed
from benchsuite.analysis.decisions import NOT_JUDGED


@dataclass(frozen=True)
class PairEffect:
    """One case against its reference on one metric, on the oriented scale of :mod:`benchsuite.analysis.effects`.

    Attributes:
        case_id, against_id: the compared cases.
        scale: ``ratio`` (``shift`` is a log ratio) or ``difference``.
        shift: estimate and interval, above 0 when the case is better; ``shift.tails`` the one-sided errors of its
            lower (holding) and upper (refuting) bound.
        p_value: one-sided p-value of the holding side (:func:`benchsuite.analysis.decisions.hold_p_value`).
        level: the one-sided level the refuting side was judged at (Holm's share of the look's level).
        n, n_against: runs (or seed pairs, or quadruples of block pairs) on each side; n_missed, n_missed_against:
            runs that missed the target.
        source: ``runs``, ``runs paired by seed`` or ``paired blocks``.
        missing: why the pair has nothing to compare (:func:`benchsuite.analysis.missing.why_not_compared`), or
            None; such an effect has no estimate and no interval (NaN bounds).
        never_reached: ``0/12 reached within 0.52 s`` when one side never reached the target (its runs censored at
            their budget: the effect is a bound only), else None; ``censored_side`` says which (``case``,
            ``against``).
        p_refute: one-sided p-value of the refuting side (:func:`benchsuite.analysis.decisions.refute_p_value`).
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
    never_reached: str | None = None
    censored_side: str | None = None
    p_refute: float = math.nan

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

    @property
    def confidence(self) -> float:
        """The interval's level: 1 minus the one-sided errors of its two bounds."""
        return self.shift.confidence


@dataclass(frozen=True)
class PairVerdict:
    """A pair's effect, its verdict (one of :data:`benchsuite.analysis.decisions.VERDICTS`), ``strength``
    (``confirmed`` or ``consistent`` for a held ``better`` pair, :func:`benchsuite.analysis.decisions.strength`)
    and, for judged time claims, the steps and step-time halves."""

    effect: PairEffect
    verdict: str
    reversed: bool = False
    steps: PairEffect | None = None
    step_time: PairEffect | None = None
    unstable_runs: int = 0
    strength: str | None = None

    @property
    def reason(self) -> str | None:
        """Why the pair was not judged (``no run reached the target (val_accuracy ≥ 0.9) within 0.52 s``), or None."""
        return self.effect.missing if self.verdict == NOT_JUDGED else None
