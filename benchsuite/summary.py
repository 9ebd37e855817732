"""Terminal summary of a results file: one line per case, one per claim."""

from __future__ import annotations

from pathlib import Path

from benchsuite import analysis, collect
from benchsuite.report.filters import fmt_ci, fmt_num, fmt_ratio, fmt_spread
from benchsuite.storage import read_results


def summary_lines(results_file: Path) -> list[str]:
    """Readable lines: per case time-to-target median [min – max] (reached k/n), speedup, final metric."""
    data = read_results(results_file)
    runs, specs = collect.runs_frame(data), collect.scenario_specs(data)
    if runs.empty:
        return ["no benchmarked runs"]
    hw = collect.hardware_summary(data)
    lines = [f"hardware: {hw['machine_id']} ({hw['device']}; {hw['cpu']}; GPU {hw['gpu']})"]
    summary = analysis.case_summary(runs, specs)
    for name, group in summary.groupby("scenario", sort=False):
        lines.append(f"{name}:")
        has_target = name in specs and specs[name].target is not None
        for c in group.to_dict("records"):
            lines.append(f"  {c['case_id']:<32} {_case_line(c, has_target)}")
        for verdict in analysis.claim_verdicts(runs, specs[name]) if name in specs else []:
            note = " (too few seeds to reach significance)" if verdict.underpowered else ""
            lines.append(f"  claim {verdict.verdict.upper()}: {verdict.claim.says}{note}")
    return lines


def _case_line(c: dict, has_target: bool) -> str:
    ttt = (
        f"time-to-target {fmt_spread(c['ttt_median_s'], c['ttt_min_s'], c['ttt_max_s'])} reached"
        f" {c['n_reached']}/{c['n']}, speedup {fmt_ratio(c['speedup_vs_baseline'])}{'*' if c['speedup_partial'] else ''}, "
        if has_target
        else f"no target, n={c['n']}, "
    )
    return (
        f"{ttt}final {fmt_ci(c['final_mean'], c['final_ci_low'], c['final_ci_high'])},"
        f" throughput {fmt_num(c['throughput_median'], 0)} samples/s"
    )
