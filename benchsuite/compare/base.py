"""The results file a pull request is compared against: the run of the pull request's base commit on the same runner
kind (the same machine id), from a history of results files ``RESULTS_DIR/<machine-id>/<run-id>.json`` (the
``benchsuite-results`` branch CI keeps), falling back to the nearest earlier commit when the base commit has none
(it may not have run yet, or its run failed).

A file's commit is pytest-benchmark's ``commit_info``: ``id`` (the full sha, ``git describe --abbrev=40``) and
``time`` (the committer date, ``git show -s --format=%cI``); when it ran is the file's top-level ``datetime``. The
rules:

- exact: a file whose commit id is the sha asked for (a prefix of at least :data:`MIN_SHA_CHARS` hex digits matches,
  as git's own abbreviations do); several runs of that commit: the newest by ``datetime``;
- otherwise, given the base commit's date: the file of the newest commit time not after that date (the nearest
  earlier commit; on a linear main branch its parent or an earlier ancestor), ties to the newest run;
- a file that cannot be read, or that names another machine id than its folder, is skipped with a warning.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchsuite.results.files import read_results

#: The fewest hex digits of a sha that may stand for it (git's default abbreviation, ``core.abbrev``).
MIN_SHA_CHARS = 7

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


class NoBaseError(LookupError):
    """No results file fits: the message says which machine id, which commit, and what was looked for."""


@dataclass(frozen=True)
class Base:
    """The chosen base run.

    Attributes:
        path: its results file.
        commit: its commit id (``commit_info.id``).
        commit_time: its commit's date as recorded (ISO 8601), or None where the file has none.
        exact: whether it is a run of the commit asked for (False: the nearest earlier commit).
        reason: one line saying why it was chosen.
    """

    path: Path
    commit: str
    commit_time: str | None
    exact: bool
    reason: str


@dataclass(frozen=True)
class _Stored:
    """What the choice reads of one results file."""

    path: Path
    commit: str
    commit_time: str | None
    committed_at: datetime | None
    ran_at: datetime


def short_sha(commit: str) -> str:
    """The first :data:`MIN_SHA_CHARS` characters of a commit id, as ``git log --oneline`` shows it."""
    return commit[:MIN_SHA_CHARS]


def same_commit(a: str, b: str) -> bool:
    """Whether two commit ids name the same commit: equal, or one a prefix of the other of at least
    :data:`MIN_SHA_CHARS` characters (case does not matter)."""
    a, b = a.strip().lower(), b.strip().lower()
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= MIN_SHA_CHARS and longer.startswith(shorter)


def check_sha(text: str, option: str = "--commit") -> str:
    """A commit sha as given on the command line (to ``option``).

    Raises:
        ValueError: fewer than :data:`MIN_SHA_CHARS` hex digits, or anything but hex digits.
    """
    if not re.fullmatch(rf"[0-9a-fA-F]{{{MIN_SHA_CHARS},40}}", text.strip()):
        raise ValueError(f"{option} {text!r}: expected a commit sha of {MIN_SHA_CHARS} to 40 hex digits")
    return text.strip().lower()


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 date and time (``2026-11-30T12:00:00+01:00``, ``…Z``) as an aware datetime; one without an offset
    is read as UTC; None for anything else (a missing or malformed field)."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def check_date(text: str) -> datetime:
    """A commit date as given on the command line (``git show -s --format=%cI``).

    Raises:
        ValueError: not an ISO 8601 date and time.
    """
    when = parse_time(text)
    if when is None:
        raise ValueError(f"--commit-date {text!r}: expected an ISO 8601 date such as 2026-11-30T12:00:00+00:00")
    return when


def _stored(path: Path, machine_id: str) -> _Stored:
    """Read what the choice needs of one file.

    Raises:
        ValueError: an unreadable file (:class:`benchsuite.results.formats.ResultsError`), or one whose recorded
            machine id is another than its folder's.
    """
    data = read_results(path)
    recorded = (data.get("benchsuite") or {}).get("machine_id")
    if recorded and recorded != machine_id:
        raise ValueError(f"{path}: field 'benchsuite.machine_id' is {recorded!r}, not its folder's {machine_id!r}")
    info = data.get("commit_info") or {}
    commit_time = info.get("time") if isinstance(info.get("time"), str) else None
    ran_at = parse_time(data.get("datetime")) or _OLDEST
    return _Stored(path, str(info.get("id") or "unknown"), commit_time, parse_time(commit_time), ran_at)


def _warn_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def stored_runs(folder: Path, machine_id: str, warn: Callable[[str], None] = _warn_stderr) -> list[_Stored]:
    """Every readable results file of ``folder`` (``RESULTS_DIR/<machine-id>/*.json``), in name order; each file
    that cannot be read is skipped with one ``warning: skipped …`` line passed to ``warn``."""
    found = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            found.append(_stored(path, machine_id))
        except ValueError as exc:  # ResultsError is one: the message names the file and what is wrong
            warn(f"warning: skipped {exc}")
    return found


def _newest(runs: list[_Stored], key: Callable[[_Stored], tuple]) -> _Stored:
    return max(runs, key=lambda s: (*key(s), str(s.path)))


def find_base(
    results_dir: Path,
    machine_id: str,
    commit: str,
    commit_date: str | None = None,
    warn: Callable[[str], None] = _warn_stderr,
) -> Base:
    """The base run of ``commit`` for ``machine_id`` under ``results_dir``, or of the nearest earlier commit with
    ``commit_date`` (the module's rules).

    Raises:
        ValueError: ``commit`` is not a sha of at least :data:`MIN_SHA_CHARS` hex digits, or ``commit_date`` not an
            ISO 8601 date.
        NoBaseError: no results file fits (the message says what was looked for).
    """
    sha = check_sha(commit)
    before = check_date(commit_date) if commit_date is not None else None
    folder = Path(results_dir) / machine_id
    runs = stored_runs(folder, machine_id, warn) if folder.is_dir() else []
    if not runs:
        raise NoBaseError(f"no results for {machine_id} under {results_dir}")
    exact = [s for s in runs if same_commit(s.commit, sha)]
    if exact:
        chosen = _newest(exact, lambda s: (s.ran_at,))
        return Base(chosen.path, chosen.commit, chosen.commit_time, True, f"exact: commit {short_sha(chosen.commit)}")
    missing = f"commit {short_sha(sha)} has no results for {machine_id}"
    if before is None:
        raise NoBaseError(f"{missing}, and no --commit-date was given to look for an earlier commit")
    earlier = [s for s in runs if s.committed_at is not None and s.committed_at <= before]
    if not earlier:
        raise NoBaseError(f"{missing}, nor has any commit before {commit_date}")
    chosen = _newest(earlier, lambda s: (s.committed_at, s.ran_at))
    reason = f"{missing}; nearest earlier commit {short_sha(chosen.commit)} ({chosen.commit_time})"
    return Base(chosen.path, chosen.commit, chosen.commit_time, False, reason)
