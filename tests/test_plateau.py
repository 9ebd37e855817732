"""Training until the validation metric plateaus (``train.plateau``): the patience rule on scripted curves, its
min_delta and direction, the budget that still bounds it, the stop reason of every rule, and bad values refused."""

from __future__ import annotations

import pytest
import torch
from conftest import TINY, tiny_spec, write_yaml

from benchsuite.scenario.load import ScenarioError, load_scenario
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.training import PlateauSpec
from benchsuite.training.loop import Budget, TrainingLoop
from benchsuite.training.outcome import CurvePoint
from benchsuite.training.plateau import PlateauWatch
from benchsuite.training.run import train_run
from benchsuite.workloads.datasets import load_dataset

CPU = torch.device("cpu")
ACCURACIES = [0.5, 0.6, 0.65, 0.651, 0.650, 0.652]


def _config(target=TINY["target"], **train):
    spec = ScenarioSpec.model_validate(tiny_spec(train={**TINY["train"], **train}, target=target))
    return next(iter(expand_runs(spec))).case.config


def _stops(config, accuracies=None, losses=None, total_steps=1000) -> tuple[int | None, TrainingLoop]:
    """Feed the loop's stopping rule one evaluation per step (1, 2, ...); the step it stops at, or None."""
    n = len(accuracies or losses)
    accuracies, losses = accuracies or [0.1] * n, losses or [1.0] * n
    data = load_dataset(config.workload.dataset, CPU)
    loop = TrainingLoop(config, data, Budget(steps_per_epoch=10**6, total_steps=total_steps, eval_every_steps=1), CPU)
    for step, (accuracy, loss) in enumerate(zip(accuracies, losses, strict=True), start=1):
        point = CurvePoint(step=step, epoch=0.0, timed_s=0.0, train_loss=1.0, val_loss=loss, val_accuracy=accuracy)
        if loop._done(point, step):
            return step, loop
    return None, loop


def test_the_patience_rule_by_hand():
    # best 0.5, 0.6, 0.65 (each up by more than 0.005); 0.651, 0.650, 0.652 gain at most 0.002: three stale in a row
    watch = PlateauWatch(PlateauSpec(patience=3, min_delta=0.005), higher_is_better=True)
    assert [watch.update(a) for a in ACCURACIES] == [False] * 5 + [True]
    assert (watch.best, watch.stale) == (0.65, 3)


def test_the_loop_stops_at_the_sixth_evaluation_with_reason_plateau():
    config = _config(plateau={"patience": 3, "min_delta": 0.005}, stop_at_target=False)
    step, loop = _stops(config, ACCURACIES + [0.9])
    assert step == 6 and (loop.stop_reason, loop.stop_step) == ("plateau", 6)


def test_min_delta_is_respected():
    # with min_delta 0.0005, 0.651 (+0.001) and 0.652 (+0.001) improve: never three stale evaluations
    config = _config(plateau={"patience": 3, "min_delta": 0.0005})
    assert _stops(config, ACCURACIES)[0] is None
    # a gain of exactly min_delta is no improvement ("by more than")
    watch = PlateauWatch(PlateauSpec(patience=1, min_delta=0.25), higher_is_better=True)
    assert [watch.update(a) for a in (0.25, 0.5)] == [False, True]


def test_a_val_loss_target_plateaus_on_falling_loss():
    # lower is better: 0.8 and 0.6 improve, 0.59 (-0.01) and 0.595 do not by more than 0.05: stale twice at the 5th;
    # read as accuracy (higher is better) it would have stopped at the 3rd
    config = _config(target={"metric": "val_loss", "value": 0.01}, plateau={"patience": 2, "min_delta": 0.05})
    step, loop = _stops(config, losses=[1.0, 0.8, 0.6, 0.59, 0.595, 0.3])
    assert step == 5 and loop.stop_reason == "plateau"
    assert loop.plateau.best == 0.6


def test_a_balanced_accuracy_target_plateaus_on_rising_balanced_accuracy():
    """Higher is better for every metric but a loss (names.LOWER_IS_BETTER_METRICS, as the target's direction):
    read as lower-is-better, a rising balanced accuracy would stop the run at its 3rd evaluation."""
    from benchsuite.training.plateau import plateau_watch

    config = _config(target={"metric": "val_balanced_accuracy", "value": 0.99}, plateau={"patience": 2})
    watch = plateau_watch(config)
    assert watch is not None and watch.higher_is_better
    assert [watch.update(a) for a in (0.1, 0.2, 0.3, 0.4)] == [False] * 4


def test_without_a_target_the_plateau_follows_val_accuracy():
    config = _config(target=None, plateau={"patience": 2})
    assert _stops(config, [0.1, 0.2, 0.3, 0.3, 0.3], losses=[9.0, 1.0, 8.0, 7.0, 6.0])[0] == 5


def test_the_budget_still_bounds_a_plateau_run():
    config = _config(plateau={"patience": 3, "min_delta": 0.005}, stop_at_target=False)
    step, loop = _stops(config, ACCURACIES, total_steps=4)
    assert step == 4 and loop.stop_reason == "budget"


def test_reasons_are_named_target_then_plateau_then_budget():
    # the plateau fires at the budget's last evaluation: named plateau (the run had converged)
    config = _config(plateau={"patience": 3, "min_delta": 0.005}, stop_at_target=False)
    assert _stops(config, ACCURACIES, total_steps=6)[1].stop_reason == "plateau"
    # the target is reached at the evaluation the plateau fires: named target
    config = _config(target={"metric": "val_accuracy", "value": 0.652}, plateau={"patience": 3, "min_delta": 0.005})
    step, loop = _stops(config, ACCURACIES)
    assert step == 6 and loop.stop_reason == "target"
    # without stop_at_target a reached target stops nothing
    config = _config(target={"metric": "val_accuracy", "value": 0.6}, stop_at_target=False)
    assert _stops(config, ACCURACIES, total_steps=6)[1].stop_reason == "budget"


def _run(**train):
    spec = ScenarioSpec.model_validate(tiny_spec(train={**TINY["train"], "eval_every_steps": 1, **train}))
    return next(iter(expand_runs(spec)))


def test_a_run_records_plateau_target_and_budget():
    # min_delta 1.0: no accuracy can improve by more, so evaluations 2 and 3 (after the first best) are stale
    plateau = train_run(_run(max_epochs=5, plateau={"patience": 2, "min_delta": 1.0}), CPU)
    assert (plateau.status, plateau.steps, plateau.stop_reason, plateau.stop_step) == ("ok", 3, "plateau", 3)
    assert plateau.budget_steps == 20 and plateau.extra_info()["final_val_metric"] == plateau.curve[-1].val_accuracy
    budget = train_run(_run(plateau={"patience": 100}), CPU)  # the tiny target (0.99, random labels) is missed
    assert (budget.steps, budget.stop_reason, budget.stop_step) == (8, "budget", 8)
    spec = ScenarioSpec.model_validate(tiny_spec(target={"metric": "val_loss", "value": 100.0}))
    target = train_run(next(iter(expand_runs(spec))), CPU)
    assert (target.steps, target.stop_reason, target.stop_step) == (4, "target", 4)
    info = target.extra_info()
    assert info["stop_reason"] == "target" and info["stop_step"] == 4


def test_a_diverged_run_has_no_stop_reason():
    result = train_run(_run(lr=1e30, plateau={"patience": 1}), CPU)
    assert result.status == "diverged" and result.stop_reason is None and result.stop_step is None


def test_no_plateau_by_default():
    config = _config()
    assert config.train.plateau is None
    assert _stops(config, [0.5] * 50)[0] is None  # the same value 50 times stops nothing without a plateau


@pytest.mark.parametrize(
    ("plateau", "field", "value"),
    [
        ({"patience": 0}, "train.plateau.patience", "(got 0)"),
        ({"min_delta": -0.001}, "train.plateau.min_delta", "(got -0.001)"),
        ({"patience": 2, "patiense": 3}, "train.plateau.patiense", "(got 3)"),
    ],
)
def test_bad_plateau_values_are_refused_in_one_line(tmp_path, plateau, field, value):
    path = write_yaml(tmp_path / "bad.yaml", tiny_spec(train={**TINY["train"], "plateau": plateau}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "Traceback" not in message and len(message.splitlines()) == 1
    assert f"field '{field}'" in message and value in message
