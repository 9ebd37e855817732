"""Formatting filters for reports and the terminal summary. Missing values (None, NaN) print as an em dash."""

from __future__ import annotations

import math
from typing import Any

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


FILTERS = {
    "num": fmt_num,
    "seconds": fmt_seconds,
    "spread": fmt_spread,
    "ci": fmt_ci,
    "ratio": fmt_ratio,
    "p": fmt_p,
}
