"""Terminal summary of a results file: the hardware and how steady it was, one line per case, one per claim and one
per compared pair (effect with interval; for time claims its steps and step-time halves).

Like the HTML report it never fails because of data: a session that did not finish and entries left out are said
first, a case's runs that did not end ``ok`` are counted on its line and listed below it, a pair with nothing to
compare says why it was not judged, and a scenario whose lines still raise is reduced to one line naming the error.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from benchsuite.analysis import verdicts
from benchsuite.analysis.cases import case_summary, noise_summary, too_noisy
from benchsuite.analysis.grid import coarse
from benchsuite.analysis.knee import Knee, throughput_knee
from benchsuite.analysis.missing import unfinished_lines
from benchsuite.analysis.profiles import verdict_phase_ratios
from benchsuite.report.doctor import doctor_lines, has_doctor
from benchsuite.report.filters import (
    fmt_ci,
    fmt_compared,
    fmt_effect,
    fmt_factor,
    fmt_num,
    fmt_pair,
    fmt_pct,
    fmt_ratio,
    fmt_reach,
    fmt_seconds,
    fmt_spread,
)
from benchsuite.report.overview import notices
from benchsuite.report.verdict_words import qualifiers_text, strength_text
from benchsuite.report.words import grid_words
from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.specs.claim_metrics import CLAIM_METRICS


def summary_lines(results_file: Path) -> list[str]:
    """Readable lines: an unfinished session and entries left out, hardware, run order and noise; per case
    time-to-target median [min – max], reach rate, speedup, step time and the runs that did not end ok; per claim its
    verdict and every pair's effect (or why it was not judged); for a file written by ``benchsuite doctor``, what
    looked wrong and its checks after all that (:func:`benchsuite.report.doctor.doctor_lines`).

    Raises:
        ResultsError: the results file cannot be read, or holds a bad value (one line naming the file).
    """
    data = read_results(results_file)
    doctor = doctor_lines(data) if has_doctor(data) else []
    runs, specs = frames.runs_frame(data), frames.scenario_specs(data)
    head = [f"WARNING: {line}" if line.startswith("This session") else line for line in notices(data)]
    if runs.empty:
        return [*head, "no benchmarked runs", *doctor]
    hw, order = frames.hardware_summary(data), frames.run_order(data)
    lines = [
        *head,
        f"hardware: {hw['machine_id']} ({hw['device']}; {hw['cpu']}; GPU {hw['gpu']})",
        f"run order: {order['mode']}" + (f" (seed {order['seed']})" if order["mode"] == "random" else ""),
        *([f"scenarios from: {', '.join(frames.scenario_paths(data))}"] if frames.scenario_paths(data) else []),
        *noise_lines(runs),
    ]
    blocked = frames.blocked_by_seed(data)
    summary = case_summary(runs, specs, blocked, frames.curves_frame(data))
    context = (runs, specs, frames.blocks_frame(data), blocked, frames.phases_frame(data))
    for name, group in summary.groupby("scenario", sort=False):
        lines.append(f"{name}:")
        try:
            lines += scenario_lines(name, group, *context)
        except Exception as exc:  # the last resort: one scenario's lines must not cost the others theirs
            lines.append(f"  summary of {name} failed: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
    return lines + doctor


def scenario_lines(name: str, cases, runs, specs, blocks, blocked: bool, phase_frame) -> list[str]:
    """One scenario's lines: a line per case (``cases``: its rows of the case summary), the runs that did not end
    ok, and its claims judged on ``runs`` (the file's runs table) and ``blocks``."""
    has_target = name in specs and specs[name].target is not None
    lines = [f"  {c['case_id']:<32} {_case_line(c, has_target)}" for c in cases.to_dict("records")]
    if (knee := throughput_knee(runs, name)) is not None:
        lines.append(f"  {knee_text(knee)}")
    lines += [f"  not ok: {line}" for line in unfinished_lines(runs[runs["scenario"] == name])]
    for verdict in verdicts.claim_verdicts(runs, specs[name], blocks, blocked) if name in specs else []:
        lines += claim_lines(verdict, phase_frame, name)
    return lines


def knee_text(knee: Knee) -> str:
    """The throughput knee in words (:func:`benchsuite.analysis.knee.throughput_knee`), a figure, not a verdict:
    ``throughput knee: batch 512 reaches 93 % [88 %, 97 %] of the best (batch 4096, 41,200 samples/s; n = 10 runs
    per batch) (90 % rule, settled; batch 128 below it: 30 % [29 %, 31 %])``, with the other axes its runs pool
    (``n = 10 runs per batch, pooled over lr_scaling``); *settled* when the interval's lower
    bound reaches the share too, else *not settled*. When the best batch is the knee itself, only the batch below
    it is compared."""
    low, high = knee.runs_per_batch
    n = f"{low}" if low == high else f"{low}–{high}"
    pooled = f", pooled over {', '.join(knee.pooled)}" if knee.pooled else ""
    best = f"{fmt_num(knee.best_throughput_samples_per_s, 0)} samples/s; n = {n} runs per batch{pooled}"
    rule = f"{fmt_pct(knee.share)} rule"
    if knee.batch_size == knee.best_batch_size:
        text = f"throughput knee: batch {knee.batch_size}, the best ({best})"
    else:
        interval = f"[{fmt_pct(knee.ratio_low)}, {fmt_pct(knee.ratio_high)}]"
        text = (
            f"throughput knee: batch {knee.batch_size} reaches {fmt_pct(knee.ratio)} {interval} of the best"
            f" (batch {knee.best_batch_size}, {best})"
        )
        rule += ", settled" if knee.settled else f", not settled: the lower bound is below {fmt_pct(knee.share)}"
    if (below := knee.below) is not None:
        rule += (
            f"; batch {below.batch_size} below it: {fmt_pct(below.ratio)}"
            f" [{fmt_pct(below.ratio_low)}, {fmt_pct(below.ratio_high)}]"
        )
    return f"{text} ({rule})"


def noise_lines(runs) -> list[str]:
    """How many runs were unstable, and a warning when too many were to judge time claims."""
    noise = noise_summary(runs)
    if not noise["n_runs"]:
        return []
    line = (
        f"noise: {noise['n_unstable']} of {noise['n_runs']} runs unstable (segment step-time CV above"
        f" {noise['threshold_cv']:.2f}); median CV {noise['median_cv']:.3f}"
    )
    if too_noisy(noise):
        return [line, "WARNING: the machine was too noisy to judge time claims; rerun on a quieter machine"]
    return [line]


def claim_lines(verdict: verdicts.Verdict, phase_frame=None, scenario: str = "") -> list[str]:
    """The claim's verdict with its qualifiers (reversed, confirmed or consistent, its look, notes, fragile), then one
    line per compared pair (its effect with interval and level, verdict, source and n); for time claims, the pair's
    phase ratios in the profiled windows of ``scenario`` (``phase_frame``: :func:`benchsuite.results.frames.
    phases_frame`) below it."""
    claim = verdict.claim
    what = CLAIM_METRICS[claim.metric].words
    need = (
        f", margin {claim.margin:g}"
        if claim.kind != "better"
        else f", needs {claim.required_effect:g}{'×' if CLAIM_METRICS[claim.metric].scale == 'ratio' else ''}"
    )
    unstable = f" [{verdict.unstable_runs} unstable runs]" if verdict.unstable_runs else ""
    ratios = verdict_phase_ratios(phase_frame, scenario, verdict) if phase_frame is not None else {}
    qualifiers = qualifiers_text(verdict)
    note = f" ({qualifiers})" if qualifiers else ""
    lines = [f"  claim {verdict.label.upper()}{note}: {claim.says} ({what}, {claim.kind}{need}){unstable}"]
    for pair in verdict.pairs:
        e = pair.effect
        lines.append(f"    {e.case_id} vs {e.against_id}: {_pair_text(verdict, pair)}")
        if f"{e.case_id} vs {e.against_id}" in ratios:
            lines.append(f"      per step in the profiled windows: {ratios[f'{e.case_id} vs {e.against_id}']}")
    return lines


def _pair_text(verdict: verdicts.Verdict, pair: verdicts.PairVerdict) -> str:
    """``2× [1.54×, ∞] 95 % (held, consistent; runs, n 4 vs 4) = steps … x step time …``, or why the pair was not
    judged."""
    if pair.reason:
        return fmt_pair(pair)
    e = pair.effect
    strength = [pair.strength] if strength_text(verdict.claim, pair.strength) else []
    words = [pair.verdict, *(["reversed"] if pair.reversed else []), *strength]
    text = f"{fmt_effect(e, level=True)} ({', '.join(words)}; {e.source}, n {e.n} vs {e.n_against})"
    if pair.steps is not None:
        text += f" = steps {fmt_effect(pair.steps)} x step time {fmt_effect(pair.step_time)} ({pair.step_time.source})"
    return text


def _ttt_text(c: dict) -> str:
    """The Kaplan-Meier median time-to-target [min – max of the runs that reached], or ``> 2.4 s`` when too many runs
    missed for a median."""
    if pd.isna(c.get("ttt_median_s")) and not pd.isna(c.get("ttt_median_above_s", math.nan)):
        return f"> {fmt_seconds(c['ttt_median_above_s'])}"
    return fmt_spread(c["ttt_median_s"], c["ttt_min_s"], c["ttt_max_s"])


def _steps_text(c: dict) -> str:
    """The Kaplan-Meier median steps-to-target, or ``> 384`` when too many runs missed for a median."""
    if pd.isna(c.get("steps_to_target_median")) and not pd.isna(c.get("steps_to_target_above", math.nan)):
        return f"> {fmt_num(c['steps_to_target_above'], 0)}"
    return fmt_num(c["steps_to_target_median"], 0)


def _case_line(c: dict, has_target: bool) -> str:
    reach = fmt_reach(c["n_reached"], c["n"], c["reach_low"], c["reach_high"])
    ttt = (
        f"time-to-target {_ttt_text(c)} reached {reach},"
        f" speedup {fmt_ratio(c['speedup_vs_baseline'])}, steps {_steps_text(c)}, "
        if has_target
        else f"no target, n={c['n']}, "
    )
    unstable = f", {c['n_unstable']} unstable" if c["n_unstable"] else ""
    faults = f", {c['faults']}" if c.get("faults") else ""
    grid = f", {grid_words(c)}" if has_target and coarse(c.get("grid_share")) else ""
    return (
        f"{ttt}step {fmt_seconds(c['step_time_median_s'])}, final"
        f" {fmt_ci(c['final_mean'], c['final_ci_low'], c['final_ci_high'])},"
        f" throughput {fmt_num(c['throughput_median'], 0)} samples/s{unstable}{faults}{grid}"
    )


def compare_lines(comparison) -> list[str]:
    """``benchsuite compare`` in the terminal: the machines, per matched case each side's figures with the ratio
    against the first side, the cases found on one side only, and the claims matrix."""
    from benchsuite.compare.ratios import COMPARED

    ref = comparison.reference.label
    lines = [
        f"{'A' if i == 0 else chr(65 + i)} = {s.label}: {s.hardware['cpu']}; GPU {s.hardware['gpu']}; "
        f"{', '.join(s.sources)}" + (" (incomplete: its session did not finish)" if s.incomplete else "")
        for i, s in enumerate(comparison.sides)
    ]
    lines.append(
        f"ratios: B/A against {ref} (time: above 1 is slower), Hodges-Lehmann [95 % interval], misses censored where"
        " they were cut off"
    )
    for row in comparison.rows:
        lines.append(f"{row.scenario} / {row.case_id}")
        for side in comparison.sides:
            ratios = row.ratios.get(side.label, {})
            above = row.ttt_above.get(side.label)
            cells = [
                _compared(metric, row.values[side.label][metric], ratios.get(metric), above) for metric in COMPARED
            ]
            note = " (configuration differs: not compared)" if row.config_differs.get(side.label) else ""
            shown = " · ".join(c for c in cells if c) or ("no finished run" if side.label in row.faults else "not run")
            faults = f" ({row.faults[side.label]})" if side.label in row.faults else ""
            lines.append(f"  {side.label:<30} {shown}{faults}{note}")
            if side.label in row.phases:
                lines.append(f"  {'':<30} phases per step: " + phase_text(row.phases[side.label]))
    for label, cases in comparison.only_on.items():
        if cases:
            lines.append(f"only on {label}: " + ", ".join(f"{s}/{c}" for s, c in cases))
    lines += claims_matrix_lines(comparison)
    return lines + [f"warning: {p}" for p in comparison.problems]


def _compared(metric: str, value: float, ratio, above: float | None = None) -> str:
    """``time-to-target 1.2 s (1.25× [1.2×, 1.31×])``: a side's figure with its ratio against the first side
    (:func:`benchsuite.report.filters.fmt_compared`); ``> 2 s`` for a time-to-target with no median but the bound
    ``above``; empty when the side did not measure it."""
    from benchsuite.compare.ratios import COMPARED

    above = above if metric == "time_to_target_s" else None
    if math.isnan(value) and above is None:  # not measured on this side
        return ""
    words, unit = COMPARED[metric]
    if math.isnan(value):
        shown = f"> {fmt_seconds(above)}"
    else:
        shown = fmt_seconds(value) if unit == "s" else f"{fmt_num(value, 3 if unit == '' else 0)} {unit}".strip()
    if compared := fmt_compared(ratio):
        shown += f" ({compared})"
    return f"{words} {shown}"


def claims_matrix_lines(comparison) -> list[str]:
    """Claim × machine → verdict and effects (or why the claim was not judged)."""
    lines = ["claims matrix:"]
    for row in comparison.claims:
        lines.append(f"  {row.scenario}: {row.says}")
        lines += [f"    {label:<30} {_verdict_text(verdict)}" for label, verdict in row.verdicts.items()]
    return lines


def _verdict_text(verdict: verdicts.Verdict | None) -> str:
    """``held: 2× [1.5×, ∞] 95 %``, ``held (consistent with 1.1×: …; 1 of 2 pairs not judged): …``, ``not judged:
    <why>`` or ``not run``."""
    if verdict is None:
        return "not run"
    if verdict.reason or not verdict.pairs:
        return f"{verdict.label}: {verdict.reason}" if verdict.reason else verdict.label
    qualifiers = qualifiers_text(verdict)
    note = f" ({qualifiers})" if qualifiers else ""
    return f"{verdict.label}{note}: " + "; ".join(fmt_pair(p) for p in verdict.pairs)


def phase_text(ms: dict[str, float]) -> str:
    """``forward 0.25 ms, backward 0.55 ms, …`` of a profiled window's phases."""
    return ", ".join(f"{phase} {fmt_seconds(value / 1000)}" for phase, value in ms.items())


def profile_lines(info: dict) -> list[str]:
    """A profiled window in the terminal: the step against the unprofiled one, the phase table (ms per step and share),
    the top operators, host syncs and the trace."""
    head = f"profile of {info.get('scenario')} / {info.get('case_id')} on {info.get('device')}: {info.get('status')}"
    if info.get("status") != "ok":
        return [head + (f": {info['error']}" if info.get("error") else "")]
    unprofiled = (info["unprofiled_step_ms"] or math.nan) / 1000
    lines = [
        head,
        f"  step {fmt_seconds(info['step_ms'] / 1000)} profiled, {fmt_seconds(unprofiled)} unprofiled"
        f" (profiler overhead {fmt_factor(info['profiler_overhead'])}); {info['steps']} recorded steps,"
        f" phases from the {info['phases_from']} timeline",
    ]
    lines += [f"  {p['phase']:<16} {p['ms']:9.3f} ms  {fmt_pct(p['share'])}" for p in info["phases"]]
    if info.get("overlapped_communication_ms"):
        lines.append(f"  (collectives on the process group's threads: {info['overlapped_communication_ms']:.3f} ms)")
    lines.append("  top operators (self time per step):")
    for op in info["top_ops"]:
        device = f", device {op['self_device_ms']:.3f} ms" if op.get("self_device_ms") is not None else ""
        shapes = f"  [{op['input_shapes']}]" if op.get("input_shapes") else ""
        lines.append(f"    {op['name']:<40} {op['self_cpu_ms']:.3f} ms{device} × {op['calls_per_step']:g}{shapes}")
    syncs = info.get("syncs") or {}
    if syncs.get("checked"):
        where = "; ".join(f"{s['where']} ({s['per_step']:g}/step)" for s in syncs["sources"]) or "none"
        lines.append(f"  host syncs per step: {syncs['per_step']:g} ({where})")
    lines.append(f"  trace: {info.get('trace') or info.get('trace_note')}")
    return lines
