"""Terminal summary of a results file: the hardware and how steady it was, one line per case, one per claim and one
per compared pair (effect with interval; for time claims its steps and step-time halves)."""

from __future__ import annotations

import math
from pathlib import Path

from benchsuite.analysis import verdicts
from benchsuite.analysis.cases import case_summary, noise_summary, too_noisy
from benchsuite.report.filters import fmt_ci, fmt_effect, fmt_num, fmt_ratio, fmt_reach, fmt_seconds, fmt_spread
from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.specs.claim_metrics import CLAIM_METRICS


def summary_lines(results_file: Path) -> list[str]:
    """Readable lines: hardware, run order and noise; per case time-to-target median [min – max], reach rate,
    speedup, step time; per claim its verdict and every pair's effect."""
    data = read_results(results_file)
    runs, specs, blocks = frames.runs_frame(data), frames.scenario_specs(data), frames.blocks_frame(data)
    if runs.empty:
        return ["no benchmarked runs"]
    hw, order = frames.hardware_summary(data), frames.run_order(data)
    lines = [
        f"hardware: {hw['machine_id']} ({hw['device']}; {hw['cpu']}; GPU {hw['gpu']})",
        f"run order: {order['mode']}" + (f" (seed {order['seed']})" if order["mode"] == "random" else ""),
        *noise_lines(runs),
    ]
    blocked = frames.blocked_by_seed(data)
    summary = case_summary(runs, specs, blocked)
    for name, group in summary.groupby("scenario", sort=False):
        lines.append(f"{name}:")
        has_target = name in specs and specs[name].target is not None
        lines += [f"  {c['case_id']:<32} {_case_line(c, has_target)}" for c in group.to_dict("records")]
        for verdict in verdicts.claim_verdicts(runs, specs[name], blocks, blocked) if name in specs else []:
            lines += claim_lines(verdict)
    return lines


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


def claim_lines(verdict: verdicts.Verdict) -> list[str]:
    """The claim's verdict, then one line per compared pair."""
    claim = verdict.claim
    what = CLAIM_METRICS[claim.metric].words
    need = (
        f", margin {claim.margin:g}"
        if claim.kind != "better"
        else f", needs {claim.required_effect:g}{'×' if CLAIM_METRICS[claim.metric].scale == 'ratio' else ''}"
    )
    unstable = f" [{verdict.unstable_runs} unstable runs]" if verdict.unstable_runs else ""
    lines = [f"  claim {verdict.label.upper()}: {claim.says} ({what}, {claim.kind}{need}){unstable}"]
    for pair in verdict.pairs:
        e = pair.effect
        text = (
            f"    {e.case_id} vs {e.against_id}: {fmt_effect(e)} ({pair.verdict}; {e.source}, n {e.n} vs {e.n_against})"
        )
        if pair.steps is not None:
            text += (
                f" = steps {fmt_effect(pair.steps)} x step time {fmt_effect(pair.step_time)} ({pair.step_time.source})"
            )
        lines.append(text)
    return lines


def _case_line(c: dict, has_target: bool) -> str:
    reach = fmt_reach(c["n_reached"], c["n"], c["reach_low"], c["reach_high"])
    ttt = (
        f"time-to-target {fmt_spread(c['ttt_median_s'], c['ttt_min_s'], c['ttt_max_s'])} reached {reach},"
        f" speedup {fmt_ratio(c['speedup_vs_baseline'])}, steps {fmt_num(c['steps_to_target_median'], 0)}, "
        if has_target
        else f"no target, n={c['n']}, "
    )
    unstable = f", {c['n_unstable']} unstable" if c["n_unstable"] else ""
    return (
        f"{ttt}step {fmt_seconds(c['step_time_median_s'])}, final"
        f" {fmt_ci(c['final_mean'], c['final_ci_low'], c['final_ci_high'])},"
        f" throughput {fmt_num(c['throughput_median'], 0)} samples/s{unstable}"
    )


def compare_lines(comparison) -> list[str]:
    """``benchsuite compare`` in the terminal: the machines, per matched case each side's figures with the ratio
    against the first side, the cases found on one side only, and the claims matrix."""
    from benchsuite.compare.sides import COMPARED

    ref = comparison.reference.label
    lines = [
        f"{'A' if i == 0 else chr(65 + i)} = {s.label}: {s.hardware['cpu']}; GPU {s.hardware['gpu']}; "
        f"{', '.join(s.sources)}"
        for i, s in enumerate(comparison.sides)
    ]
    lines.append(f"ratios: B/A against {ref} (time: above 1 is slower), Hodges-Lehmann [95 % interval]")
    for row in comparison.rows:
        lines.append(f"{row.scenario} / {row.case_id}")
        for side in comparison.sides:
            ratios = row.ratios.get(side.label, {})
            cells = [_compared(metric, row.values[side.label][metric], ratios.get(metric)) for metric in COMPARED]
            note = " (configuration differs: not compared)" if row.config_differs.get(side.label) else ""
            lines.append(f"  {side.label:<30} " + (" · ".join(c for c in cells if c) or "not run") + note)
    for label, cases in comparison.only_on.items():
        if cases:
            lines.append(f"only on {label}: " + ", ".join(f"{s}/{c}" for s, c in cases))
    lines += claims_matrix_lines(comparison)
    return lines + [f"warning: {p}" for p in comparison.problems]


def _compared(metric: str, value: float, ratio) -> str:
    if math.isnan(value):  # not measured on this side
        return ""
    from benchsuite.compare.sides import COMPARED

    words, unit = COMPARED[metric]
    shown = fmt_seconds(value) if unit == "s" else f"{fmt_num(value, 3 if unit == '' else 0)} {unit}".strip()
    if ratio is not None and not math.isnan(ratio.low):
        est = "—" if ratio.estimate is None else f"{ratio.estimate:.3g}×"
        shown += f" ({est} [{ratio.low:.3g}, {ratio.high:.3g}])"
    return f"{words} {shown}"


def claims_matrix_lines(comparison) -> list[str]:
    """Claim × machine → verdict and effects."""
    lines = ["claims matrix:"]
    for row in comparison.claims:
        lines.append(f"  {row.scenario}: {row.says}")
        for label, verdict in row.verdicts.items():
            text = (
                "not run"
                if verdict is None
                else f"{verdict.label}: " + "; ".join(fmt_effect(p.effect) for p in verdict.pairs)
            )
            lines.append(f"    {label:<30} {text}")
    return lines
