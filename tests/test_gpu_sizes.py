"""Every shipped scenario gives CUDA a size whose GEMMs outweigh kernel launches (issue 10, defect 2).

FLOPs per training step are counted with ``FlopCounterMode`` on models built on the meta device (no memory, no
compute), at each case's CUDA size. 50 GFLOP is about 1.2 ms of an H100 SXM at 60 % of its 67 TFLOP/s dense FP32
peak, against a few microseconds per kernel launch: compute-bound. Cases that are small on purpose (the small
batches of a batch-size sweep, the narrow widths of a width sweep: where a trick stops paying is their question)
are listed here by name.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from benchsuite.scenario.load import load_scenario, scenario_files
from benchsuite.scenario.matrix import expand_cases
from benchsuite.specs.workload import sample_shape
from benchsuite.telemetry import mfu
from benchsuite.training.build import build_model

SCENARIOS = scenario_files(
    [Path(__file__).parent.parent / "scenarios", Path(__file__).parent.parent / "scenarios" / "extended"]
)
COMPUTE_BOUND_FLOPS = 50e9
SMALL_BY_DESIGN = {
    "batch-scaling": {"batch_size": ("32", "128")},
    "batch-scaling-quality": {"batch_size": ("128",)},
    "batch-scaling-quality-regime": {"batch_size": ("128",)},
    "learning-rate": {"batch_size": ("128",)},
    "norm-small-batch": {"norm": ("batchnorm", "layernorm")},  # batch 16 is the question
    "precision-width": {"model": ("w64", "w256")},
}


def step_flops_on_meta(config) -> float:
    """FLOPs of one training step of ``config`` at its global batch, counted without allocating anything."""
    dataset = config.workload.dataset
    shape = sample_shape(dataset)
    # the prior bias sets the classifier's bias from the labels' frequencies (no FLOPs), which meta tensors lack
    config = config.model_copy(update={"techniques": config.techniques.model_copy(update={"prior_bias": False})})
    batch = config.train.global_batch_size
    with torch.device("meta"):
        data = SimpleNamespace(input_shape=shape, num_classes=10, train_y=torch.zeros(batch, dtype=torch.long))
        model = build_model(config, data)
        x, y = torch.empty(batch, *shape), torch.zeros(batch, dtype=torch.long)
        return mfu.step_flops(model, x, y)


def _small_by_design(scenario: str, axes: dict[str, str]) -> bool:
    return any(axes.get(axis) in labels for axis, labels in SMALL_BY_DESIGN.get(scenario, {}).items())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_case_is_compute_bound_on_cuda(path):
    spec = load_scenario(path)
    assert "cuda" in spec.per_device, f"{path.name} has no per_device.cuda size"
    flops = {
        c.case_id: step_flops_on_meta(c.config)
        for c in expand_cases(spec, "cuda")
        if not _small_by_design(spec.name, dict(c.axes))
    }
    small = {case: f"{f / 1e9:.1f} GFLOP" for case, f in flops.items() if f < COMPUTE_BOUND_FLOPS}
    every_case_small = spec.name in SMALL_BY_DESIGN and not flops  # a scenario about small batches only
    assert (flops or every_case_small) and not small, f"{path.name}: launch-bound on a GPU: {small}"


def test_the_cpu_sizes_are_launch_bound_on_a_gpu_so_the_check_can_fail():
    spec = load_scenario(next(p for p in SCENARIOS if p.stem == "optimizers"))
    assert step_flops_on_meta(expand_cases(spec, "cpu")[0].config) < COMPUTE_BOUND_FLOPS / 100


def test_flops_on_meta_match_a_real_count():
    spec = load_scenario(next(p for p in SCENARIOS if p.stem == "norm"))
    config = expand_cases(spec, "cpu")[0].config  # MLP 40-256-256-10 at batch 128
    torch.manual_seed(0)
    data = SimpleNamespace(input_shape=(1, 40), num_classes=10, train_y=torch.zeros(128, dtype=torch.long))
    real = mfu.step_flops(build_model(config, data), torch.randn(128, 1, 40), torch.zeros(128, dtype=torch.long))
    assert step_flops_on_meta(config) == real
