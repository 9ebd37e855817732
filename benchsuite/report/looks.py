"""Looks and top-ups in the report: the table of a claim's looks (group-sequential seeds: each look's seeds per side,
the one-sided level it spent, each pair's interval and the look's decision), and the lines about the top-up budget
that the results file's ``benchsuite.top_ups`` block records (``{budget_s, spent_s, skipped: [{run_id, reason}]}``).

A verdict carries its looks as ``looks`` (each with ``n``, ``tail``, ``verdict`` and ``pairs``) and ``settled`` when
the analysis records them; verdicts and files from before top-ups have neither, and show nothing here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def looks_of(verdict: Any) -> tuple[Any, ...]:
    """The verdict's looks, oldest first (empty for a verdict judged once, or from before looks were recorded)."""
    return tuple(getattr(verdict, "looks", None) or ())


def _key(pair: Any) -> tuple[str, str]:
    return pair.effect.case_id, pair.effect.against_id


def settled_text(verdict: Any) -> str | None:
    """``settled at look 2 of 3`` or ``still open after 3 looks`` from ``verdict.settled`` (the look that settled it,
    or whether one did), or None when the verdict does not say."""
    looks, settled = looks_of(verdict), getattr(verdict, "settled", None)
    if isinstance(settled, bool):
        return f"settled at look {len(looks)}" if settled else f"still open after {len(looks)} looks"
    if isinstance(settled, int):
        return f"settled at look {settled}"
    return None


def looks_table(verdict: Any) -> dict[str, Any] | None:
    """The looks of a claim that took more than one: ``pairs`` (``case vs against`` headers), ``rows`` (per look its
    number, ``n`` seeds per side, ``tail`` the one-sided level spent, ``cells`` each pair's
    :class:`benchsuite.analysis.verdicts.PairVerdict` or None where the look did not compare it, and ``verdict`` the
    look's decision) and ``settled`` (:func:`settled_text`); None for a claim judged at one look."""
    looks = looks_of(verdict)
    if len(looks) < 2:
        return None
    keys = list(dict.fromkeys(_key(p) for look in looks for p in getattr(look, "pairs", ())))
    rows = []
    for number, look in enumerate(looks, start=1):
        by_key = {_key(p): p for p in getattr(look, "pairs", ())}
        rows.append(
            {
                "look": number,
                "n": getattr(look, "n", None),
                "tail": getattr(look, "tail", None),
                "cells": [by_key.get(k) for k in keys],
                "verdict": getattr(look, "verdict", "?"),
            }
        )
    return {"pairs": [f"{a} vs {b}" for a, b in keys], "rows": rows, "settled": settled_text(verdict)}


def top_ups(data: dict[str, Any]) -> dict[str, Any] | None:
    """The results file's top-up block, or None (a file from before top-ups, or one that ran none)."""
    block = (data.get("benchsuite") or {}).get("top_ups")
    return block if isinstance(block, dict) else None


def _seconds(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return f"{value:,.0f} s" if abs(value) >= 100 else f"{value:.3g} s"


def _skipped(block: dict[str, Any]) -> list[dict[str, Any]]:
    skipped = block.get("skipped")
    return [s for s in skipped if isinstance(s, dict)] if isinstance(skipped, list) else []


def _runs(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''}"


def _took(verdicts: Iterable[Any]) -> str:
    took = sum(len(looks_of(v)) > 1 for v in verdicts)
    return f"{took} claim{'s' if took != 1 else ''} took more seeds" if took else "no claim took more seeds"


def top_up_line(block: dict[str, Any] | None, verdicts: Iterable[Any]) -> str | None:
    """``top-ups: 3 claims took more seeds, 41 s of a 60 s budget; 4 runs skipped for the budget`` for the run card,
    from the file's top-up block and every claim's verdict (``top-ups: off (no budget)`` for a budget of 0, and the
    error when judging the looks failed); None without a block."""
    if block is None:
        return None
    spent, budget = _seconds(block.get("spent_s")), _seconds(block.get("budget_s"))
    if block.get("budget_s") == 0 and not _skipped(block):
        return "top-ups: off (no budget)"
    line = "top-ups: " + _took(verdicts)
    if spent and budget:
        line += f", {spent} of a {budget} budget"
    elif spent or budget:
        line += f", {spent} spent" if spent else f" (a {budget} budget)"
    skipped = _skipped(block)
    line += f"; {_runs(len(skipped))} skipped for the budget" if skipped else ""
    error = block.get("error")
    return line + (f"; judging the looks failed, so no more were run: {error}" if error else "")


def _scenario_of(entry: dict[str, Any]) -> str:
    return str(entry.get("scenario") or str(entry.get("run_id", "")).split("[", 1)[0])


MAX_NAMED = 6
"""Skipped runs named per reason in a section's line; the rest are counted."""


def _named(run_ids: list[str]) -> str:
    more = len(run_ids) - MAX_NAMED
    return ", ".join(run_ids[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


def section_top_up_line(block: dict[str, Any] | None, scenario: str, verdicts: Iterable[Any]) -> str | None:
    """The top-ups of one scenario, ``top-ups: 2 claims took more seeds (up to n = 14 per side); 1 run skipped for the
    budget (top-up budget of 60 s spent): tiny[init=default-seed=8]``; None without a block or when top-ups touched
    none of the scenario's claims and runs."""
    if block is None:
        return None
    verdicts = list(verdicts)
    longer = [looks_of(v) for v in verdicts if len(looks_of(v)) > 1]
    skipped = [s for s in _skipped(block) if _scenario_of(s) == scenario]
    if not longer and not skipped:
        return None
    line = "top-ups: " + _took(verdicts)
    ns = [n for looks in longer if isinstance(n := getattr(looks[-1], "n", None), int)]
    line += f" (up to n = {max(ns)} per side)" if ns else ""
    by_reason: dict[str, list[str]] = {}
    for entry in skipped:
        by_reason.setdefault(str(entry.get("reason") or ""), []).append(str(entry.get("run_id", "?")))
    for reason, run_ids in by_reason.items():
        why = f" ({reason})" if reason else ""
        line += f"; {_runs(len(run_ids))} skipped for the budget{why}: {_named(run_ids)}"
    return line
