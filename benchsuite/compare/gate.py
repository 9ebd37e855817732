"""The regression gate of ``benchsuite compare --fail-on``: a difference fails only when its whole 95 % interval
lies beyond the threshold. asv's ``compare`` judges a factor threshold with a Mann-Whitney test; benchsuite puts the
interval of :mod:`benchsuite.compare`'s ratios in place of the p-value, so a noisy machine cannot fail a branch
on its noise and a real slowdown beyond the threshold always shows."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from benchsuite.compare.ratios import Ratio
from benchsuite.compare.sides import Comparison
from benchsuite.results.formats import ResultsError

#: Gate metrics: name in ``--fail-on`` → compared column.
GATE_METRICS = {
    "time_per_step": "step_time_s_median",
    "time_to_target": "time_to_target_s",
    "throughput": "throughput_samples_per_s",
}


@dataclass(frozen=True)
class GateRule:
    """``time_per_step:+10%``: fail when B/A of that figure lies wholly above 1.10 (``-10%``: wholly below 0.90)."""

    metric: str
    limit: float

    @classmethod
    def parse(cls, text: str) -> GateRule:
        """Parse ``<metric>:<+|-><percent>%``.

        Raises:
            ValueError: the rule does not parse (the message says what is expected).
        """
        match = re.fullmatch(r"(\w+):([+-])(\d+(?:\.\d+)?)%", text.strip())
        if not match or match.group(1) not in GATE_METRICS:
            raise ValueError(
                f"--fail-on {text!r}: expected <metric>:+<percent>% or <metric>:-<percent>% with metric "
                f"one of {', '.join(GATE_METRICS)} (e.g. time_per_step:+10%)"
            )
        sign = 1.0 if match.group(2) == "+" else -1.0
        return cls(match.group(1), sign * float(match.group(3)) / 100.0)

    def breached(self, ratio: Ratio) -> bool:
        """Whether the whole interval lies beyond the threshold."""
        if math.isnan(ratio.low):
            return False
        return ratio.low > 1.0 + self.limit if self.limit > 0 else ratio.high < 1.0 + self.limit


def gate(comparison: Comparison, rules: list[GateRule]) -> list[str]:
    """One line per breach: case, side, figure, ratio and interval.

    Raises:
        ResultsError: nothing to gate on (no case ran with the same configuration on both sides).
    """
    comparable = [r for r in comparison.rows if not all(r.config_differs.values())]
    if not comparable:
        raise ResultsError("nothing to compare: no case ran with the same configuration on every side")
    breaches = []
    for row in comparable:
        for label, ratios in row.ratios.items():
            for rule in rules:
                ratio = ratios[GATE_METRICS[rule.metric]]
                if rule.breached(ratio):
                    est = "—" if ratio.estimate is None else _times(ratio.estimate)
                    breaches.append(
                        f"{row.scenario} / {row.case_id}: {label} {rule.metric} {est} "
                        f"[{_times(ratio.low)}, {_times(ratio.high)}] of {comparison.reference.label}, "
                        f"beyond {rule.limit:+.0%}"
                    )
    return breaches


def _times(x: float) -> str:
    """A ratio bound: ``1.25×``, or ``∞`` when unbounded (a side that never reached the target)."""
    return "∞" if math.isinf(x) else f"{x:.3g}×"
