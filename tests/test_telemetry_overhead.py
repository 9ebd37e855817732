"""Telemetry overhead, as a pytest-benchmark benchmark (never a timed assertion).

The same training steps run with the sampler off and on at its default interval; both land in the benchmark group
``telemetry-overhead``, whose table shows their ratio (goal: under 1 %). Run just these with
``pytest tests/test_telemetry_overhead.py --benchmark-only``.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from benchsuite.runtime import build_trainer, train_step
from benchsuite.specs import CaseConfig
from benchsuite.telemetry import DEFAULT_INTERVAL_S, Sampler
from benchsuite.workloads.datasets import build_synthetic

STEPS = 300
CONFIG = CaseConfig.model_validate({
    "workload": {"dataset": {"name": "synthetic", "shape": [64], "num_samples": 1024}, "model": {"name": "mlp", "hidden": [256, 256]}},
    "train": {"optimizer": "adam", "batch_size": 128, "max_steps": STEPS},
})  # fmt: skip


def _train_steps(data, trainer, sampler_on: bool) -> None:
    sampler = Sampler(torch.device("cpu"), DEFAULT_INTERVAL_S) if sampler_on else contextlib.nullcontext()
    with sampler:
        for step in range(STEPS):
            start = (step * 128) % 1024
            train_step(trainer, data.train_x[start : start + 128], data.train_y[start : start + 128])


@pytest.mark.parametrize("telemetry", ["off", "on"])
def test_sampler_overhead(benchmark, telemetry):
    data = build_synthetic(CONFIG.workload.dataset)
    torch.manual_seed(0)
    trainer = build_trainer(CONFIG, data, torch.device("cpu"), total_steps=10**6, steps_per_epoch=8)
    benchmark.group = "telemetry-overhead"
    benchmark.extra_info.update(telemetry=telemetry, steps=STEPS, interval_s=DEFAULT_INTERVAL_S)
    benchmark.pedantic(_train_steps, args=(data, trainer, telemetry == "on"), rounds=8, warmup_rounds=1)
