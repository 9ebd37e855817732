"""The pull-request comment CI posts (``benchsuite report NEW --format markdown --against BASE``): what changed
between the base run (the pull request's base commit on the same runner kind, :mod:`benchsuite.compare.base`) and
the new run, as GitHub Flavored Markdown.

Its parts come from the one implementation of each rule: the verdicts from :func:`benchsuite.report.overview.
overview_rows` of each file, the comparison from :func:`benchsuite.compare.sides.compare`, the breaches from
:func:`benchsuite.compare.gate.gate` (asv's factor threshold with benchsuite's interval in place of the p-value: a
difference breaches only when its whole 95 % interval lies beyond the threshold). The gate applies only when both
runs have the same machine id, since across machines it would flag the hardware, not the change.

The body opens with :data:`MARKER`, by which the workflow finds its own comment. When nothing changed (no claim's
verdict differs, no breach) the body is short and depends only on the base's commit and run id, the machine id, the
gate and the counts, never on a per-run figure: two runs that measured the same verdicts give the same bytes, and the
workflow leaves the comment as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchsuite.compare.base import check_sha, same_commit, short_sha
from benchsuite.compare.gate import GateRule, gate
from benchsuite.compare.sides import compare, load_side
from benchsuite.report.overview import OverviewRow, markdown_summary, overview_rows
from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.results.formats import ResultsError

#: The hidden first line of the comment, by which the workflow finds the comment it made before.
MARKER = "<!-- benchsuite-pr-comment -->"

#: The gate when no ``--fail-on`` is given: the CI job's (``.ci/benchmark-summary``).
DEFAULT_GATE = ("time_per_step:+10%", "throughput:-10%")

#: The most breach lines listed (a comment holds at most 65,536 characters); the rest are counted.
MAX_BREACH_LINES = 40

#: The verdict column of a claim that one side does not have.
ABSENT = "—"


@dataclass(frozen=True)
class VerdictChange:
    """A claim whose verdict differs between the base and the new run (:data:`ABSENT` where a side lacks it)."""

    scenario: str
    says: str
    base: str
    new: str
    effects: tuple[str, ...]


@dataclass(frozen=True)
class GateOutcome:
    """The gate's result: the rules it judged, its breach lines, or why it was not applied (then no breaches)."""

    rules: tuple[GateRule, ...]
    breaches: tuple[str, ...] = ()
    not_applied: str | None = None


def _keyed(rows: list[OverviewRow]) -> dict[tuple[str, str, int], OverviewRow]:
    """Rows by (scenario, claim, occurrence): a scenario may state the same words twice."""
    seen: dict[tuple[str, str], int] = {}
    keyed = {}
    for row in rows:
        k = seen[(row.scenario, row.says)] = seen.get((row.scenario, row.says), -1) + 1
        keyed[(row.scenario, row.says, k)] = row
    return keyed


def verdict_changes(base: list[OverviewRow], new: list[OverviewRow]) -> tuple[list[VerdictChange], int]:
    """The claims whose verdict changed, in the new run's order then the base's, and how many kept theirs."""
    before, after = _keyed(base), _keyed(new)
    changes, same = [], 0
    for key in dict.fromkeys([*after, *before]):
        old, now = before.get(key), after.get(key)
        if old is not None and now is not None and old.verdict == now.verdict:
            same += 1
            continue
        effects = now.effects if now is not None else ()
        changes.append(
            VerdictChange(key[0], key[1], old.verdict if old else ABSENT, now.verdict if now else ABSENT, effects)
        )
    return changes, same


def machine_id(data: dict[str, Any]) -> str:
    """The machine id a results file's runs came from."""
    return frames.hardware_summary(data)["machine_id"]


def gate_outcome(
    new: tuple[Path, dict[str, Any]], base: tuple[Path, dict[str, Any]], rules: list[GateRule]
) -> GateOutcome:
    """The gate of ``rules`` on the new run against the base (:func:`benchsuite.compare.gate.gate`, the base as A),
    applied only when both have the same machine id; ``new`` and ``base`` are each a results file with its data
    (already read, not read again).

    Raises:
        ResultsError: a file that cannot be read (one line naming it).
    """
    new_id, base_id = machine_id(new[1]), machine_id(base[1])
    if new_id != base_id:
        why = f"the base ran on {base_id}, and across machines the gate would flag the hardware, not the change"
        return GateOutcome(tuple(rules), not_applied=why)
    sides = [load_side(path, data=data) for path, data in (base, new)]
    try:
        breaches = gate(compare(sides), rules)
    except ResultsError:  # nothing to compare: the files were read, they share no comparable case
        return GateOutcome(tuple(rules), not_applied="no case ran with the same configuration in both runs")
    return GateOutcome(tuple(rules), tuple(breaches))


def rules_text(rules: tuple[GateRule, ...]) -> str:
    """``time per step +10 %, throughput −10 %``."""
    return ", ".join(
        f"{r.metric.replace('_', ' ')} {'+' if r.limit > 0 else '−'}{abs(r.limit) * 100:g} %" for r in rules
    )


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _gate_clause(outcome: GateOutcome) -> str:
    if outcome.not_applied:
        return f"; the gate was not applied: {outcome.not_applied}"
    n = len(outcome.breaches)
    beyond = "no case beyond the gate" if not n else _plural(n, "breach of the gate", "breaches of the gate")
    return f", {beyond} ({rules_text(outcome.rules)})"


def fallback_text(base_commit: str | None, base_data: dict[str, Any], runner: str) -> str | None:
    """The sentence saying the base commit had no results on this runner kind and an earlier commit's run was used,
    when ``base_commit`` is given and is not the base run's commit; else None."""
    commit = str((base_data.get("commit_info") or {}).get("id") or "unknown")
    if base_commit is None or same_commit(base_commit, commit):
        return None
    return (
        f"The base commit `{short_sha(base_commit)}` has no results on this runner kind ({runner}); the nearest "
        f"earlier commit with results, `{short_sha(commit)}`, was used instead."
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _changes_table(changes: list[VerdictChange]) -> list[str]:
    lines = [
        "| scenario | claim | base verdict | new verdict | new effect [interval] |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in changes:
        effects = "<br>".join(_cell(e) for e in c.effects) or ABSENT
        lines.append(f"| {c.scenario} | {_cell(c.says)} | {c.base} | **{c.new}** | {effects} |")
    if any(ABSENT in (c.base, c.new) for c in changes):
        lines += ["", f"{ABSENT}: the claim is not in that run (added or removed, or its scenario did not run)."]
    return lines


def _breach_lines(breaches: tuple[str, ...]) -> list[str]:
    lines = [f"- regression: {_cell(b)}" for b in breaches[:MAX_BREACH_LINES]]
    if len(breaches) > MAX_BREACH_LINES:
        lines.append(f"- … and {len(breaches) - MAX_BREACH_LINES} more (`benchsuite compare BASE NEW --fail-on …`)")
    return lines


def _details(new_data: dict[str, Any]) -> list[str]:
    """The new run's whole verdict table (:func:`benchsuite.report.overview.markdown_summary`) folded away, without
    its heading (the comment has one)."""
    summary = markdown_summary(new_data)
    if summary.startswith("### "):
        summary = summary.split("\n", 1)[1].lstrip("\n")
    run_id = (new_data.get("benchsuite") or {}).get("run_id", "?")
    return [
        f"<details><summary>Every verdict of run <code>{run_id}</code></summary>",
        "",
        summary.rstrip(),
        "",
        "</details>",
    ]


def comment_body(
    new_path: Path,
    base_path: Path,
    *,
    new_data: dict[str, Any] | None = None,
    base_commit: str | None = None,
    fail_on: list[str] | None = None,
) -> str:
    """The pull-request comment on the run of ``new_path`` against the base run of ``base_path``: the no-change body
    or the changed verdicts, the gate's breaches and the new run's verdict table (the module's rules). ``new_data``:
    the new file's data when already read; ``base_commit``: the pull request's base commit (when the base run is of
    another, the comment says so); ``fail_on``: the gate's rules (default :data:`DEFAULT_GATE`).

    Raises:
        ResultsError: a results file that cannot be read (one line naming it).
        ValueError: a ``fail_on`` rule that does not parse, or a ``base_commit`` that is not a sha.
    """
    rules = [GateRule.parse(text) for text in (fail_on or DEFAULT_GATE)]
    if base_commit is not None:
        base_commit = check_sha(base_commit, "--base-commit")
    new_data = new_data if new_data is not None else read_results(Path(new_path))
    base_data = read_results(Path(base_path))
    runner = machine_id(new_data)
    changes, same = verdict_changes(overview_rows(base_data), overview_rows(new_data))
    outcome = gate_outcome((Path(new_path), new_data), (Path(base_path), base_data), rules)
    commit = short_sha(str((base_data.get("commit_info") or {}).get("id") or "unknown"))
    against = f"base `{commit}` (run `{(base_data.get('benchsuite') or {}).get('run_id', '?')}`)"
    lines = [MARKER, f"### benchsuite: {runner}", ""]
    if not changes and not outcome.breaches:
        lines.append(f"No change against {against}: {_plural(same, 'verdict')} the same{_gate_clause(outcome)}.")
    else:
        total = same + len(changes)
        changed = f"{len(changes)} of {_plural(total, 'verdict')} changed" if changes else "no verdict changed"
        lines.append(f"Against {against}: {changed}{_gate_clause(outcome)}.")
    fallback = fallback_text(base_commit, base_data, runner)
    lines += [fallback] if fallback else []
    if changes:
        lines += ["", "#### Verdicts that changed", "", *_changes_table(changes)]
    if outcome.breaches:
        lines += ["", "#### Beyond the gate", "", *_breach_lines(outcome.breaches)]
    if changes or outcome.breaches:
        lines += ["", *_details(new_data)]
    return "\n".join(lines) + "\n"
