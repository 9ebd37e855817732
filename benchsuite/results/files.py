"""Files on disk between pipeline stages: atomic writes, results locations, reading results back."""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchsuite.results.formats import ResultsError, migrate


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, then ``os.replace``.

    A reader sees the old file or the new one, never a half-written one; an interrupted write leaves no partial
    file behind. Parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are shared files
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any, *, compact: bool = False) -> Path:
    """:func:`atomic_write_text` of ``data`` as indented JSON, or on one line with ``compact`` (about 3x faster to
    write, for the rewrites after every run; the last write of a session is indented)."""
    text = json.dumps(data, indent=None if compact else 2, sort_keys=False, default=str)
    return atomic_write_text(path, text + "\n")


def unwritable_reason(folder: Path) -> str | None:
    """Why files cannot be written into ``folder``, or None when they can: the folder is created (with its parents)
    and a probe file is written, fsynced and removed, as a session does before its first run.

    The reason is the operating system's (``Permission denied``, ``Read-only file system``, ``No space left on
    device``, ``Not a directory``, ...), naming the path that failed.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".benchsuite-probe-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(b"benchsuite write probe\n")
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            Path(probe).unlink(missing_ok=True)
    except OSError as exc:
        where = exc.filename or folder
        return f"{where}: {exc.strerror or exc}"
    return None


def new_run_id(now: datetime | None = None, token: str | None = None) -> str:
    """A run id that sorts by UTC start time and is unique across concurrent sessions: ``20261121T183000Z-3f9a1c``.

    The six hex digits are random (``secrets.token_hex``), so two sessions started in the same second (say one per
    GPU with ``CUDA_VISIBLE_DEVICES=i``) never write the same results file.
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{token or secrets.token_hex(3)}"


def results_path(results_dir: Path, machine: str, run_id: str) -> Path:
    """``results/<machine-id>/<run-id>.json``."""
    return Path(results_dir) / machine / f"{run_id}.json"


def trace_path(results_file: Path, scenario: str, case_id: str) -> Path:
    """``results/<machine-id>/<run-id>/traces/<scenario>_<case-id>.json.gz``: a profiled window's trace, in a folder
    named after the results file it belongs to (characters a file name should not hold become ``_``)."""
    name = re.sub(r"[^A-Za-z0-9_.=+-]", "_", f"{scenario}_{case_id}")
    return Path(results_file).with_suffix("") / "traces" / f"{name}.json.gz"


def report_path(reports_dir: Path, machine: str, run_id: str) -> Path:
    """``reports/<machine-id>_<run-id>.html``."""
    return Path(reports_dir) / f"{machine}_{run_id}.html"


def read_results(path: Path) -> dict[str, Any]:
    """Load a results file (pytest-benchmark's JSON with benchsuite's additions), brought up to the current format
    (:mod:`benchsuite.results.formats`).

    Raises:
        ResultsError: one line naming the file and what is wrong: unreadable, binary, not JSON (truncated or
            corrupted), not a pytest-benchmark or benchsuite results file, an unknown or newer format.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a text file (a results file is JSON)") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): truncated or corrupted"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a pytest-benchmark results file (no 'benchmarks' list)")
    return migrate(data, str(path), copy_data=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
