"""The colour of each verdict in figures: the compare heat map (:mod:`benchsuite.report.compare`) and the forest plots
(:mod:`benchsuite.report.forest`) read this one table, so a verdict looks the same in every picture."""

from __future__ import annotations

#: Verdict → its colour, for every verdict of :data:`benchsuite.analysis.decisions.VERDICTS`.
VERDICT_COLOURS = {
    "held": "#1a7f37",
    "smaller than claimed": "#d4a72c",
    "inconclusive": "#bbbbbb",
    "refuted": "#b42318",
    "not judged": "#c9c3e6",
    "not run": "#ffffff",
}

NOT_JUDGED_TEXT = "#5a4a8a"
"""Text about a pair that was not judged (the report's ``.not-judged`` text colour: its fill is too pale to read)."""


def edge_colour(verdict: str) -> str:
    """A darker shade of the verdict's colour, for marker edges (so a pale verdict's dot stays visible on white)."""
    fill = VERDICT_COLOURS.get(verdict, "#888888").lstrip("#")
    r, g, b = (int(fill[i : i + 2], 16) for i in (0, 2, 4))
    return "#" + "".join(f"{int(c * 0.62):02x}" for c in (r, g, b))
