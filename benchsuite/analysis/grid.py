"""The evaluation grid's resolution: how far a case's time-to-target can lie behind the moment its run reached the
target, because the target is only seen at an evaluation.

A run's time-to-target is the timed seconds at the first evaluation that meets the target; the run crossed it
somewhere after the evaluation before. The gap, in steps, between those two evaluations bounds how late the figure
can be. For each case, the median over the runs that reached of gap / steps-to-target is its **grid share**; above
:data:`GRID_SHARE_LIMIT` (5 %) the case is flagged, since its time-to-target (and every ratio of it) is partly the
grid (issue 21: batch 4096 on the CUDA size of batch-scaling evaluated every 50 steps with 40 steps an epoch, so its
first evaluation was its target step). Evaluating more often is the remedy (``train.eval_every_steps``, or
``train.eval_every_samples``, which keeps the grid the same in samples across a batch sweep); evaluation is untimed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Grid share (see the module docstring) above which a case's time-to-target is flagged as set by its grid.
GRID_SHARE_LIMIT = 0.05


def grid_shares(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """One row per (scenario, case_id) with a run that reached: ``grid_share``, the median over those runs of
    (steps-to-target − the step of the evaluation before it) / steps-to-target, and ``grid_steps``, the median gap
    in steps. ``runs``: the runs table (``steps_to_target``); ``curves``: one row per evaluation (``step``)."""
    columns = ["scenario", "case_id", "grid_share", "grid_steps"]
    if runs.empty or curves.empty or "steps_to_target" not in runs:
        return pd.DataFrame(columns=columns)
    reached = runs.dropna(subset=["steps_to_target"])
    steps = curves.groupby(["scenario", "case_id", "seed"])["step"].apply(lambda s: np.sort(s.to_numpy()))
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for run in reached.itertuples(index=False):
        key = (run.scenario, run.case_id, run.seed)
        if key not in steps.index or run.steps_to_target <= 0:
            continue
        evaluated = steps[key]
        before = evaluated[evaluated < run.steps_to_target]
        gap = run.steps_to_target - (before[-1] if len(before) else 0)
        rows.setdefault((run.scenario, run.case_id), []).append((gap / run.steps_to_target, gap))
    out = [
        (scenario, case_id, float(np.median([s for s, _ in v])), float(np.median([g for _, g in v])))
        for (scenario, case_id), v in rows.items()
    ]
    return pd.DataFrame(out, columns=columns)


def coarse(share: float | None) -> bool:
    """Whether a grid share flags its case (above :data:`GRID_SHARE_LIMIT`; NaN or None never does)."""
    return share is not None and not pd.isna(share) and share > GRID_SHARE_LIMIT
