"""Time-to-target and the derived per-run figures, on hand-made curves."""

from __future__ import annotations

import math
import statistics

import pytest

from benchsuite.telemetry.step_times import UNSTABLE_CV, cv_chunks, step_times
from benchsuite.training.outcome import CurvePoint, RunResult, TargetHit, metric_after_epochs, reaches, time_to_target


def _curve(accuracies, losses=None, seconds=None):
    losses = losses or [1.0] * len(accuracies)
    seconds = seconds or [0.5 * i for i in range(len(accuracies))]
    return [
        CurvePoint(
            step=10 * i,
            epoch=i / 2,
            timed_s=seconds[i],
            train_loss=None if i == 0 else 1.0,
            val_loss=losses[i],
            val_accuracy=a,
        )
        for i, a in enumerate(accuracies)
    ]


def test_first_evaluation_that_reaches_the_target():
    curve = _curve([0.1, 0.5, 0.91, 0.88, 0.95], seconds=[0.0, 1.0, 2.5, 3.0, 4.0])
    assert time_to_target(curve, "val_accuracy", 0.9, True) == TargetHit(2.5, 20, 1.0)


def test_reaching_exactly_the_target_counts():
    assert time_to_target(_curve([0.2, 0.9]), "val_accuracy", 0.9, True).steps_to_target == 10


def test_loss_target_is_reached_from_above():
    curve = _curve([0.1] * 4, losses=[2.3, 0.9, 0.4, 0.3])
    hit = time_to_target(curve, "val_loss", 0.5, False)
    assert (hit.time_to_target_s, hit.steps_to_target, hit.epochs_to_target) == (1.0, 20, 1.0)


def test_never_reached_has_no_time_to_target():
    assert time_to_target(_curve([0.1, 0.5, 0.89]), "val_accuracy", 0.9, True) is None


def test_nan_never_reaches():
    assert not reaches(math.nan, 0.5, False) and not reaches(math.nan, 0.5, True)


def test_metric_after_epochs():
    curve = _curve([0.1, 0.5, 0.7])
    assert metric_after_epochs(curve, "val_accuracy", 1.0) == 0.7
    assert metric_after_epochs(curve, "val_accuracy", 3.0) is None


def _result(**overrides) -> RunResult:
    base = dict(
        run_id="s[base-seed=0]",
        scenario="s",
        case_id="base",
        seed=0,
        axes={},
        is_baseline=True,
        device="cpu",
        status="ok",
        steps=40,
        budget_steps=40,
        samples=5120,
        batch_size=128,
        steps_per_epoch=20,
        timed_s=2.0,
        warmup_steps=5,
        warmup_s=0.3,
        eval_s=0.4,
        setup_s=0.1,
        num_params=100,
        target_metric="val_accuracy",
        target_value=0.9,
        curve=_curve([0.1, 0.6, 0.92, 0.95, 0.97], seconds=[0.0, 0.5, 1.0, 1.5, 2.0]),
    )
    return RunResult(**{**base, **overrides})


def test_extra_info_derivations_by_hand():
    info = _result().extra_info()
    assert info["step_time_s"] == pytest.approx(2.0 / 40)
    assert info["throughput_samples_per_s"] == pytest.approx(5120 / 2.0)
    assert info["epochs"] == 2.0
    assert (info["time_to_target_s"], info["steps_to_target"], info["epochs_to_target"]) == (1.0, 20, 1.0)
    assert info["final_val_metric"] == 0.97 and info["val_metric_epoch1"] == 0.92
    assert info["reached_target"] is True and len(info["curve"]) == 5


def test_no_target_means_no_time_to_target():
    info = _result(target_metric=None, target_value=None).extra_info()
    assert info["time_to_target_s"] is None and info["reached_target"] is False
    assert info["final_val_metric"] == 0.97  # quality falls back to validation accuracy


def test_step_times_by_hand():
    # seconds per step of the segments: 0.1, 0.1, 0.2, 0.1 (the empty one is ignored)
    times = step_times([(1.0, 10), (2.0, 20), (2.0, 10), (0.5, 5), (0.0, 0)])
    assert times.n_segments == 4 and times.median_s == pytest.approx(0.1)
    assert (times.p25_s, times.p75_s) == pytest.approx((0.1, 0.125))
    # the CV's chunks of at least 10 steps: 0.1, 0.1 and (2.0 + 0.5) / 15 (the 5-step remainder joins the last)
    chunks = [0.1, 0.1, 2.5 / 15]
    assert times.cv == pytest.approx(statistics.stdev(chunks) / statistics.fmean(chunks))
    assert step_times([]).median_s is None and step_times([(1.0, 4)]).cv is None


def test_short_segments_and_a_short_last_batch_do_not_make_a_steady_run_unstable():
    # a steady 10 ms a step, and a last segment of one step on a short batch (128 of 2048 samples: 1.5 ms)
    assert step_times([(1.0, 100), (1.0, 100), (1.0, 100), (0.0015, 1)]).cv < 0.01
    # batch 4096: 2 steps an epoch, each pair of steps 20 ms ± 30 %, around a steady mean
    pairs = [(0.02 * f, 2) for f in (0.7, 1.3, 1.0, 0.7, 1.3, 1.0, 1.3, 0.7, 1.0, 1.0)]
    assert step_times(pairs).cv < UNSTABLE_CV < statistics.stdev([s / n for s, n in pairs]) / 0.01
    # a change of speed that lasts a chunk still shows
    assert step_times([(1.0, 100), (3.0, 100), (1.0, 100)]).cv > UNSTABLE_CV
    assert cv_chunks([(1.0, 4), (1.0, 4), (1.0, 4), (0.5, 3)]) == [(3.5, 15)]


def test_segments_are_stored_with_their_statistics_and_the_unstable_flag():
    steady = _result(segments=[(0.5, 10), (0.5, 10), (0.5, 10), (0.5, 10)]).extra_info()
    assert steady["segments"] == [[0.5, 10]] * 4 and steady["step_time_s_median"] == 0.05
    assert steady["step_time_cv"] == 0.0 and steady["unstable"] is False
    drifting = _result(segments=[(0.5, 10), (1.5, 10), (0.5, 10), (0.5, 10)]).extra_info()
    assert drifting["step_time_cv"] > UNSTABLE_CV and drifting["unstable"] is True
