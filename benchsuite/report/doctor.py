"""The summary of ``benchsuite doctor``: what looked wrong in its results file, in the terminal (:func:`doctor_lines`)
and as the HTML report's Doctor section (:func:`doctor_section`). The findings are
:func:`benchsuite.analysis.health.findings`; the notices about the file and the GPU's state are the report's own
(:func:`benchsuite.report.overview.notices`). Both show only for a file with a ``benchsuite.doctor`` block.
"""

from __future__ import annotations

from typing import Any

from benchsuite.analysis.health import doctor_block, doctor_checks, findings
from benchsuite.report.overview import notices

#: The HTML class of each check status (the verdict colours of the report's style).
STATUS_CLASS = {"ok": "held", "warn": "inconclusive", "fail": "refuted", "skipped": "not-run"}

#: Width of the status column of the checks table in the terminal (the longest status, ``skipped``).
STATUS_WIDTH = 7


def has_doctor(data: dict[str, Any]) -> bool:
    """Whether a results file's ``data`` was written by ``benchsuite doctor`` (it has a ``benchsuite.doctor``
    block)."""
    return doctor_block(data) is not None


def headline(n: int) -> str:
    """``doctor: 3 things looked wrong``, ``doctor: 1 thing looked wrong`` or ``doctor: nothing looked wrong``;
    ``n`` counts the findings and the notices."""
    if not n:
        return "doctor: nothing looked wrong"
    return f"doctor: {n} thing{'s' if n != 1 else ''} looked wrong"


def looked_wrong(data: dict[str, Any]) -> int:
    """How many things looked wrong: the findings and the notices (what the headline counts; the doctor's exit status
    is 1 when it is above 0)."""
    return len(findings(data)) + len(_notices(data))


def doctor_lines(data: dict[str, Any]) -> list[str]:
    """The doctor's block for the terminal: the headline (:func:`headline`), the report's notices (a session that did
    not finish, throttling, the GPU's state), one ``- [kind] where: text`` line per finding, then, for a file with a
    doctor block, every check as ``ok      name: text`` (all statuses) and the seconds the checks took."""
    found, notes = findings(data), _notices(data)
    lines = [headline(len(found) + len(notes)), *notes]
    lines += [f"- [{f.kind}] {f.where}: {f.text}" for f in found]
    checks = doctor_checks(data)
    if checks:
        lines.append(f"checks{_seconds_text(doctor_block(data))}:")
        lines += [f"{str(c.get('status')):<{STATUS_WIDTH}} {c.get('name')}: {c.get('text')}" for c in checks]
    return lines


def doctor_section(data: dict[str, Any]) -> dict[str, Any] | None:
    """What the HTML report's Doctor section shows, or None for a file without a doctor block: ``headline``,
    ``device``, ``seconds`` (wall seconds of the checks, or None), ``checks`` (every check's ``status``, ``name`` and
    ``text``, with ``class``, its colour: :data:`STATUS_CLASS`) and ``findings``
    (:class:`benchsuite.analysis.health.Finding`, checks first)."""
    block = doctor_block(data)
    if block is None:
        return None
    found = findings(data)
    checks = [{k: str(c.get(k) or "") for k in ("status", "name", "text")} for c in doctor_checks(data)]
    checks = [{**c, "class": STATUS_CLASS.get(c["status"], "")} for c in checks]
    seconds = block.get("seconds")
    return {
        "headline": headline(len(found) + len(_notices(data))),
        "device": str(block.get("device") or "?"),
        "seconds": seconds if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None,
        "checks": checks,
        "findings": found,
    }


def _notices(data: dict[str, Any]) -> list[str]:
    """The report's notices (:func:`benchsuite.report.overview.notices`), or none for data they cannot read."""
    try:
        return notices(data)
    except Exception:  # the last resort: the doctor's summary is read first on a new machine, and must not fail
        return []


def _seconds_text(block: dict[str, Any] | None) -> str:
    """`` (12.3 s)``: the wall seconds the checks took, or nothing when not recorded."""
    seconds = (block or {}).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return ""
    return f" ({seconds:.1f} s)"
