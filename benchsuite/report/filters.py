"""Formatting filters for reports and the terminal summary. Missing values (None, NaN) print as an em dash."""

from __future__ import annotations

import math
import re
from typing import Any

from markupsafe import Markup, escape

from benchsuite.report.references import cite_source
from benchsuite.report.verdict_words import qualifiers_text

DASH = "—"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x: Any, digits: int = 3) -> str:
    """``0.91834`` → ``0.918``; large values get thousands separators: ``12345.6`` → ``12,346``."""
    if _missing(x):
        return DASH
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.{digits}f}"


def fmt_seconds(x: Any) -> str:
    """Seconds with a unit and 3 significant digits: ``1.2345`` → ``1.23 s``, ``0.01234`` → ``12.3 ms``."""
    if _missing(x):
        return DASH
    if math.isinf(x):
        return "∞"
    return f"{x * 1000:.3g} ms" if abs(x) < 0.1 else f"{x:.3g} s"


def fmt_spread(median: Any, low: Any, high: Any, fmt=fmt_seconds) -> str:
    """``median [low – high]``, e.g. ``1.15 s [1.05 s – 1.21 s]``."""
    if _missing(median):
        return DASH
    if _missing(low) or _missing(high):
        return fmt(median)
    return f"{fmt(median)} [{fmt(low)} – {fmt(high)}]"


def fmt_ci(mean: Any, low: Any, high: Any, digits: int = 3) -> str:
    """``mean ± half-width`` of a symmetric CI: ``0.918 ± 0.006``; just the mean when the CI is undefined."""
    if _missing(mean):
        return DASH
    if _missing(low) or _missing(high):
        return fmt_num(mean, digits)
    return f"{fmt_num(mean, digits)} ± {fmt_num((high - low) / 2, digits)}"


def fmt_ratio(x: Any) -> str:
    """A speedup: ``1.824`` → ``1.82×``."""
    return DASH if _missing(x) or math.isinf(x) else f"{x:.2f}×"


def fmt_p(p: Any) -> str:
    """A p-value: ``0.0039`` → ``p = 0.004``; below 0.001 → ``p < 0.001``."""
    if _missing(p):
        return DASH
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_factor(x: Any) -> str:
    """A ratio bound that may be unbounded: ``1.824`` → ``1.82×``, ``inf`` → ``∞``, ``0`` → ``0×``."""
    if _missing(x):
        return DASH
    if math.isinf(x):
        return "∞"
    return f"{x:.3g}×" if x < 10 else f"{x:.1f}×"


def fmt_shift(x: Any, digits: int = 3) -> str:
    """A signed difference: ``0.0213`` → ``+0.021``; unbounded → ``±∞``."""
    if _missing(x):
        return DASH
    if math.isinf(x):
        return "+∞" if x > 0 else "−∞"
    return f"{x:+.{digits}f}".replace("-", "−")


def fmt_level(confidence: Any) -> str:
    """An interval's level, three significant digits: ``95 %``, ``97.5 %``, ``98.8 %`` (98.75 %), ``90 %``."""
    if _missing(confidence):
        return DASH
    return f"{100 * confidence:.3g} %"


def fmt_effect(effect: Any, level: bool = False) -> str:
    """An effect with its interval: ``1.62× [1.41×, 1.80×]`` or ``+0.021 [−0.004, +0.050]``, with its level after it
    when ``level`` (``1.62× [1.41×, 1.80×] 95 %``); the estimate is a dash when half or more of a side missed the
    target. When one side never reached the target the effect is a bound only: ``> 1.2× (0/12 reached within 0.52 s)``
    (the reference never reached), ``< 0.8× (…)`` (the case never did)."""
    if effect is None:
        return DASH
    fmt = fmt_factor if effect.scale == "ratio" else fmt_shift
    at = f" {fmt_level(effect.shift.confidence)}" if level else ""
    bound = _censored_bound(effect, "against", fmt)
    if bound is not None:
        return f"{bound[0]}{at} ({bound[1]})"
    return f"{fmt(effect.estimate)} [{fmt(effect.low)}, {fmt(effect.high)}]{at}"


def fmt_pair(pair: Any) -> str:
    """A compared pair (:class:`benchsuite.analysis.verdicts.PairVerdict`): its effect with its interval and level
    (:func:`fmt_effect`), ``, reversed`` when its interval lies wholly on the other side of no effect; or ``not
    judged: <why>`` when it had nothing to compare."""
    if getattr(pair, "reason", None):
        return f"not judged: {pair.reason}"
    return fmt_effect(pair.effect, level=True) + (", reversed" if getattr(pair, "reversed", False) else "")


def _censored_bound(effect: Any, low_side: str, fmt: Any) -> tuple[str, str] | None:
    """``("> 1.2×", "0/12 reached within 0.52 s")`` for an effect with no estimate because one side never reached
    the target (its lower bound when that side is ``low_side``, else its upper), else None."""
    never = getattr(effect, "never_reached", None)
    if not never or effect.estimate is not None:
        return None
    if getattr(effect, "censored_side", None) == low_side:
        return f"> {fmt(effect.low)}", never
    return f"< {fmt(effect.high)}", never


def fmt_compared(ratio: Any) -> str:
    """A ratio of ``benchsuite compare`` (:class:`benchsuite.compare.ratios.Ratio`, this side ÷ the reference) with
    its 95 % interval: ``1.25× [1.2×, 1.31×]``, ``— [0.8×, ∞]`` (no estimate: half or more of a side missed the
    target); a bound only when a side never reached it, ``> 1.54× (0/4 reached within 2.5 s)`` (this side never
    did), ``< 0.65× (…)`` (the reference never did); empty when not compared (None, or NaN bounds)."""
    if ratio is None or _missing(ratio.low):
        return ""
    bound = _censored_bound(ratio, "case", fmt_factor)
    if bound is not None:
        return f"{bound[0]} ({bound[1]})"
    return f"{fmt_factor(ratio.estimate)} [{fmt_factor(ratio.low)}, {fmt_factor(ratio.high)}]"


def verdict_class(verdict: str) -> str:
    """The verdict as an HTML class: ``held``, ``smaller-than-claimed``, ``not-judged``, ``not-run``."""
    return str(verdict).replace(" ", "-")


def fmt_pct(x: Any, digits: int = 0) -> str:
    """A share as a percentage: ``0.2307`` → ``23 %``."""
    return DASH if _missing(x) else f"{100 * x:.{digits}f} %"


def fmt_reach(k: Any, n: Any, low: Any, high: Any) -> str:
    """Reach rate with its Wilson interval: ``3/5 (23–88 %)``; just ``5/5`` when every run reached."""
    if k == n:
        return f"{k}/{n}"
    return f"{k}/{n} ({100 * low:.0f}–{100 * high:.0f} %)" if not _missing(low) else f"{k}/{n}"


_URL = re.compile(r"https?://[^\s<>\"')]+[^\s<>\"').,;]")


def fmt_source(text: Any) -> Markup:
    """A scenario's ``source`` as HTML a reader can follow: private reference paths of older results replaced by
    their citation (:func:`benchsuite.report.references.cite_source`), the text escaped, URLs made links."""
    cited = escape(cite_source(str(text or "")))
    return Markup(_URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', str(cited)))


FILTERS = {
    "source": fmt_source,
    "num": fmt_num,
    "seconds": fmt_seconds,
    "spread": fmt_spread,
    "ci": fmt_ci,
    "ratio": fmt_ratio,
    "p": fmt_p,
    "factor": fmt_factor,
    "shift": fmt_shift,
    "effect": fmt_effect,
    "level": fmt_level,
    "pair": fmt_pair,
    "compared": fmt_compared,
    "qualifiers": qualifiers_text,
    "verdict_class": verdict_class,
    "pct": fmt_pct,
    "reach": lambda c: fmt_reach(c["n_reached"], c["n"], c["reach_low"], c["reach_high"]),
}
