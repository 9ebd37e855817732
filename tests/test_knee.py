"""The throughput knee of a batch-size sweep (:mod:`benchsuite.analysis.knee`): its rule on constructed runs tables,
runs that did not end ok left out, and its line in the terminal summary and the HTML report of a real results file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchsuite.analysis.knee import median_interval, throughput_knee
from benchsuite.report.html import render_report
from benchsuite.report.terminal import knee_text, summary_lines
from benchsuite.results import frames
from benchsuite.results.files import read_results

REAL = sorted((Path(__file__).parent.parent / "results" / "cpu-intel-f6m167-amx-avx512bf16-2c").glob("*.json"))
CURVE = {32: 1000.0, 128: 3000.0, 512: 9000.0, 2048: 9800.0, 4096: 10000.0}
NOISE = (0.99, 0.995, 1.0, 1.005, 1.01)  # the same small factors for every batch size, one per seed


def runs_table(curve: dict[int, float], noise=NOISE, rules=(None,), scenario: str = "sweep") -> pd.DataFrame:
    """A runs table: per batch size (the axis as the results file stores it, a string) and seed, throughput
    ``curve[batch] × noise[seed]``, status ok; a ``lr_scaling`` axis with the values of ``rules`` when given."""
    rows = [
        {
            "scenario": scenario,
            "case_id": f"batch_size={b}" + (f"-lr_scaling={rule}" if rule else ""),
            "seed": seed,
            "status": "ok",
            "axis_batch_size": str(b),
            **({"axis_lr_scaling": rule} if rule else {}),
            "throughput_samples_per_s": value * factor,
        }
        for b, value in curve.items()
        for rule in rules
        for seed, factor in enumerate(noise)
    ]
    return pd.DataFrame(rows)


def test_knee_of_a_curve_that_flattens():
    knee = throughput_knee(runs_table(CURVE), "sweep")
    assert knee is not None
    assert knee.batch_size == 512
    assert knee.ratio == pytest.approx(0.9, rel=1e-9)
    assert knee.best_batch_size == 4096
    assert knee.best_throughput_samples_per_s == pytest.approx(10000.0)
    assert knee.share == 0.9 and knee.n_runs == 25 and knee.pooled == ()
    assert [r.batch_size for r in knee.rows] == [32, 128, 512, 2048, 4096]
    assert [r.n for r in knee.rows] == [5] * 5
    assert [r.median for r in knee.rows] == pytest.approx(list(CURVE.values()))
    assert [r.ratio for r in knee.rows] == pytest.approx([0.1, 0.3, 0.9, 0.98, 1.0])
    # the interval holds the estimate; 1 % noise leaves a 0.9 ratio unsettled (its lower bound is below 0.9)
    assert knee.ratio_low < knee.ratio < knee.ratio_high
    assert not knee.settled
    assert knee.below is not None and knee.below.batch_size == 128
    assert knee.below.ratio_high < 0.9


def test_a_clear_knee_is_settled():
    knee = throughput_knee(runs_table({**CURVE, 512: 9600.0}), "sweep")
    assert knee is not None and knee.batch_size == 512
    assert knee.ratio_low >= 0.9 and knee.settled


def test_a_flat_curve_gives_the_smallest_batch():
    knee = throughput_knee(runs_table(dict.fromkeys(CURVE, 5000.0)), "sweep")
    assert knee is not None
    assert knee.batch_size == 32
    assert knee.ratio == pytest.approx(1.0)
    assert knee.below is None


def test_fewer_than_three_batch_sizes_give_none():
    assert throughput_knee(runs_table({32: 1000.0, 4096: 10000.0}), "sweep") is None
    assert throughput_knee(runs_table(CURVE), "another scenario") is None
    no_axis = runs_table(CURVE).drop(columns="axis_batch_size")
    assert throughput_knee(no_axis, "sweep") is None


def test_runs_that_did_not_end_ok_are_left_out():
    runs = runs_table(CURVE)
    # a failed run with a huge throughput at 32 and an oom at 4096 would move the knee and the best if counted
    bad = runs_table({32: 1e6, 4096: 1e6}, noise=(1.0,)).assign(status=["failed", "oom"])
    knee = throughput_knee(pd.concat([runs, bad], ignore_index=True), "sweep")
    assert knee is not None
    assert knee.batch_size == 512 and knee.best_batch_size == 4096
    assert knee.n_runs == 25
    # three batch sizes that only failed leave two: no knee
    only_two = runs.assign(status=np.where(runs["axis_batch_size"].isin(["32", "128", "512"]), "failed", "ok"))
    assert throughput_knee(only_two, "sweep") is None


def test_other_axes_are_pooled():
    knee = throughput_knee(runs_table(CURVE, rules=("linear", "sqrt")), "sweep")
    assert knee is not None and knee.batch_size == 512
    assert knee.pooled == ("lr_scaling",)
    assert [r.n for r in knee.rows] == [10] * 5


def test_median_interval_is_the_sign_test_one():
    # 10 values: k = 2 at 0.025 a side (P(Bin(10, 1/2) ≤ 1) = 0.011, ≤ 2 = 0.055), so [x(2), x(9)]
    assert median_interval(np.arange(1.0, 11.0)) == pytest.approx((5.5, 2.0, 9.0))
    median, low, high = median_interval([1.0, 2.0, 3.0, 4.0, 5.0])  # 1/32 > 0.025: unbounded
    assert median == 3.0 and low == 0.0 and math.isinf(high)


def test_knee_text():
    text = knee_text(throughput_knee(runs_table(CURVE, rules=("linear", "sqrt")), "sweep"))
    assert text.startswith("throughput knee: batch 512 reaches 90 % [")
    assert "of the best (batch 4096, 10,000 samples/s; n = 10 runs per batch, pooled over lr_scaling)" in text
    assert "(90 % rule, not settled" in text
    assert "batch 128 below it: 30 % [" in text


@pytest.mark.skipif(not REAL, reason="no stored results file of this machine")
def test_a_real_results_file_has_a_knee():
    data = read_results(REAL[0])
    runs = frames.runs_frame(data)
    knee = throughput_knee(runs, "batch-scaling")
    assert knee is not None
    sizes = [r.batch_size for r in knee.rows]
    assert len(sizes) >= 3 and sizes == sorted(sizes)
    assert knee.batch_size in sizes and knee.best_batch_size in sizes
    assert knee.batch_size <= knee.best_batch_size
    assert knee.ratio >= 0.9 and 0 <= knee.ratio_low <= knee.ratio <= knee.ratio_high
    assert knee.n_runs == sum(r.n for r in knee.rows) > 0
    assert all(r.median_low <= r.median <= r.median_high for r in knee.rows)
    # a scenario without a batch-size axis has none
    assert throughput_knee(runs, "known-answers") is None

    lines = summary_lines(REAL[0])
    start = lines.index("batch-scaling:")
    knee_lines = [i for i, line in enumerate(lines) if line.startswith("  throughput knee: ")]
    assert len(knee_lines) == 1 and knee_lines[0] > start
    assert all(line.startswith("  batch_size=") for line in lines[start + 1 : knee_lines[0]])
    assert lines[knee_lines[0]] == f"  {knee_text(knee)}"

    html = render_report(data)
    assert html.count("throughput knee: ") == 1
    assert f'<p class="note">{knee_text(knee)}.' in html
