"""The overview every reader sees first: one row per claim (scenario, claim, verdict, effect with interval, n), for
the HTML report's first screen and as Markdown for a CI job summary or a pull-request comment.

Above it, the lines about the file itself (:func:`notices`): a session that did not finish, benchmark entries that
are not benchsuite's. Markdown follows GitHub Flavored Markdown tables
(https://github.github.com/gfm/#tables-extension-): one header row, a delimiter row, ``|`` inside a cell escaped
as ``\\|``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchsuite.analysis import verdicts
from benchsuite.analysis.decisions import VERDICTS
from benchsuite.report.filters import fmt_pair
from benchsuite.report.verdict_words import (
    expected_false_verdicts,
    fragile_text,
    look_text,
    ordered_qualifiers,
    strength_text,
)
from benchsuite.results import frames
from benchsuite.specs.claim_metrics import CLAIM_METRICS
from benchsuite.telemetry.metrics import SLOWDOWNS


@dataclass(frozen=True)
class OverviewRow:
    """One claim's line of the overview.

    Attributes:
        scenario: the scenario's name (the anchor of its section).
        says: the claim in words.
        verdict: one of :data:`benchsuite.analysis.decisions.VERDICTS` (``held`` … ``not judged``, ``not run``).
        effects: every compared pair's effect with its interval and its level, ``case vs against: 1.62× [1.41×,
            1.80×] 95 %`` (``, reversed`` when wholly on the other side of no effect), or why it was not judged,
            ``case vs against: not judged: no run reached the target (…) within 2 s``.
        n: runs (or seed pairs, or block quadruples) behind each side, ``5 vs 5``, ``8 seed pairs``.
        metric: what the claim measures, in words.
        note: ``1 of 2 pairs not judged`` beside a verdict decided by some of the claim's pairs, else None.
        strength: ``confirmed: at least 2×`` or ``consistent with 2×: …`` for a held ``better`` claim, else None.
        look: the look the verdict stands at, n said once (``look 2 of 3, n = 14``, ``look 3 of 3, n = 21, within
            the indifference zone``, ``look 2 of 3 cut short, n = 10 of 14``), else None.
        fragile: ``fragile: leaving out seed 3 changes it``, else None.
        reversed: refuted with every judged pair wholly on the other side of no effect.
        kind: the claim's kind (``better``, ``no_worse``, ``equivalent``).
    """

    scenario: str
    says: str
    verdict: str
    effects: tuple[str, ...]
    n: str
    metric: str
    note: str | None = None
    strength: str | None = None
    look: str | None = None
    fragile: str | None = None
    reversed: bool = False
    kind: str = "better"

    @property
    def qualifiers(self) -> list[str]:
        """The words beside the verdict, in the terminal's order (:func:`benchsuite.report.verdict_words.
        ordered_qualifiers`)."""
        return ordered_qualifiers(self.reversed, self.strength, self.look, self.note, self.fragile)


def _n_text(effect: verdicts.PairEffect) -> str:
    if effect.source == "runs":
        return f"{effect.n} vs {effect.n_against}"
    if effect.source == "paired blocks":  # judged by ABBA quadruple: two block pairs each
        return f"{effect.n} block quadruple{'s' if effect.n != 1 else ''}"
    return f"{effect.n} seed pairs"


def rows_of(scenario: str, judged: list[verdicts.Verdict]) -> list[OverviewRow]:
    """The overview rows of one scenario's judged claims."""
    rows = []
    for verdict in judged:
        pairs = verdict.pairs
        effects = tuple(f"{p.effect.case_id} vs {p.effect.against_id}: {fmt_pair(p)}" for p in pairs)
        n = ", ".join(sorted({_n_text(p.effect) for p in pairs})) or "0"
        words = CLAIM_METRICS[verdict.claim.metric].words
        rows.append(
            OverviewRow(
                scenario,
                verdict.claim.says,
                verdict.label,
                effects,
                n,
                words,
                verdict.pairs_note,
                strength_text(verdict.claim, verdict.strength),
                look_text(verdict),
                fragile_text(verdict),
                verdict.reversed,
                verdict.claim.kind,
            )
        )
    return rows


def incomplete_text(data: dict[str, Any]) -> str | None:
    """``This session did not finish: the results file holds the 12 runs finished before it stopped`` for a file
    marked incomplete, else None."""
    if not frames.incomplete(data):
        return None
    n = frames.run_count(data)
    runs = f"{n} run{'s' if n != 1 else ''}"
    return f"This session did not finish: the results file holds the {runs} finished before it stopped"


def left_out_text(data: dict[str, Any]) -> str | None:
    """``2 benchmark entries without benchsuite's extra_info were left out``, or None when every entry was read."""
    n = frames.left_out(data)
    if not n:
        return None
    entries, were = (f"{n} benchmark entries", "were") if n != 1 else ("1 benchmark entry", "was")
    return f"{entries} without benchsuite's extra_info {were} left out"


def throttle_text(data: dict[str, Any]) -> str | None:
    """``GPU clocks slowed in the timed region of 3 of 40 runs (sw_power_cap in up to 60 % of a run's samples)`` when
    any run's telemetry saw a slowdown reason (:data:`benchsuite.telemetry.metrics.SLOWDOWNS`), else None."""
    runs = [b.get("extra_info") or {} for b in data.get("benchmarks") or []]
    sampled = [info["clock_event_shares"] for info in runs if isinstance(info.get("clock_event_shares"), dict)]
    worst: dict[str, float] = {}
    slowed = 0
    for shares in sampled:
        seen = {k: float(v) for k, v in shares.items() if k in SLOWDOWNS and float(v) > 0}
        slowed += bool(seen)
        for reason, share in seen.items():
            worst[reason] = max(worst.get(reason, 0.0), share)
    if not slowed:
        return None
    reasons = ", ".join(f"{r} in up to {s:.0%}" for r, s in sorted(worst.items(), key=lambda kv: -kv[1]))
    return f"GPU clocks slowed in the timed region of {slowed} of {len(sampled)} runs ({reasons} of a run's samples)"


def gpu_state_text(data: dict[str, Any]) -> str | None:
    """One warning about the GPU machine state the session recorded at its start (``machine_info.benchsuite.gpu_state``,
    from NVML), or None when nothing was recorded (an old file, a CPU run) or nothing would distort the figures, e.g.
    ``GPU 0 (NVIDIA H100 80GB HBM3): 2 other compute processes were running (pids 123, 456); persistence mode off;
    clocks not locked``. Other processes on a GPU are always named; persistence mode off is noted per GPU; unlocked
    clocks (the common case: boost clocks follow power and temperature) are said once, at the end. A field NVML
    could not read (None) says nothing."""
    states = ((data.get("machine_info") or {}).get("benchsuite") or {}).get("gpu_state")
    if not isinstance(states, list):
        return None
    parts, unlocked = [], False
    for state in (s for s in states if isinstance(s, dict)):
        found = []
        pids = state.get("other_process_pids")
        count = state.get("other_process_count")
        if count is None and isinstance(pids, list):
            count = len(pids)
        if count:
            listed = ", ".join(str(p) for p in pids) if isinstance(pids, list) else ""
            shown = f" (pid{'s' if len(pids) > 1 else ''} {listed})" if listed else ""
            found.append(f"{count} other compute process{'es were' if count > 1 else ' was'} running{shown}")
        if state.get("persistence_mode") == "off":
            found.append("persistence mode off")
        unlocked = unlocked or state.get("clocks_locked") is False
        if found:
            name = f" ({state['name']})" if state.get("name") else ""
            parts.append(f"GPU {state.get('index', '?')}{name}: " + "; ".join(found))
    if unlocked:
        parts.append("clocks not locked" if parts else "GPU clocks not locked")
    return "; ".join(parts) or None


def notices(data: dict[str, Any]) -> list[str]:
    """The lines about the file itself that every summary shows first (:func:`incomplete_text`,
    :func:`left_out_text`, :func:`throttle_text`, :func:`gpu_state_text`)."""
    lines = (incomplete_text(data), left_out_text(data), throttle_text(data), gpu_state_text(data))
    return [line for line in lines if line]


def overview_rows(data: dict[str, Any]) -> list[OverviewRow]:
    """Every claim of every scenario in a results file's data, in scenario order."""
    runs, specs, blocks = frames.runs_frame(data), frames.scenario_specs(data), frames.blocks_frame(data)
    if runs.empty:
        return []
    blocked = frames.blocked_by_seed(data)
    return [
        row
        for name, spec in specs.items()
        if (runs["scenario"] == name).any()
        for row in rows_of(name, verdicts.claim_verdicts(runs, spec, blocks, blocked))
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(data: dict[str, Any]) -> str:
    """The hardware line and the verdict table of a results file's data, as GitHub Flavored Markdown."""
    hw = frames.hardware_summary(data)
    run_id = data.get("benchsuite", {}).get("run_id", "?")
    lines = [
        f"### benchsuite: {hw['machine_id']}",
        "",
        f"Run `{run_id}` on {hw['device']}: {hw['cpu']}; GPU {hw['gpu']}; torch {hw['torch']}; commit "
        f"`{hw['commit']}`.",
        "",
    ]
    lines += [f"**{line}.**" if line.startswith("This session") else f"{line}." for line in notices(data)]
    lines += [""] if notices(data) else []
    rows = overview_rows(data)
    if not rows:
        return "\n".join([*lines, "No claims were judged (no benchmarked runs)."]) + "\n"
    lines += ["| scenario | claim | verdict | effect [interval] | n |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        effects = "<br>".join(_cell(e) for e in row.effects) or "—"
        verdict = f"**{row.verdict}**" + (f" ({'; '.join(row.qualifiers)})" if row.qualifiers else "")
        lines.append(f"| {row.scenario} | {_cell(row.says)} | {verdict} | {effects} | {row.n} |")
    counts = {v: sum(r.verdict == v for r in rows) for v in VERDICTS if any(r.verdict == v for r in rows)}
    judged = [r for r in rows if r.verdict not in ("not run", "not judged")]
    lines += [
        "",
        "Verdicts: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" (of {len(rows)} claims). "
        "Each interval's level is printed after it: the error a look spends (more seeds, more looks, stricter "
        "levels), the upper bounds of a claim's pairs Holm-corrected; n is runs per side, seed pairs, or block "
        "quadruples (two ABBA block pairs each). " + expected_false_verdicts(judged),
    ]
    return "\n".join(lines) + "\n"
