"""Telemetry overhead, as a pytest-benchmark benchmark (never a timed assertion).

The same training steps run with the sampler off and on at its default interval; both land in the benchmark group
``telemetry-overhead``, whose table shows their ratio (goal: under 1 %). On a machine whose speed drifts, the paired
benchmark below is the one to read: it prints the median per-pair ratio (``-s``) and keeps it in ``extra_info``.
Run just these with ``pytest tests/test_telemetry_overhead.py --benchmark-only -s``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from benchsuite.specs.case import CaseConfig
from benchsuite.telemetry.clock import Stopwatch
from benchsuite.telemetry.sampler import DEFAULT_INTERVAL_S, Sampler
from benchsuite.training.build import build_trainer, train_step
from benchsuite.workloads.datasets import build_synthetic

STEPS = 300
CONFIG = CaseConfig.model_validate(
    {
        "workload": {
            "dataset": {"name": "synthetic", "shape": [64], "num_samples": 1024},
            "model": {"name": "mlp", "hidden": [256, 256]},
        },
        "train": {"optimizer": "adam", "batch_size": 128, "max_steps": STEPS},
    }
)


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


PAIRS = 12


def _segment_s(data, trainer, sampler_on: bool) -> float:
    watch = Stopwatch(torch.device("cpu"))
    with watch:
        _train_steps(data, trainer, sampler_on)
    return watch.elapsed_s


def test_sampler_overhead_paired(benchmark):
    """Sampler off and on in interleaved segments, alternating which goes first, so the machine's slow drift (tens of
    per cent over seconds on a shared 2-core VM) cancels; the overhead is the median of the per-pair on/off ratios.
    Sampler start and stop are inside every "on" segment, so this is an upper bound for one long run."""
    data = build_synthetic(CONFIG.workload.dataset)
    torch.manual_seed(0)
    trainer = build_trainer(CONFIG, data, torch.device("cpu"), total_steps=10**6, steps_per_epoch=8)

    def paired() -> list[float]:
        ratios = []
        for pair in range(PAIRS):
            order = (False, True) if pair % 2 == 0 else (True, False)
            times = {on: _segment_s(data, trainer, on) for on in order}
            ratios.append(times[True] / times[False])
        return ratios

    benchmark.group = "telemetry-overhead"
    ratios = np.array(benchmark.pedantic(paired, rounds=1, iterations=1))
    quartiles = np.percentile(ratios, [25, 50, 75])
    benchmark.extra_info.update(
        pairs=PAIRS,
        overhead_ratio_median=float(quartiles[1]),
        overhead_ratio_iqr=[float(quartiles[0]), float(quartiles[2])],
        ratios=[float(r) for r in ratios],
    )
    print(
        f"\ntelemetry overhead (paired, n={PAIRS}): on/off median {quartiles[1]:.4f}, "
        f"IQR [{quartiles[0]:.4f}, {quartiles[2]:.4f}]"
    )
