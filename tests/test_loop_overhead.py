"""The suite's own overhead, as a pytest-benchmark benchmark (never a timed assertion): benchsuite's training loop
against a bare hand-written loop on the same model, data and batches, at batch 128 and 1024 (goal: the suite runs at
0.99 of the bare loop's speed or better).

Both loops run in one process, alternately (ABBA pairs), so a drift of the machine falls on both; the median per-pair
ratio of seconds per step (bare ÷ suite: the suite's speed as a fraction of the bare loop's) goes to ``extra_info``
and is printed with ``-s``. The segments are shorter than an epoch, so no evaluation falls inside them. Run just these
with ``pytest tests/test_loop_overhead.py --benchmark-only -s``.
"""

from __future__ import annotations

import statistics

import pytest
import torch
import torch.nn.functional as F

from benchsuite.specs.case import CaseConfig
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.training.build import build_trainer
from benchsuite.training.loop import Budget, TrainingLoop
from benchsuite.workloads.datasets import load_dataset

CPU = torch.device("cpu")
PAIRS = 12
STEPS = {128: 240, 1024: 80}


def _config(batch: int) -> CaseConfig:
    return CaseConfig.model_validate(
        {
            "workload": {
                "dataset": {"name": "synthetic", "shape": [1, 40], "num_samples": 131072, "val_samples": 256},
                "model": {"name": "mlp", "hidden": [256, 256]},
            },
            "train": {"optimizer": "adam", "batch_size": batch, "max_steps": STEPS[batch]},
        }
    )


def _suite_step_s(config: CaseConfig) -> float:
    """Seconds per step of benchsuite's loop: its timed region over the run's steps (evaluation untimed)."""
    data = load_dataset(config.workload.dataset, CPU)
    budget = Budget.of(config.train, len(data.train_y))
    torch.manual_seed(0)
    trainer = build_trainer(config, data, CPU, budget.total_steps, budget.steps_per_epoch)
    loop = TrainingLoop(config, data, budget, CPU)
    loop.run(trainer, torch.Generator().manual_seed(0))
    return loop.train_watch.elapsed_s / loop.steps_done


def _bare_step_s(config: CaseConfig) -> float:
    """Seconds per step of a bare loop: the same model, optimizer, permutation and batches, nothing else."""
    data = load_dataset(config.workload.dataset, CPU)
    torch.manual_seed(0)
    trainer = build_trainer(config, data, CPU, STEPS[config.train.batch_size], 10**6)
    model, optimizer, batch = trainer.model, trainer.optimizer, config.train.batch_size
    order = torch.randperm(len(data.train_y), generator=torch.Generator().manual_seed(0))
    steps = STEPS[batch]
    watch = Stopwatch(CPU)
    with watch:
        for start in range(0, steps * batch, batch):
            idx = order[start : start + batch]
            x, y = data.train_x[idx], data.train_y[idx]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    return watch.elapsed_s / steps


def _pairs(config: CaseConfig) -> list[float]:
    """Bare ÷ suite seconds per step of each ABBA pair."""
    ratios = []
    for k in range(PAIRS):
        if k % 2 == 0:
            suite, bare = _suite_step_s(config), _bare_step_s(config)
        else:
            bare, suite = _bare_step_s(config), _suite_step_s(config)
        ratios.append(bare / suite)
    return ratios


@pytest.mark.parametrize("batch", sorted(STEPS))
def test_suite_loop_against_a_bare_loop(benchmark, batch):
    config = _config(batch)
    _suite_step_s(config), _bare_step_s(config)  # build the data and warm both paths up
    benchmark.group = "loop-overhead"
    ratios = benchmark.pedantic(_pairs, args=(config,), rounds=1, iterations=1)
    median = statistics.median(ratios)
    benchmark.extra_info.update(batch=batch, pairs=PAIRS, steps=STEPS[batch], speed_of_bare_median=median)
    print(
        f"\nloop overhead, batch {batch}: the suite runs at {median:.3f} of a bare loop's speed (median of "
        f"{PAIRS} pairs; {min(ratios):.3f} to {max(ratios):.3f})"
    )
    assert len(ratios) == PAIRS and all(r > 0 for r in ratios)
