"""What a job file of a rank pool carries, and what comes back when its ranks fail it.

The pool (:class:`benchsuite.distributed.pool.RankPool`) writes ``job<n>.json`` into its folder; the ranks
(:mod:`benchsuite.distributed.worker`) write ``result<n>.json`` (rank 0), ``result<n>.json.rank<R>.error`` (a rank
that failed) and ``done<n>``. A job that does not end with ``done<n>`` gives a record with status ``crashed`` or
``timeout``, its error and no figures.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import torch

from benchsuite.scenario.matrix import Case, Run
from benchsuite.training.record import unfinished


def case_job(case: Case) -> dict[str, Any]:
    """A case as a job file carries it: scenario, axes, baseline flag and its configuration."""
    return {
        "scenario": case.scenario,
        "axes": [list(a) for a in case.axes],
        "is_baseline": case.is_baseline,
        "config": case.config.model_dump(mode="json"),
    }


def job_error(folder: Path, n: int, status: str, timeout_s: float, returncode: int | None = None) -> str:
    """Why job ``n`` failed: the failing rank's own message, else (a timeout) the limit, else how torchrun ended
    (``returncode``: its exit status, negative for the signal that ended it, as ``subprocess`` gives it) with the end
    of its output."""
    errors = sorted(folder.glob(f"result{n}.json.rank*.error"))
    if errors:
        return "; ".join(e.read_text(encoding="utf-8").strip() for e in errors)
    if status == "timeout":
        return f"no result within {timeout_s:g} s (a rank hung); its processes were killed"
    log = folder / "torchrun.log"
    lines = (
        [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        if log.exists()
        else []
    )
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else f"signal {-returncode}"
        lines.append(f"torchrun was killed by {name}; its ranks were killed")
    return " | ".join(lines[-3:]) or "torchrun failed without output"


def failed_run(run: Run, device: torch.device, status: str, error: str) -> dict[str, Any]:
    """The record of a run whose ranks failed (``crashed``) or hung (``timeout``): what ran, where, how it ended and
    why, no figures (:func:`benchsuite.training.record.unfinished`), as ``extra_info``."""
    return unfinished(run, device, status, error, world_size=run.case.config.train.world_size).extra_info()


def failed_profile(case: Case, world_size: int, status: str, error: str) -> dict[str, Any]:
    """The profile record of a case whose ranks failed or hung: what ran, how it ended and why, no phases."""
    return {
        "scenario": case.scenario,
        "case_id": case.case_id,
        "axes": dict(case.axes),
        "status": status,
        "error": error,
        "world_size": world_size,
        "phases": [],
        "top_ops": [],
    }
