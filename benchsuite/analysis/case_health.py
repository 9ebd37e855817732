"""The per-scenario rules of :mod:`benchsuite.analysis.health` (``not_ok``, ``telemetry_coverage``, ``mfu_low``,
``mfu_high``, ``unstable``, ``grid``, ``host_syncs``: their thresholds are there), the :class:`Finding` they all give,
and the readers of run entries both modules share. No rule ever raises on odd data.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from benchsuite.analysis.grid import coarse, grid_shares
from benchsuite.analysis.missing import status_counts
from benchsuite.results import frames
from benchsuite.telemetry.step_times import UNSTABLE_CV

MFU_LOW = 0.05
"""Median MFU (model FLOP utilisation: achieved FLOP/s ÷ the device's dense peak, as PaLM defines it, Chowdhery et al.
2022, appendix B) below which a case is listed: under 5 % a GPU run is bound by kernel launches or by its input, not
by the arithmetic the benchmark means to measure (small models and batches do that; so does a data loader that cannot
keep up)."""

MFU_HIGH = 0.60
"""Median MFU above which a case is listed: dense training rarely exceeds about 60 % of the peak (PaLM reports 46 %
on TPU v4, Chowdhery et al. 2022, appendix B), so a higher figure more likely means a wrong FLOP count (an operator
counted twice) or a wrong peak (the wrong GPU variant or precision in the peak table)."""

#: Source lines of a profiled window's host syncs named in its finding (the most frequent first).
TOP_SYNC_SOURCES = 3


@dataclass(frozen=True)
class Finding:
    """One thing that looked wrong.

    Attributes:
        kind: a short key of the rule that found it (see the module docstring): ``check``, ``dropped_metric``,
            ``no_mfu``, ``noisy``, ``not_ok``, ``telemetry_coverage``, ``mfu_low``, ``mfu_high``, ``unstable``,
            ``grid``, ``host_syncs``.
        where: the check's name, ``session``, a scenario, or ``scenario/case``.
        text: one line for a person, with the figure, its unit and n.
    """

    kind: str
    where: str
    text: str


def safe(rule: Callable[..., Iterable[Any]], *args: Any) -> list[Any]:
    """``rule(*args)`` as a list, or nothing when the data holds a shape the rule does not know."""
    try:
        return list(rule(*args))
    except Exception:  # the last resort: odd data makes a rule find nothing, never a traceback
        return []


def scenario_findings(
    scenario: str,
    runs: list[dict[str, Any]],
    profiled: dict[tuple[str, str], dict[str, Any]],
    shares: list[tuple[str, str, float, float, int]],
) -> list[Finding]:
    """One scenario's findings, kind by kind (the module docstring's order), each kind case by case."""
    cases = {f"{scenario}/{case_id}": group for case_id, group in _by_case(runs).items()}
    out = [f for where, group in cases.items() for f in safe(_not_ok, where, group)]
    out += safe(_coverage, scenario, runs)
    for rule in (_mfu, _unstable):
        out += [f for where, group in cases.items() for f in safe(rule, where, group)]
    out += [_grid(f"{s}/{case_id}", *rest) for s, case_id, *rest in shares if s == scenario]
    for (s, case_id), info in profiled.items():
        if s == scenario:
            out += safe(_syncs, f"{scenario}/{case_id}", info)
    return out


def _not_ok(where: str, runs: list[dict[str, Any]]) -> list[Finding]:
    """``2 of 4 runs did not end ok (1 crashed, 1 oom): RuntimeError: boom``."""
    bad = [i for i in runs if i.get("status") != "ok"]
    if not bad:
        return []
    error = next((first_line(i["error"]) for i in bad if i.get("error")), None)
    text = f"{len(bad)} of {len(runs)} runs did not end ok ({status_counts(i.get('status') for i in bad)})"
    return [Finding("not_ok", where, text + (f": {error}" if error else ""))]


def _coverage(scenario: str, runs: list[dict[str, Any]]) -> list[Finding]:
    """``5 of 12 runs had too few telemetry samples in their timed region ...``, for the scenario as a whole."""
    short = [i for i in runs if i.get("telemetry_coverage")]
    if not short:
        return []
    first = first_line(short[0]["telemetry_coverage"]).split(":")[0]
    text = (
        f"{len(short)} of {len(runs)} runs had too few telemetry samples in their timed region for telemetry figures "
        f"(first: {first}); train.min_timed_s lengthens the window"
    )
    return [Finding("telemetry_coverage", scenario, text)]


def _mfu(where: str, runs: list[dict[str, Any]]) -> list[Finding]:
    """``mfu_low`` or ``mfu_high`` when the median MFU over the case's runs lies outside [:data:`MFU_LOW`,
    :data:`MFU_HIGH`]."""
    values = [v for i in runs if (v := finite_number(i.get("mfu"))) is not None]
    if not values:
        return []
    median = statistics.median(values)
    n = f"median of {len(values)} run{'s' if len(values) != 1 else ''}"
    if median < MFU_LOW:
        why = f"below {100 * MFU_LOW:g} %: the GPU waits on kernel launches or on its input"
        return [Finding("mfu_low", where, f"MFU {_pct(median)} ({n}) is {why}")]
    if median > MFU_HIGH:
        why = f"above {100 * MFU_HIGH:g} %: the FLOP count or the GPU's peak is likely wrong"
        return [Finding("mfu_high", where, f"MFU {_pct(median)} ({n}) is {why}")]
    return []


def _unstable(where: str, runs: list[dict[str, Any]]) -> list[Finding]:
    """``2 of 4 runs unstable (step-time CV 0.31, 0.25; above 0.2)``."""
    flagged = [i for i in runs if i.get("unstable") is True]
    if not flagged:
        return []
    cvs = [f"{v:.2f}" for i in flagged if (v := finite_number(i.get("step_time_cv"))) is not None]
    cv = f"step-time CV {', '.join(cvs)}; " if cvs else ""
    text = f"{len(flagged)} of {len(runs)} runs unstable ({cv}above {UNSTABLE_CV:g}): the machine's speed changed"
    return [Finding("unstable", where, text)]


def _grid(where: str, share: float, gap: float, n: int) -> Finding:
    """``evaluation grid 12 % of the steps to target (gap 63 steps; median of 5 runs that reached): ...``."""
    return Finding(
        "grid",
        where,
        f"evaluation grid {_pct(share)} of the steps to target (gap {gap:g} steps; median of {n} runs that reached):"
        " time-to-target is partly the grid; evaluate more often (train.eval_every_steps)",
    )


def _syncs(where: str, info: dict[str, Any]) -> list[Finding]:
    """``2 host syncs per step in the profiled window (loop.py:120 1.5/step, ...)`` of a window that found any."""
    syncs = info.get("syncs")
    if not isinstance(syncs, dict) or syncs.get("checked") is not True:
        return []
    per_step = finite_number(syncs.get("per_step"))
    if per_step is None or per_step <= 0:
        return []
    sources = [s for s in syncs.get("sources") or [] if isinstance(s, dict) and s.get("where")]
    sources.sort(key=lambda s: -(finite_number(s.get("per_step")) or 0.0))
    named = [f"{s['where']} {finite_number(s.get('per_step')) or 0:g}/step" for s in sources[:TOP_SYNC_SOURCES]]
    lines = f" ({', '.join(named)}{', ...' if len(sources) > TOP_SYNC_SOURCES else ''})" if named else ""
    text = f"{per_step:g} host syncs per step in the profiled window{lines}: the host waits on the device each step"
    return [Finding("host_syncs", where, text)]


def flagged_grid_shares(data: dict[str, Any]) -> list[tuple[str, str, float, float, int]]:
    """(scenario, case, grid share, gap in steps, runs that reached) of every case the grid rule flags."""
    runs = frames.runs_frame(data)
    if runs.empty:
        return []
    shares = grid_shares(runs, frames.curves_frame(data))
    reached = runs.dropna(subset=["steps_to_target"]).groupby(["scenario", "case_id"]).size()
    return [
        (r.scenario, r.case_id, float(r.grid_share), float(r.grid_steps), int(reached.get((r.scenario, r.case_id), 0)))
        for r in shares.itertuples(index=False)
        if coarse(r.grid_share)
    ]


def run_infos(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``extra_info`` of every run (benchmark entries of kind ``run``) that names its scenario and case."""
    benches = data.get("benchmarks") if isinstance(data, dict) else None
    out = []
    for bench in benches if isinstance(benches, list) else []:
        if isinstance(bench, dict) and isinstance(bench.get("extra_info"), dict) and frames.kind_of(bench) == "run":
            info = bench["extra_info"]
            if isinstance(info.get("scenario"), str) and isinstance(info.get("case_id"), str):
                out.append(info)
    return out


def profiled_windows(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(scenario, case) → profiled window, or none when the entries cannot be read."""
    found = safe(lambda: frames.profiles(data).items())
    return {key: info for key, info in found if isinstance(key[0], str) and isinstance(key[1], str)}


def _by_case(runs: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    cases: dict[str, list[dict[str, Any]]] = {}
    for info in runs:
        cases.setdefault(info["case_id"], []).append(info)
    return cases


def finite_number(value: Any) -> float | None:
    """A finite number, or None (None, text, true/false, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def first_line(value: Any) -> str:
    """The first line of ``value`` as text, stripped ('' for nothing)."""
    lines = str(value).strip().splitlines()
    return lines[0] if lines else ""


def _pct(share: float) -> str:
    """``2.0 %`` (one decimal below 10 %), ``75 %``."""
    return f"{100 * share:.1f} %" if share < 0.1 else f"{100 * share:.0f} %"
