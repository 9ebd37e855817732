"""The evaluation grid's resolution rule (issue 21): a case whose target is seen long after the evaluation before
it is flagged, with the share of its steps-to-target the grid leaves open."""

from __future__ import annotations

import pandas as pd
import pytest

from benchsuite.analysis.grid import GRID_SHARE_LIMIT, coarse, grid_shares
from benchsuite.report.words import grid_words


def _tables(eval_every: int, target_step: int, seeds=(0, 1, 2)):
    runs = pd.DataFrame(
        [{"scenario": "s", "case_id": "batch=4096", "seed": seed, "steps_to_target": target_step} for seed in seeds]
        + [{"scenario": "s", "case_id": "batch=32", "seed": 0, "steps_to_target": None}]  # missed: not counted
    )
    steps = range(0, target_step + 3 * eval_every, eval_every)
    curves = pd.DataFrame(
        [{"scenario": "s", "case_id": "batch=4096", "seed": seed, "step": step} for seed in seeds for step in steps]
    )
    return runs, curves


def test_a_target_seen_at_the_first_evaluation_is_all_grid():
    # batch 4096 on the CUDA size of batch-scaling: an evaluation every 50 steps, the target met at step 50
    row = grid_shares(*_tables(eval_every=50, target_step=50)).set_index("case_id").loc["batch=4096"]
    assert (row["grid_share"], row["grid_steps"]) == (1.0, 50.0) and coarse(row["grid_share"])
    assert grid_words(row) == "evaluation grid 100% of steps-to-target (50 steps)"


def test_a_fine_grid_is_not_flagged_and_a_case_that_never_reached_has_no_share():
    shares = grid_shares(*_tables(eval_every=5, target_step=200)).set_index("case_id")
    assert shares.loc["batch=4096", "grid_share"] == pytest.approx(5 / 200) and 5 / 200 < GRID_SHARE_LIMIT
    assert not coarse(shares.loc["batch=4096", "grid_share"]) and "batch=32" not in shares.index
    assert not coarse(None) and not coarse(float("nan"))
