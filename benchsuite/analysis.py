"""Seeds → statistics: per-case medians and spreads, speedups against the baseline, curve bands, claim verdicts.

Statistics are derived here and nowhere else, from the raw per-run rows and curves of :mod:`benchsuite.collect`.

- Time-to-target: median over the runs that reached the target, with min–max spread, and ``n_reached`` of ``n``
  beside it (a run that never reaches the target has no time-to-target).
- Quality (final and after epoch 1): mean with a two-sided 95 % Student-t interval over seeds.
- Claims: one-sided Mann-Whitney U test per compared case pair (scipy.stats.mannwhitneyu); for ``lower``-is-better
  metrics a run that never reached the target ranks worst (as +inf). Verdict ``held`` when every pair is better at
  p < ``ALPHA`` and its ratio of medians reaches the claim's ``min_ratio``; ``smaller than claimed`` when every pair
  is significantly better but some ratio falls short; ``refuted`` when any pair is better the other way at
  p < ``ALPHA``; else ``inconclusive``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from benchsuite.scenario import ClaimSpec, ScenarioSpec

ALPHA = 0.05


def mean_ci(values: pd.Series, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of ``values`` (NaN dropped); NaN bounds when n < 2."""
    x = values.dropna().to_numpy(dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2 or np.all(x == x[0]):
        return mean, (mean if len(x) > 1 else math.nan), (mean if len(x) > 1 else math.nan)
    low, high = stats.t.interval(confidence, len(x) - 1, loc=mean, scale=stats.sem(x))
    return mean, float(low), float(high)


def case_summary(runs: pd.DataFrame, specs: dict[str, ScenarioSpec]) -> pd.DataFrame:
    """One row per (scenario, case_id) with n, time-to-target median/min/max, quality mean ± CI, speedup.

    ``speedup_vs_baseline`` = the baseline's median time-to-target / this case's, where the baseline shares this
    case's values on every axis that the scenario's ``baseline`` does not name.
    """
    rows = [_summarise(scenario, case_id, g) for (scenario, case_id), g in runs.groupby(["scenario", "case_id"], sort=False)]
    summary = pd.DataFrame(rows)
    if not summary.empty:
        pairs = [_speedup(summary, row, specs) for _, row in summary.iterrows()]
        summary["speedup_vs_baseline"] = [speedup for speedup, _ in pairs]
        summary["speedup_partial"] = [partial for _, partial in pairs]
    return summary


def _summarise(scenario: str, case_id: str, g: pd.DataFrame) -> dict:
    ttt = g["time_to_target_s"].dropna()
    final_mean, final_low, final_high = mean_ci(g["final_val_metric"])
    e1_mean, e1_low, e1_high = mean_ci(g["val_metric_epoch1"])
    return {
        "scenario": scenario, "case_id": case_id, "is_baseline": bool(g["is_baseline"].any()),
        "n": len(g), "n_reached": len(ttt), "n_faulted": int((g["status"] != "ok").sum()),
        "ttt_median_s": ttt.median() if len(ttt) else math.nan,
        "ttt_min_s": ttt.min() if len(ttt) else math.nan, "ttt_max_s": ttt.max() if len(ttt) else math.nan,
        "steps_to_target_median": g["steps_to_target"].dropna().median(),
        "epochs_to_target_median": g["epochs_to_target"].dropna().median(),
        "final_mean": final_mean, "final_ci_low": final_low, "final_ci_high": final_high,
        "epoch1_mean": e1_mean, "epoch1_ci_low": e1_low, "epoch1_ci_high": e1_high,
        "throughput_median": g["throughput_samples_per_s"].median(),
        "timed_median_s": g["timed_s"].median(),
        **{c: g[c].iloc[0] for c in g.columns if c.startswith("axis_")},
    }  # fmt: skip


def _speedup(summary: pd.DataFrame, row: pd.Series, specs: dict[str, ScenarioSpec]) -> tuple[float, bool]:
    """(speedup, partial): partial when this case or its baseline has runs that never reached the target, so the
    medians behind the ratio cover only the runs that did."""
    spec = specs.get(row["scenario"])
    if spec is None:
        return math.nan, False
    mine = summary[summary["scenario"] == row["scenario"]]
    base = mine[_same_except(mine, row, spec.baseline_labels())]
    if len(base) != 1:
        return math.nan, False
    base = base.iloc[0]
    partial = bool(base["n_reached"] < base["n"] or row["n_reached"] < row["n"])
    return float(base["ttt_median_s"] / row["ttt_median_s"]), partial


def curve_bands(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (scenario, case, step): mean timed_s, mean ``metric`` and its min–max band over seeds.

    Only steps evaluated in every seed of the case are kept, so the mean never mixes a changing set of seeds.
    """
    if curves.empty:
        return pd.DataFrame(columns=["scenario", "case_id", "step", "timed_s", "mean", "low", "high", "n"])
    seeds = curves.groupby(["scenario", "case_id"])["seed"].nunique().rename("n_seeds")
    g = curves.groupby(["scenario", "case_id", "step"], sort=False)
    bands = g.agg(timed_s=("timed_s", "mean"), mean=(metric, "mean"), low=(metric, "min"), high=(metric, "max"),
                  n=("seed", "nunique")).reset_index()  # fmt: skip
    bands = bands.join(seeds, on=["scenario", "case_id"])
    bands = bands[bands["n"] == bands["n_seeds"]].drop(columns="n_seeds")
    return bands.sort_values("step", kind="stable")  # cases keep their matrix order (stable), steps ascend


@dataclass(frozen=True)
class Comparison:
    """One case against its reference for a claim: medians, ratio and the one-sided test."""

    case_id: str
    against_id: str
    n: int
    n_against: int
    median: float
    median_against: float
    p_value: float
    p_value_reverse: float
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        """How many times better the case is: against / case when lower is better (a speedup for time),
        case / against when higher is better; above 1 means the case is better."""
        num, den = (self.median, self.median_against) if self.higher_is_better else (self.median_against, self.median)
        return num / den if den else math.nan


@dataclass(frozen=True)
class Verdict:
    """Whether a claim held on this hardware, with every comparison behind it."""

    claim: ClaimSpec
    verdict: str
    comparisons: tuple[Comparison, ...]

    @property
    def underpowered(self) -> bool:
        """True when some comparison has too few seeds to ever reach p < ALPHA (e.g. 3 vs 3: p >= 0.05)."""
        return any(min_p_value(c.n, c.n_against) >= ALPHA for c in self.comparisons)


def min_p_value(n: int, m: int) -> float:
    """Smallest one-sided Mann-Whitney U p-value possible with samples of n and m (no ties): 1 / C(n+m, n)."""
    return 1.0 / math.comb(n + m, n)


def claim_verdicts(runs: pd.DataFrame, spec: ScenarioSpec) -> list[Verdict]:
    """Judge each of ``spec``'s claims on this scenario's runs (see the module docstring for the rule)."""
    mine = runs[runs["scenario"] == spec.name]
    return [_judge(mine, claim) for claim in spec.claims]


def _judge(runs: pd.DataFrame, claim: ClaimSpec) -> Verdict:
    comparisons = []
    for case_id, group in runs.groupby("case_id", sort=False):
        if not _selected(group.iloc[0], {a: list(v) for a, v in claim.cases.items()}):
            continue
        reference = runs[_same_except(runs, group.iloc[0], claim.against)]
        if reference.empty or reference["case_id"].iloc[0] == case_id:
            continue
        comparisons.append(_compare(group, reference, claim))
    verdict = "inconclusive"
    if comparisons and all(c.p_value < ALPHA for c in comparisons):
        verdict = "held" if all(c.ratio >= claim.min_ratio for c in comparisons) else "smaller than claimed"
    elif any(c.p_value_reverse < ALPHA for c in comparisons):
        verdict = "refuted"
    return Verdict(claim, verdict, tuple(comparisons))


def _selected(row: pd.Series, selection: dict[str, list[str]]) -> bool:
    return all(row.get(f"axis_{axis}") in values for axis, values in selection.items())


def _same_except(runs: pd.DataFrame, row: pd.Series, against: dict[str, str]) -> pd.Series:
    mask = pd.Series(True, index=runs.index)
    for column in (c for c in runs.columns if c.startswith("axis_") and not pd.isna(row[c])):
        axis = column.removeprefix("axis_")  # axes of other scenarios are NaN here and play no part
        mask &= runs[column] == against.get(axis, row[column])
    return mask


def claim_values(group: pd.DataFrame, claim: ClaimSpec) -> np.ndarray:
    """Per-seed values of the claim's metric; unreached time/steps-to-target rank worst (+inf)."""
    values = group[claim.metric].to_numpy(dtype=float)
    if claim.metric in ("time_to_target_s", "steps_to_target"):
        values = np.where(np.isnan(values), np.inf, values)
    return values


def _compare(case: pd.DataFrame, reference: pd.DataFrame, claim: ClaimSpec) -> Comparison:
    x, y = claim_values(case, claim), claim_values(reference, claim)
    better = "less" if claim.better == "lower" else "greater"
    worse = "greater" if better == "less" else "less"
    return Comparison(
        case_id=case["case_id"].iloc[0], against_id=reference["case_id"].iloc[0], n=len(x), n_against=len(y),
        median=float(np.median(x)), median_against=float(np.median(y)),
        p_value=float(stats.mannwhitneyu(x, y, alternative=better).pvalue),
        p_value_reverse=float(stats.mannwhitneyu(x, y, alternative=worse).pvalue),
        higher_is_better=claim.better == "higher",
    )  # fmt: skip


def apart_times(runs: pd.DataFrame) -> dict[str, float]:
    """Median seconds per run of what is measured apart from the timed region: warm-up, evaluation, compile."""
    return {name: float(runs[column].median()) for name, column in
            (("warm-up", "warmup_s"), ("evaluation", "eval_s"), ("compile", "compile_s"))
            if column in runs and runs[column].notna().any() and runs[column].median() > 0}  # fmt: skip


def hardware_summary(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per (scenario, case_id): the median over seeds of each telemetry/utilisation column."""
    present = [c for c in columns if c in runs]
    return runs.groupby(["scenario", "case_id"], sort=False)[present].median().reset_index()
