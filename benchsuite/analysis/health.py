"""What looked wrong in a results file: the findings ``benchsuite doctor`` lists after its checks, read from a results
dict as :func:`benchsuite.results.files.read_results` returns it (any file: without a ``benchsuite.doctor`` block
only the findings from the runs are listed).

Each finding is one line for a person, with its figure, unit and n. The rules, in the order they are listed:

1. ``check``: a doctor check (``benchsuite.doctor.checks``, :mod:`benchsuite.telemetry.checks`) whose status is one
   of :data:`benchsuite.telemetry.checks.PROBLEMS` (``warn``, ``fail``); one finding each, where = the check's name.
2. Session level (where = ``session``):

   - ``dropped_metric``: a telemetry metric the sampler stopped reading (a run's ``dropped_metrics`` and
     ``dropped_reasons``), one finding per metric with the runs that dropped it and the first reason given;
   - ``no_mfu``: finished CUDA runs (``device`` starting with ``cuda``, status ``ok``) with no MFU: the GPU is not in
     the peak table (``benchsuite.telemetry.mfu.PEAK_FLOPS``), so no MFU is computed anywhere on it;
   - ``noisy``: more than :data:`benchsuite.analysis.cases.TOO_NOISY_SHARE` of the runs were unstable
     (:func:`benchsuite.analysis.cases.too_noisy`): time claims should not be trusted.

3. Per scenario, in the order the scenarios ran (where = ``scenario`` or ``scenario/case``), each kind for every case
   in turn:

   - ``not_ok``: runs that did not end ``ok`` (``crashed``, ``oom``, ``failed``, ``timeout``, ``diverged``), per
     case, with their count by status and the first line of the first error;
   - ``telemetry_coverage``: runs whose timed region held too few telemetry samples for figures
     (``telemetry_coverage`` set), counted per scenario;
   - ``mfu_low`` / ``mfu_high``: the median MFU over a case's runs below :data:`MFU_LOW` or above :data:`MFU_HIGH`;
   - ``unstable``: runs flagged unstable (segment step-time CV above
     :data:`benchsuite.telemetry.step_times.UNSTABLE_CV`), per case, with their CVs;
   - ``grid``: cases whose time-to-target is partly the evaluation grid (:func:`benchsuite.analysis.grid.coarse` of
     :func:`benchsuite.analysis.grid.grid_shares`), with the share in % and the gap in steps;
   - ``host_syncs``: profiled windows that found the host waiting on the device inside the step (``syncs.checked``
     and ``syncs.per_step`` > 0), per case, with the top source lines.

No rule ever raises on odd data (missing fields, None, wrong types, an old file): what cannot be read is skipped.
"""

from __future__ import annotations

from typing import Any

from benchsuite.analysis.case_health import (
    MFU_HIGH,
    MFU_LOW,
    TOP_SYNC_SOURCES,
    Finding,
    finite_number,
    first_line,
    flagged_grid_shares,
    profiled_windows,
    run_infos,
    safe,
    scenario_findings,
)
from benchsuite.analysis.cases import noise_summary, too_noisy
from benchsuite.results import frames
from benchsuite.telemetry.checks import PROBLEMS

__all__ = ["MFU_HIGH", "MFU_LOW", "TOP_SYNC_SOURCES", "Finding", "findings", "doctor_block", "doctor_checks"]


def findings(data: dict[str, Any]) -> list[Finding]:
    """Every finding of a results file's ``data``: the doctor's checks that did not pass, then the session's
    findings, then each scenario's (rules and thresholds: the module docstring). Never raises: a rule that cannot
    read its fields finds nothing."""
    out = []
    for rule in (check_findings, dropped_metric_findings, no_mfu_findings, noisy_findings):
        out += safe(rule, data)
    runs, profiled, shares = run_infos(data), profiled_windows(data), safe(flagged_grid_shares, data)
    for scenario in dict.fromkeys([*(i["scenario"] for i in runs), *(s for s, _ in profiled)]):
        mine = [i for i in runs if i["scenario"] == scenario]
        out += safe(scenario_findings, scenario, mine, profiled, shares)
    return out


def check_findings(data: dict[str, Any]) -> list[Finding]:
    """One ``check`` finding per doctor check whose status is one of :data:`benchsuite.telemetry.checks.PROBLEMS`
    (where = the check's name, text = its text; its status is in the checks table); none without a doctor block."""
    return [
        Finding("check", str(c.get("name") or "?"), str(c.get("text") or "no text recorded"))
        for c in doctor_checks(data)
        if c.get("status") in PROBLEMS
    ]


def doctor_checks(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The doctor's check records (``benchsuite.doctor.checks``) that are mappings, in their order; empty for a file
    without a doctor block."""
    doctor = doctor_block(data)
    checks = doctor.get("checks") if doctor else None
    return [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []


def doctor_block(data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``benchsuite.doctor`` block of a results file (``device``, ``checks``, ``seconds``), or None."""
    block = data.get("benchsuite") if isinstance(data, dict) else None
    doctor = block.get("doctor") if isinstance(block, dict) else None
    return doctor if isinstance(doctor, dict) else None


def dropped_metric_findings(data: dict[str, Any]) -> list[Finding]:
    """One ``dropped_metric`` finding per telemetry metric that any run stopped reading, with how many of the runs
    that recorded their telemetry dropped it and the first reason given."""
    runs = [i for i in run_infos(data) if "dropped_metrics" in i or "dropped_reasons" in i]
    counts: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for info in runs:
        given = info.get("dropped_reasons") if isinstance(info.get("dropped_reasons"), dict) else {}
        named = info.get("dropped_metrics") if isinstance(info.get("dropped_metrics"), list) else []
        for metric in dict.fromkeys([*map(str, named), *map(str, given)]):
            counts[metric] = counts.get(metric, 0) + 1
            if given.get(metric) and metric not in reasons:
                reasons[metric] = first_line(given[metric])
    return [
        Finding(
            "dropped_metric",
            "session",
            f"{metric} dropped in {n} of {len(runs)} runs" + (f": {reasons[metric]}" if metric in reasons else ""),
        )
        for metric, n in counts.items()
    ]


def no_mfu_findings(data: dict[str, Any]) -> list[Finding]:
    """A ``no_mfu`` finding when finished CUDA runs (status ``ok``) have no MFU: the GPU is not in the peak table."""
    cuda = [i for i in run_infos(data) if str(i.get("device") or "").startswith("cuda") and i.get("status") == "ok"]
    missing = [i for i in cuda if finite_number(i.get("mfu")) is None]
    if not missing:
        return []
    gpu = ((data.get("machine_info") or {}).get("benchsuite") or {}).get("gpu") or {}
    names = sorted({str(n) for n in gpu.get("names") or [] if n}) if isinstance(gpu, dict) else []
    which = f"the GPU ({', '.join(names)})" if names else "the GPU"
    return [
        Finding(
            "no_mfu",
            "session",
            f"{len(missing)} of {len(cuda)} finished CUDA runs have no MFU: {which} is not in the peak table "
            "(benchsuite.telemetry.mfu.PEAK_FLOPS)",
        )
    ]


def noisy_findings(data: dict[str, Any]) -> list[Finding]:
    """A ``noisy`` finding when more than a quarter of the runs were unstable
    (:func:`benchsuite.analysis.cases.too_noisy`)."""
    runs = frames.runs_frame(data)
    if runs.empty:
        return []
    noise = noise_summary(runs)
    if not too_noisy(noise):
        return []
    return [
        Finding(
            "noisy",
            "session",
            f"{noise['n_unstable']} of {noise['n_runs']} runs unstable (segment step-time CV above "
            f"{noise['threshold_cv']:g}; median CV {noise['median_cv']:.3f}): the machine was too noisy to judge "
            "time claims",
        )
    ]
