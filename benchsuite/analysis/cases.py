"""Seeds → statistics: per-case medians and spreads, effects against the baseline, curve bands, noise flags.

Statistics are derived here (per case) and in :mod:`benchsuite.analysis.verdicts` (per claim), from the raw per-run rows
and curves of :mod:`benchsuite.results.frames`, with the interval methods of :mod:`benchsuite.analysis.effects`.

- Time-to-target: the Kaplan-Meier median over the finished runs, a miss censored at the seconds it trained
  (:mod:`benchsuite.analysis.survival`; the ordinary median when every run reached), or a lower bound when too many
  missed; min–max over the runs that reached; reach rate k/n with a Wilson interval (a run that never reaches the
  target has no time-to-target: it is censored, never dropped).
- Speedup against the baseline: the Hodges-Lehmann ratio of time-to-target with its 95 % interval, paired by seed
  when the session ran in blocks of seeds and has enough of them (as :mod:`benchsuite.analysis.verdicts` does), misses
  censored where they were cut off, runs that did not finish left out; no ratio when half or more of a side missed,
  and no interval either when there is nothing to compare (a side without a finished run, or no run of either side
  reached the target: :attr:`benchsuite.analysis.contrast.Contrast.comparable`).
- Step timing: one ratio per quadruple of block pairs (AB + BA), the Hodges-Lehmann ratio of those with its 95 %
  signed-rank interval (:mod:`benchsuite.analysis.pairing`).
- Steps-to-target: the Kaplan-Meier median the same way, a miss censored at the steps it trained.
- Step time: the median over runs of each run's median seconds per step, with the runs' quartiles.
- Quality (final and after epoch 1): mean with a two-sided 95 % Student-t interval over seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from benchsuite.analysis import effects
from benchsuite.analysis.contrast import by_seed, contrast, finished, oriented_bounds
from benchsuite.analysis.grid import grid_shares
from benchsuite.analysis.missing import status_counts
from benchsuite.analysis.pairing import common_seeds, quadruple_log_ratios, same_except, timed_blocks
from benchsuite.analysis.survival import median_time
from benchsuite.results.stored import StoredScenario
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.telemetry.step_times import UNSTABLE_CV


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


def case_summary(
    runs: pd.DataFrame,
    specs: dict[str, StoredScenario | ScenarioSpec],
    blocked: bool = True,
    curves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (scenario, case_id): n, reach rate with its Wilson interval, time-to-target median/min/max,
    steps, step time, quality mean ± CI, and the speedup against the baseline with its interval.

    The baseline of a case shares its values on every axis that the scenario's ``baseline`` does not name.
    ``blocked``: the session ran its runs in blocks of seeds, so a case and its baseline pair by seed. With
    ``curves`` (one row per evaluation), each case's evaluation-grid share too (:func:`benchsuite.analysis.grid.
    grid_shares`: ``grid_share``, ``grid_steps``).
    """
    groups = dict(list(runs.groupby(["scenario", "case_id"], sort=False)))
    summary = pd.DataFrame([_summarise(scenario, case_id, g) for (scenario, case_id), g in groups.items()])
    if not summary.empty:
        speedups = [_speedup(groups, summary, row, specs, blocked) for _, row in summary.iterrows()]
        for key in ("speedup_vs_baseline", "speedup_low", "speedup_high"):
            summary[key] = [s[key] for s in speedups]
        if curves is not None:
            summary = summary.merge(grid_shares(runs, curves), on=["scenario", "case_id"], how="left")
    return summary


def _km_median(g: pd.DataFrame, value: str = "time_to_target_s", budget: str = "timed_s") -> tuple[float, float]:
    """(Kaplan-Meier median, lower bound) of ``value`` (time-to-target, or ``steps_to_target`` with ``budget``
    ``steps``) over the finished runs, a miss censored at the ``budget`` it trained
    (:func:`benchsuite.analysis.survival.median_time`); a miss without it counts as cut off at the longest any run
    of the case reached or trained."""
    done = g[finished(g["status"])] if "status" in g else g
    if value not in done:
        return math.nan, math.nan
    reached = done[value].notna().to_numpy()
    trained = done[budget].to_numpy(dtype=float) if budget in done else np.full(len(done), np.nan)
    values = np.where(reached, done[value].to_numpy(dtype=float), trained)
    fallback = np.nanmax(np.concatenate([values, [0.0]]))
    return median_time(np.where(np.isnan(values), fallback, values), reached)


def _summarise(scenario: str, case_id: str, g: pd.DataFrame) -> dict:
    ttt = g["time_to_target_s"].dropna()
    km_median, km_above = _km_median(g)
    steps_median, steps_above = _km_median(g, "steps_to_target", "steps")
    reach_low, reach_high = effects.wilson_interval(len(ttt), len(g))
    final_mean, final_low, final_high = mean_ci(g["final_val_metric"])
    e1_mean, e1_low, e1_high = mean_ci(g["val_metric_epoch1"])
    step = g["step_time_s_median"] if "step_time_s_median" in g else pd.Series(dtype=float)
    return {
        "scenario": scenario,
        "case_id": case_id,
        "is_baseline": bool(g["is_baseline"].any()),
        "n": len(g),
        "n_reached": len(ttt),
        "reach_low": reach_low,
        "reach_high": reach_high,
        "n_faulted": int((g["status"] != "ok").sum()),
        "faults": status_counts(g["status"][g["status"] != "ok"]),
        "n_unstable": int(_flags(g).sum()),
        "ttt_median_s": km_median,
        "ttt_median_above_s": km_above,  # no median: more than half missed; it lies beyond this
        "ttt_min_s": ttt.min() if len(ttt) else math.nan,
        "ttt_max_s": ttt.max() if len(ttt) else math.nan,
        "steps_to_target_median": steps_median,  # Kaplan-Meier, a miss censored at the steps it trained
        "steps_to_target_above": steps_above,
        "epochs_to_target_median": g["epochs_to_target"].dropna().median(),
        "step_time_median_s": step.median(),
        "step_time_p25_s": step.quantile(0.25),
        "step_time_p75_s": step.quantile(0.75),
        "final_mean": final_mean,
        "final_ci_low": final_low,
        "final_ci_high": final_high,
        "epoch1_mean": e1_mean,
        "epoch1_ci_low": e1_low,
        "epoch1_ci_high": e1_high,
        "throughput_median": g["throughput_samples_per_s"].median(),
        "timed_median_s": g.loc[finished(g["status"]), "timed_s"].median(),  # a run that ended early timed nothing
        **{c: g[c].iloc[0] for c in g.columns if c.startswith("axis_")},
    }


def _flags(runs: pd.DataFrame) -> pd.Series:
    """The ``unstable`` flag of each run (False where the results file predates it)."""
    if "unstable" not in runs:
        return pd.Series(False, index=runs.index)
    return runs["unstable"].fillna(False).astype(bool)


def _speedup(
    groups: dict[tuple[str, str], pd.DataFrame],
    summary: pd.DataFrame,
    row: pd.Series,
    specs: dict[str, StoredScenario | ScenarioSpec],
    blocked: bool,
) -> dict[str, float]:
    """Hodges-Lehmann ratio baseline/case of time-to-target with its 95 % interval (misses censored at the seconds
    they trained), paired by seed where the runs pair and are enough for a bounded interval; NaN without a unique
    baseline or when half or more of a side missed (the interval too when there is nothing to compare). ``groups``
    holds each case's runs, ``summary`` one row per case (its axis columns)."""
    none = {"speedup_vs_baseline": math.nan, "speedup_low": math.nan, "speedup_high": math.nan}
    spec = specs.get(row["scenario"])
    if spec is None or spec.target is None:
        return none
    cases = summary[summary["scenario"] == row["scenario"]]
    baselines = cases[same_except(cases, row, spec.baseline_labels())]
    if len(baselines) != 1:
        return none
    case, base = groups[(row["scenario"], row["case_id"])], groups[(row["scenario"], baselines["case_id"].iloc[0])]
    x, y = (_oriented_ttt(g) for g in (case, base))
    runs = contrast(x, y, paired=by_seed(common_seeds(case, base), blocked, 0.95), confidence=0.95)
    if not runs.comparable:
        return none
    return {
        "speedup_vs_baseline": math.nan if runs.half_missed else math.exp(runs.shift.estimate),
        "speedup_low": math.exp(runs.shift.low),
        "speedup_high": math.exp(runs.shift.high),
    }


def _oriented_ttt(runs: pd.DataFrame) -> np.ndarray:
    """Time-to-target of ``runs`` in seed order, oriented (lower is better; a miss censored at its timed seconds; a
    run that did not finish left out)."""
    ordered = runs.sort_values("seed", kind="stable")
    return oriented_bounds(
        ordered, "time_to_target_s", scale="ratio", censored=True, better="lower", censored_at="timed_s"
    )


def curve_bands(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (scenario, case, step): mean timed_s, mean ``metric`` and its min–max band over seeds.

    Only steps evaluated in every seed of the case are kept, so the mean never mixes a changing set of seeds.
    """
    if curves.empty:
        return pd.DataFrame(columns=["scenario", "case_id", "step", "timed_s", "mean", "low", "high", "n"])
    seeds = curves.groupby(["scenario", "case_id"])["seed"].nunique().rename("n_seeds")
    g = curves.groupby(["scenario", "case_id", "step"], sort=False)
    bands = g.agg(
        timed_s=("timed_s", "mean"),
        mean=(metric, "mean"),
        low=(metric, "min"),
        high=(metric, "max"),
        n=("seed", "nunique"),
    ).reset_index()
    bands = bands.join(seeds, on=["scenario", "case_id"])
    bands = bands[bands["n"] == bands["n_seeds"]].drop(columns="n_seeds")
    return bands.sort_values("step", kind="stable")  # cases keep their matrix order (stable), steps ascend


def step_time_ratios(blocks: pd.DataFrame) -> pd.DataFrame:
    """Per block-timed pair: the Hodges-Lehmann ratio (reference s/step ÷ case s/step, above 1: the case steps
    faster) of its quadruples (:func:`benchsuite.analysis.pairing.quadruple_log_ratios`) with the 95 % signed-rank
    interval, the number of block pairs and of whole quadruples, and each side's median s/step over its timed block
    pairs. Block pairs without positive seconds and steps on both sides (a timing cut short) are left out with their
    quadruple, and pairs left with no quadruple."""
    rows = []
    for (scenario, case_id, against_id), g in blocks.groupby(["scenario", "case_id", "against_id"], sort=False):
        ratios = quadruple_log_ratios(g)
        timed = g[timed_blocks(g)]
        if not len(ratios):
            continue
        case_step, ref_step = timed["case_s"] / timed["case_steps"], timed["against_s"] / timed["against_steps"]
        shift = effects.paired_shift_interval(ratios)
        rows.append(
            {
                "scenario": scenario,
                "case_id": case_id,
                "against_id": against_id,
                "n_blocks": len(timed),
                "n_quadruples": len(ratios),
                "ratio": math.exp(shift.estimate),
                "low": math.exp(shift.low),
                "high": math.exp(shift.high),
                "confidence": shift.confidence,
                "case_step_s": case_step.median(),
                "against_step_s": ref_step.median(),
                **{c: g[c].iloc[0] for c in g.columns if c.startswith("axis_")},
            }
        )
    return pd.DataFrame(rows, columns=None if rows else STEP_TIME_COLUMNS)


#: The columns of :func:`step_time_ratios` (with the axes of each pair's case), also when no pair has a quadruple.
STEP_TIME_COLUMNS = [
    "scenario",
    "case_id",
    "against_id",
    "n_blocks",
    "n_quadruples",
    "ratio",
    "low",
    "high",
    "confidence",
    "case_step_s",
    "against_step_s",
]


def scaling_table(cases: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Data-parallel scaling of one scenario's cases (a ``world_size`` axis): per case its world size, throughput,
    scaling efficiency = throughput_N / (N · throughput_1) against the world-size-1 case that shares its other
    axes (for a fixed global batch this is T_1 / (N · T_N) of the step time), its time-to-target speedup with
    interval (:func:`case_summary`) and the median communication share of a step."""
    cases = cases.assign(world_size=cases["axis_world_size"].astype(int))
    others = [c for c in cases.columns if c.startswith("axis_") and c != "axis_world_size" and cases[c].notna().all()]
    comm = runs.groupby("case_id")["comm_share"].median() if "comm_share" in runs else pd.Series(dtype=float)
    rows = []
    for _, group in cases.groupby(others, sort=False) if others else [(None, cases)]:
        single = group[group["world_size"] == 1]["throughput_median"]
        base = float(single.iloc[0]) if len(single) else math.nan
        for row in group.to_dict("records"):
            rows.append(
                {
                    "case_id": row["case_id"],
                    "world_size": row["world_size"],
                    "throughput": row["throughput_median"],
                    "efficiency": row["throughput_median"] / (row["world_size"] * base) if base else math.nan,
                    "ideal_throughput": row["world_size"] * base,
                    "speedup": row["speedup_vs_baseline"],
                    "speedup_low": row["speedup_low"],
                    "speedup_high": row["speedup_high"],
                    "comm_share": comm.get(row["case_id"], math.nan),
                }
            )
    return pd.DataFrame(rows)


def noise_summary(runs: pd.DataFrame) -> dict[str, float | int]:
    """How steady the machine was: runs flagged unstable (segment step-time CV above
    :data:`benchsuite.telemetry.step_times.UNSTABLE_CV`) and the median CV, over the runs that have segments."""
    cv = runs["step_time_cv"].dropna() if "step_time_cv" in runs else pd.Series(dtype=float)
    return {
        "n_runs": len(cv),
        "n_unstable": int(_flags(runs).sum()),
        "median_cv": float(cv.median()) if len(cv) else math.nan,
        "threshold_cv": UNSTABLE_CV,
    }


#: Share of unstable runs above which the session says the machine was too noisy to judge time claims.
TOO_NOISY_SHARE = 0.25


def too_noisy(noise: dict[str, float | int]) -> bool:
    """Whether more than :data:`TOO_NOISY_SHARE` of the runs were unstable."""
    return noise["n_runs"] > 0 and noise["n_unstable"] > TOO_NOISY_SHARE * noise["n_runs"]


def apart_times(runs: pd.DataFrame) -> dict[str, float]:
    """Median seconds per run of what is measured apart from the timed region: warm-up, evaluation, compile."""
    return {
        name: float(runs[column].median())
        for name, column in (("warm-up", "warmup_s"), ("evaluation", "eval_s"), ("compile", "compile_s"))
        if column in runs and runs[column].notna().any() and runs[column].median() > 0
    }


def hardware_use_medians(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per (scenario, case_id): the median over seeds of each telemetry/utilisation column."""
    present = [c for c in columns if c in runs]
    return runs.groupby(["scenario", "case_id"], sort=False)[present].median().reset_index()
