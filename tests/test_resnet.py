"""The ResNet-style built-in: shapes, residual blocks, channels-last equal to the default layout, a training run on
image-shaped data, and its training-step throughput as a pytest-benchmark benchmark (never a timed assertion)."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_spec

from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.workload import ResNetSpec
from benchsuite.training.build import build_model
from benchsuite.training.run import train_run
from benchsuite.training.techniques import NORM_LAYERS
from benchsuite.workloads.models import ChannelsLast, ResidualBlock, build_resnet

IMAGES = {"name": "synthetic", "shape": [3, 32, 32], "num_samples": 64, "val_samples": 32, "num_classes": 10}


def _resnet(**kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_resnet(ResNetSpec(name="resnet", **kwargs), (3, 32, 32), 10, NORM_LAYERS["batchnorm"])


def test_shape_stages_and_blocks():
    model = _resnet(widths=(16, 32, 64), blocks=2)
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    assert sum(isinstance(m, ResidualBlock) for m in model.modules()) == 6
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 2


def test_channels_last_computes_the_same_function():
    plain, last = _resnet(widths=(8, 16)), _resnet(widths=(8, 16), channels_last=True)
    assert isinstance(last, ChannelsLast) and next(last.parameters()).is_contiguous(memory_format=torch.channels_last)
    plain.eval(), last.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(last(x), plain(x), rtol=1e-4, atol=1e-5)


def test_a_scenario_trains_the_resnet_on_image_shaped_data():
    spec = ScenarioSpec.model_validate(
        tiny_spec(
            workload={"dataset": IMAGES, "model": {"name": "resnet", "widths": [8, 16]}},
            target=None,
            matrix={"norm": ["none", "batchnorm"]},
        )
    )
    for run in expand_runs(spec)[:2]:
        result = train_run(run, torch.device("cpu"), telemetry_interval_s=None)
        assert result.status == "ok" and result.steps == 8 and all(p.val_loss > 0 for p in result.curve)


def test_a_resnet_on_one_dimensional_samples_is_refused():
    with pytest.raises(ValueError, match="model 'resnet' needs samples of rank 3"):
        ScenarioSpec.model_validate(tiny_spec(workload={"dataset": {"name": "mnist1d"}, "model": {"name": "resnet"}}))


def test_resnet_training_step_throughput(benchmark):
    """Images per second of one training step (forward, backward, SGD) at batch 128 on 3×32×32 inputs, default
    widths: the CPU figure of the closing note. Group ``resnet-throughput``."""
    spec = ScenarioSpec.model_validate(
        tiny_spec(workload={"dataset": IMAGES, "model": {"name": "resnet"}}, target=None, matrix={})
    )
    model = build_model(
        expand_runs(spec)[0].case.config, type("D", (), {"input_shape": (3, 32, 32), "num_classes": 10})()
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(128, 3, 32, 32), torch.randint(0, 10, (128,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    step()  # warm-up, untimed
    benchmark.group = "resnet-throughput"
    benchmark.pedantic(step, rounds=3, iterations=1)
    benchmark.extra_info["images_per_s_median"] = 128 / benchmark.stats.stats.median
